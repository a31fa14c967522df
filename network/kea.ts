// Kea DHCPv4 configuration for the cluster LAN. Pure: plan in, JSON text out.
import { AddressPlan, lanRouter } from "../config/plan";

/** Where Debian's kea-dhcp4-server unit reads its configuration. */
export const KEA_CONFIG_PATH = "/etc/kea/kea-dhcp4.conf";
/** Debian's default lease file; the unit's StateDirectory keeps it across restarts and reboots. */
export const KEA_LEASE_FILE = "/var/lib/kea/kea-leases4.csv";
/** Seconds between lease-file cleanups (Kea's LFC compacts the append-only CSV). */
export const KEA_LFC_INTERVAL = 3600;

/** Where Debian's kea-dhcp-ddns-server unit reads its configuration. */
export const D2_CONFIG_PATH = "/etc/kea/kea-dhcp-ddns.conf";
/** kea-dhcp4 → kea-dhcp-ddns, on loopback only. */
export const D2_PORT = 53001;
/** TSIG key kea-dhcp-ddns signs its updates with; made on the gateway, never sent anywhere. */
export const DDNS_KEY_NAME = "homecloud-ddns";
/** Stands in for the key's secret in the rendered file; the gateway fills it in (d2-config.sh). */
export const TSIG_SECRET_TOKEN = "@TSIG_SECRET@";

/**
 * kea-dhcp4's side of dynamic DNS: every lease from the pool gets `<hostname>.<suffix>`
 * and its PTR, removed again when the lease is released or expires. The client's own wish
 * (FQDN option flags) is overridden: the server always updates both records. A missing
 * host name gets one made from the address (`dhcp-10-0-0-100`). Only letters, digits and
 * hyphens of a client's name are kept, dots included in what is dropped: Kea 2.2 takes a
 * host name that had dots as complete (`a.b` becomes the name `ab.`, in no zone: no record)
 * instead of putting it below the suffix; a name left empty makes Kea ask for the bare
 * suffix, which BIND's update policy refuses. A client sending an FQDN option keeps its
 * dots (Kea cleans that one label by label), so what it may take is BIND's to decide:
 * names under the suffix only (bind.ts). Conflict resolution (RFC 4703, DHCID records)
 * keeps a client from taking a name another client holds.
 */
function ddnsParameters(suffix: string): Record<string, unknown> {
    return {
        "dhcp-ddns": {
            "enable-updates": true,
            "server-ip": "127.0.0.1",
            "server-port": D2_PORT,
            "sender-ip": "127.0.0.1",
            "sender-port": 0,
            "ncr-protocol": "UDP",
            "ncr-format": "JSON",
        },
        "ddns-send-updates": true,
        "ddns-override-client-update": true,
        "ddns-override-no-update": true,
        "ddns-replace-client-name": "when-not-present",
        "ddns-generated-prefix": "dhcp",
        "ddns-qualifying-suffix": `${suffix}.`,
        "ddns-update-on-renew": false,
        "ddns-use-conflict-resolution": true,
        "hostname-char-set": "[^A-Za-z0-9-]",
        "hostname-char-replacement": "",
    };
}

/**
 * Renders `/etc/kea/kea-dhcp-ddns.conf` (Kea 2.2): listens on loopback for kea-dhcp4's
 * requests and sends RFC 2136 updates, signed with the gateway's TSIG key, to the BIND on
 * loopback, for the forward zone and every reverse zone. Kea 2.2 has no `secret-file`, so
 * the secret is a token the gateway replaces with the key it made (d2-config.sh).
 */
export function renderD2Config(plan: AddressPlan, reverseZones: readonly string[]): string {
    if (!plan.ddns) {
        throw new Error("renderD2Config: dynamic DNS is off in this plan");
    }
    const domain = (name: string) => ({
        name: `${name}.`,
        "key-name": DDNS_KEY_NAME,
        "dns-servers": [{ "ip-address": "127.0.0.1", port: 53 }],
    });
    const config = {
        DhcpDdns: {
            "ip-address": "127.0.0.1",
            port: D2_PORT,
            "dns-server-timeout": 500,
            "tsig-keys": [{ name: DDNS_KEY_NAME, algorithm: "HMAC-SHA256", secret: TSIG_SECRET_TOKEN }],
            "forward-ddns": { "ddns-domains": [domain(plan.domain)] },
            "reverse-ddns": { "ddns-domains": reverseZones.map(domain) },
            loggers: [{ name: "kea-dhcp-ddns", output_options: [{ output: "stdout" }], severity: "INFO", debuglevel: 0 }],
        },
    };
    return JSON.stringify(config, null, 2) + "\n";
}

/** A fixed address Kea hands to one MAC: every node and every extra reservation. */
interface Reservation {
    readonly "hw-address": string;
    readonly "ip-address": string;
    readonly hostname: string;
}

/**
 * Renders `/etc/kea/kea-dhcp4.conf` (Kea 2.2). DHCP is served on the LAN interface only:
 * answering on the WAN side would hand out cluster addresses to the home network.
 * Renew and rebind timers are 50% and 87.5% of the lease lifetime (RFC 2131's T1/T2).
 * Kea is authoritative on the LAN: it is the only DHCP server there by design, so a host
 * asking for an address from another network is told no at once instead of timing out.
 * Logs go to stdout, which systemd puts in the journal.
 */
export function renderKeaConfig(plan: AddressPlan): string {
    // The floating address with two gateways, so a client's router and DNS server move with the VIP.
    const gateway = lanRouter(plan);
    const reservations: Reservation[] = [...plan.nodes, ...plan.reservations].map((h) => ({
        "hw-address": h.mac,
        "ip-address": h.ip,
        hostname: h.name,
    }));
    const config = {
        Dhcp4: {
            "interfaces-config": {
                interfaces: [plan.gateway.lanInterface],
                "dhcp-socket-type": "raw",
            },
            "lease-database": {
                type: "memfile",
                persist: true,
                name: KEA_LEASE_FILE,
                "lfc-interval": KEA_LFC_INTERVAL,
            },
            authoritative: true,
            "valid-lifetime": plan.lan.leaseSeconds,
            "renew-timer": Math.floor(plan.lan.leaseSeconds / 2),
            "rebind-timer": Math.floor((plan.lan.leaseSeconds * 7) / 8),
            ...plan.ddns ? ddnsParameters(plan.ddns.suffix) : {},
            subnet4: [
                {
                    id: 1,
                    subnet: plan.lan.cidr,
                    pools: [{ pool: `${plan.lan.dhcpPool.start} - ${plan.lan.dhcpPool.end}` }],
                    "option-data": [
                        { name: "routers", data: gateway },
                        { name: "domain-name-servers", data: gateway },
                        { name: "domain-name", data: plan.domain },
                        { name: "domain-search", data: plan.domain },
                    ],
                    reservations,
                },
            ],
            loggers: [
                {
                    name: "kea-dhcp4",
                    output_options: [{ output: "stdout" }],
                    severity: "INFO",
                    debuglevel: 0,
                },
            ],
        },
    };
    return JSON.stringify(config, null, 2) + "\n";
}
