// DhcpServer: Kea DHCPv4 on the gateway's LAN interface, with a reservation per host.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { AddressPlan } from "../config/plan";
import { Host, hostFile } from "../host/hostOps";
import { HostFileSpec } from "../host/hostFile";
import { DDNS_KEY, keyFilePath, reverseZoneNames } from "./bind";
import { D2_CONFIG_PATH, KEA_CONFIG_PATH, renderD2Config, renderKeaConfig } from "./kea";
import { renderKeaApiPassword, renderKeaCtrlAgentConfig, renderKeaHaConfig } from "./pair/keaHa";
import { GatewayRole } from "./pair/keepalived";
import { keaApiPasswordFile, keaCtrlAgentConfigFile, keaHaConfigFile } from "./pair/pairFiles";

/** Kea's configuration: checked by `kea-dhcp4 -t`, activated with SIGHUP (kea-config.sh). */
export function keaConfigFile(): HostFileSpec {
    return { path: KEA_CONFIG_PATH, hooks: "network/kea-config.sh" };
}

/**
 * kea-dhcp-ddns's configuration: the gateway fills in the TSIG secret, `kea-dhcp-ddns -t`
 * checks it, SIGHUP loads it (d2-config.sh); readable by root and Kea's user only.
 */
export function d2ConfigFile(): HostFileSpec {
    return { path: D2_CONFIG_PATH, mode: "0640", owner: "root:_kea", hooks: "network/d2-config.sh", env: { HC_KEY_FILE: keyFilePath(DDNS_KEY) } };
}

export interface DhcpServerArgs {
    /** The validated address plan: LAN, pool, lease time, nodes and reservations. */
    readonly plan: AddressPlan;
    /** The gateway, with its toolkit. */
    readonly host: Host;
    /** Which gateway of a pair this is (default the first, the only one without a pair). */
    readonly role?: GatewayRole;
    /** With two gateways: the Control Agent's password the HA partners authenticate with (a Pulumi secret). */
    readonly apiPassword?: pulumi.Input<string>;
}

/** Kea DHCPv4 serving the cluster LAN from the gateway, and only the LAN. */
export class DhcpServer extends pulumi.ComponentResource {
    /** The command that installs and activates `/etc/kea/kea-dhcp4.conf`. */
    public readonly config: command.remote.Command;
    /** kea-dhcp-ddns's configuration; only with `ddnsEnabled` (it needs the gateway's keys: pass them in dependsOn). */
    public readonly ddnsConfig?: command.remote.Command;
    /** With two gateways: Kea's Control Agent, the HA partners' channel. */
    public readonly ctrlAgent?: command.remote.Command;
    /** With two gateways: the Control Agent's password file, which both Kea configurations name. */
    public readonly apiPassword?: command.remote.Command;
    /** The interface Kea serves, known once the configuration is active. */
    public readonly lanInterface: pulumi.Output<string>;

    constructor(name: string, args: DhcpServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud:network:DhcpServer", name, {}, opts);
        const role = args.role ?? "first";
        // With two gateways only the first sends names to DNS: its BIND is the zones' primary.
        if (args.plan.ddns && role === "first") {
            this.ddnsConfig = hostFile(`${name}-ddns-config`, args.host, {
                file: d2ConfigFile(), content: renderD2Config(args.plan, reverseZoneNames(args.plan)),
            }, { parent: this });
        }
        const pair = args.plan.gateway2 !== undefined;
        if (pair) {
            if (args.apiPassword === undefined) {
                throw new pulumi.ResourceError("the plan has a second gateway: its DhcpServer needs the Control Agent's password", this);
            }
            // Before both configurations, which name the file.
            this.apiPassword = hostFile(`${name}-api-password`, args.host, {
                file: keaApiPasswordFile(), content: pulumi.output(args.apiPassword).apply(renderKeaApiPassword), secret: true,
            }, { parent: this });
        }
        this.config = hostFile(`${name}-config`, args.host, pair
            ? { file: keaHaConfigFile(), content: renderKeaHaConfig(args.plan, role) }
            : { file: keaConfigFile(), content: renderKeaConfig(args.plan) },
        { parent: this, dependsOn: [...this.ddnsConfig ? [this.ddnsConfig] : [], ...this.apiPassword ? [this.apiPassword] : []] });
        if (pair) {
            this.ctrlAgent = hostFile(`${name}-ctrl-agent`, args.host, {
                file: keaCtrlAgentConfigFile(), content: renderKeaCtrlAgentConfig(args.plan, role),
            }, { parent: this, dependsOn: [this.config, this.apiPassword!] });
        }
        const lanInterface = role === "first" ? args.plan.gateway.lanInterface : args.plan.gateway2!.lanInterface;
        this.lanInterface = pulumi.all([this.config.stdout, this.ctrlAgent?.stdout]).apply(() => lanInterface);
        this.registerOutputs({ lanInterface: this.lanInterface });
    }
}
