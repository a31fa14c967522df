// BIND 9 configuration for the cluster: options, zone declarations and the two zone
// files (forward and reverse). Pure: plan in, text out.
import * as ipaddr from "ipaddr.js";
import { AddressPlan, ipToNumber } from "../config/plan";
import { SERIAL_TOKEN } from "../host/hostFile";
import { GatewayRole, gatewayOf } from "./pair/keepalived";

/** Debian's BIND configuration directory and the files the program replaces in it. */
export const BIND_DIR = "/etc/bind";
export const NAMED_CONF = `${BIND_DIR}/named.conf`;
export const NAMED_CONF_OPTIONS = `${BIND_DIR}/named.conf.options`;
export const NAMED_CONF_LOCAL = `${BIND_DIR}/named.conf.local`;
/** The program's own zone files live in a directory of their own. */
export const ZONE_DIR = `${BIND_DIR}/homecloud`;
/**
 * With dynamic DNS on, the zones live where Debian lets named write (its AppArmor profile
 * and the `bind` user): named keeps each zone's journal next to its file.
 */
export const DYNAMIC_ZONE_DIR = "/var/lib/bind/homecloud";
/** The TSIG keys the gateway makes for itself (ddns-keys.sh); named.conf.local includes them. */
export const KEY_DIR = `${BIND_DIR}/homecloud-keys`;
/** Key of kea-dhcp-ddns: may add and remove A, PTR and DHCID records of pool clients only. */
export const DDNS_KEY = "homecloud-ddns";
/** Key of the program's own changes to records it owns in a dynamic zone (dyn-zone.sh). */
export const STATIC_KEY = "homecloud-static";
/** With two gateways: the key zone transfers and NOTIFYs between them are signed with (bindPair.ts). */
export const XFER_KEY = "homecloud-xfer";

export function keyFilePath(key: string, dir: string = KEY_DIR): string {
    return `${dir}/${key}.key`;
}

/** Where this plan's zone files live: dynamic zones need a directory named can write. */
export function zoneDirOf(plan: AddressPlan): string {
    return plan.ddns ? DYNAMIC_ZONE_DIR : ZONE_DIR;
}

/** Name of the ACL of clients allowed to query and recurse. */
export const CLIENT_ACL = "homecloud-clients";


/** Forward zone: the cluster domain itself. */
export function forwardZoneName(plan: AddressPlan): string {
    return plan.domain;
}

/** `c.b.a.in-addr.arpa` for the leading octets `[a, b, c]`. */
function zoneOf(octets: readonly number[]): string {
    return `${[...octets].reverse().join(".")}.in-addr.arpa`;
}

/**
 * The reverse zones, each claiming addresses of the LAN only, in address order:
 * - a /16 or a /24 LAN: its own zone (`b.a.` or `c.b.a.in-addr.arpa`);
 * - /17 to /23: one zone per /24 the LAN covers, so nothing outside it is claimed;
 * - /25 to /29: one zone per named host's address (`d.c.b.a.in-addr.arpa`, the PTR at its
 *   apex). A zone for the whole /24 would claim addresses outside the LAN, and RFC 2317
 *   names alone would answer nothing to the LAN's own clients; pool addresses get no PTR.
 */
export function reverseZoneNames(plan: AddressPlan): string[] {
    const [a, b, c] = ipaddr.IPv4.parse(plan.lan.network).octets;
    const prefix = plan.lan.prefixLength;
    if (prefix === 16) {
        return [zoneOf([a, b])];
    }
    if (prefix <= 24) {
        return Array.from({ length: 2 ** (24 - prefix) }, (_, i) => zoneOf([a, b, c + i]));
    }
    const addresses = [...new Set(lanHosts(plan).map((h) => h.ip))].sort((x, y) => ipToNumber(x) - ipToNumber(y));
    return addresses.map((ip) => zoneOf(ipaddr.IPv4.parse(ip).octets));
}

/** The leading octets a reverse zone stands for (`0.20.172.in-addr.arpa` → [172, 20, 0]). */
function zoneOctets(zone: string): number[] {
    return zone.replace(/\.in-addr\.arpa$/, "").split(".").map(Number).reverse();
}

/** Path of a zone's file on the host, e.g. `/etc/bind/homecloud/db.home.arpa`. */
export function zoneFilePath(zone: string, dir: string): string {
    return `${dir}/db.${zone}`;
}

/**
 * Renders `named.conf.options`: a caching resolver for the LAN and the gateway itself only
 * (listening on loopback and the LAN address, never the WAN side), forwarding to
 * `dnsForwarders` when there are any and resolving from the root otherwise.
 */
export function renderNamedOptions(plan: AddressPlan, role: GatewayRole = "first"): string {
    const forwarders = plan.dnsForwarders.length === 0 ? [] : [
        "    forwarders {",
        ...plan.dnsForwarders.map((f) => `        ${f};`),
        "    };",
        "    forward only;",
    ];
    return [
        "// Managed by homecloud (Pulumi): replaced on every update.",
        `acl "${CLIENT_ACL}" {`,
        "    localhost;",
        `    ${plan.lan.cidr};`,
        "};",
        "",
        "options {",
        '    directory "/var/cache/bind";',
        // With two gateways also the floating address, whichever gateway holds it (BIND 9.18
        // rescans the interfaces when an address comes or goes: automatic-interface-scan).
        `    listen-on port 53 { 127.0.0.1; ${gatewayOf(plan, role).lanAddress};${plan.gateway2 ? ` ${plan.gateway2.floatingLanAddress};` : ""} };`,
        "    listen-on-v6 { none; };",
        "    recursion yes;",
        `    allow-query { ${CLIENT_ACL}; };`,
        `    allow-recursion { ${CLIENT_ACL}; };`,
        `    allow-query-cache { ${CLIENT_ACL}; };`,
        "    allow-transfer { none; };",
        "    notify no;",
        ...forwarders,
        "    dnssec-validation auto;",
        "};",
        "",
    ].join("\n");
}

/**
 * Renders `named.conf.local`: the forward and reverse zones, primary on this server.
 * Without dynamic DNS no zone takes updates. With it, each zone takes RFC 2136 updates
 * signed with one of the gateway's two keys, and nothing else: the program's own key may
 * change anything (dyn-zone.sh changes the records it owns that way, so it never rewrites a
 * file named keeps a journal for), kea-dhcp-ddns's key may add and remove only A (under
 * the DDNS suffix), PTR and DHCID records, and never at a name the program owns or a
 * service certificate names (ddnsDenied).
 */
export function renderNamedLocal(plan: AddressPlan, zoneDir: string = zoneDirOf(plan), keyDir: string = KEY_DIR): string {
    const policy = (zone: string): string[] => {
        if (!plan.ddns) {
            return ["    allow-update { none; };"];
        }
        const forward = zone === forwardZoneName(plan);
        const denied = forward ? ddnsDenied(plan) : ownedPtrNames(plan, zone).map((n) => `name ${n}`);
        return [
            "    update-policy {",
            `        grant ${STATIC_KEY} zonesub ANY;`,
            ...denied.map((n) => `        deny ${DDNS_KEY} ${n} ANY;`),
            forward ? `        grant ${DDNS_KEY} subdomain ${plan.ddns.suffix}. A DHCID;` : `        grant ${DDNS_KEY} zonesub PTR DHCID;`,
            "    };",
        ];
    };
    // With two gateways the second is a secondary of every zone: TSIG-signed transfers, and
    // a NOTIFY to it alone whenever a zone changes.
    const pair = plan.gateway2 ? [
        `    allow-transfer { key ${XFER_KEY}; };`,
        "    notify explicit;",
        `    also-notify { ${plan.gateway2.lanAddress} key ${XFER_KEY}; };`,
    ] : [];
    const zone = (name: string): string[] => [
        `zone "${name}" {`,
        "    type primary;",
        `    file "${zoneFilePath(name, zoneDir)}";`,
        ...policy(name),
        ...pair,
        "};",
    ];
    return [
        "// Managed by homecloud (Pulumi): replaced on every update.",
        ...plan.ddns ? [`include "${keyFilePath(DDNS_KEY, keyDir)}";`, `include "${keyFilePath(STATIC_KEY, keyDir)}";`] : [],
        ...plan.gateway2 ? [`include "${keyFilePath(XFER_KEY, keyDir)}";`] : [],
        ...plan.ddns || plan.gateway2 ? [""] : [],
        ...zone(forwardZoneName(plan)),
        "",
        ...reverseZoneNames(plan).flatMap((z) => [...zone(z), ""]),
    ].join("\n");
}

/** Every name the program owns in the forward zone: the apex, the hosts, the API name, the wildcard. */
export function ownedNames(plan: AddressPlan): string[] {
    const names = [plan.domain, ...lanHosts(plan).map((h) => `${h.name}.${plan.domain}`), `${plan.apiName}.${plan.domain}`, `*.${plan.domain}`];
    return [...new Set(names)].map((n) => `${n}.`);
}

/**
 * What kea-dhcp-ddns's key may never touch in the forward zone, as update-policy name
 * fields: every name the program owns, the pool's own suffix, and every name a service
 * certificate vouches for (its name and DNS SANs). A wildcard SAN over names under the
 * suffix is a `wildcard` rule: pool clients get none of the names it covers.
 */
export function ddnsDenied(plan: AddressPlan): string[] {
    const suffix = plan.ddns!.suffix;
    const certified = plan.pki.certificates.flatMap((c) =>
        [`${c.name}.${plan.domain}`, ...c.sans.filter((s) => s.startsWith("DNS:")).map((s) => s.slice(4))]);
    const names = [...ownedNames(plan), `${suffix}.`, ...certified.filter((n) => !n.startsWith("*.")).map((n) => `${n}.`)];
    const under = (n: string): boolean => n === suffix || n.endsWith(`.${suffix}`);
    const wildcards = certified.filter((n) => n.startsWith("*.") && under(n.slice(2)));
    return [...[...new Set(names)].map((n) => `name ${n}`), ...[...new Set(wildcards)].map((n) => `wildcard ${n}.`)];
}

/** The PTR names the program owns in a reverse zone. */
function ownedPtrNames(plan: AddressPlan, zone: string): string[] {
    const prefix = zoneOctets(zone);
    const inZone = (ip: string): boolean => prefix.every((o, i) => ipaddr.IPv4.parse(ip).octets[i] === o);
    const ptr = (ip: string): string => `${[...ipaddr.IPv4.parse(ip).octets].reverse().join(".")}.in-addr.arpa.`;
    return [...new Set(lanHosts(plan).filter((h) => inZone(h.ip)).map((h) => ptr(h.ip)))];
}

function fqdn(plan: AddressPlan, host: string): string {
    return `${host}.${plan.domain}.`;
}

/** `$TTL`, `$ORIGIN`, the SOA (serial filled in by the host) and the NS record. */
function zoneHeader(plan: AddressPlan, origin: string): string[] {
    const ns = fqdn(plan, plan.gateway.hostname);
    return [
        `; Managed by homecloud (Pulumi): zone ${origin}. Replaced on every update.`,
        `$TTL ${plan.dnsTtlSeconds}`,
        `$ORIGIN ${origin}.`,
        `@ IN SOA ${ns} hostmaster.${plan.domain}. (`,
        `        ${SERIAL_TOKEN} ; serial`,
        "        3600 ; refresh",
        "        600 ; retry",
        "        604800 ; expire",
        `        ${plan.dnsTtlSeconds} ) ; negative caching TTL`,
        `@ IN NS ${ns}`,
        ...plan.gateway2 ? [`@ IN NS ${fqdn(plan, plan.gateway2.hostname)}`] : [],
    ];
}

/** Records as aligned `owner IN TYPE data` lines. */
function records(rows: readonly (readonly [string, string, string])[]): string[] {
    if (rows.length === 0) {
        return [];
    }
    const width = Math.max(...rows.map(([owner]) => owner.length));
    return rows.map(([owner, type, data]) => `${owner.padEnd(width)} IN ${type.padEnd(3)} ${data}`);
}

/** Every LAN host with a fixed address, gateway first, then nodes and reservations in config order. */
function lanHosts(plan: AddressPlan): { name: string; ip: string }[] {
    const second = plan.gateway2 ? [{ name: plan.gateway2.hostname, ip: plan.gateway2.lanAddress }] : [];
    return [{ name: plan.gateway.hostname, ip: plan.gateway.lanAddress }, ...second, ...plan.nodes, ...plan.reservations];
}

/**
 * Renders the forward zone. Besides the hosts it holds two service names:
 * - `<apiName>` → the VIP. The VIP answers for the K3s API on every side: HAProxy on the
 *   gateway balances it over the servers that pass their health checks, for the home
 *   network, for LAN clients and for the gateway itself. One name with one address everywhere is what goes into the servers'
 *   TLS SANs and the kubeconfig, and it keeps working when any one server is down.
 * - `*` → the Traefik ingress address, so every `<app>.<domain>` reaches the ingress.
 */
export function renderForwardZone(plan: AddressPlan): string {
    const zone = forwardZoneName(plan);
    return [
        ...zoneHeader(plan, zone),
        ...records([
            ...lanHosts(plan).map((h) => [h.name, "A", h.ip] as const),
            [plan.apiName, "A", plan.wan.vip] as const,
            ["*", "A", plan.ingressIp] as const,
        ]),
        "",
    ].join("\n");
}

/** Renders one reverse zone: a PTR for the gateway, every node and every reservation in it. */
export function renderReverseZone(plan: AddressPlan, zone: string): string {
    const prefix = zoneOctets(zone);
    const inZone = (ip: string): boolean => prefix.every((o, i) => ipaddr.IPv4.parse(ip).octets[i] === o);
    const owner = (ip: string): string => ipaddr.IPv4.parse(ip).octets.slice(prefix.length).reverse().join(".") || "@";
    return [
        ...zoneHeader(plan, zone),
        ...records(lanHosts(plan).filter((h) => inZone(h.ip)).map((h) => [owner(h.ip), "PTR", fqdn(plan, h.name)] as const)),
        "",
    ].join("\n");
}
