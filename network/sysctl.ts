// Kernel settings the gateway needs, as a sysctl.d drop-in so they survive a reboot. Pure.

export const FORWARDING_SYSCTL_PATH = "/etc/sysctl.d/90-homecloud-forwarding.conf";

/** The settings, key → value; the gateway routes IPv4 between the LAN and the home network. */
export const FORWARDING_SYSCTLS: Readonly<Record<string, string>> = Object.freeze({
    "net.ipv4.ip_forward": "1",
});

/** Renders the drop-in, one `key = value` line per setting. */
export function renderForwardingSysctl(): string {
    return [
        "# Managed by homecloud (Pulumi): the gateway routes between the cluster LAN and the home network.",
        ...Object.entries(FORWARDING_SYSCTLS).map(([k, v]) => `${k} = ${v}`),
        "",
    ].join("\n");
}
