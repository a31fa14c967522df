// LoadBalancer: HAProxy on the gateway, serving the VIP's ports from health-checked backends.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { AddressPlan } from "../config/plan";
import { Host, hostFile } from "../host/hostOps";
import { HostFileSpec } from "../host/hostFile";
import type { LoadBalancerStatus } from "../outputs";
import { HAPROXY_CONFIG_PATH, HAPROXY_STATS_ADDRESS, HAPROXY_STATS_SOCKET, renderHaproxyConfig } from "./haproxy";

/** HAProxy's configuration: checked by `haproxy -c`, activated by a reload (haproxy-config.sh). */
export function haproxyConfigFile(): HostFileSpec {
    return { path: HAPROXY_CONFIG_PATH, hooks: "network/haproxy-config.sh" };
}

// The stack output's type, defined once with the other outputs.
export type { LoadBalancerStatus } from "../outputs";

export interface LoadBalancerArgs {
    /** The validated address plan: VIP, ports, servers, ingress address, health checks. */
    readonly plan: AddressPlan;
    /** The gateway, with its toolkit. */
    readonly host: Host;
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
        this.config = hostFile(`${name}-config`, host, {
            file: haproxyConfigFile(), content: renderHaproxyConfig(plan),
        }, { parent: this });
        this.status = this.config.stdout.apply(() => ({
            statsSocket: HAPROXY_STATS_SOCKET,
            statsUrl: `http://${HAPROXY_STATS_ADDRESS}/`,
            apiHealthCheck: plan.loadBalancer.apiCheck,
        }));
        this.registerOutputs({ status: this.status });
    }
}
