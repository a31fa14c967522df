// The pull-request workflow (.github/workflows/preview.yml): every stack file of the
// repository is previewed and deployed, or excluded here with its reason; the preview is
// posted on the PR by the official action; secrets reach steps only through `env:` from the
// repository's secrets. actionlint lints the file in the checker tier.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

const REPO = path.resolve(__dirname, "..", "..");
const WORKFLOW = path.join(REPO, ".github/workflows/preview.yml");

/** Stacks with a stack file that the workflow does not preview or deploy, and why. */
const NOT_IN_WORKFLOW: Readonly<Record<string, string>> = {
    lab: "its hosts are network namespaces on the machine that runs `make lab`, out of any runner's reach; " +
        "`make test` deploys and checks it there (lab tier, real-engine gates)",
};

/** The repository's secrets the workflow may read, and nothing else. */
const ALLOWED_SECRETS = ["HOMECLOUD_SSH_PRIVATE_KEY", "PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"];

interface Step { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string>; name?: string }
interface Job { "runs-on": unknown; needs?: string; if?: string; steps: Step[]; strategy?: { matrix: { stack: string[] } }; permissions?: Record<string, string> }

const workflow = parse(fs.readFileSync(WORKFLOW, "utf8")) as { on: Record<string, unknown>; jobs: Record<string, Job>; permissions: Record<string, string> };
const stackFiles = fs.readdirSync(REPO).map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => !!s).sort();
const pulumiSteps = (job: Job) => job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@"));
const sdkVersion = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).dependencies["@pulumi/pulumi"];

describe("pull-request workflow (.github/workflows/preview.yml)", () => {
    it("covers every Pulumi.<stack>.yaml of the repository, in both matrices, or excludes it with a reason", () => {
        assert.deepStrictEqual(stackFiles, ["dev", "lab"], "the stack files this test was written against");
        for (const job of ["preview", "up"]) {
            const matrix = [...workflow.jobs[job].strategy!.matrix.stack].sort();
            for (const stack of stackFiles) {
                assert.ok(matrix.includes(stack) !== (stack in NOT_IN_WORKFLOW),
                    `${job}: Pulumi.${stack}.yaml must be in the matrix or in NOT_IN_WORKFLOW with a reason (not both)`);
            }
            for (const stack of matrix) {
                assert.ok(stackFiles.includes(stack), `${job}: matrix stack ${stack} has no Pulumi.${stack}.yaml`);
            }
        }
        assert.deepStrictEqual(workflow.jobs.preview.strategy!.matrix.stack, workflow.jobs.up.strategy!.matrix.stack);
        for (const [stack, reason] of Object.entries(NOT_IN_WORKFLOW)) {
            assert.ok(stackFiles.includes(stack), `excluded ${stack} has a stack file`);
            assert.ok(reason.length > 20, `${stack}: a reason`);
        }
    });

    it("runs on pull requests and on pushes to main; the type check and unit tier first", () => {
        assert.deepStrictEqual(Object.keys(workflow.on).sort(), ["pull_request", "push"]);
        assert.deepStrictEqual(workflow.on.push, { branches: ["main"] });
        assert.deepStrictEqual(workflow.permissions, { contents: "read" });
        const checks = workflow.jobs.checks;
        assert.strictEqual(checks.steps.at(-1)!.run!.trim().split("\n").at(-1), 'HOMECLOUD_CACHE="$RUNNER_TOOL_CACHE/homecloud" bash scripts/test-tiers.sh unit');
        assert.strictEqual(workflow.jobs.preview.needs, "checks");
        assert.strictEqual(workflow.jobs.up.needs, "checks");
    });

    it("previews each stack on a hosted runner and posts the diff on the pull request with the official action", () => {
        const job = workflow.jobs.preview;
        assert.strictEqual(job["runs-on"], "ubuntu-24.04");
        assert.match(job.if!, /^github\.event_name == 'pull_request'/);
        assert.deepStrictEqual(job.permissions, { contents: "read", "pull-requests": "write" });
        const [install, preview] = pulumiSteps(job);
        assert.deepStrictEqual(install.with, { "pulumi-version": sdkVersion }, "the CLI pinned to the SDK's release");
        assert.strictEqual(preview.uses, "pulumi/actions@v6");
        assert.deepStrictEqual(preview.with, {
            command: "preview",
            "stack-name": "${{ matrix.stack }}",
            "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",
            "comment-on-pr": true,
            "edit-pr-comment": true,
            diff: true,
            "always-include-summary": true,
            "suppress-progress": true,
        });
    });

    it("runs up only on pushes to main, on the self-hosted runner on the cluster LAN, one stack at a time", () => {
        const job = workflow.jobs.up;
        assert.strictEqual(job.if, "github.event_name == 'push'");
        assert.deepStrictEqual(job["runs-on"], ["self-hosted", "homecloud-lan"]);
        const [install, up] = pulumiSteps(job);
        assert.deepStrictEqual(install.with, { "pulumi-version": sdkVersion });
        assert.strictEqual(up.with!.command, "up");
        assert.strictEqual(up.with!["comment-on-pr"], undefined);
        // Everything but the last action's command is the preview job's steps.
        const steps = (j: Job) => j.steps.slice(0, -1);
        assert.deepStrictEqual(steps(job), steps(workflow.jobs.preview));
    });

    it("reads only the repository's secrets it needs, only into env: (never spliced into a script or an input)", () => {
        const text = fs.readFileSync(WORKFLOW, "utf8");
        const used = [...new Set([...text.matchAll(/\$\{\{\s*secrets\.([A-Z_]+)\s*\}\}/g)].map((m) => m[1]))].sort();
        assert.deepStrictEqual(used, ALLOWED_SECRETS);
        for (const [name, job] of Object.entries(workflow.jobs)) {
            for (const step of job.steps) {
                for (const part of [step.run ?? "", JSON.stringify(step.with ?? {})]) {
                    assert.ok(!part.includes("secrets."), `${name}/${step.name ?? step.uses}: a secret outside env:`);
                }
                for (const [k, v] of Object.entries(step.env ?? {})) {
                    const m = /^\$\{\{ secrets\.([A-Z_]+) \}\}$/.exec(v);
                    if (m) {
                        assert.strictEqual(k, m[1], `${name}: secret ${m[1]} under its own name`);
                    }
                }
            }
        }
        // The SSH key reaches the CLI on stdin, never as an argument.
        const keyStep = workflow.jobs.preview.steps.find((s) => s.env?.HOMECLOUD_SSH_PRIVATE_KEY)!;
        assert.match(keyStep.run!, /^printenv HOMECLOUD_SSH_PRIVATE_KEY \| pulumi config set --secret homecloud:sshPrivateKey$/m);
    });
});
