// PrivateCa: the home cloud's certificate authority on the gateway, a key and certificate
// per host and per service, and the CA in every host's trust store. Per host, in order:
//
//   toolkit (PKI scripts) → trust (CA certificate, update-ca-certificates)
//   key (made on the host, CSR on stdout) → sign (on the gateway, CSR on stdin,
//   certificate on stdout) → cert (installed next to the key, checked against it and the CA)
//
// No key travels: the CA's stays on the gateway, each host's on its host; only CSRs and
// certificates (public) go through the program. No step has triggers: a renewal is a new
// issue token in the signing line, an in-place update that re-signs the same CSR.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { AddressPlan, NodeSpec } from "../config/plan";
import { HOST_CERT_LABEL } from "../config/pki";
import { Host, HostConnection, hostFile, hostStep, hostToolkit, pinnedKey } from "../host/hostOps";
import { lostHostStep } from "../host/lostHost";
import { PKI_TOOLKIT_DIR, scriptsIn } from "../host/toolkit";
import {
    caCreateCommand, caRemoveCommand, CertificateRequest, certFile, certificateRequests, certificateStatus, CertificateStatus,
    expiryWarning, issueToken, keyForgetCommand, keyRequestCommand, pemSha256, pemText, recordName, signCommand, trustFile,
    unsignCommand,
} from "./pkiSteps";

export interface PrivateCaArgs {
    /** The validated plan: gateway, nodes, domain, LAN, `pki` settings. */
    readonly plan: AddressPlan;
    /** Private key (OpenSSH) of `plan.sshUser` on every host; kept secret. */
    readonly sshPrivateKey: pulumi.Input<string>;
    /** Each host's pinned SSH host key, by host name (HostKeys.byHost). */
    readonly hostKeys: Readonly<Record<string, pulumi.Input<string>>>;
    /** What every host's first step waits for (the gateway: DHCP, DNS). */
    readonly waitFor?: pulumi.Input<pulumi.Resource>[];
    /**
     * What one host's first step waits for besides `waitFor`, by host name: the second
     * gateway's PKI steps come after its own packages and daemons.
     */
    readonly hostWaitFor?: Readonly<Record<string, pulumi.Input<pulumi.Resource>[]>>;
    /** The clock the renewal schedule reads; default now. */
    readonly now?: Date;
}

/** The steps of one certificate. */
export interface CertificateSteps {
    /** On the key's host: makes the key once, prints its CSR. */
    readonly key: command.remote.Command;
    /** On the gateway: signs the CSR. */
    readonly sign: command.remote.Command;
    /** On the key's host: installs the certificate next to the key. */
    readonly cert: command.remote.Command;
}

/** The CA on the gateway, every host's trust in it, and the certificates it signs. */
export class PrivateCa extends pulumi.ComponentResource {
    /** On the gateway: makes the CA once, prints its certificate. */
    public readonly ca: command.remote.Command;
    /** The CA certificate (public), once it exists. */
    public readonly caCertificate: pulumi.Output<string>;
    /** Every host with the PKI toolkit, by host name (both gateways' included). */
    public readonly hosts: ReadonlyMap<string, Host>;
    /** The gateway, where signing steps run. */
    public readonly gateway: Host;
    /** Each host's trust-store step, by host name. */
    public readonly trust: Readonly<Record<string, command.remote.Command>>;
    /** Each certificate's steps, by `<host>-<label>`. */
    public readonly certificates: Readonly<Record<string, CertificateSteps>>;
    /** The nearest expiry and the renewal schedule. */
    public readonly status: pulumi.Output<CertificateStatus>;
    /** What makes a signature due now (renewal epoch and forced renewals). */
    public readonly issue: string;
    /** Every step on a host itself (toolkit, trust, its keys and certificates), by host name. */
    public readonly stepsOn: ReadonlyMap<string, command.remote.Command[]>;

    constructor(name: string, args: PrivateCaArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud:pki:PrivateCa", name, {}, opts);
        const { plan } = args;
        const now = args.now ?? new Date();
        this.issue = issueToken(plan, now);
        const scripts = scriptsIn("pki");
        const connection = (hostName: string, host: string): HostConnection => ({
            host, port: plan.ports.ssh, user: plan.sshUser, privateKey: pulumi.secret(args.sshPrivateKey),
            hostKey: pinnedKey(args.hostKeys, hostName, this),
        });
        const toolkit = (hostName: string, address: string): Host =>
            hostToolkit(`${name}-${hostName}-toolkit`, connection(hostName, address), scripts, {
                parent: this, dependsOn: [...args.waitFor ?? [], ...args.hostWaitFor?.[hostName] ?? []],
            }, PKI_TOOLKIT_DIR);
        this.gateway = toolkit(plan.gateway.hostname, plan.gateway.sshHost);
        const hosts = new Map<string, Host>([[plan.gateway.hostname, this.gateway]]);
        if (plan.gateway2) {
            hosts.set(plan.gateway2.hostname, toolkit(plan.gateway2.hostname, plan.gateway2.sshHost));
        }
        plan.nodes.filter((n: NodeSpec) => !plan.pki.excluded.includes(n.name)).forEach((n) => hosts.set(n.name, toolkit(n.name, n.ip)));
        this.hosts = hosts;

        this.ca = hostStep(`${name}-ca`, this.gateway, {
            create: caCreateCommand(plan), delete: caRemoveCommand(plan.pki.caDestroy),
        }, { parent: this });
        this.caCertificate = this.ca.stdout.apply(pemText);
        const caSha256 = this.ca.stdout.apply(pemSha256);

        const trust: Record<string, command.remote.Command> = {};
        for (const [hostName, host] of hosts) {
            trust[hostName] = hostFile(`${name}-${hostName}-trust`, host, {
                file: trustFile(), content: this.caCertificate,
            }, { parent: this });
        }
        this.trust = trust;

        const certificates: Record<string, CertificateSteps> = {};
        const sign = (r: CertificateRequest): CertificateSteps => {
            const host = hosts.get(r.host)!;
            const id = recordName(r);
            const key = hostStep(`${name}-${id}-key`, host, {
                create: keyRequestCommand(r.label, r.commonName), delete: keyForgetCommand(r.label),
            }, { parent: this });
            const signed = hostStep(`${name}-${id}-sign`, this.gateway, {
                create: caSha256.apply((ca) => signCommand({
                    name: id, profile: "server", sans: r.sans, days: plan.pki.lifetimeDays, issue: this.issue, caSha256: ca,
                })),
                delete: unsignCommand(id),
                stdin: key.stdout.apply(pemText),
            }, { parent: this, dependsOn: [this.ca, key] });
            const cert = hostFile(`${name}-${id}-cert`, host, {
                file: certFile(r.label), content: signed.stdout.apply(pemText),
            }, { parent: this, dependsOn: [trust[r.host], key] });
            return certificates[id] = { key, sign: signed, cert };
        };
        certificateRequests(plan).forEach(sign);
        this.certificates = certificates;
        this.stepsOn = new Map([...hosts].map(([h, host]) => [h, [host.toolkit, trust[h],
            ...certificateRequests(plan).filter((r) => r.host === h).flatMap((r) => [certificates[recordName(r)].key, certificates[recordName(r)].cert])]]));

        // A lost node's steps on the node itself stay as they are, never run again; its
        // signing records on the gateway are deleted as for any removed host.
        for (const lost of plan.lostNodes.filter((n) => !plan.pki.excluded.includes(n))) {
            const labels = [HOST_CERT_LABEL, ...plan.pki.certificates.filter((c) => c.host === lost).map((c) => c.name)];
            for (const step of ["toolkit", "trust", ...labels.flatMap((l) => [`${l}-key`, `${l}-cert`])]) {
                lostHostStep(`${name}-${lost}-${step}`, lost, { parent: this });
            }
        }

        const pems: Record<string, pulumi.Output<string>> = {
            ca: this.ca.stdout, ...Object.fromEntries(Object.entries(certificates).map(([id, s]) => [id, s.sign.stdout])),
        };
        this.status = pulumi.all(pems).apply((certs) => {
            // Known in a preview for every certificate that is not being re-signed.
            const warning = expiryWarning(certs, plan.pki.lifetimeDays, now);
            if (warning) {
                pulumi.log.warn(warning, this);
            }
            return certificateStatus(certs, plan.pki.lifetimeDays, now);
        });
        this.registerOutputs({ caCertificate: this.caCertificate, status: this.status });
    }
}
