// actionlint (built by scripts/setup-actionlint.sh) on the repository's workflows, with
// shellcheck on their scripts; and on a broken copy, to prove it checks the Pulumi action's
// inputs and the runner labels.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const REPO = path.resolve(__dirname, "..", "..");
const ACTIONLINT = path.join(process.env.HOMECLOUD_CACHE ?? "/var/cache/homecloud", "bin", "actionlint");

function actionlint(cwd: string, ...files: string[]): { status: number | null; output: string } {
    const r = spawnSync(ACTIONLINT, ["-no-color", ...files], { cwd, encoding: "utf8" });
    if (r.error) {
        throw new Error(`${ACTIONLINT}: ${r.error.message} (make checkers builds it)`);
    }
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe("workflow lint (actionlint)", () => {
    it("passes on every workflow of the repository, shellcheck included", () => {
        assert.ok(spawnSync("shellcheck", ["--version"]).status === 0, "shellcheck is installed, so actionlint checks the run: scripts");
        const r = actionlint(REPO);
        assert.strictEqual(r.status, 0, r.output);
        assert.deepStrictEqual(fs.readdirSync(path.join(REPO, ".github/workflows")), ["preview.yml"]);
    });

    it("rejects a misspelt input of pulumi/actions, an unknown runner label and an unquoted expansion", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-actionlint-"));
        try {
            // actionlint finds the project (and its .github/actionlint.yaml) by a .git directory.
            fs.mkdirSync(path.join(dir, ".git"));
            fs.mkdirSync(path.join(dir, ".github/workflows"), { recursive: true });
            fs.copyFileSync(path.join(REPO, ".github/actionlint.yaml"), path.join(dir, ".github/actionlint.yaml"));
            const broken = fs.readFileSync(path.join(REPO, ".github/workflows/preview.yml"), "utf8")
                .replace("comment-on-pr: true", "comment_on_pr: true")
                .replace("[self-hosted, homecloud-lan]", "[self-hosted, homecloud-lab]")
                .replace('pulumi stack select "$STACK"', "pulumi stack select $STACK");
            fs.writeFileSync(path.join(dir, ".github/workflows/preview.yml"), broken);
            const r = actionlint(dir);
            assert.strictEqual(r.status, 1, r.output);
            assert.match(r.output, /input "comment_on_pr" is not defined in action "pulumi\/actions@v6"/);
            assert.match(r.output, /label "homecloud-lab" is unknown/);
            assert.match(r.output, /SC2086/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
