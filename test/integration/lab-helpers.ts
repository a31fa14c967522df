// What every phase of the lab tier shares: the lab plan's figures, running a command on a
// lab host, running the SSH engine (each run's output and time kept in $HOMECLOUD_LAB_RUN),
// variants of the lab stack, and `labPhase`, the frame each phase file is written in.
// The phases (NN-*.test.ts) run in their number's order after the engine's first `up`;
// see run.sh.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { labPlan } from "../../lab/plan";

export const REPO = path.resolve(__dirname, "..", "..");
export const RUN_DIR = process.env.HOMECLOUD_LAB_RUN ?? "/run/homecloud-lab";
/** The SSH engine's state file for the lab stack (run.sh exports the same path). */
export const STATE_FILE = process.env.SSH_ENGINE_STATE ?? path.join(RUN_DIR, "ssh-engine-state.json");
export const KEY = path.join(process.env.HOMECLOUD_CACHE ?? "/var/cache/homecloud", "lab-ssh", "id_ed25519");
export const PLAN = labPlan();
export const DOMAIN = PLAN.domain;
/** Where pool clients' names go (dhcp.<domain> by default). */
export const DDNS = PLAN.ddnsSuffix;
export const GW_LAN = PLAN.gwLan;
export const GW_WAN = PLAN.gwWan;
export const VIP = PLAN.vip;
export const CLIENT_MAC = PLAN.client.mac;
/** A MAC no reservation has: the client takes it to get a pool address. */
export const UNKNOWN_MAC = CLIENT_MAC.replace(/..$/, "99");
/** The lab stack's client reservation, one line of Pulumi.lab.yaml. */
export const CLIENT_LINE = `    - { name: client, mac: "${CLIENT_MAC}", ip: ${PLAN.client.ip} }`;
/** Hosts whose trust store lab/snapshot.sh records (trust-<host>.txt): the PKI puts the CA in each. */
export const TRUST_HOSTS = ["gw", "node1", "node2", "node3"];
export const ipNum = (ip: string): number => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);

/**
 * What runs the K3s API on node1..3 in this lab (lab/cluster.sh wrote it): `real`, an etcd
 * member and a real kube-apiserver on each, or `standin`, lab/api-standin.py.
 */
export function clusterKind(): "real" | "standin" {
    const kind = fs.readFileSync(path.join(RUN_DIR, "cluster"), "utf8").trim();
    assert.ok(kind === "real" || kind === "standin", `${RUN_DIR}/cluster says ${JSON.stringify(kind)}`);
    return kind;
}

export interface Result { code: number; stdout: string; stderr: string }

export function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Result {
    const r = spawnSync(cmd, args, {
        cwd: REPO, input: opts.input ?? "", env: opts.env ?? process.env,
        encoding: "utf8", timeout: opts.timeout ?? 120_000, maxBuffer: 64 * 1024 * 1024,
    });
    if (r.error) {
        throw r.error;
    }
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Root inside a lab host. */
export function exec(host: string, ...args: string[]): Result {
    return run("lab/exec", [host, ...args]);
}

export function execOk(host: string, ...args: string[]): string {
    const r = exec(host, ...args);
    assert.strictEqual(r.code, 0, `${host}: ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
}

export function bash(host: string, script: string): Result {
    return exec(host, "bash", "-c", script);
}

/** pi@gw over the LAN side (the management veth sits on the LAN bridge). */
export function assertSshFromLan(): void {
    const r = run("lab/ssh", ["gw", "echo", "ssh-ok"]);
    assert.strictEqual(r.code, 0, `ssh pi@gw from the LAN side failed: ${r.stderr}`);
    assert.strictEqual(r.stdout.trim(), "ssh-ok");
}

export function engine(mode: "up" | "destroy", label: string, env: NodeJS.ProcessEnv = {}): string {
    const t = Date.now();
    const r = run("npx", ["ts-node", "lab/engine/sshEngine.ts", mode], {
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1", ...env }, timeout: 600_000,
    });
    const secs = ((Date.now() - t) / 1000).toFixed(1);
    fs.writeFileSync(path.join(RUN_DIR, `${label}.log`), r.stdout + r.stderr);
    fs.writeFileSync(path.join(RUN_DIR, `${label}.time`), secs);
    assert.strictEqual(r.code, 0, `engine ${mode} (${label}) exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
}

export function summaryOf(out: string): Record<string, number> {
    const line = out.split("\n").find((l) => l.startsWith("summary"));
    assert.ok(line, `no summary line in:\n${out}`);
    return Object.fromEntries([...line.matchAll(/(\w[\w-]*)=([\d.]+)/g)].map((m) => [m[1], Number(m[2])]));
}

/** The lines of an engine log that changed something (created, updated, replaced, deleted), sorted; `diff: false` drops the `[diff: …]` part. */
export function changes(label: string, opts: { diff?: boolean } = {}): string[] {
    const lines = fs.readFileSync(path.join(RUN_DIR, `${label}.log`), "utf8").split("\n")
        .filter((l) => /^(created|updated|replaced|deleted) /.test(l));
    return (opts.diff === false ? lines.map((l) => l.replace(/ \[diff: .*\]$/, "")) : lines).sort();
}

/** Pulumi.lab.yaml as committed. */
export function labStackText(): string {
    return fs.readFileSync(path.join(REPO, "Pulumi.lab.yaml"), "utf8");
}

/** A variant of the lab stack, written to $HOMECLOUD_LAB_RUN/stack-<label>.yaml for SSH_ENGINE_STACK_FILE. */
export function stackVariant(label: string, edit: (yaml: string) => string): string {
    const f = path.join(RUN_DIR, `stack-${label}.yaml`);
    fs.writeFileSync(f, edit(labStackText()));
    return f;
}

/** The lab stack with each `[from, to]` text replaced; each `from` must be in the committed file. */
export function stackReplacing(label: string, ...edits: [string, string][]): string {
    return stackVariant(label, (y) => edits.reduce((text, [from, to]) => {
        assert.ok(text.includes(from), `Pulumi.lab.yaml has no line ${JSON.stringify(from)}; update this test`);
        return text.replace(from, to);
    }, y));
}

/** The lab stack with `homecloud:<key>: <value>` added at the end of its config. */
export function stackWith(label: string, key: string, value: string): string {
    return stackVariant(label, (y) => `${y.trimEnd()}\n  homecloud:${key}: ${value}\n`);
}

/** The engine's state file, parsed. */
export function engineState(): { resources: Record<string, any>; nextOrder: number } {
    return JSON.parse(fs.readFileSync(STATE_FILE, "utf8"));
}

/**
 * One phase of the lab run: a mocha suite with the lab's time limit, which needs the engine's
 * first `up` done and checks after its own steps that the gateway still answers SSH from the LAN.
 */
export function labPhase(title: string, body: (this: Mocha.Suite) => void): void {
    describe(`homecloud on the lab (SSH engine) ${title}`, function () {
        this.timeout(600_000);
        before(() => {
            assert.ok(fs.existsSync(STATE_FILE), "run the engine `up` first (run.sh does)");
        });
        body.call(this);
        after(assertSshFromLan);
    });
}
