// SSH host public keys as OpenSSH writes them ("ssh-ed25519 AAAA… comment"): parsed and
// checked the way the command provider's ssh.ParseAuthorizedKey will read them, and
// fingerprinted the way `ssh-keygen -l` and `ssh` print them. Pure: no Pulumi import.
import * as crypto from "crypto";

/** Host key types a pin can use; the provider then offers only that type (HostKeyAlgorithms). */
export const PINNABLE_TYPES = Object.freeze(["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"]);

/** The key every host is expected to have, and where the learn step reads it. */
export const HOST_KEY_TYPE = "ssh-ed25519";
export const HOST_KEY_FILE = "/etc/ssh/ssh_host_ed25519_key.pub";

export interface SshPublicKey {
    readonly type: string;
    readonly base64: string;
    /** `<type> <base64>`, without the comment: what the connection pins. */
    readonly text: string;
    /** `SHA256:<base64 of the blob's SHA-256, no padding>`, as ssh prints it. */
    readonly fingerprint: string;
}

/** The SSH wire format's strings (uint32 length, bytes) in a key blob; undefined when malformed. */
function wireStrings(blob: Buffer): Buffer[] | undefined {
    const out: Buffer[] = [];
    for (let at = 0; at < blob.length;) {
        if (at + 4 > blob.length) {
            return undefined;
        }
        const n = blob.readUInt32BE(at);
        if (at + 4 + n > blob.length) {
            return undefined;
        }
        out.push(blob.subarray(at + 4, at + 4 + n));
        at += 4 + n;
    }
    return out;
}

/** Bytes of an uncompressed EC point (0x04, x, y) per curve. */
const EC_POINT: Record<string, number> = { nistp256: 65, nistp384: 97, nistp521: 133 };

/** What is wrong with the blob of a key of `type`, or undefined when it is one. */
function blobProblem(type: string, blob: Buffer): string | undefined {
    const parts = wireStrings(blob);
    if (parts === undefined || parts.length === 0) {
        return "its base64 does not hold an SSH key";
    }
    const inner = parts[0].toString("latin1");
    if (inner !== type) {
        return `its base64 holds a key of type ${JSON.stringify(inner)}, not ${type}`;
    }
    if (type === "ssh-ed25519" && (parts.length !== 2 || parts[1].length !== 32)) {
        return "its base64 is not a whole ed25519 key (32 bytes)";
    }
    const curve = type.replace("ecdsa-sha2-", "");
    if (type.startsWith("ecdsa-") && (parts.length !== 3 || parts[1].toString("latin1") !== curve ||
        parts[2].length !== EC_POINT[curve] || parts[2][0] !== 4)) {
        return `its base64 is not a whole ${curve} key`;
    }
    return undefined;
}

/**
 * Parses one public key line (`<type> <base64> [comment]`). Returns the key, or what is
 * wrong with it as a sentence that ends with the fix.
 */
export function parseSshPublicKey(line: string): SshPublicKey | { problem: string } {
    const fields = line.trim().split(/\s+/);
    const [type, base64] = fields;
    if (fields.length < 2 || !/^[a-z0-9@.-]+$/.test(type)) {
        return { problem: `is not an SSH public key; give the host's key as ${HOST_KEY_FILE} holds it, e.g. ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA…` };
    }
    if (type === "ssh-rsa") {
        return { problem: `is an ssh-rsa key, which cannot be pinned: the connection then offers only ssh-rsa (SHA-1) signatures, which OpenSSH 8.8 and later refuse; give the host's ed25519 key (${HOST_KEY_FILE})` };
    }
    if (!PINNABLE_TYPES.includes(type)) {
        return { problem: `has the key type ${JSON.stringify(type)}; use ssh-ed25519 (${HOST_KEY_FILE}) or ecdsa-sha2-nistp256/384/521` };
    }
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) {
        return { problem: "is not base64 after the key type; copy the whole second field of the host's key file" };
    }
    const blob = Buffer.from(base64, "base64");
    const problem = blobProblem(type, blob);
    if (problem) {
        return { problem: `is not a whole ${type} key: ${problem}; copy the whole second field of the host's key file` };
    }
    return { type, base64, text: `${type} ${base64}`, fingerprint: fingerprintOf(blob) };
}

/** `SHA256:<unpadded base64>` of a key blob, as `ssh-keygen -l` and `ssh` print it. */
export function fingerprintOf(blob: Buffer): string {
    return `SHA256:${crypto.createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** The parsed key, or an Error naming `what` and the problem. */
export function requireSshPublicKey(line: string, what: string): SshPublicKey {
    const k = parseSshPublicKey(line);
    if ("problem" in k) {
        throw new Error(`${what} ${JSON.stringify(line.trim().slice(0, 60))} ${k.problem}`);
    }
    return k;
}
