// The SSH transport of the lab's engine: one `ssh user@host <command>` per remote command,
// stdin piped in, the key in a private temporary file, retries only while the host does
// not answer (what the command provider's dialErrorLimit does). A connection's `hostKey` is
// pinned as the provider pins it (v1.2.1 remote/connection.go SSHConfig: FixedHostKey, and
// HostKeyAlgorithms = that key's type): a known_hosts file holding only that key,
// StrictHostKeyChecking=yes. The provider retries a refused key dialErrorLimit times before
// it fails; here it fails at once (ssh exits 255 without a connection error).
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface Conn { host: string; port: number; user: string; dialErrorLimit?: number; hostKey?: string }
export interface RemoteResult { code: number; stdout: string; stderr: string }

/** How many ssh processes ran (the summary's remote-commands). */
export const sshStats = { runs: 0 };

let keyDir: string | undefined;
const keyFiles = new Map<string, string>();
/** A private file holding `text`, one per distinct text (`kind` names it). */
function fileFor(kind: string, text: string): string {
    const h = crypto.createHash("sha256").update(text).digest("hex").slice(0, 16);
    let f = keyFiles.get(`${kind}-${h}`);
    if (!f) {
        keyDir ??= fs.mkdtempSync(path.join(os.tmpdir(), "ssh-engine-"));
        f = path.join(keyDir, `${kind}-${h}`);
        fs.writeFileSync(f, text.endsWith("\n") ? text : `${text}\n`, { mode: 0o600 });
        keyFiles.set(`${kind}-${h}`, f);
    }
    return f;
}

/** The alias every pinned key is filed under, whatever the host's address and port. */
const PINNED = "homecloud-pinned";

/** ssh options for the host key: pinned to `hostKey` exactly, or (no hostKey) any key, as the provider does. */
export function hostKeyOptions(hostKey: string | undefined): string[] {
    if (hostKey === undefined || hostKey === null) {
        return ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"];
    }
    const [type, base64] = hostKey.trim().split(/\s+/);
    return [
        "-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${fileFor("known-hosts", `${PINNED} ${type} ${base64}`)}`,
        "-o", "GlobalKnownHostsFile=/dev/null", "-o", `HostKeyAlias=${PINNED}`, "-o", "CheckHostIP=no",
        "-o", `HostKeyAlgorithms=${type}`,
    ];
}

const CONNECT_ERROR = /Connection refused|Connection timed out|No route to host|Connection reset|Connection closed|kex_exchange_identification|Network is unreachable/;

export function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}

/** ssh user@host <command>, stdin piped; retries only while the host does not answer. */
export async function runRemote(conn: Conn, key: string, cmd: string, stdin: string | undefined): Promise<RemoteResult> {
    const limit = Math.min(conn.dialErrorLimit ?? 60, 60);
    for (let attempt = 1; ; attempt++) {
        sshStats.runs++;
        const r = await new Promise<RemoteResult>((resolve, reject) => {
            const p = spawn("ssh", [
                "-F", "/dev/null", "-i", fileFor("key", key), "-o", "IdentitiesOnly=yes",
                "-p", String(conn.port ?? 22),
                ...hostKeyOptions(conn.hostKey),
                "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
                `${conn.user}@${conn.host}`, cmd,
            ], { stdio: ["pipe", "pipe", "pipe"] });
            let out = "";
            let err = "";
            p.stdout.on("data", (d) => { out += d; });
            p.stderr.on("data", (d) => { err += d; });
            p.on("error", reject);
            p.on("close", (code) => resolve({ code: code ?? 255, stdout: out, stderr: err }));
            p.stdin.on("error", () => { /* remote closed stdin early; the exit code tells */ });
            p.stdin.end(stdin ?? "");
        });
        if (r.code === 255 && CONNECT_ERROR.test(r.stderr) && attempt < limit) {
            await sleep(2000);
            continue;
        }
        return r;
    }
}

/** Removes the temporary key files. */
export function removeKeyFiles(): void {
    if (keyDir) {
        fs.rmSync(keyDir, { recursive: true, force: true });
    }
}
