// keepalived on both gateways: unicast VRRP between their LAN addresses moves the VIP (home
// network side) and the floating LAN address (router and DNS server of the LAN) together
// to the gateway in charge. Pure: plan in, text out.
import { AddressPlan, SecondGateway } from "../../config/plan";
import { HAPROXY_STATS_ADDRESS } from "../haproxy";
import { TOOLKIT_DIR } from "../../host/toolkit";

/** Where Debian's keepalived.service reads its configuration. */
export const KEEPALIVED_CONFIG_PATH = "/etc/keepalived/keepalived.conf";
/** The VRRP router id both gateways share (1-255); unicast, so it meets no other router's. */
export const VRRP_ROUTER_ID = 51;
/** Each gateway's VRRP priority: 255 is the address owner's, which neither is. */
export const VRRP_PRIORITY: Readonly<Record<GatewayRole, number>> = { first: 254, second: 200 };
/** Adverts missed before the backup takes over (the RFC's 3, less: a failover in ≤ 2.2 s). */
export const VRRP_DOWN_TIMER_ADVERTS = 2;
/** VRRPv2 PASS authentication takes at most 8 characters (keepalived truncates longer ones). */
export const VRRP_AUTH_LENGTH = 8;
/** The health check keepalived runs: a toolkit script, relative to the toolkit's directory. */
export const VRRP_CHECK_SCRIPT = "network/pair/vrrp-check.sh";

/** Which gateway a file is for: the first (config's gateway*) or the second (gateway2*). */
export type GatewayRole = "first" | "second";

/** The side of a gateway pair a file is rendered for: its own and its peer's LAN address, its interfaces. */
export interface GatewaySide {
    readonly hostname: string;
    readonly lanAddress: string;
    readonly peerLanAddress: string;
    readonly lanInterface: string;
    readonly wanInterface: string;
}

/** The pair's second gateway; an error for a plan with one gateway. */
export function secondGateway(plan: AddressPlan): SecondGateway {
    if (!plan.gateway2) {
        throw new Error("this plan has one gateway (homecloud:gateway2Hostname is empty)");
    }
    return plan.gateway2;
}

/** The interfaces and addresses of one gateway, the first one's also in a one-gateway plan. */
export function gatewayOf(plan: AddressPlan, role: GatewayRole): { hostname: string; lanAddress: string; lanInterface: string; wanInterface: string } {
    if (role === "first") {
        const { hostname, lanAddress, lanInterface, wanInterface } = plan.gateway;
        return { hostname, lanAddress, lanInterface, wanInterface };
    }
    const { hostname, lanAddress, lanInterface, wanInterface } = secondGateway(plan);
    return { hostname, lanAddress, lanInterface, wanInterface };
}

export function gatewaySide(plan: AddressPlan, role: GatewayRole): GatewaySide {
    const g2 = secondGateway(plan);
    return role === "first"
        ? { hostname: plan.gateway.hostname, lanAddress: plan.gateway.lanAddress, peerLanAddress: g2.lanAddress,
            lanInterface: plan.gateway.lanInterface, wanInterface: plan.gateway.wanInterface }
        : { hostname: g2.hostname, lanAddress: g2.lanAddress, peerLanAddress: plan.gateway.lanAddress,
            lanInterface: g2.lanInterface, wanInterface: g2.wanInterface };
}

/**
 * Renders keepalived.conf for one gateway of the pair (keepalived 2.2, VRRPv2).
 *
 * - Unicast adverts from the gateway's own LAN address to its peer's only, every second,
 *   with PASS authentication (VRRPv3 would allow sub-second adverts but has no
 *   authentication at all, keepalived ignores it). A gateway that hears nothing for two
 *   adverts plus its skew takes both addresses and announces them with gratuitous ARP:
 *   `down_timer_adverts 2` (keepalived ≥ 2.2.7, the same on both, as it must be) instead of
 *   the RFC's three, so a failover takes at most 2 s + skew, not 3 s + skew; VRRPv2's skew
 *   is (256 − priority)/256 s whatever the advert interval, hence priorities near the top.
 * - Both start as BACKUP with `nopreempt`: the first gateway (priority 254, skew 8 ms) wins
 *   over the second (200, skew 219 ms) when both come up together, and a gateway that comes
 *   back never takes the addresses back from one that is serving (no second switch, no cut
 *   connections).
 * - Health: the checks carry no weight, so a failing one puts the instance in FAULT and it
 *   gives the addresses up. A weight would only lower the priority, and with nopreempt the
 *   peer never takes over from a master that is still advertising, however low.
 *   `haproxy` asks HAProxy's status page on loopback, `named` asks BIND for the zone's SOA;
 *   the WAN interface is tracked too (the LAN one is the instance's own). The checks run as
 *   root from the toolkit (root's own files in root's own directory, which
 *   enable_script_security verifies): keepalived 2.2.7's `-t` kills itself when
 *   script_user is any other user, so such a file could never pass its check.
 */
export function renderKeepalivedConfig(plan: AddressPlan, role: GatewayRole, authPass: string, toolkitDir: string = TOOLKIT_DIR): string {
    if (!/^[A-Za-z0-9]{1,8}$/.test(authPass)) {
        throw new RangeError("the VRRP password must be 1 to 8 letters or digits");
    }
    const side = gatewaySide(plan, role);
    const g2 = secondGateway(plan);
    const lanPrefix = plan.lan.prefixLength;
    const check = (name: string, args: string): string[] => [
        `vrrp_script homecloud_${name} {`,
        `    script "${toolkitDir}/${VRRP_CHECK_SCRIPT} ${args}"`,
        "    interval 1",
        "    timeout 2",
        "    fall 2",
        "    rise 2",
        "}",
        "",
    ];
    return [
        "# Managed by homecloud (Pulumi): replaced on every update; checked by `keepalived -t` first.",
        "global_defs {",
        `    router_id ${side.hostname}`,
        "    enable_script_security",
        "    script_user root",
        "}",
        "",
        ...check("haproxy", `haproxy ${HAPROXY_STATS_ADDRESS}`),
        ...check("named", `named ${plan.domain}`),
        "vrrp_instance homecloud {",
        "    state BACKUP",
        "    nopreempt",
        `    interface ${side.lanInterface}`,
        `    virtual_router_id ${VRRP_ROUTER_ID}`,
        `    priority ${role === "first" ? VRRP_PRIORITY.first : VRRP_PRIORITY.second}`,
        "    advert_int 1",
        `    down_timer_adverts ${VRRP_DOWN_TIMER_ADVERTS}`,
        `    unicast_src_ip ${side.lanAddress}`,
        "    unicast_peer {",
        `        ${side.peerLanAddress}`,
        "    }",
        "    check_unicast_src",
        "    authentication {",
        "        auth_type PASS",
        `        auth_pass ${authPass}`,
        "    }",
        "    virtual_ipaddress {",
        `        ${g2.floatingLanAddress}/${lanPrefix} dev ${side.lanInterface}`,
        `        ${plan.wan.vip}/32 dev ${side.wanInterface}`,
        "    }",
        "    track_interface {",
        `        ${side.wanInterface}`,
        "    }",
        "    track_script {",
        "        homecloud_haproxy",
        "        homecloud_named",
        "    }",
        "}",
        "",
    ].join("\n");
}
