// The pin's check before any command goes to a host: what the host offers now against the
// key given in config or learned on the first `up`, and the words for each outcome. Pure
// apart from the scan it is handed.
import { AddressPlan } from "../config/plan";
import { HOST_KEY_FILE, requireSshPublicKey, SshPublicKey } from "../config/sshKey";
import { HostKeyScanner } from "./keyscan";

/** A host the program sends commands to: its name and where it is dialled. */
export interface SshHost {
    readonly name: string;
    readonly address: string;
}

/** Every host that gets commands: the gateway, and each node that K3s or the PKI reaches. */
export function managedHosts(plan: AddressPlan): SshHost[] {
    return [
        { name: plan.gateway.hostname, address: plan.gateway.sshHost },
        ...plan.gateway2 ? [{ name: plan.gateway2.hostname, address: plan.gateway2.sshHost }] : [],
        ...plan.nodes.filter((n) => plan.k3s.enabled || !plan.pki.excluded.includes(n.name)).map((n) => ({ name: n.name, address: n.ip })),
    ];
}

/** The pinned key of one host and where it came from. */
export interface Pin {
    readonly host: SshHost;
    readonly port: number;
    readonly key: SshPublicKey;
    /** `config`: homecloud:hostKeys; `learned`: read on the host at the first `up`. */
    readonly source: "config" | "learned";
    /** The learn step's name (what `pulumi up --replace` must name to read the key again). */
    readonly learnStep: string;
}

/** The key a learn step printed, checked; an error naming the host when it is not one. */
export function learnedKey(host: string, stdout: string): SshPublicKey {
    return requireSshPublicKey(stdout, `homecloud: ${host}: ${HOST_KEY_FILE}, read on the first up, holds`);
}

/** The warning for a key learned on first use: the host, the fingerprint, how to check and pin it. */
export function learnedWarning(p: Pin): string {
    return `homecloud: ${p.host.name}'s SSH host key was learned on first use (nobody vouched for it): ${p.key.type} ${p.key.fingerprint}. ` +
        `Check it on ${p.host.name} itself (ssh-keygen -lf ${HOST_KEY_FILE}) and pin it: copy the stack output hostKeys into homecloud:hostKeys`;
}

function forgetStep(p: Pin): string {
    return p.source === "config"
        ? `put its new key in its entry of homecloud:hostKeys`
        : `put its new key in homecloud:hostKeys, or forget the learned one: ` +
          `pulumi up --replace "$(pulumi stack --show-urns | grep -o 'urn:[^ ]*::${p.learnStep}$')"`;
}

/** The refusal: host, expected and offered fingerprints, and the fix. */
export function mismatchMessage(p: Pin, offered: SshPublicKey | undefined): string {
    const where = `${p.host.address}:${p.port}`;
    const expected = `${p.key.type} ${p.key.fingerprint} (${p.source === "config" ? "from homecloud:hostKeys" : "learned on the first up"})`;
    return `homecloud: the SSH host key of ${p.host.name} (${where}) has changed: expected ${expected}, ` +
        `offered ${offered ? `${offered.type} ${offered.fingerprint}` : `no ${p.key.type} key`}. ` +
        `Nothing was sent to ${p.host.name}. If ${p.host.name} was re-imaged, check the new key on it ` +
        `(ssh-keygen -lf ${HOST_KEY_FILE}) and ${forgetStep(p)}. Otherwise something else answers at ${where}: find it before the next up`;
}

/** What the check concluded: go on (with a warning to show, maybe), or refuse with a message. */
export type PinCheck = { readonly ok: true; readonly warning?: string } | { readonly ok: false; readonly message: string };

/** Scans the host and compares what it offers with the pin. */
export async function checkPin(p: Pin, scan: HostKeyScanner): Promise<PinCheck> {
    const r = await scan(p.host.address, p.port, p.key.type);
    switch (r.kind) {
        case "offered": {
            const offered = requireSshPublicKey(r.key, `homecloud: ${p.host.name} (${p.host.address}:${p.port}) offered`);
            return offered.text === p.key.text ? { ok: true } : { ok: false, message: mismatchMessage(p, offered) };
        }
        case "none":
            return { ok: false, message: mismatchMessage(p, undefined) };
        case "unreachable":
            // The command's own dial waits for the host (a reboot) and pins the key itself.
            return { ok: true };
        case "noScanner":
            return {
                ok: true, warning: `homecloud: ssh-keyscan is not installed here, so ${p.host.name}'s host key is not checked before the up; ` +
                    "it is still pinned, but a changed key then fails only as the provider's handshake error after its retries: install openssh-client",
            };
        default:
            return unreachable(r);
    }
}

function unreachable(x: never): never {
    throw new Error(`unknown scan result ${JSON.stringify(x)}`);
}
