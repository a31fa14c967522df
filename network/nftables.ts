// The gateway's NAT and forwarding rules as one nftables table. Pure: plan in, text out.
import { AddressPlan, servers } from "../config/plan";
import { INGRESS_HTTP_PORT, INGRESS_HTTPS_PORT, K3S_SERVER_PORT } from "../config/ports";

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
 * - postrouting: LAN → WAN is masqueraded behind the gateway's WAN address; DNAT'ed flows
 *   from a LAN host to a LAN host (a node or client using the VIP) are masqueraded too,
 *   so the answer comes back through the gateway instead of straight to the client.
 * - prerouting and output (the latter for connections the gateway itself opens): the VIP's
 *   API port goes round robin, one connection at a time, to the servers; the VIP's HTTP
 *   and HTTPS ports go to the ingress address. Round robin does not health-check: with a
 *   server down, every Nth new connection fails and the client's retry lands elsewhere.
 * - forward: default drop; replies, DNAT'ed flows, LAN → WAN and LAN → LAN pass, so the
 *   home network reaches the LAN only through the VIP.
 * There is deliberately no input chain: nothing here can filter traffic to the gateway
 * itself, so these rules can never cut the SSH path to it.
 */
export function renderNftRuleset(plan: AddressPlan): string {
    const lan = plan.lan.cidr;
    const lanIf = JSON.stringify(plan.gateway.lanInterface);
    const wanIf = JSON.stringify(plan.gateway.wanInterface);
    const vip = plan.wan.vip;
    const api = plan.ports.api;
    const backends = servers(plan).map((s, i) => `${i} : ${s.ip}`).join(", ");
    // The VIP's ports are configurable; the services behind it listen on fixed ports.
    const dnat = [
        `ip daddr ${vip} tcp dport ${api} dnat to numgen inc mod ${servers(plan).length} map { ${backends} } : ${K3S_SERVER_PORT}`,
        `ip daddr ${vip} tcp dport ${plan.ports.http} dnat to ${plan.ingressIp}:${INGRESS_HTTP_PORT}`,
        `ip daddr ${vip} tcp dport ${plan.ports.https} dnat to ${plan.ingressIp}:${INGRESS_HTTPS_PORT}`,
    ];
    return [
        "#!/usr/sbin/nft -f",
        "# Managed by homecloud (Pulumi): replaced on every update; loaded by homecloud-nat.service.",
        "# One transaction: the table is declared, deleted and defined anew, atomically.",
        "# No input chain on purpose: nothing here filters traffic to the gateway itself (SSH).",
        `table ${NFT_TABLE}`,
        `delete table ${NFT_TABLE}`,
        `table ${NFT_TABLE} {`,
        "    chain prerouting {",
        "        type nat hook prerouting priority dstnat; policy accept;",
        ...dnat.map((r) => `        ${r}`),
        "    }",
        "",
        "    chain output {",
        "        type nat hook output priority -100; policy accept;",
        ...dnat.map((r) => `        ${r}`),
        "    }",
        "",
        "    chain postrouting {",
        "        type nat hook postrouting priority srcnat; policy accept;",
        `        oifname ${wanIf} ip saddr ${lan} masquerade`,
        `        oifname ${lanIf} ip saddr ${lan} ip daddr ${lan} ct status dnat masquerade`,
        "    }",
        "",
        "    chain forward {",
        "        type filter hook forward priority filter; policy drop;",
        "        ct state established,related accept",
        "        ct state invalid drop",
        "        ct status dnat accept",
        `        iifname ${lanIf} oifname ${wanIf} ip saddr ${lan} accept`,
        `        iifname ${lanIf} oifname ${lanIf} accept`,
        "    }",
        "}",
        "",
    ].join("\n");
}
