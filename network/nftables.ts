// The gateway's NAT and forwarding rules as one nftables table. Pure: plan in, text out.
import { AddressPlan } from "../config/plan";
import { GatewayRole, gatewayOf } from "./pair/keepalived";
import { KEA_CTRL_AGENT_PORT } from "./pair/keaHa";

/** Family and name of the program's own table; nothing else on the host is touched. */
export const NFT_FAMILY = "ip";
export const NFT_TABLE_NAME = "homecloud";
export const NFT_TABLE = `${NFT_FAMILY} ${NFT_TABLE_NAME}`;
/** Where the ruleset lives on the gateway; the homecloud-nat unit loads it at boot. */
export const NFT_RULESET_PATH = "/etc/homecloud/nat.nft";

/**
 * Renders the ruleset file for `nft -f`. The file is one transaction: declare the table
 * (a no-op when it exists), delete it, and define it anew, so loading it replaces the
 * previous rules atomically and never leaves the gateway half-configured.
 *
 * - postrouting: LAN → WAN is masqueraded behind the gateway's WAN address.
 * - forward: default drop; replies, LAN → WAN and LAN → LAN pass, so nothing from the home
 *   network reaches the LAN directly. The VIP's ports are served by HAProxy on the gateway
 *   itself (haproxy.ts), which opens its own connections to the servers and the ingress:
 *   no DNAT, so nothing from the WAN is ever forwarded.
 * There is deliberately no input chain: nothing here can filter traffic to the gateway
 * itself, so these rules can never cut the SSH path to it.
 */
export function renderNftRuleset(plan: AddressPlan, role: GatewayRole = "first"): string {
    const lan = plan.lan.cidr;
    const self = gatewayOf(plan, role);
    const lanIf = JSON.stringify(self.lanInterface);
    const wanIf = JSON.stringify(self.wanInterface);
    // With two gateways, Kea's Control Agent (the HA partners' channel) answers the two
    // gateways only; an input chain that accepts everything else, so SSH is never cut.
    const input = plan.gateway2 ? [
        "",
        "    chain input {",
        "        type filter hook input priority filter; policy accept;",
        `        tcp dport ${KEA_CTRL_AGENT_PORT} ip saddr != { ${plan.gateway.lanAddress}, ${plan.gateway2.lanAddress} } drop`,
        "    }",
    ] : [];
    return [
        "#!/usr/sbin/nft -f",
        "# Managed by homecloud (Pulumi): replaced on every update; loaded by homecloud-nat.service.",
        "# One transaction: the table is declared, deleted and defined anew, atomically.",
        plan.gateway2 ? `# The input chain drops only what reaches Kea's Control Agent (${KEA_CTRL_AGENT_PORT}) from other than the two gateways; SSH is never cut.`
            : "# No input chain on purpose: nothing here filters traffic to the gateway itself (SSH).",
        `table ${NFT_TABLE}`,
        `delete table ${NFT_TABLE}`,
        `table ${NFT_TABLE} {`,
        "    chain postrouting {",
        "        type nat hook postrouting priority srcnat; policy accept;",
        `        oifname ${wanIf} ip saddr ${lan} masquerade`,
        "    }",
        "",
        "    chain forward {",
        "        type filter hook forward priority filter; policy drop;",
        "        ct state established,related accept",
        "        ct state invalid drop",
        `        iifname ${lanIf} oifname ${wanIf} ip saddr ${lan} accept`,
        `        iifname ${lanIf} oifname ${lanIf} accept`,
        "    }",
        ...input,
        "}",
        "",
    ].join("\n");
}
