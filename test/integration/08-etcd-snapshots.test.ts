// Phase 7f: the gateway keeps copies of the servers' pre-upgrade etcd snapshots. K3s is off in
// the lab, so the cluster toolkit goes onto node1 as the program puts it there (its installer),
// K3s' snapshot directory gets files named as `k3s etcd-snapshot save` names them, and the
// very command lines the program sends run on gw and node1: real sshd, real ssh, the gateway's
// own key behind a forced command, node1's host key pinned. Leaves both hosts as it found them.
import * as assert from "assert";
import { snapshotAccessEnv, snapshotKeyCommand, snapshotForgetCommand, knownHostsLine, snapshotPullCommand, SNAPSHOT_STORE } from "../../cluster/etcdSnapshots";
import { scriptsIn, toolkitCommand, toolkitInstaller, TOOLKIT_INSTALL, TOOLKIT_REMOVE } from "../../host/toolkit";
import { bash, exec, execOk, labPhase, PLAN, Result, run } from "./lab-helpers";

const NODE1 = PLAN.nodes.find((n) => n.name === "node1")!;
const SNAPSHOTS = "/var/lib/rancher/k3s/server/db/snapshots";
const AUTHORIZED = "/home/pi/.ssh/authorized_keys";
const VERSION = "v1.34.4+k3s1";
const NAME = "homecloud-pre-v1.34.4-k3s1";
const NODE_SCRIPT = "cluster/k3s-node.sh";
/** The lab stack sets no homecloud:sshPort. */
const SSH_PORT = 22;

/** A command line of the program's, run as root on a lab host (the engine runs it as pi; root's sudo -n is the same). */
const onHost = (host: string, line: string, input = ""): Result => run("lab/exec", [host, "bash", "-c", line], { input });
function ok(r: Result, what: string): string {
    assert.strictEqual(r.code, 0, `${what} exited ${r.code}: ${r.stdout}${r.stderr}`);
    return r.stdout;
}
const sha = (host: string, file: string): string => execOk(host, "sha256sum", file).split(" ")[0];
const storeOf = (node: string): string[] => execOk("gw", "bash", "-c", `ls -1 ${SNAPSHOT_STORE}/${node} 2>/dev/null || true`).split("\n").filter(Boolean);

labPhase("7f: the gateway keeps copies of the servers' pre-upgrade etcd snapshots", () => {
    let pub = "";
    let authorizedBefore = "";
    let hostKey = "";
    const pull = (version: string, known = knownHostsLine(NODE1.ip, SSH_PORT, hostKey), keep?: number): Result =>
        onHost("gw", snapshotPullCommand({ node: "node1", address: NODE1.ip, port: SSH_PORT, user: "pi", version }, keep), known);
    /** A file in node1's snapshot directory, named as K3s names it, of `mib` MiB of random bytes, `time` its K3s timestamp. */
    const save = (name: string, time: number, mib = 1): void => {
        execOk("node1", "bash", "-c",
            `install -d -m 0700 ${SNAPSHOTS} && head -c ${mib}M /dev/urandom > ${SNAPSHOTS}/${name}-node1-${time} && touch -d @${time} ${SNAPSHOTS}/${name}-node1-${time}`);
    };

    before(() => {
        ok(run("lab/exec", ["node1", "bash", "-c", TOOLKIT_INSTALL], { input: toolkitInstaller(scriptsIn("cluster")) }), "cluster toolkit on node1");
        authorizedBefore = execOk("node1", "cat", AUTHORIZED);
        hostKey = execOk("node1", "cat", "/etc/ssh/ssh_host_ed25519_key.pub");
        save(NAME, 1764000000, 8);
        save(NAME, 1763000000);
        save("etcd-snapshot", 1764000100);
    });

    after(() => {
        // Whatever a failed step left: the marked line, the toolkit, the files, the key, the copies.
        onHost("node1", toolkitCommand(NODE_SCRIPT, ["snapshot-revoke"]));
        onHost("node1", TOOLKIT_REMOVE);
        exec("node1", "rm", "-rf", SNAPSHOTS);
        onHost("gw", snapshotForgetCommand());
        exec("gw", "rm", "-rf", SNAPSHOT_STORE);
    });

    it("gw makes its key once; node1 lets it run the forced command only, every other line of authorized_keys kept", () => {
        pub = ok(onHost("gw", snapshotKeyCommand()), "key").trim();
        assert.match(pub, /^ssh-ed25519 [A-Za-z0-9+/]+=*$/);
        assert.strictEqual(ok(onHost("gw", snapshotKeyCommand()), "key again").trim(), pub, "a re-run prints the same key");
        assert.strictEqual(execOk("gw", "stat", "-c", "%a %U", "/etc/homecloud/etcd-snapshots/id_ed25519").trim(), "600 root");

        const access = toolkitCommand(NODE_SCRIPT, ["snapshot-access"], snapshotAccessEnv(pub, "pi"));
        assert.strictEqual(ok(onHost("node1", access), "access"),
            "homecloud: node1: the gateway may fetch etcd snapshots as pi (its key only runs snapshot-send)\n");
        assert.strictEqual(ok(onHost("node1", access), "access again"), "homecloud: node1: the gateway may fetch etcd snapshots (unchanged)\n");
        const after = execOk("node1", "cat", AUTHORIZED);
        assert.strictEqual(after, authorizedBefore + `restrict,command="sudo -n /bin/bash /usr/local/lib/homecloud/${NODE_SCRIPT} snapshot-send \\"$SSH_ORIGINAL_COMMAND\\"" ${pub} homecloud-etcd-snapshots\n`);
        assert.strictEqual(execOk("node1", "stat", "-c", "%a %U %G", AUTHORIZED).trim(), "600 pi pi");
    });

    it("gw fetches the newest snapshot saved before the upgrade, byte for byte, root only; a version without one copies nothing", () => {
        const t = Date.now();
        const r = pull(VERSION);
        const ms = Date.now() - t;
        const file = `${NAME}-node1-1764000000`;
        const digest = sha("node1", `${SNAPSHOTS}/${file}`);
        assert.strictEqual(ok(r, "pull"), `homecloud: copied ${file} from node1 to ${SNAPSHOT_STORE}/node1 (8388608 bytes, sha256 ${digest})\n`);
        assert.strictEqual(sha("gw", `${SNAPSHOT_STORE}/node1/${file}`), digest);
        assert.deepStrictEqual(storeOf("node1"), [file], "only the newest of that name, and no scheduled snapshot");
        assert.strictEqual(execOk("gw", "stat", "-c", "%a %U", `${SNAPSHOT_STORE}/node1`, `${SNAPSHOT_STORE}/node1/${file}`), "700 root\n600 root\n");
        console.log(`      etcd snapshots: 8 MiB copied node1 → gw in ${ms} ms (ssh, forced command, pinned host key)`);

        assert.strictEqual(ok(pull("v1.34.5+k3s1"), "pull, none"),
            "homecloud: node1 has no etcd snapshot homecloud-pre-v1.34.5-k3s1-* (K3s was installed there, not upgraded, or was not running): nothing to copy\n");
        assert.deepStrictEqual(storeOf("node1"), [file]);
    });

    it("refused: another host key for node1, and anything but a snapshot name asked with the gateway's key", () => {
        const gwKey = execOk("gw", "cat", "/etc/ssh/ssh_host_ed25519_key.pub");
        const r = pull(VERSION, knownHostsLine(NODE1.ip, SSH_PORT, gwKey));
        assert.strictEqual(r.code, 1);
        assert.strictEqual(r.stderr, "homecloud: gw: could not fetch homecloud-pre-v1.34.4-k3s1 from node1 (pi@10.77.0.11:22): " +
            "node1's SSH host key is not the pinned one (the stack output hostKeys); nothing was fetched\n");
        assert.deepStrictEqual(storeOf("node1"), [`${NAME}-node1-1764000000`], "nothing new stored");
        const ssh = (what: string): Result => exec("gw", "ssh", "-n", "-i", "/etc/homecloud/etcd-snapshots/id_ed25519", "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", `pi@${NODE1.ip}`, what);
        for (const what of ["cat /etc/shadow", `${NAME}; id`, "etcd-snapshot", ""]) {
            const x = ssh(what);
            assert.strictEqual(x.code, 1, `${JSON.stringify(what)}: ${x.stdout}${x.stderr}`);
            assert.strictEqual(x.stdout, "");
            assert.strictEqual(x.stderr, `homecloud: node1: this key only fetches pre-upgrade etcd snapshots (homecloud-pre-<version>); refused '${what}'\n`);
        }
    });

    it("keeps the newest three per server by K3s' time, and says which older copy went", () => {
        const versions = ["v1.34.5+k3s1", "v1.34.6+k3s1", "v1.34.7+k3s1"];
        versions.forEach((v, i) => save(`homecloud-pre-${v.replace("+", "-")}`, 1765000000 + i));
        for (const v of versions.slice(0, 2)) {
            ok(pull(v), `pull ${v}`);
        }
        const last = ok(pull(versions[2]), "pull the fourth");
        assert.match(last, new RegExp(`\\nhomecloud: removed the older copy ${NAME}-node1-1764000000 \\(keeping the newest 3 of node1\\)\\n$`));
        assert.deepStrictEqual(storeOf("node1"),
            ["homecloud-pre-v1.34.5-k3s1-node1-1765000000", "homecloud-pre-v1.34.6-k3s1-node1-1765000001", "homecloud-pre-v1.34.7-k3s1-node1-1765000002"]);
    });

    it("revoked: authorized_keys is byte for byte what it was, the key is refused, the operator's key still works", () => {
        assert.strictEqual(ok(onHost("node1", toolkitCommand(NODE_SCRIPT, ["snapshot-revoke"])), "revoke"),
            `homecloud: node1: the gateway's snapshot key removed from ${AUTHORIZED}\n`);
        assert.strictEqual(execOk("node1", "cat", AUTHORIZED), authorizedBefore);
        const r = pull("v1.34.7+k3s1");
        assert.strictEqual(r.code, 1);
        assert.strictEqual(r.stderr, "homecloud: gw: could not fetch homecloud-pre-v1.34.7-k3s1 from node1 (pi@10.77.0.11:22): pi@10.77.0.11: Permission denied (publickey).\n");
        assert.strictEqual(run("lab/ssh", ["node1", "echo", "operator-ok"]).stdout.trim(), "operator-ok");
        assert.strictEqual(ok(onHost("gw", snapshotForgetCommand()), "forget"),
            `homecloud: gw: snapshot key removed; the copies in ${SNAPSHOT_STORE} stay\n`);
        assert.strictEqual(storeOf("node1").length, 3);
        assert.strictEqual(bash("gw", "test -e /etc/homecloud/etcd-snapshots").code, 1);
    });
});
