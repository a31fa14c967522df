// Kea DHCPv4 configuration for the cluster LAN. Pure: plan in, JSON text out.
import { AddressPlan } from "../config/plan";

/** Where Debian's kea-dhcp4-server unit reads its configuration. */
export const KEA_CONFIG_PATH = "/etc/kea/kea-dhcp4.conf";
/** Debian's default lease file; the unit's StateDirectory keeps it across restarts and reboots. */
export const KEA_LEASE_FILE = "/var/lib/kea/kea-leases4.csv";
/** Seconds between lease-file cleanups (Kea's LFC compacts the append-only CSV). */
export const KEA_LFC_INTERVAL = 3600;

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
    const gateway = plan.gateway.lanAddress;
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
