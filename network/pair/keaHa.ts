// Kea with two gateways: kea-dhcp4 in the HA hook's hot-standby mode (Kea 2.2), leases sent
// to the partner as they are handed out, and the Control Agent the partners talk through.
// Pure: plan in, text out.
import { AddressPlan } from "../../config/plan";
import { GatewayRole, gatewaySide, secondGateway } from "./keepalived";
import { renderKeaConfig } from "../kea";

/** Stands in for Kea's hooks directory; the host fills in where its Kea has them (kea-ha-config.sh). */
export const KEA_HOOKS_TOKEN = "@KEA_HOOKS_DIR@";
/** Where Debian's kea-ctrl-agent unit reads its configuration. */
export const KEA_CTRL_AGENT_CONFIG_PATH = "/etc/kea/kea-ctrl-agent.conf";
/** The Control Agent's port on each gateway's own LAN address; nftables lets only the peer in. */
export const KEA_CTRL_AGENT_PORT = 8000;
/** kea-dhcp4's command socket, which the Control Agent forwards the partner's commands to. */
export const KEA_DHCP4_SOCKET = "/run/kea/kea4-ctrl-socket";
/**
 * The Control Agent's basic-auth password (pairSecrets.ts), the file's content alone: both
 * configurations name the file (Kea 2.2: the agent's `password-file`, the HA peers'
 * `basic-auth-password-file`), so the password is never in them. Root and Kea's user only.
 */
export const KEA_API_PASSWORD_PATH = "/etc/kea/homecloud-ha-password";
/** The user the HA partners authenticate as at each other's Control Agent. */
export const KEA_API_USER = "homecloud-ha";
/** The realm of the Control Agent's basic authentication (its 401 answers name it). */
export const KEA_API_REALM = "homecloud";

/**
 * Renders one gateway's `/etc/kea/kea-dhcp4.conf` for a pair: the one-gateway configuration
 * (the floating address as router and DNS server) on this gateway's LAN interface, plus:
 *
 * - `libdhcp_lease_cmds.so` and `libdhcp_ha.so` in hot-standby: the first gateway is the
 *   primary and answers every client, the second is the standby and gets every lease the
 *   moment it is handed out (the primary waits for its ack), so a client renewing with
 *   the standby after a failover keeps its address.
 * - A heartbeat every second; after 3 s without an answer the partner counts as down and
 *   (max-unacked-clients 0) the standby starts serving at once (partner-down). When the
 *   primary comes back it fetches the leases it missed before it serves again.
 * - A command socket, through which the Control Agent hands kea-dhcp4 the partner's
 *   heartbeats and lease updates (Kea 2.2's HA talks to the partner's Control Agent), as
 *   `KEA_API_USER` with the password read from `passwordFile` (basic HTTP authentication).
 * - Names for pool clients (DHCP-DDNS) only from the first gateway, whose BIND is the zones'
 *   primary: the second's BIND is a secondary that could not take the update.
 */
export function renderKeaHaConfig(plan: AddressPlan, role: GatewayRole, passwordFile: string = KEA_API_PASSWORD_PATH): string {
    const g2 = secondGateway(plan);
    const side = gatewaySide(plan, role);
    const base = JSON.parse(renderKeaConfig(role === "first" ? plan : { ...plan, ddns: undefined })) as { Dhcp4: Record<string, unknown> };
    const url = (ip: string): string => `http://${ip}:${KEA_CTRL_AGENT_PORT}/`;
    const auth = { "basic-auth-user": KEA_API_USER, "basic-auth-password-file": passwordFile };
    const dhcp4 = {
        ...base.Dhcp4,
        "interfaces-config": { interfaces: [side.lanInterface], "dhcp-socket-type": "raw" },
        "control-socket": { "socket-type": "unix", "socket-name": KEA_DHCP4_SOCKET },
        "hooks-libraries": [
            { library: `${KEA_HOOKS_TOKEN}/libdhcp_lease_cmds.so` },
            {
                library: `${KEA_HOOKS_TOKEN}/libdhcp_ha.so`,
                parameters: {
                    "high-availability": [{
                        "this-server-name": side.hostname,
                        mode: "hot-standby",
                        "heartbeat-delay": 1000,
                        "max-response-delay": 3000,
                        "max-ack-delay": 1000,
                        "max-unacked-clients": 0,
                        "sync-timeout": 30000,
                        peers: [
                            { name: plan.gateway.hostname, url: url(plan.gateway.lanAddress), role: "primary", "auto-failover": true, ...auth },
                            { name: g2.hostname, url: url(g2.lanAddress), role: "standby", "auto-failover": true, ...auth },
                        ],
                    }],
                },
            },
        ],
    };
    return JSON.stringify({ Dhcp4: dhcp4 }, null, 2) + "\n";
}

/**
 * Renders `/etc/kea/kea-ctrl-agent.conf`: the Control Agent listens on this gateway's own LAN
 * address only (never the WAN side or the floating address), answers only requests that
 * authenticate as `KEA_API_USER` with the password in `passwordFile` (401 otherwise) and
 * hands commands to kea-dhcp4's socket; nftables lets only the partner gateway reach the port.
 */
export function renderKeaCtrlAgentConfig(plan: AddressPlan, role: GatewayRole, passwordFile: string = KEA_API_PASSWORD_PATH): string {
    const side = gatewaySide(plan, role);
    const config = {
        "Control-agent": {
            "http-host": side.lanAddress,
            "http-port": KEA_CTRL_AGENT_PORT,
            authentication: {
                type: "basic",
                realm: KEA_API_REALM,
                clients: [{ user: KEA_API_USER, "password-file": passwordFile }],
            },
            "control-sockets": { dhcp4: { "socket-type": "unix", "socket-name": KEA_DHCP4_SOCKET } },
            loggers: [{ name: "kea-ctrl-agent", output_options: [{ output: "stdout" }], severity: "INFO", debuglevel: 0 }],
        },
    };
    return JSON.stringify(config, null, 2) + "\n";
}

/**
 * The Control Agent's password file: the password alone, no newline (Kea reads the file's
 * every byte as the password). Letters and digits only, so no quoting can go wrong anywhere.
 */
export function renderKeaApiPassword(password: string): string {
    if (!/^[A-Za-z0-9]{16,128}$/.test(password)) {
        throw new RangeError("the Control Agent's password must be 16 to 128 letters or digits");
    }
    return password;
}
