// Networks and addresses, each on its own: LAN, WAN, gateway, pools, VIP, lease, TTL,
// forwarders. How they fit together is config/layout.ts. Pure: no Pulumi import.
import { Checker } from "./checker";
import { RawConfig } from "./schema";

/** Networks and addresses, each on its own: LAN, WAN, gateway, pools, VIP, lease, forwarders. */
export function checkAddresses(c: Checker, raw: RawConfig) {
    const lanCidr = c.cidr("lanCidr", raw.lanCidr);
    const wanCidr = c.cidr("wanCidr", raw.wanCidr);
    const gwLan = c.ip("gatewayLanAddress", raw.gatewayLanAddress);
    const sshHost = raw.gatewaySshHost === "" ? gwLan : c.ip("gatewaySshHost", raw.gatewaySshHost);
    const pool = c.range("dhcpPool", raw.dhcpPool);
    const vip = c.ip("vip", raw.vip);
    const metallb = c.range("metallbPool", raw.metallbPool);
    const ingressIp = c.ip("ingressIp", raw.ingressIp);
    const leaseSeconds = c.wholeNumber("leaseSeconds", raw.leaseSeconds, 60, 604800, "whole seconds from 60 to 604800");
    const dnsTtlSeconds = c.wholeNumber("dnsTtlSeconds", raw.dnsTtlSeconds, 30, 86400, "whole seconds from 30 to 86400");
    let forwarders: string[] = [];
    if (!Array.isArray(raw.dnsForwarders)) {
        c.fail("dnsForwarders", "must be a list of IPv4 addresses (an empty list means no forwarding)");
    } else {
        forwarders = raw.dnsForwarders.filter((f, i) => c.ip(`dnsForwarders[${i}]`, f) !== undefined) as string[];
    }
    return { lanCidr, wanCidr, gwLan, sshHost, pool, vip, metallb, ingressIp, leaseSeconds, dnsTtlSeconds, forwarders };
}

export type Addresses = ReturnType<typeof checkAddresses>;
