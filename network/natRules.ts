// NatRules: the gateway's NAT, VIP and DNAT round robin, as an nftables table loaded by a
// systemd unit so they survive a reboot.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { AddressPlan } from "../config/plan";
import { HostConnection, hostFile } from "../host/hostOps";
import { ManagedFileSpec, serviceActivate, sh, STATE_DIR } from "../host/hostScripts";
import { NFT_RULESET_PATH, NFT_TABLE, renderNftRuleset } from "./nftables";
import { NAT_UNIT, NAT_UNIT_PATH, renderNatUnit } from "./natUnit";

/**
 * The ruleset file: checked by `nft -c -f` against the running kernel, then loaded with
 * `nft -f` (one atomic transaction) when the unit is running; a stopped unit loads it at start.
 */
export function rulesetFile(): ManagedFileSpec {
    const dir = NFT_RULESET_PATH.slice(0, NFT_RULESET_PATH.lastIndexOf("/"));
    return {
        path: NFT_RULESET_PATH,
        check: 'nft -c -f "$CANDIDATE"',
        activate: `if systemctl is-active -q ${NAT_UNIT}; then nft -f ${sh(NFT_RULESET_PATH)}; fi`,
        revert: `rmdir --ignore-fail-on-non-empty ${sh(dir)} 2>/dev/null || true`,
    };
}

/**
 * The unit file: checked by `systemd-analyze verify` on a copy under its real name. To
 * activate, the running unit is stopped with its old definition first (so a changed VIP or
 * interface is taken down by the stop steps that put it up), then systemd reloads and the
 * unit is enabled and started. Removal stops and disables it and, in case it was not
 * running, deletes the table and the VIP itself.
 */
export function natUnitFile(plan: AddressPlan): ManagedFileSpec {
    const vip = `${plan.wan.vip}/32`;
    return {
        path: NAT_UNIT_PATH,
        check: `unitdir=$(mktemp -d) &&
trap 'rm -rf "$unitdir"' EXIT &&
cp "$CANDIDATE" "$unitdir/${NAT_UNIT}" &&
systemd-analyze verify "$unitdir/${NAT_UNIT}"`,
        activate: `systemctl stop ${NAT_UNIT} >/dev/null 2>&1 || true
systemctl daemon-reload || exit 1
${serviceActivate(NAT_UNIT, "restart")}`,
        revert: `systemctl stop ${NAT_UNIT} >/dev/null 2>&1 || true
systemctl disable -q ${NAT_UNIT} >/dev/null 2>&1 || true
rm -f ${sh(`${STATE_DIR}/units/${NAT_UNIT}.was-enabled`)}
systemctl daemon-reload
nft delete table ${NFT_TABLE} >/dev/null 2>&1 || true
ip addr del ${sh(vip)} dev ${sh(plan.gateway.wanInterface)} >/dev/null 2>&1 || true`,
    };
}

export interface NatRulesArgs {
    /** The validated address plan: LAN, interfaces, VIP, servers, ingress address, ports. */
    readonly plan: AddressPlan;
    /** SSH access to the gateway. */
    readonly connection: HostConnection;
}

/** NAT LAN → WAN, and the VIP DNAT'ed round robin to the K3s API and to the ingress. */
export class NatRules extends pulumi.ComponentResource {
    public readonly ruleset: command.remote.Command;
    public readonly unit: command.remote.Command;
    /** The VIP, known once it is up on the WAN interface with its rules loaded. */
    public readonly vip: pulumi.Output<string>;

    constructor(name: string, args: NatRulesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud:network:NatRules", name, {}, opts);
        const { plan, connection } = args;
        this.ruleset = hostFile(`${name}-ruleset`, {
            connection, file: rulesetFile(), content: renderNftRuleset(plan),
        }, { parent: this });
        this.unit = hostFile(`${name}-unit`, {
            connection, file: natUnitFile(plan), content: renderNatUnit(plan),
        }, { parent: this, dependsOn: [this.ruleset] });
        this.vip = this.unit.stdout.apply(() => plan.wan.vip);
        this.registerOutputs({ vip: this.vip });
    }
}
