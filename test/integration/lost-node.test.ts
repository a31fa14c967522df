// Lab phase: a node that is gone for good (its network down) is taken out of the stack.
// Run by test/integration/run.sh after lab.test.ts (which ends with a destroy): deploys the
// committed lab stack afresh, unplugs node3's switch port, then
//   - takes it out of `nodes` and adds it to `lostNodes`: one `up` succeeds, node3's DNS
//     names, DHCP reservation and VIP backend are gone, its steps on node3 are kept, not run;
//   - takes it out of `lostNodes`: its kept steps are dropped, nothing runs anywhere;
//   - plugs node3 back: what was on it is still there; adding it to `nodes` again reuses it;
//   - unplugs it again and takes it out of `nodes` alone: the run fails at once, naming
//     homecloud:lostNodes, without one of node3's own steps dialling it.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { GW_LAN, PLAN, REPO, Result, run, RUN_DIR, STATE_FILE } from "./lab-helpers";
const NODE3 = { mac: "02:77:00:00:00:13", ip: "10.77.0.13", line: `    - { name: node3, mac: "02:77:00:00:00:13", ip: 10.77.0.13, role: server }` };
/** node3's own steps while K3s is off (the lab): its PKI steps, and its guard on the gateway. */
const NODE3_STEPS = ["node-node3-reachable", "pki-node3-host-cert", "pki-node3-host-key", "pki-node3-toolkit", "pki-node3-trust"];


const bash = (host: string, script: string): Result => run("lab/exec", [host, "bash", "-c", script]);

function execOk(host: string, script: string): string {
    const r = bash(host, script);
    assert.strictEqual(r.code, 0, `${host}: ${script} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
}

/** The SSH engine on a stack file; returns its output, the wall time and the summary. */
function engineUp(label: string, stackFile?: string): { r: Result; secs: number; summary: Record<string, number> } {
    const t = Date.now();
    const r = run("npx", ["ts-node", "lab/engine/sshEngine.ts", "up"], {
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1", ...stackFile ? { SSH_ENGINE_STACK_FILE: stackFile } : {} }, timeout: 900_000,
    });
    const secs = (Date.now() - t) / 1000;
    fs.writeFileSync(path.join(RUN_DIR, `${label}.log`), r.stdout + r.stderr);
    fs.writeFileSync(path.join(RUN_DIR, `${label}.time`), secs.toFixed(1));
    const line = r.stdout.split("\n").find((l) => l.startsWith("summary"));
    assert.ok(line, `no summary line:\n${r.stdout}\n${r.stderr}`);
    return { r, secs, summary: Object.fromEntries([...line.matchAll(/(\w[\w-]*)=([\d.]+)/g)].map((m) => [m[1], Number(m[2])])) };
}

/** The lab stack without node3, and with `extra` appended (YAML lines under `config:`). */
function stackWithoutNode3(label: string, extra = ""): string {
    const y = fs.readFileSync(path.join(REPO, "Pulumi.lab.yaml"), "utf8");
    assert.ok(y.includes(`${NODE3.line}\n`), "Pulumi.lab.yaml's node3 line changed; update this test");
    const f = path.join(RUN_DIR, `stack-${label}.yaml`);
    fs.writeFileSync(f, y.replace(`${NODE3.line}\n`, "").trimEnd() + "\n" + extra);
    return f;
}

const actions = (out: string): string[] => out.split("\n").filter((l) => /^(created|updated|replaced|deleted|FAILED) /.test(l)).sort();
// The engine's state is keyed by URN; these checks name commands.
const stateNames = (): string[] => Object.keys(JSON.parse(fs.readFileSync(STATE_FILE, "utf8")).resources)
    .map((u) => u.slice(u.lastIndexOf("::") + 2)).sort();
const stateEntry = (name: string) => Object.entries(JSON.parse(fs.readFileSync(STATE_FILE, "utf8")).resources)
    .find(([u]) => u.endsWith(`::${name}`))?.[1] as any;

function haproxyServers(): string[] {
    const csv = execOk("gw", "echo 'show stat' | socat stdio /run/haproxy/admin.sock");
    return csv.split("\n").filter((l) => l.startsWith("k3s-servers,") && !/,(FRONTEND|BACKEND),/.test(l)).map((l) => l.split(",")[1]);
}

const port = (state: "up" | "down") => assert.strictEqual(run("ip", ["-n", "hc-sw", "link", "set", "p-node3", state]).code, 0);
const figures: string[] = [];

describe("a lost node (node3's network down) is taken out of the stack", function () {
    this.timeout(900_000);

    before(() => {
        const base = engineUp("lost-base-up");
        assert.strictEqual(base.r.code, 0, `${base.r.stdout}\n${base.r.stderr}`);
        assert.deepStrictEqual(stateNames().filter((n) => n.includes("-node3-")), NODE3_STEPS.concat("pki-node3-host-sign").sort());
        port("down");
        assert.notStrictEqual(bash("node1", `ping -c1 -W1 ${NODE3.ip}`).code, 0, "node3 still answers");
    });

    after(() => {
        port("up");
        fs.writeFileSync(path.join(RUN_DIR, "lost-node-figures.txt"), figures.join("\n") + "\n");
        process.stdout.write(`\n== a lost node, measured ==\n${figures.join("\n")}\n`);
    });

    it("in lostNodes: one up succeeds; node3's names, reservation and VIP backend are gone; its own steps are kept, not run", () => {
        const { r, secs, summary } = engineUp("lost-up", stackWithoutNode3("lost", "  homecloud:lostNodes: [node3]\n"));
        assert.strictEqual(r.code, 0, `${r.stdout}\n${r.stderr}`);
        figures.push(`node3 in lostNodes: one up in ${secs.toFixed(1)} s, ${summary["remote-commands"]} remote commands, ` +
            `${summary.updated} updated, ${summary.deleted} deleted, ${summary.unchanged} unchanged`);
        const changed = actions(r.stdout);
        // The gateway's files without node3 (DHCP, zones, HAProxy), its signing record deleted.
        for (const step of ["updated gateway-dhcp-config", "updated gateway-lb-config", "deleted pki-node3-host-sign"]) {
            assert.ok(changed.some((l) => l.startsWith(step)), `${step} in:\n${changed.join("\n")}`);
        }
        // node3's host-key learn step goes too: it has no delete, so dropping it runs nothing on node3.
        assert.deepStrictEqual(changed.filter((l) => l.includes("node3") && l !== "deleted pki-node3-host-sign"), ["deleted hostkeys-node3"]);
        assert.ok(!changed.some((l) => l.startsWith("FAILED")), changed.join("\n"));
        for (const name of NODE3_STEPS) {
            assert.match(r.stdout, new RegExp(`^unchanged ${name}$`, "m"));
            assert.strictEqual(stateEntry(name).retainOnDelete, true, name);
            assert.strictEqual(stateEntry(name).connection.host, name === "node-node3-reachable" ? GW_LAN : NODE3.ip, `${name} keeps its old connection`);
        }
        // DNS: node3's name now falls to the wildcard (the ingress), its PTR is gone.
        assert.strictEqual(execOk("node1", `dig +short @${GW_LAN} node3.${PLAN.domain} A`).trim(), PLAN.ingressIp);
        assert.strictEqual(execOk("node1", `dig +short @${GW_LAN} -x ${NODE3.ip}`).trim(), "");
        assert.strictEqual(execOk("node1", `dig +short @${GW_LAN} node2.${PLAN.domain} A`).trim(), "10.77.0.12");
        // DHCP: no reservation for node3's MAC or address; Kea runs the new file.
        assert.strictEqual(bash("gw", `grep -c -e '${NODE3.mac}' -e '"${NODE3.ip}"' /etc/kea/kea-dhcp4.conf`).stdout.trim(), "0");
        assert.strictEqual(bash("gw", "systemctl is-active kea-dhcp4-server haproxy named").code, 0);
        // The VIP: node3 is no backend any more.
        assert.deepStrictEqual(haproxyServers(), ["node1", "node2"]);
        assert.strictEqual(bash("gw", `grep -c '${NODE3.ip}' /etc/haproxy/haproxy.cfg`).stdout.trim(), "0");
    });

    it("a second up with node3 in lostNodes runs no command", () => {
        const { r, summary } = engineUp("lost-noop-up", stackWithoutNode3("lost", "  homecloud:lostNodes: [node3]\n"));
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(summary["remote-commands"], 0);
    });

    it("taken out of lostNodes: node3's kept steps are dropped from the state without running anything", () => {
        const { r, summary } = engineUp("lost-forget-up", stackWithoutNode3("no-node3"));
        assert.strictEqual(r.code, 0, `${r.stdout}\n${r.stderr}`);
        assert.strictEqual(summary["remote-commands"], 0);
        assert.deepStrictEqual(actions(r.stdout), NODE3_STEPS.map((n) => `deleted ${n} (retainOnDelete: dropped, not run)`).sort());
        assert.deepStrictEqual(stateNames().filter((n) => n.includes("node3")), []);
        figures.push(`node3 out of lostNodes: ${NODE3_STEPS.length} steps dropped, 0 remote commands`);
    });

    it("node3 plugged back: what its steps left is still on it; listed in nodes again, its key is reused", () => {
        port("up");
        const keyBefore = execOk("node3", "sha256sum /etc/homecloud/pki/host.key").split(" ")[0];
        assert.strictEqual(bash("node3", "test -d /usr/local/lib/homecloud-pki && test -f /usr/local/share/ca-certificates/homecloud-ca.crt").code, 0,
            "nothing ran on node3, so its toolkit and trust entry are still there");
        const { r } = engineUp("lost-back-up");
        assert.strictEqual(r.code, 0, `${r.stdout}\n${r.stderr}`);
        assert.strictEqual(execOk("node3", "sha256sum /etc/homecloud/pki/host.key").split(" ")[0], keyBefore, "the same key");
        assert.deepStrictEqual(haproxyServers(), ["node1", "node2", "node3"]);
        assert.strictEqual(execOk("node1", `dig +short @${GW_LAN} node3.${PLAN.domain} A`).trim(), NODE3.ip);
    });
    it("unplugged again and taken out of nodes alone: the run fails at once with the guard's message naming homecloud:lostNodes; no step of node3's is dialled", () => {
        port("down");
        const { r, secs, summary } = engineUp("lost-without-list", stackWithoutNode3("no-node3"));
        figures.push(`node3 out of nodes, not in lostNodes: failed after ${secs.toFixed(1)} s (${summary["remote-commands"]} remote commands)`);
        assert.notStrictEqual(r.code, 0);
        assert.match(r.stderr, /homecloud: node3 \(10\.77\.0\.13\) does not answer on port 22 from the gateway; if it is gone for good, add node3 to homecloud:lostNodes: its steps on the node are then dropped without running/);
        assert.deepStrictEqual(actions(r.stdout).filter((l) => l.includes("node3")), ["FAILED delete node-node3-reachable (exit 1)"]);
        assert.ok(secs < 90, `took ${secs} s`);
        assert.deepStrictEqual(stateNames().filter((n) => n.includes("-node3-")), NODE3_STEPS.concat("pki-node3-host-sign").sort(),
            "nothing of node3's left the state");
    });

});
