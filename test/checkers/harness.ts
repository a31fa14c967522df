// The checker tier's host stand-in: runs a command line exactly as a host gets it (sudo
// replaced by a function that runs the rest as is) in a private mount namespace where
// `varlib` is bound over /var/lib (the state directory) and `usrlocallib`, holding a link
// to the repository, over /usr/local/lib (the toolkit). Needs root (unshare --mount).
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export const REPO = path.resolve(__dirname, "..", "..");

export interface Run {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs `commandLine` as a host would, with `stdin` and extra environment, in the namespace described above. */
export function runOnHost(varlib: string, usrlocallib: string, commandLine: string, stdin = "", env: Record<string, string> = {}): Run {
    fs.mkdirSync(usrlocallib, { recursive: true });
    if (!fs.existsSync(`${usrlocallib}/homecloud`)) {
        fs.symlinkSync(REPO, `${usrlocallib}/homecloud`);
    }
    const wrapper = 'mount --bind "$1" /var/lib || exit 99\n' +
        'mount --bind "$2" /usr/local/lib || exit 99\n' +
        'sudo() { [ "$1" = -n ] || exit 98; shift; "$@"; }\n' +
        'eval "$3"';
    const r = spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", wrapper, "host", varlib, usrlocallib, commandLine],
        { input: stdin, encoding: "utf8", env: { ...process.env, ...env } });
    if (r.error) {
        throw r.error;
    }
    assert.ok(r.status !== 99 && r.status !== 98, `test harness failed: ${r.stderr}`);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes an executable bash script `name` with `body` into `dir`. */
export function stub(dir: string, name: string, body: string): void {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
}
