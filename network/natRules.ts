// NatRules: the gateway's NAT and forwarding policy as an nftables table, and the VIP on the
// WAN interface, both put up by a systemd unit so they survive a reboot.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { AddressPlan } from "../config/plan";
import { GatewayRole, gatewayOf } from "./pair/keepalived";
import { Host, hostFile } from "../host/hostOps";
import { HostFileSpec } from "../host/hostFile";
import { NFT_FAMILY, NFT_RULESET_PATH, NFT_TABLE_NAME, renderNftRuleset } from "./nftables";
import { NAT_UNIT, NAT_UNIT_PATH, renderNatUnit } from "./natUnit";

/**
 * The ruleset: checked by `nft -c -f` and for interfaces that exist, loaded with `nft -f`
 * when the unit runs (nat-ruleset.sh).
 */
export function rulesetFile(plan: AddressPlan, role: GatewayRole = "first"): HostFileSpec {
    const self = gatewayOf(plan, role);
    return {
        path: NFT_RULESET_PATH,
        hooks: "network/nat-ruleset.sh",
        env: { HC_UNIT: NAT_UNIT, HC_IFACES: `${self.lanInterface} ${self.wanInterface}` },
    };
}

/**
 * The unit: checked by `systemd-analyze verify`, restarted with its old definition stopped
 * first; on removal the table and the VIP go even if it was not running (nat-unit.sh).
 */
export function natUnitFile(plan: AddressPlan, role: GatewayRole = "first"): HostFileSpec {
    return {
        path: NAT_UNIT_PATH,
        hooks: "network/nat-unit.sh",
        env: { HC_NFT_FAMILY: NFT_FAMILY, HC_NFT_TABLE: NFT_TABLE_NAME, HC_VIP: plan.wan.vip, HC_WAN_IF: gatewayOf(plan, role).wanInterface },
    };
}

export interface NatRulesArgs {
    /** The validated address plan: LAN, interfaces, VIP, servers, ingress address, ports. */
    readonly plan: AddressPlan;
    /** The gateway, with its toolkit. */
    readonly host: Host;
    /** Which gateway of a pair this is (default the first). */
    readonly role?: GatewayRole;
}

/** NAT LAN → WAN, the forwarding policy, and the VIP on the WAN interface (served by LoadBalancer). */
export class NatRules extends pulumi.ComponentResource {
    public readonly ruleset: command.remote.Command;
    public readonly unit: command.remote.Command;
    /** The VIP, known once it is up on the WAN interface with its rules loaded. */
    public readonly vip: pulumi.Output<string>;

    constructor(name: string, args: NatRulesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud:network:NatRules", name, {}, opts);
        const { plan, host } = args;
        const role = args.role ?? "first";
        this.ruleset = hostFile(`${name}-ruleset`, host, {
            file: rulesetFile(plan, role), content: renderNftRuleset(plan, role),
        }, { parent: this });
        this.unit = hostFile(`${name}-unit`, host, {
            file: natUnitFile(plan, role), content: renderNatUnit(plan, role),
        }, { parent: this, dependsOn: [this.ruleset] });
        this.vip = this.unit.stdout.apply(() => plan.wan.vip);
        this.registerOutputs({ vip: this.vip });
    }
}
