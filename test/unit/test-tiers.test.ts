// `make test` says which tiers ran: scripts/test-tiers.sh with a stand-in `make` that
// answers each tier the way the real targets end (mocha's "N passing", the e2e script's
// last line, a failure).
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const SCRIPT = path.resolve(__dirname, "..", "..", "scripts", "test-tiers.sh");

/** Runs the script with a `make` that prints `outputs[target]` and exits with its code. */
function tiers(outputs: Record<string, [string, number]>, ...args: string[]): { code: number; summary: string } {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "tiers-"));
    try {
        const cases = Object.entries(outputs).map(([t, [out, code]]) =>
            `  ${t}) printf '%b\\n' ${JSON.stringify(out)}; exit ${code} ;;`).join("\n");
        fs.writeFileSync(path.join(bin, "make"), `#!/bin/bash\ncase "$2" in\n${cases}\nesac\nexit 9\n`, { mode: 0o755 });
        const r = spawnSync("bash", [SCRIPT, ...args], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: "utf8" });
        return { code: r.status ?? -1, summary: r.stdout.slice(r.stdout.indexOf("== tiers ==")) };
    } finally {
        fs.rmSync(bin, { recursive: true, force: true });
    }
}

describe("make test: one line per tier", () => {
    it("counts what passed, says why the real-engine gates were skipped", () => {
        const r = tiers({
            "test-unit": ["  301 passing (40s)", 0],
            "test-checkers": ["  80 passing (9s)\n  8 passing (2s)", 0],
            "test-cluster-node": ["cluster-node: SKIPPED, run make cluster-node to build kubelet, containerd and the CNI plugins (about 8 min)", 0],
            "test-lab": ["  32 passing (6m)", 0],
            "e2e-if-present": ["e2e: SKIPPED, no Pulumi CLI on this machine (install Pulumi to run them)", 0],
        });
        assert.strictEqual(r.code, 0);
        assert.strictEqual(r.summary, [
            "== tiers ==",
            "unit:     301 passing",
            "checkers: 88 passing",
            "cluster:  SKIPPED: run make cluster-node to build kubelet, containerd and the CNI plugins (about 8 min)",
            "lab:      32 passing",
            "e2e:      SKIPPED: no Pulumi CLI on this machine (install Pulumi to run them)",
            "",
        ].join("\n"));
    });

    it("reports the gates when the engine ran, and a failure stops the run and fails it", () => {
        const ok = tiers({ "e2e-if-present": ["e2e: gate 1 passed: first up\ne2e: all 8 gates passed", 0] }, "e2e");
        assert.deepStrictEqual(ok, { code: 0, summary: "== tiers ==\ne2e:      8 gates passed\n" });
        const pods = tiers({ "test-cluster-node": ["  3 passing (12s)", 0] }, "cluster");
        assert.deepStrictEqual(pods, { code: 0, summary: "== tiers ==\ncluster:  3 passing\n" });
        const bad = tiers({ "test-unit": ["  300 passing (40s)\n  1 failing", 2], "test-checkers": ["  88 passing", 0] }, "unit", "checkers");
        assert.deepStrictEqual(bad, {
            code: 1,
            summary: "== tiers ==\nunit:     FAILED (300 passing before the failure; its output is above)\ncheckers: NOT RUN (unit failed)\n",
        });
    });

    it("refuses a tier it does not know", () => {
        const r = spawnSync("bash", [SCRIPT, "lint"], { encoding: "utf8" });
        assert.strictEqual(r.status, 2);
        assert.strictEqual(r.stderr, "test-tiers: unknown tier 'lint' (unit, checkers, cluster, lab, e2e)\n");
    });
});
