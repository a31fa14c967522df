// systemd unit that makes the gateway's VIP and NAT rules survive a reboot. Pure.
import { AddressPlan } from "../config/plan";
import { GatewayRole, gatewayOf } from "./pair/keepalived";
import { HAPROXY_UNIT } from "./haproxy";
import { NFT_RULESET_PATH, NFT_TABLE } from "./nftables";

export const NAT_UNIT = "homecloud-nat.service";
export const NAT_UNIT_PATH = `/etc/systemd/system/${NAT_UNIT}`;
/** iputils' arping (Debian package iputils-arping, in GATEWAY_PACKAGES). */
export const ARPING = "/usr/bin/arping";

/**
 * Renders `homecloud-nat.service`: a oneshot that puts the VIP on the WAN interface,
 * announces it with two gratuitous ARPs (a home-network neighbour that last saw the VIP on
 * another MAC, e.g. the second gateway just taken out, updates its entry at once; `-`: a
 * failure to send never fails the unit) and loads the ruleset, and undoes both when
 * stopped. Stop steps carry `-` so stopping never
 * fails, even when someone already removed the address or the table. It runs after
 * nftables.service, whose ruleset starts with `flush ruleset`, so it cannot wipe ours at boot,
 * and before haproxy.service, which binds the VIP's ports and cannot start without the VIP.
 */
export function renderNatUnit(plan: AddressPlan, role: GatewayRole = "first"): string {
    if (plan.gateway2) {
        // Two gateways: keepalived puts the VIP on whichever gateway is in charge.
        return [
            "# Managed by homecloud (Pulumi): replaced on every update.",
            "[Unit]",
            `Description=homecloud gateway NAT (nftables table ${NFT_TABLE}); keepalived holds the VIP ${plan.wan.vip}`,
            "Wants=network-online.target",
            "After=network-online.target nftables.service",
            `Before=${HAPROXY_UNIT}`,
            "",
            "[Service]",
            "Type=oneshot",
            "RemainAfterExit=yes",
            `ExecStart=/usr/sbin/nft -f ${NFT_RULESET_PATH}`,
            `ExecReload=/usr/sbin/nft -f ${NFT_RULESET_PATH}`,
            // Never the VIP: it is keepalived's (the one-gateway unit's stop took its own away).
            `ExecStop=-/usr/sbin/nft delete table ${NFT_TABLE}`,
            "",
            "[Install]",
            "WantedBy=multi-user.target",
            "",
        ].join("\n");
    }
    const vip = `${plan.wan.vip}/32`;
    const wan = gatewayOf(plan, role).wanInterface;
    return [
        "# Managed by homecloud (Pulumi): replaced on every update.",
        "[Unit]",
        `Description=homecloud gateway NAT and VIP ${plan.wan.vip} (nftables table ${NFT_TABLE})`,
        "Wants=network-online.target",
        "After=network-online.target nftables.service",
        `Before=${HAPROXY_UNIT}`,
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        `ExecStart=/usr/sbin/ip addr replace ${vip} dev ${wan}`,
        `ExecStart=-${ARPING} -q -U -c 2 -I ${wan} ${plan.wan.vip}`,
        `ExecStart=/usr/sbin/nft -f ${NFT_RULESET_PATH}`,
        `ExecReload=/usr/sbin/nft -f ${NFT_RULESET_PATH}`,
        `ExecStop=-/usr/sbin/nft delete table ${NFT_TABLE}`,
        `ExecStop=-/usr/sbin/ip addr del ${vip} dev ${wan}`,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
}
