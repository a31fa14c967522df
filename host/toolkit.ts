// The toolkit: the program's shell scripts, as real files in this repository (checked by
// shellcheck as files), installed on each host under TOOLKIT_DIR by one command before
// anything else runs there. Every other command is then one short line that runs a
// toolkit script with its data in environment variables, so a failure reads as one line:
// host, file or step, and what the daemon said. Pure: no Pulumi import.
import * as fs from "fs";
import * as path from "path";
import { sh } from "./quote";

/** Where the toolkit lives on a host; removed again when the toolkit's command is deleted. */
export const TOOLKIT_DIR = "/usr/local/lib/homecloud";

/**
 * The private CA's toolkit, beside the main one: each installer swaps its whole directory,
 * so a layer that runs on hosts whether K3s is on or not (the gateway's and nodes' PKI)
 * keeps its scripts in a directory of its own.
 */
export const PKI_TOOLKIT_DIR = "/usr/local/lib/homecloud-pki";

const TOOLKIT_DIRS: readonly string[] = [TOOLKIT_DIR, PKI_TOOLKIT_DIR];

function checkDir(dir: string): void {
    if (!TOOLKIT_DIRS.includes(dir)) {
        throw new RangeError(`toolkit directory ${JSON.stringify(dir)} is not one of ${TOOLKIT_DIRS.join(", ")}`);
    }
}

/** The repository's root: toolkit paths are relative to it (e.g. `network/kea-config.sh`). */
const REPO = path.resolve(__dirname, "..");

const SCRIPT_PATH = /^[a-z][a-z0-9-]*(\/[a-z][a-z0-9.-]*)*\.sh$/;
const ENV_NAME = /^HC_[A-Z0-9_]+$/;

/** The host layer's own scripts, in every toolkit. */
export const HOST_SCRIPTS: readonly string[] = Object.freeze(["host/scripts/lib.sh", "host/scripts/host-file.sh"]);

/** The text of a toolkit script, read from the repository. */
export function scriptText(rel: string): string {
    if (!SCRIPT_PATH.test(rel)) {
        throw new RangeError(`toolkit script ${JSON.stringify(rel)} must be a relative path to a .sh file`);
    }
    return fs.readFileSync(path.join(REPO, rel), "utf8");
}

/** Every `.sh` file directly in a folder of the repository, e.g. `scriptsIn("network")`. */
export function scriptsIn(dir: string): string[] {
    return fs.readdirSync(path.join(REPO, dir)).filter((f) => f.endsWith(".sh")).sort().map((f) => `${dir}/${f}`);
}

/**
 * The installer, sent as stdin to `bash -s`: writes every script into a fresh directory,
 * then swaps it in for the old toolkit in one rename. The delimiter is checked absent from
 * every script, so a heredoc can never end early.
 */
export function toolkitInstaller(scripts: readonly string[], dir: string = TOOLKIT_DIR): string {
    checkDir(dir);
    const files = [...new Set([...HOST_SCRIPTS, ...scripts])].sort();
    const parts = files.map((rel) => {
        const text = scriptText(rel);
        if (text.includes("HOMECLOUD_TOOLKIT_EOF")) {
            throw new Error(`${rel} contains the toolkit's heredoc delimiter`);
        }
        return `install -d -m 0755 "$new/${path.posix.dirname(rel)}"
cat > "$new/${rel}" <<'HOMECLOUD_TOOLKIT_EOF'
${text.endsWith("\n") ? text.slice(0, -1) : text}
HOMECLOUD_TOOLKIT_EOF
chmod 0755 "$new/${rel}"`;
    });
    return `set -euo pipefail
dir=${dir}
new=$(mktemp -d "$dir.new.XXXXXX")
trap 'rm -rf "$new" "$dir.old"' EXIT
${parts.join("\n")}
chmod 0755 "$new"
if [ -d "$dir" ]; then mv "$dir" "$dir.old"; fi
mv "$new" "$dir"
echo "homecloud: toolkit installed in $dir (${files.length} scripts)"
`;
}

/** Installs the toolkit: the installer is the command's stdin, so the command line stays short. */
export const TOOLKIT_INSTALL = "sudo -n /bin/bash -s";
/** Removes the toolkit and whatever empty bookkeeping the program left. */
export const TOOLKIT_REMOVE = `sudo -n /bin/rm -rf ${TOOLKIT_DIR}`;

/** Removes the toolkit in `dir`. */
export function toolkitRemove(dir: string): string {
    checkDir(dir);
    return `sudo -n /bin/rm -rf ${dir}`;
}

/**
 * The command line that runs toolkit script `rel` (of the toolkit in `dir`) as root with `args`, its data in HC_*
 * environment variables (quoted), e.g.
 * `sudo -n /usr/bin/env HC_DEST=/etc/kea/kea-dhcp4.conf /bin/bash /usr/local/lib/homecloud/host/scripts/host-file.sh install`.
 */
export function toolkitCommand(rel: string, args: readonly string[], env: Readonly<Record<string, string>> = {},
    dir: string = TOOLKIT_DIR): string {
    checkDir(dir);
    if (!SCRIPT_PATH.test(rel)) {
        throw new RangeError(`toolkit script ${JSON.stringify(rel)} must be a relative path to a .sh file`);
    }
    const bad = Object.keys(env).filter((k) => !ENV_NAME.test(k));
    if (bad.length > 0) {
        throw new RangeError(`toolkit environment names must look like HC_NAME; got ${bad.join(", ")}`);
    }
    const vars = Object.entries(env).map(([k, v]) => `${k}=${sh(v)}`);
    return ["sudo", "-n", "/usr/bin/env", ...vars, "/bin/bash", `${dir}/${rel}`, ...args.map(sh)].join(" ");
}
