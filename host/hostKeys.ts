// HostKeys: the SSH host key every command to a host pins. Per host the key comes from
// homecloud:hostKeys or, when none is given, is read on the host at the first `up` (trust on
// first use, with a warning) by a step that never runs again. Before any command goes to a
// host, what the host offers now is compared with that key: a different one stops the `up`
// with the host, both fingerprints and the fix, instead of the provider's handshake error
// after its minutes of retries. The commands themselves pin the key too (connection.hostKey),
// so nothing reaches a host that presents another key, checked or not.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { AddressPlan } from "../config/plan";
import { HostKeyEntry } from "../outputs";
import { HOST_KEY_FILE, requireSshPublicKey, SshPublicKey } from "../config/sshKey";
import { checkPin, learnedKey, learnedWarning, managedHosts, Pin } from "./hostKeyCheck";
import { learnHostKey } from "./hostOps";
import { hostKeyScanner } from "./keyscan";

/** The learn step's command line: the host's ed25519 public key, or a clear failure. */
export const LEARN_HOST_KEY =
    `f=${HOST_KEY_FILE}; test -r "$f" || { echo "homecloud: $(hostname) has no readable $f; give its host key in homecloud:hostKeys" >&2; exit 1; }; cat "$f"`;

export interface HostKeysArgs {
    /** The validated plan: the hosts, the SSH port and user, the keys given in config. */
    readonly plan: AddressPlan;
    /** Private key (OpenSSH) of `plan.sshUser`; kept secret. */
    readonly sshPrivateKey: pulumi.Input<string>;
}

/** The pinned SSH host key of every host the program reaches. */
export class HostKeys extends pulumi.ComponentResource {
    /** Each host's key (`<type> <base64>`), by host name, resolved only once the host offered it (or did not answer). */
    public readonly byHost: Readonly<Record<string, pulumi.Output<string>>>;
    /** The learn steps, by host name: hosts without a key in config. */
    public readonly learnSteps: Readonly<Record<string, command.remote.Command>>;
    /** Every host's key, in homecloud:hostKeys' shape: the stack output `hostKeys`. */
    public readonly entries: pulumi.Output<HostKeyEntry[]>;

    constructor(name: string, args: HostKeysArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud:host:HostKeys", name, {}, opts);
        const { plan } = args;
        const hosts = managedHosts(plan);
        const byHost: Record<string, pulumi.Output<string>> = {};
        const learnSteps: Record<string, command.remote.Command> = {};
        for (const host of hosts) {
            const configured = plan.hostKeys[host.name];
            const learnStep = `${name}-${host.name}`;
            let key: pulumi.Output<SshPublicKey>;
            if (configured !== undefined) {
                key = pulumi.output(requireSshPublicKey(configured, `homecloud:hostKeys: ${host.name}:`));
            } else {
                const step = learnSteps[host.name] = learnHostKey(learnStep, {
                    host: host.address, port: plan.ports.ssh, user: plan.sshUser, privateKey: pulumi.secret(args.sshPrivateKey),
                }, LEARN_HOST_KEY, { parent: this });
                key = step.stdout.apply((out) => learnedKey(host.name, out));
            }
            byHost[host.name] = key.apply(async (k) => {
                const pin: Pin = { host, port: plan.ports.ssh, key: k, source: configured ? "config" : "learned", learnStep };
                if (pin.source === "learned") {
                    pulumi.log.warn(learnedWarning(pin), learnSteps[host.name]);
                }
                // A preview dials nothing (CI previews run where no host is reachable).
                if (!pulumi.runtime.isDryRun()) {
                    const check = await checkPin(pin, hostKeyScanner());
                    if (!check.ok) {
                        throw new pulumi.ResourceError(check.message, this, true);
                    }
                    if (check.warning) {
                        pulumi.log.warn(check.warning, this);
                    }
                }
                return k.text;
            });
        }
        this.byHost = byHost;
        this.learnSteps = learnSteps;
        this.entries = pulumi.all(byHost).apply((keys) => hosts.map((h) => ({ host: h.name, key: keys[h.name] })));
        this.registerOutputs({ entries: this.entries });
    }

    /** The pinned key of a host; an error naming it when the program does not reach it. */
    key(host: string): pulumi.Output<string> {
        const k = this.byHost[host];
        if (k === undefined) {
            throw new pulumi.ResourceError(`no SSH host key for ${host}: it is not a host the program reaches (${Object.keys(this.byHost).join(", ")})`, this);
        }
        return k;
    }
}
