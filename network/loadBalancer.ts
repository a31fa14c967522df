// LoadBalancer: HAProxy on the gateway, serving the VIP's ports from health-checked backends.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { AddressPlan } from "../config/plan";
import { Host, hostFile, hostStep } from "../host/hostOps";
import { HostFileSpec } from "../host/hostFile";
import type { LoadBalancerStatus } from "../outputs";
import {
    API_CHECK_LABEL, API_CHECK_USER, clientCertFile, k3sClientForgetCommand, k3sClientSignCommand, keyForgetCommand, keyRequestCommand, pemSha256, pemText,
} from "../pki/pkiSteps";
import { ApiCheckClient, HAPROXY_CONFIG_PATH, HAPROXY_STATS_ADDRESS, HAPROXY_STATS_SOCKET, renderHaproxyConfig } from "./haproxy";

/** HAProxy's configuration: checked by `haproxy -c`, activated by a reload (haproxy-config.sh). */
export function haproxyConfigFile(): HostFileSpec {
    return { path: HAPROXY_CONFIG_PATH, hooks: "network/haproxy-config.sh" };
}

// The stack output's type, defined once with the other outputs.
export type { LoadBalancerStatus } from "../outputs";

/** Where the API check's client certificate comes from (with `apiHealthCheck: https`). */
export interface ApiCheckSigner {
    /** The gateway with the PKI toolkit: the check's key is made there and never leaves it. */
    readonly gateway: Host;
    /** The first K3s server with the PKI toolkit: K3s's client CA signs there. */
    readonly firstServer: Host;
    /** "managed" when the program installs K3s there, else "unmanaged": turning K3s on re-signs. */
    readonly k3s: string;
    /** What signing waits for: the first server's K3s install, when the program manages it. */
    readonly after: pulumi.Input<pulumi.Resource>[];
    /** Validity in days, and the renewal epoch that re-signs (PrivateCa's schedule). */
    readonly days: number;
    readonly issue: string;
}

export interface LoadBalancerArgs {
    /** The validated address plan: VIP, ports, servers, ingress address, health checks. */
    readonly plan: AddressPlan;
    /** The gateway, with its toolkit. */
    readonly host: Host;
    /** Signs the API check's client certificate; without it the check runs without one. */
    readonly apiCheckSigner?: ApiCheckSigner;
}

/** The VIP's API, HTTP and HTTPS ports, each balanced over health-checked backends. */
export class LoadBalancer extends pulumi.ComponentResource {
    /** The command that installs and activates `/etc/haproxy/haproxy.cfg`. */
    public readonly config: command.remote.Command;
    /** Known once HAProxy runs with this configuration. */
    public readonly status: pulumi.Output<LoadBalancerStatus>;

    constructor(name: string, args: LoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud:network:LoadBalancer", name, {}, opts);
        const { plan, host } = args;
        const signer = plan.loadBalancer.apiCheck === "https" ? args.apiCheckSigner : undefined;
        const client = signer ? this.apiCheckClient(name, signer) : undefined;
        this.config = hostFile(`${name}-config`, host, {
            file: haproxyConfigFile(),
            content: client ? client.pem.apply((pem) => renderHaproxyConfig(plan, clientOf(pem))) : renderHaproxyConfig(plan),
        }, { parent: this, dependsOn: client ? [client.file] : [] });
        this.status = this.config.stdout.apply(() => ({
            statsSocket: HAPROXY_STATS_SOCKET,
            statsUrl: `http://${HAPROXY_STATS_ADDRESS}/`,
            apiHealthCheck: plan.loadBalancer.apiCheck,
        }));
        this.registerOutputs({ status: this.status });
    }

    /**
     * The check's key on the gateway, its CSR signed on the first server by K3s's client CA,
     * the certificate (and that CA's) back beside the key; empty while K3s has no client CA.
     */
    private apiCheckClient(name: string, s: ApiCheckSigner): { pem: pulumi.Output<string>; file: command.remote.Command } {
        const key = hostStep(`${name}-api-check-key`, s.gateway, {
            create: keyRequestCommand(API_CHECK_LABEL, API_CHECK_USER), delete: keyForgetCommand(API_CHECK_LABEL),
        }, { parent: this });
        const signed = hostStep(`${name}-api-check-sign`, s.firstServer, {
            create: k3sClientSignCommand({ days: s.days, issue: s.issue, k3s: s.k3s }),
            delete: k3sClientForgetCommand(),
            stdin: key.stdout.apply(pemText),
        }, { parent: this, dependsOn: [key, ...s.after] });
        const pem = signed.stdout.apply((out) => out.trim() === "" ? "" : pemText(out));
        const file = hostFile(`${name}-api-check-cert`, s.gateway, {
            file: clientCertFile(API_CHECK_LABEL), content: pem,
        }, { parent: this, dependsOn: [key] });
        return { pem, file };
    }
}

/** The renderer's view of the signed certificate: none while it is empty. */
function clientOf(pem: string): ApiCheckClient | undefined {
    return pem === "" ? undefined : { path: clientCertFile(API_CHECK_LABEL).path, sha256: pemSha256(pem) };
}
