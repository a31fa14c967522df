// The optional second gateway and the floating LAN address the two share: each address its
// own, on the right network, outside every pool; the host name, interfaces and SSH address
// like the first gateway's. Only where the parts themselves were valid. Pure: no Pulumi import.
import { Addresses } from "./addresses";
import { Checker, HOSTNAME, IFNAME, inCidr, inRange } from "./checker";
import { Hosts } from "./hosts";
import { reservedRole } from "./layout";
import { Names } from "./names";
import { SecondGateway } from "./plan";
import { RawConfig } from "./schema";

/** The keys that only mean something with a second gateway. */
const GATEWAY2_KEYS = ["gateway2LanAddress", "gateway2WanAddress", "gateway2SshHost", "gateway2LanInterface", "gateway2WanInterface", "lanFloatingAddress"] as const;

/** The second gateway, or undefined with one gateway (gateway2Hostname empty). */
export function checkSecondGateway(c: Checker, raw: RawConfig, n: Names, a: Addresses, h: Hosts): SecondGateway | undefined {
    if (raw.gateway2Hostname === "") {
        for (const key of GATEWAY2_KEYS) {
            if (raw[key] !== "") {
                c.fail(key, `is set but homecloud:gateway2Hostname is empty; set gateway2Hostname to add the second gateway, or remove ${key}`);
            }
        }
        return undefined;
    }
    const hostname = c.hostname("gateway2Hostname", raw.gateway2Hostname);
    const required = (key: string, what: string): string | undefined => raw[key] === ""
        ? c.fail(key, `is required with homecloud:gateway2Hostname; give ${what}`) : c.ip(key, raw[key]);
    const lanAddress = required("gateway2LanAddress", "the second gateway's static LAN address, outside every pool");
    const wanAddress = required("gateway2WanAddress", "the second gateway's static address on the home network");
    const floating = required("lanFloatingAddress", "a free LAN address, outside every pool, for the router and DNS server DHCP hands out");
    const sshHost = raw.gateway2SshHost === "" ? lanAddress : c.ip("gateway2SshHost", raw.gateway2SshHost);
    const iface = (key: string, v: unknown, dflt: string | undefined, example: string): string | undefined =>
        v === "" ? dflt : c.pattern(key, v, IFNAME, `is not an interface name; use the name \`ip link\` shows on the second gateway, e.g. ${example}`);
    const lanInterface = iface("gateway2LanInterface", raw.gateway2LanInterface, n.lanIf, "eth0");
    const wanInterface = iface("gateway2WanInterface", raw.gateway2WanInterface, n.wanIf, "eth1");
    if (lanInterface && wanInterface && lanInterface === wanInterface) {
        c.fail(raw.gateway2WanInterface === "" ? "gateway2LanInterface" : "gateway2WanInterface",
            `"${wanInterface}" is both the second gateway's LAN and home-network interface; it needs two different interfaces`);
    }
    if (hostname && HOSTNAME.test(hostname)) {
        const other = hostname === n.gwHostname ? "gatewayHostname" : hostname === n.apiName ? "apiName"
            : [...h.nodes.map((x, i) => [x.name, `nodes[${i}].name`]), ...h.reservations.map((x, i) => [x.name, `reservations[${i}].name`])]
                .find(([name]) => name === hostname)?.[1];
        if (other) {
            c.fail("gateway2Hostname", `"${hostname}" is already homecloud:${other}; give the second gateway its own host name`);
        } else if (h.lostNodes.includes(hostname)) {
            c.fail("gateway2Hostname", `"${hostname}" is in homecloud:lostNodes; give the second gateway its own host name`);
        }
    }
    checkLanAddress(c, raw, a, h, "gateway2LanAddress", lanAddress, "the second gateway");
    checkLanAddress(c, raw, a, h, "lanFloatingAddress", floating, "the floating address");
    if (lanAddress && floating && lanAddress === floating) {
        c.fail("lanFloatingAddress", `${floating} is also homecloud:gateway2LanAddress; the floating address moves between the gateways, so it needs an address of its own`);
    }
    if (wanAddress && a.wanCidr) {
        const wan = String(raw.wanCidr);
        if (!inCidr(wanAddress, a.wanCidr)) {
            c.fail("gateway2WanAddress", `${wanAddress} is outside the home network ${wan}; use the second gateway's address on the WAN side`);
        } else if (reservedRole(wanAddress, wan)) {
            c.fail("gateway2WanAddress", `${wanAddress} is ${reservedRole(wanAddress, wan)} of ${wan}; use a host address`);
        } else if (wanAddress === a.vip) {
            c.fail("gateway2WanAddress", `${wanAddress} is also homecloud:vip; the VIP moves between the gateways, so give the second gateway an address of its own`);
        }
    }
    a.forwarders.forEach((f, i) => {
        const self = f === lanAddress ? "gateway2LanAddress" : f === wanAddress ? "gateway2WanAddress" : f === floating ? "lanFloatingAddress" : undefined;
        if (self) {
            c.fail(`dnsForwarders[${i}]`, `${f} is a gateway itself (homecloud:${self}); BIND would forward to itself: name your home router or an upstream resolver, or use []`);
        }
    });
    if (!hostname || !lanAddress || !wanAddress || !floating || !sshHost || !lanInterface || !wanInterface) {
        return undefined;
    }
    return { hostname, lanAddress, wanAddress, sshHost, lanInterface, wanInterface, floatingLanAddress: floating };
}

/** A LAN address only `what` holds: inside the LAN, a host address, no one else's, outside both pools. */
function checkLanAddress(c: Checker, raw: RawConfig, a: Addresses, h: Hosts, key: string, ip: string | undefined, what: string): void {
    if (!ip || !a.lanCidr) {
        return;
    }
    const lan = String(raw.lanCidr);
    const taken = ip === a.gwLan ? "gatewayLanAddress"
        : [...h.nodes.map((x, i) => [x.ip, `nodes[${i}].ip`]), ...h.reservations.map((x, i) => [x.ip, `reservations[${i}].ip`])]
            .find(([addr]) => addr === ip)?.[1];
    if (!inCidr(ip, a.lanCidr)) {
        c.fail(key, `${ip} is not a host address of the LAN ${lan}; use a free address inside it`);
    } else if (reservedRole(ip, lan)) {
        c.fail(key, `${ip} is ${reservedRole(ip, lan)} of ${lan}; use a host address`);
    } else if (taken) {
        c.fail(key, `${ip} is already homecloud:${taken}; ${what} needs an address of its own`);
    } else if (a.pool && inRange(ip, a.pool)) {
        c.fail(key, `${ip} is inside the DHCP pool ${a.pool.start}-${a.pool.end}; move the pool or ${what}`);
    } else if (a.metallb && inRange(ip, a.metallb)) {
        c.fail(key, `${ip} is inside the MetalLB pool ${a.metallb.start}-${a.metallb.end}; move the pool or ${what}`);
    } else if (ip === a.ingressIp) {
        c.fail(key, `${ip} is also homecloud:ingressIp; ${what} needs an address of its own`);
    }
}
