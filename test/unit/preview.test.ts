// The program as a first `pulumi preview` runs it: every command's stdout unknown. It must
// register the same resources as an `up` and throw nothing (an apply that parses stdout,
// a kubeconfig or a certificate, must wait for it, not fail on it).
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { clusterRawPlan, k3sStdout } from "../fixtures/k3s";
import { stdoutHooks } from "../mocks";
import { runProgram, StackConfig, stackFile } from "../program";

const REPO = path.resolve(__dirname, "..", "..");

function preview(stack: StackConfig): { registered: string[]; errors: string[]; known: Record<string, boolean> } {
    const r = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only",
        path.join(REPO, "test", "preview", "previewRun.ts"), JSON.stringify(stack)], { cwd: REPO, encoding: "utf8", timeout: 120_000 });
    assert.strictEqual(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split("\n").at(-1)!);
}

describe("preview: the program with every command's stdout unknown", function () {
    this.timeout(180_000);
    before(() => {
        stdoutHooks.push(k3sStdout("k3s"));
    });

    for (const [title, stack] of [["lab", () => stackFile("Pulumi.lab.yaml")], ["a large plan with K3s", clusterRawPlan]] as const) {
        it(`${title}: registers what an up registers, throws nothing, and leaves what comes from stdout unknown`, async () => {
            const p = preview(stack());
            assert.deepStrictEqual(p.errors, []);
            const up = (await runProgram(stack())).resources.map((r) => `${r.type}::${r.name}`);
            assert.deepStrictEqual([...p.registered].sort(), [...up].sort());
            // What comes from a command's stdout (the CA certificate pki-ca prints, the
            // certificates' expiry, HAProxy's status once configured) is unknown until it ran.
            for (const o of ["caCertificate", "certificates", "loadBalancer"]) {
                assert.strictEqual(p.known[o], false, o);
            }
            if (title !== "lab") {
                assert.strictEqual(p.known.kubeconfig, false, "kubeconfig");
            }
        });
    }
});
