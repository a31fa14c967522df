// The SSH transport of the lab's engine, following the command provider v1.2.1
// (provider/pkg/provider/remote/connection.go Dial and dialWithRetry, commandOutputs.go run):
//   - the DIAL is retried, whatever made it fail (refused, no route, a failed handshake or
//     login alike), until `dialErrorLimit` attempts have failed: the provider gives up when
//     dials > limit, so a limit of N makes N + 1 attempts; -1 is unlimited. Between attempts
//     it waits 100 ms, then 1.5 times longer each time, at most 5 s (pulumi
//     sdk/go/common/util/retry/until.go defaults);
//   - the COMMAND runs once on the dialled connection, never again: a connection lost
//     mid-command is that command's failure, not a reason to run half of it twice.
// Here the dial is an OpenSSH master connection (ControlMaster) and the command a session
// over it; the key is in a private temporary file. A connection's `hostKey` is pinned as the
// provider pins it (remote/connection.go SSHConfig: FixedHostKey, and HostKeyAlgorithms =
// that key's type): a known_hosts file holding only that key, StrictHostKeyChecking=yes; a
// refused key is a failed dial, retried like any other.
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface Conn { host: string; port: number; user: string; dialErrorLimit?: number; perDialTimeout?: number; hostKey?: string }
export interface RemoteResult { code: number; stdout: string; stderr: string }

/** The provider's default dial limit (connection.go dialErrorDefault) and its "unlimited". */
export const DIAL_ERROR_DEFAULT = 10;
export const DIAL_ERROR_UNLIMITED = -1;

/** How many commands ran and how many dials were made (the summary's remote-commands, dials). */
export const sshStats = { runs: 0, dials: 0 };

let workDir: string | undefined;
function dir(): string {
    workDir ??= fs.mkdtempSync(path.join(os.tmpdir(), "ssh-engine-"));
    return workDir;
}

const keyFiles = new Map<string, string>();
/** A private file holding `text` (a key, a known_hosts line), one per kind and content. */
function fileFor(kind: string, text: string): string {
    const h = crypto.createHash("sha256").update(text).digest("hex").slice(0, 16);
    let f = keyFiles.get(`${kind}-${h}`);
    if (!f) {
        f = path.join(dir(), `${kind}-${h}`);
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

export function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}

/** Whether the provider gives up after `dials` failed dials (connection.go reachedDialingErrorLimit). */
export function dialLimitReached(dials: number, limit: number): boolean {
    return limit > DIAL_ERROR_UNLIMITED && dials > limit;
}

/** The provider's wait before the next dial, after `failed` failed ones (retry.Until defaults). */
export function dialDelayMs(failed: number): number {
    return Math.min(100 * 1.5 ** (failed - 1), 5000);
}

function spawnSsh(args: string[], stdin: string | undefined): Promise<RemoteResult> {
    return new Promise<RemoteResult>((resolve, reject) => {
        const p = spawn("ssh", args, { stdio: ["pipe", "pipe", "pipe"] });
        let out = "";
        let err = "";
        p.stdout.on("data", (d) => { out += d; });
        p.stderr.on("data", (d) => { err += d; });
        p.on("error", reject);
        p.on("close", (code) => resolve({ code: code ?? 255, stdout: out, stderr: err }));
        p.stdin.on("error", () => { /* remote closed stdin early; the exit code tells */ });
        p.stdin.end(stdin ?? "");
    });
}

function baseArgs(conn: Conn, key: string, socket: string): string[] {
    return [
        "-F", "/dev/null", "-i", fileFor("key", key), "-o", "IdentitiesOnly=yes",
        "-p", String(conn.port ?? 22), "-S", socket,
        ...hostKeyOptions(conn.hostKey),
        "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", `ConnectTimeout=${conn.perDialTimeout ?? 15}`,
    ];
}

let sockets = 0;

/**
 * Dials (retrying as the provider does), then runs `cmd` once with `stdin`. A dial that
 * never succeeds returns the provider's message: `after N failed attempts: <last error>`.
 */
export async function runRemote(conn: Conn, key: string, cmd: string, stdin: string | undefined): Promise<RemoteResult> {
    const limit = conn.dialErrorLimit ?? DIAL_ERROR_DEFAULT;
    const socket = path.join(dir(), `c${++sockets}`);
    const target = `${conn.user}@${conn.host}`;
    for (let failed = 0; ;) {
        sshStats.dials++;
        const dial = await spawnSsh([...baseArgs(conn, key, socket), "-o", "ControlMaster=yes", "-o", "ControlPersist=60",
            "-f", "-N", target], undefined);
        if (dial.code === 0) {
            break;
        }
        failed++;
        if (dialLimitReached(failed, limit)) {
            return { code: 255, stdout: "", stderr: `after ${failed - 1} failed attempts: ${dial.stderr.trim()}\n` };
        }
        await sleep(dialDelayMs(failed));
    }
    try {
        sshStats.runs++;
        return await spawnSsh([...baseArgs(conn, key, socket), "-o", "ControlMaster=no", target, cmd], stdin);
    } finally {
        await spawnSsh([...baseArgs(conn, key, socket), "-O", "exit", target], undefined);
    }
}

/** Removes the temporary key files and sockets. */
export function removeKeyFiles(): void {
    if (workDir) {
        fs.rmSync(workDir, { recursive: true, force: true });
    }
}
