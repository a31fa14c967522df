// The SSH engine's transport on the lab's real sshd, against what the command provider
// v1.2.1 does (provider/pkg/provider/remote/connection.go, commandOutputs.go): a dial is
// retried until `dialErrorLimit` dials have failed (limit + 1 attempts) and then fails with
// "after N failed attempts: …"; a command runs once, even when its connection is lost
// halfway (never a silent re-run of a half-done step).
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { runRemote, sshStats } from "../../lab/engine/ssh";
import { KEY as KEY_FILE, PLAN, REPO, RUN_DIR } from "./lab-helpers";

const KEY = fs.readFileSync(KEY_FILE, "utf8");
const NODE1 = PLAN.nodes.find((n) => n.name === "node1")!.ip;

function onNode1(cmd: string): string {
    const r = spawnSync(path.join(REPO, "lab", "exec"), ["node1", "bash", "-c", cmd], { encoding: "utf8" });
    assert.strictEqual(r.status, 0, r.stderr);
    return r.stdout;
}

describe("the SSH engine's transport (lab sshd)", function () {
    this.timeout(120_000);

    it("runs a command once and returns its output as ssh gives it", async () => {
        const r = await runRemote({ host: NODE1, port: 22, user: "pi" }, KEY, "echo one; echo two >&2", undefined);
        assert.deepStrictEqual(r, { code: 0, stdout: "one\n", stderr: "two\n" });
    });

    it("a dial that never succeeds: limit + 1 attempts, then the provider's message", async () => {
        const dials = sshStats.dials;
        const t = Date.now();
        const r = await runRemote({ host: NODE1, port: 2, user: "pi", dialErrorLimit: 2 }, KEY, "true", undefined);
        assert.strictEqual(sshStats.dials - dials, 3);
        assert.strictEqual(r.code, 255);
        assert.strictEqual(r.stderr, `after 2 failed attempts: ssh: connect to host ${NODE1} port 2: Connection refused\n`);
        // Waits of 100 ms and 150 ms between them (retry.Until's defaults).
        assert.ok(Date.now() - t >= 250, `${Date.now() - t} ms`);
    });

    it("a connection lost mid-command is that command's failure: it is not run again", async () => {
        onNode1("rm -f /tmp/hc-transport-runs");
        // The remote shell's parent is the session's sshd: killing it drops the connection.
        const r = await runRemote({ host: NODE1, port: 22, user: "pi" }, KEY, "echo run >> /tmp/hc-transport-runs; kill -9 $PPID; sleep 5", undefined);
        assert.strictEqual(r.code, 255);
        assert.strictEqual(onNode1("cat /tmp/hc-transport-runs"), "run\n");
        onNode1("rm -f /tmp/hc-transport-runs");
    });
});

describe("a command moved to another parent, on the lab (SSH engine, URNs as the engine's)", function () {
    this.timeout(300_000);
    const STATE = path.join(RUN_DIR, "replay-moved.json");
    const replay = (parent: string, content: string): string => {
        const r = spawnSync("npx", ["ts-node", "lab/engine/sshEngine.ts", "up"], {
            cwd: REPO, encoding: "utf8", timeout: 300_000,
            env: {
                ...process.env, TS_NODE_TRANSPILE_ONLY: "1", SSH_ENGINE_PROGRAM: path.join(REPO, "test/integration/fixtures/replayProgram"),
                SSH_ENGINE_STATE: STATE, REPLAY_SHAPE: "moved", REPLAY_PARENT: parent, REPLAY_CONTENT: content,
            },
        });
        assert.strictEqual(r.status, 0, `${r.stdout}\n${r.stderr}`);
        return r.stdout;
    };
    const onGw = (cmd: string): string => {
        const r = spawnSync(path.join(REPO, "lab", "exec"), ["gw", "bash", "-c", cmd], { encoding: "utf8" });
        return r.stdout;
    };

    it("is created anew and the old URN deleted; the old delete leaves the successor's file alone (owner = URN)", () => {
        assert.match(replay("homecloud:replay:A", "first\n"), /^created replay-file$/m);
        const out = replay("homecloud:replay:B", "first\n");
        assert.match(out, /^created replay-file$/m);
        assert.match(out, /^ {2}delete urn:pulumi:lab::homecloud::homecloud:replay:A\$command:remote:Command::replay-file\n(?: {2}.*\n)*deleted replay-file$/m);
        assert.match(out, /homecloud: \/etc\/homecloud-replay\.conf belongs to urn:pulumi:lab::homecloud::homecloud:replay:B\$command:remote:Command::replay-file now; left as it is/);
        assert.strictEqual(onGw("cat /etc/homecloud-replay.conf"), "first\n");
        const d = spawnSync("npx", ["ts-node", "lab/engine/sshEngine.ts", "destroy"], {
            cwd: REPO, encoding: "utf8", env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1", SSH_ENGINE_STATE: STATE },
        });
        assert.strictEqual(d.status, 0, d.stdout + d.stderr);
        assert.strictEqual(onGw("test -e /etc/homecloud-replay.conf && echo present || echo gone"), "gone\n");
    });
});
