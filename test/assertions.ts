// Assertions more than one test file needs: what the configuration's validation reports,
// and the repository's shell scripts through shellcheck and bash -n as files.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { ConfigError } from "../config/plan";
import { RawConfig } from "../config/schema";
import { parseAddressPlan } from "../config/validate";

const REPO = path.resolve(__dirname, "..");

/** Every problem the validation reports for `raw` with `extra` over it; fails if it is accepted. */
export function problems(raw: RawConfig, extra: RawConfig = {}): readonly string[] {
    try {
        parseAddressPlan({ ...raw, ...extra });
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
        return e.problems;
    }
    assert.fail("the configuration was accepted");
}

/**
 * The scripts (paths relative to the repository) pass shellcheck, following what they
 * source (-x, from the repository's root), and bash -n, each as a file.
 */
export function assertScriptsPass(files: readonly string[]): void {
    assert.ok(files.length > 0, "no scripts to check");
    const sc = spawnSync("shellcheck", ["-x", "-P", REPO, ...files.map((f) => path.join(REPO, f))], { encoding: "utf8" });
    assert.ok(!sc.error, `shellcheck could not run (make checkers installs it): ${sc.error}`);
    assert.strictEqual(sc.status, 0, `shellcheck:\n${sc.stdout}${sc.stderr}`);
    for (const f of files) {
        const n = spawnSync("bash", ["-n", path.join(REPO, f)], { encoding: "utf8" });
        assert.strictEqual(n.status, 0, `bash -n ${f}: ${n.stderr}`);
    }
}
