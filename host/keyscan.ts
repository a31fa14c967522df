// What a host's SSH server offers as its host key, read with `ssh-keyscan` (OpenSSH's
// client tools) before any command goes to it. Replaceable, so that the unit tier under
// Pulumi's mocks never dials anything.
import { execFile } from "child_process";

/** What answered at a host's SSH port. */
export type ScanResult =
    /** A key of the asked type (or, for ECDSA, of another curve): `<type> <base64>`. */
    | { readonly kind: "offered"; readonly key: string }
    /** An SSH server answered but has no key of that type. */
    | { readonly kind: "none" }
    /** Nothing answered in time (down, rebooting, unplugged): the command's own dial decides. */
    | { readonly kind: "unreachable"; readonly detail: string }
    /** This machine has no ssh-keyscan: the pin still holds, but a changed key is only the provider's handshake error. */
    | { readonly kind: "noScanner" };

/** Asks `address:port` for its host key of `type` (e.g. ssh-ed25519). */
export type HostKeyScanner = (address: string, port: number, type: string) => Promise<ScanResult>;

/** Seconds ssh-keyscan waits for an answer. */
const SCAN_TIMEOUT = 5;

/** ssh-keyscan's `-t` names the family, not the curve. */
function keyscanType(type: string): string {
    return type === "ssh-ed25519" ? "ed25519" : type.startsWith("ecdsa-") ? "ecdsa" : type;
}

/**
 * What one ssh-keyscan run means: its first key line (`<host> <type> <base64>`) is what the
 * host offers; none, but its `# <host>:<port> SSH-2.0-…` banner line (on stderr up to OpenSSH
 * 9.x, on stdout in newer releases), is a server without that key type; neither is a host
 * that did not answer.
 */
export function keyscanResult(stdout: string, stderr: string, notInstalled: boolean): ScanResult {
    const line = stdout.split("\n").map((l) => l.trim().split(/\s+/)).find((f) => f.length >= 3 && !f[0].startsWith("#"));
    if (line) {
        return { kind: "offered", key: `${line[1]} ${line[2]}` };
    }
    if (/^# \S+ SSH-/m.test(`${stdout}\n${stderr}`)) {
        return { kind: "none" };
    }
    return notInstalled ? { kind: "noScanner" } : { kind: "unreachable", detail: stderr.trim() || "no answer" };
}

/** `ssh-keyscan -T 5 -t <family> -p <port> <address>`. */
export const sshKeyscan: HostKeyScanner = (address, port, type) => new Promise((resolve) => {
    execFile("ssh-keyscan", ["-T", String(SCAN_TIMEOUT), "-t", keyscanType(type), "-p", String(port), address],
        { timeout: (SCAN_TIMEOUT + 5) * 1000 },
        (err, stdout, stderr) => resolve(keyscanResult(stdout, stderr, (err as NodeJS.ErrnoException | null)?.code === "ENOENT")));
});

let scanner: HostKeyScanner = sshKeyscan;

/** The scanner the host key check uses. */
export function hostKeyScanner(): HostKeyScanner {
    return scanner;
}

/** Replaces the scanner (tests); returns the one it replaced. */
export function useHostKeyScanner(s: HostKeyScanner): HostKeyScanner {
    const previous = scanner;
    scanner = s;
    return previous;
}
