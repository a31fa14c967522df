// Lab phase: pinned SSH host keys. Run by test/integration/run.sh after lab.test.ts (whose
// last phase destroys its deployment), so this file deploys the lab stack itself, with a
// state file of its own, and destroys it again at the end:
//   a first up learns every host's key (warning per host, fingerprint as ssh-keygen prints
//   it) → a second up runs nothing → node1 gets a new host key (sshd restarted) → an up that
//   would send node1 steps fails at once with the host, both fingerprints and the fix, and
//   nothing is written on node1 → the same up with node1's new key in homecloud:hostKeys
//   proceeds. The engine's own pin (ssh with the old key) is checked on its own as well.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { parseSshPublicKey, SshPublicKey } from "../../config/sshKey";
import { runRemote } from "../../lab/engine/ssh";

const REPO = path.resolve(__dirname, "..", "..");
const RUN_DIR = process.env.HOMECLOUD_LAB_RUN ?? "/run/homecloud-lab";
const KEY = path.join(process.env.HOMECLOUD_CACHE ?? "/var/cache/homecloud", "lab-ssh", "id_ed25519");
const STATE = path.join(RUN_DIR, "hostkeys-state.json");
const HOSTS: Record<string, string> = { gw: "10.77.0.1", node1: "10.77.0.11", node2: "10.77.0.12", node3: "10.77.0.13" };

interface Result { code: number; stdout: string; stderr: string }

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeout = 120_000): Result {
    const r = spawnSync(cmd, args, { cwd: REPO, env: { ...process.env, ...env }, encoding: "utf8", timeout, maxBuffer: 64 * 1024 * 1024 });
    if (r.error) {
        throw r.error;
    }
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function execOk(host: string, script: string): string {
    const r = run("lab/exec", [host, "sh", "-c", script]);
    assert.strictEqual(r.code, 0, `${host}: ${script} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
}

/** The lab stack file with `extra` config keys (without the homecloud: prefix), written for the engine. */
function stackVariant(label: string, extra: Record<string, unknown>): string {
    const doc = YAML.parse(fs.readFileSync(path.join(REPO, "Pulumi.lab.yaml"), "utf8")) as { config: Record<string, unknown> };
    for (const [k, v] of Object.entries(extra)) {
        doc.config[`homecloud:${k}`] = v;
    }
    const file = path.join(RUN_DIR, `hostkeys-${label}.yaml`);
    fs.writeFileSync(file, YAML.stringify(doc));
    return file;
}

/** One engine run with this file's state; its whole output, exit code and seconds. */
function engine(mode: "up" | "destroy", label: string, stackFile?: string): Result & { secs: number; out: string } {
    const t = Date.now();
    const r = run("npx", ["ts-node", "lab/engine/sshEngine.ts", mode], {
        TS_NODE_TRANSPILE_ONLY: "1", SSH_ENGINE_STATE: STATE, ...stackFile ? { SSH_ENGINE_STACK_FILE: stackFile } : {},
    }, 600_000);
    const secs = (Date.now() - t) / 1000;
    fs.writeFileSync(path.join(RUN_DIR, `hostkeys-${label}.log`), r.stdout + r.stderr);
    fs.writeFileSync(path.join(RUN_DIR, `hostkeys-${label}.time`), secs.toFixed(1));
    return { ...r, secs, out: r.stdout + r.stderr };
}

function summaryOf(out: string): Record<string, number> {
    const line = out.split("\n").find((l) => l.startsWith("summary"));
    assert.ok(line, `no summary line in:\n${out}`);
    return Object.fromEntries([...line.matchAll(/(\w[\w-]*)=([\d.]+)/g)].map((m) => [m[1], Number(m[2])]));
}

/** A host's ed25519 host key, read on its own disk (not over the network). */
function hostKeyOf(host: string): SshPublicKey {
    const k = parseSshPublicKey(execOk(host, "cat /etc/ssh/ssh_host_ed25519_key.pub"));
    assert.ok(!("problem" in k), `${host}: ${JSON.stringify(k)}`);
    return k;
}

/** What `ssh-keygen -lf` prints for a host's key: `SHA256:…`. */
function sshKeygenFingerprint(host: string): string {
    return execOk(host, "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub").split(/\s+/)[1];
}

describe("pinned SSH host keys (lab)", function () {
    this.timeout(900_000);
    const certificate = { certificates: [{ name: "web", host: "node1" }] };
    let oldNode1: SshPublicKey;

    it("the first up learns every host's key once, says so with the fingerprint ssh-keygen prints, and exports them", () => {
        fs.rmSync(STATE, { force: true });
        const r = engine("up", "first-up");
        assert.strictEqual(r.code, 0, r.out);
        for (const host of Object.keys(HOSTS)) {
            assert.match(r.out, new RegExp(`^created hostkeys-${host}$`, "m"));
            const fp = sshKeygenFingerprint(host);
            assert.ok(r.out.includes(`homecloud: ${host}'s SSH host key was learned on first use (nobody vouched for it): ssh-ed25519 ${fp}.`),
                `no warning for ${host} with ${fp}`);
        }
        const outputs = JSON.parse(r.stdout.split("\noutputs: ")[1]);
        assert.deepStrictEqual(outputs.hostKeys, Object.keys(HOSTS).map((host) => ({ host, key: hostKeyOf(host).text })));
        oldNode1 = hostKeyOf("node1");
    });

    it("a second up runs no command: the learn steps do not run again", () => {
        const r = engine("up", "noop-up");
        assert.strictEqual(r.code, 0, r.out);
        const s = summaryOf(r.out);
        assert.deepStrictEqual([s.created, s.updated, s.replaced, s.deleted, s["remote-commands"]], [0, 0, 0, 0, 0], r.out);
    });

    it("node1 gets a new host key: the engine's pin (ssh with the learned key) refuses it, and runs nothing there", async () => {
        execOk("node1", "rm -f /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key.pub && " +
            "ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key && systemctl restart ssh");
        assert.notStrictEqual(hostKeyOf("node1").text, oldNode1.text);
        const t = Date.now();
        while (run("ssh-keyscan", ["-T", "2", "-t", "ed25519", HOSTS.node1]).stdout.trim() === "") {
            assert.ok(Date.now() - t < 30_000, "node1's sshd did not come back in 30 s");
        }
        const probe = await runRemote({ host: HOSTS.node1, port: 22, user: "pi", hostKey: oldNode1.text },
            fs.readFileSync(KEY, "utf8"), "touch /tmp/pinned-probe", undefined);
        assert.strictEqual(probe.code, 255);
        assert.match(probe.stderr, /Host key verification failed/);
        assert.strictEqual(run("lab/exec", ["node1", "test", "-e", "/tmp/pinned-probe"]).code, 1, "the command ran on a host with another key");
        const ok = await runRemote({ host: HOSTS.node1, port: 22, user: "pi", hostKey: hostKeyOf("node1").text },
            fs.readFileSync(KEY, "utf8"), "echo pinned-ok", undefined);
        assert.deepStrictEqual([ok.code, ok.stdout], [0, "pinned-ok\n"], ok.stderr);
    });

    it("an up that would send node1 steps stops before any, naming node1, both fingerprints and the fix; nothing is written on node1", () => {
        execOk("node1", "touch /run/hostkeys-marker");
        const r = engine("up", "refused-up", stackVariant("certificate", certificate));
        assert.notStrictEqual(r.code, 0, r.out);
        const newNode1 = hostKeyOf("node1");
        assert.deepStrictEqual(r.out.split("\n").filter((l) => l.startsWith("error: ")), [`error: homecloud: the SSH host key of node1 ` +
            `(10.77.0.11:22) has changed: expected ssh-ed25519 ${oldNode1.fingerprint} ` +
            `(learned on the first up), offered ssh-ed25519 ${newNode1.fingerprint}. Nothing was sent to node1. If node1 was re-imaged, ` +
            "check the new key on it (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and put its new key in homecloud:hostKeys, or " +
            "forget the learned one: pulumi up --replace \"$(pulumi stack --show-urns | grep -o 'urn:[^ ]*::hostkeys-node1$')\". " +
            "Otherwise something else answers at 10.77.0.11:22: find it before the next up"], "the refusal, once, and no other error");
        assert.ok(r.secs < 60, `the refusal took ${r.secs} s (the provider's own retries would take minutes)`);
        // No step for node1 ran, nor the gateway's signing of node1's request.
        assert.doesNotMatch(r.out, /^(created|updated|replaced) (pki-node1-|pki-node1-web-)/m);
        assert.doesNotMatch(r.out, /start pki-node1-web-key/);
        assert.strictEqual(run("lab/exec", ["node1", "test", "-e", "/etc/homecloud/pki/web.key"]).code, 1, "web.key was made on node1");
        assert.strictEqual(execOk("node1", "find /etc /usr/local /var/lib/homecloud /home/pi -newer /run/hostkeys-marker 2>/dev/null || true"), "",
            "files changed on node1");
    });

    it("the same up with node1's new key in homecloud:hostKeys proceeds: node1's steps run pinned to it, its learn step goes", () => {
        const newNode1 = hostKeyOf("node1");
        const r = engine("up", "pinned-up", stackVariant("pinned", { ...certificate, hostKeys: [{ host: "node1", key: `${newNode1.text} root@node1` }] }));
        assert.strictEqual(r.code, 0, r.out);
        assert.match(r.out, /^created pki-node1-web-key$/m);
        assert.match(r.out, /^deleted hostkeys-node1$/m);
        assert.doesNotMatch(r.out, /learned on first use[^\n]*node1|node1's SSH host key was learned/);
        assert.strictEqual(run("lab/exec", ["node1", "test", "-s", "/etc/homecloud/pki/web.key"]).code, 0, "web.key is on node1");
        const outputs = JSON.parse(r.stdout.split("\noutputs: ")[1]);
        assert.deepStrictEqual(outputs.hostKeys.find((e: { host: string }) => e.host === "node1"), { host: "node1", key: newNode1.text });
        const state = JSON.parse(fs.readFileSync(STATE, "utf8"));
        assert.strictEqual(state.resources["urn:pulumi:lab::homecloud::homecloud:pki:PrivateCa$command:remote:Command::pki-node1-web-key"].connection.hostKey, newNode1.text);
    });

    it("destroy takes it all down again, pinned", () => {
        const r = engine("destroy", "destroy");
        assert.strictEqual(r.code, 0, r.out);
        assert.deepStrictEqual(Object.keys(JSON.parse(fs.readFileSync(STATE, "utf8")).resources), []);
    });
});
