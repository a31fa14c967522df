// Whole-plan checks: every host unique and placed, ranges apart, the VIP free, names short
// enough. Only where the parts themselves were valid. Pure: no Pulumi import.
import * as ipaddr from "ipaddr.js";
import { Addresses } from "./addresses";
import { Checker, inCidr, inRange, rangesOverlap } from "./checker";
import { Hosts } from "./hosts";
import { Names } from "./names";
import { RawConfig } from "./schema";

/** "the network address" / "the broadcast address" of `cidr` when `ip` is one, else undefined. */
export function reservedRole(ip: string, cidr: string): string | undefined {
    if (ip === ipaddr.IPv4.networkAddressFromCIDR(cidr).toString()) {
        return "the network address";
    }
    if (ip === ipaddr.IPv4.broadcastAddressFromCIDR(cidr).toString()) {
        return "the broadcast address";
    }
    return undefined;
}

/** DNS allows at most 253 characters in a name (RFC 1035, without the trailing dot). */
const MAX_NAME = 253;

/** Whole-plan checks, only where the parts themselves were valid: every host unique and placed, ranges apart. */
export function checkPlan(c: Checker, raw: RawConfig, n: Names, a: Addresses, h: Hosts): void {
    const { lanCidr, wanCidr, gwLan, pool, vip, metallb, ingressIp } = a;
    const named: { key: string; name: string; mac?: string; ip: string }[] = [
        ...h.nodes.map((x, i) => ({ key: `nodes[${i}]`, ...x })),
        ...h.reservations.map((x, i) => ({ key: `reservations[${i}]`, ...x })),
    ];
    const seen = { name: new Map<string, string>(), mac: new Map<string, string>(), ip: new Map<string, string>() };
    if (n.gwHostname) {
        seen.name.set(n.gwHostname, "gatewayHostname");
    }
    if (gwLan) {
        seen.ip.set(gwLan, "gatewayLanAddress");
    }
    for (const host of named) {
        for (const field of ["name", "mac", "ip"] as const) {
            const value = host[field]!;
            const first = seen[field].get(value);
            if (first) {
                c.fail(`${host.key}.${field}`, `"${value}" is already used by homecloud:${first}; every host needs its own ${field}`);
            } else {
                seen[field].set(value, `${host.key}.${field}`);
            }
        }
        if (lanCidr && !inCidr(host.ip, lanCidr)) {
            c.fail(`${host.key}.ip`, `${host.ip} is outside the LAN ${raw.lanCidr}; reserve an address inside it`);
        } else if (lanCidr && reservedRole(host.ip, String(raw.lanCidr))) {
            c.fail(`${host.key}.ip`, `${host.ip} is ${reservedRole(host.ip, String(raw.lanCidr))} of ${raw.lanCidr}; reserve a host address`);
        } else if (pool && inRange(host.ip, pool)) {
            c.fail(`${host.key}.ip`, `${host.ip} is inside the dynamic pool ${pool.start}-${pool.end}; reserve an address outside the pool`);
        } else if (metallb && inRange(host.ip, metallb)) {
            c.fail(`${host.key}.ip`, `${host.ip} is inside the MetalLB pool ${metallb.start}-${metallb.end}; reserve an address outside it`);
        }
        if (n.apiName && host.name === n.apiName) {
            c.fail(`${host.key}.name`, `"${host.name}" is the API name (homecloud:apiName); pick another host name`);
        }
    }
    // The names the zones will contain, whole: <host>.<domain>, the API name, the wildcard.
    if (n.domain) {
        const names: [string, string][] = [
            ...named.map((x): [string, string] => [`${x.key}.name`, `${x.name}.${n.domain}`]),
            ...n.gwHostname ? [["gatewayHostname", `${n.gwHostname}.${n.domain}`] as [string, string]] : [],
            ...n.apiName ? [["apiName", `${n.apiName}.${n.domain}`] as [string, string]] : [],
            ["domain", `*.${n.domain}`],
        ];
        for (const [key, name] of names) {
            if (name.length > MAX_NAME) {
                c.fail(key, `makes the DNS name ${name.slice(0, 20)}… ${name.length} characters long; a name has at most ${MAX_NAME}: shorten it or homecloud:domain`);
            }
        }
    }
    if (lanCidr) {
        const prefix = lanCidr[1];
        if (prefix < 16 || prefix > 29) {
            c.fail("lanCidr", `/${prefix} is not supported; use a prefix from /16 to /29, e.g. 10.0.0.0/24`);
        }
        if (prefix > 24 && prefix <= 29) {
            c.warnings.push(`homecloud:lanCidr: a /${prefix} LAN does not fill a /24, so its reverse DNS is one zone per named host ` +
                "(the gateway, nodes, reservations); addresses from the DHCP pool get no PTR name");
        }
        const lan = String(raw.lanCidr);
        if (gwLan && !inCidr(gwLan, lanCidr)) {
            c.fail("gatewayLanAddress", `${gwLan} is not a host address of the LAN ${lan}; use one inside it, e.g. its first address`);
        } else if (gwLan && reservedRole(gwLan, lan)) {
            c.fail("gatewayLanAddress", `${gwLan} is ${reservedRole(gwLan, lan)} of ${lan}; use a host address, e.g. its first one`);
        }
        for (const [key, r] of [["dhcpPool", pool], ["metallbPool", metallb]] as const) {
            if (r && (!inCidr(r.start, lanCidr) || !inCidr(r.end, lanCidr))) {
                c.fail(key, `${r.start}-${r.end} is not inside the LAN ${lan}; use host addresses of the LAN`);
            } else if (r) {
                for (const end of [r.start, r.end]) {
                    if (reservedRole(end, lan)) {
                        c.fail(key, `${r.start}-${r.end} includes ${end}, ${reservedRole(end, lan)} of ${lan}; keep the range to host addresses`);
                    }
                }
            }
        }
    }
    if (pool && metallb && rangesOverlap(pool, metallb)) {
        c.fail("metallbPool", `${metallb.start}-${metallb.end} overlaps the DHCP pool ${pool.start}-${pool.end}; MetalLB and DHCP would hand out the same address`);
    }
    if (gwLan && pool && inRange(gwLan, pool)) {
        c.fail("gatewayLanAddress", `${gwLan} is inside the DHCP pool ${pool.start}-${pool.end}; move the pool or the gateway`);
    }
    if (gwLan && metallb && inRange(gwLan, metallb)) {
        c.fail("gatewayLanAddress", `${gwLan} is inside the MetalLB pool ${metallb.start}-${metallb.end}; move the pool or the gateway`);
    }
    if (ingressIp && metallb && !inRange(ingressIp, metallb)) {
        c.fail("ingressIp", `${ingressIp} is outside the MetalLB pool ${metallb.start}-${metallb.end}; pick an address from the pool`);
    }
    if (lanCidr && wanCidr && (inCidr(wanCidr[0].toString(), lanCidr) || inCidr(lanCidr[0].toString(), wanCidr))) {
        c.fail("wanCidr", `${raw.wanCidr} overlaps the LAN ${raw.lanCidr}; the cluster LAN must be a separate network`);
    }
    const taken = vip === undefined ? undefined
        : vip === gwLan ? "gatewayLanAddress" : named.find((x) => x.ip === vip)?.key.concat(".ip");
    if (vip && taken) {
        c.fail("vip", `${vip} is already homecloud:${taken}; the VIP needs a free address of the home network`);
    } else if (vip && wanCidr && !inCidr(vip, wanCidr)) {
        c.fail("vip", `${vip} is outside the home network ${raw.wanCidr}; pick a free address of the WAN side`);
    } else if (vip && wanCidr && reservedRole(vip, String(raw.wanCidr))) {
        c.fail("vip", `${vip} is ${reservedRole(vip, String(raw.wanCidr))} of the home network ${raw.wanCidr}; pick a free host address`);
    }
    if (vip && !taken && lanCidr && inCidr(vip, lanCidr)) {
        c.fail("vip", `${vip} is inside the LAN ${raw.lanCidr}; the VIP lives on the WAN side`);
    }
    // A forwarder that is the gateway itself makes BIND forward to itself.
    a.forwarders.forEach((f, i) => {
        const self = f === gwLan ? "gatewayLanAddress" : f === vip ? "vip" : f.startsWith("127.") ? "loopback" : undefined;
        if (self) {
            c.fail(`dnsForwarders[${i}]`, `${f} is the gateway itself (${self === "loopback" ? "a loopback address" : `homecloud:${self}`}); ` +
                "BIND would forward to itself: name your home router or an upstream resolver, or use []");
        }
    });
}
