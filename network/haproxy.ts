// The gateway's load balancer: HAProxy in TCP mode on the VIP, health-checking the K3s
// servers' API and the ingress. Pure: plan in, text out.
import { AddressPlan, servers } from "../config/plan";
import { INGRESS_HTTP_PORT, INGRESS_HTTPS_PORT, K3S_SERVER_PORT } from "../config/ports";

/** Debian's haproxy.service reads this file (its CONFIG environment variable). */
export const HAPROXY_CONFIG_PATH = "/etc/haproxy/haproxy.cfg";
export const HAPROXY_UNIT = "haproxy.service";
/** The runtime API (`echo "show servers state" | socat stdio <socket>`), root and group haproxy only. */
export const HAPROXY_STATS_SOCKET = "/run/haproxy/admin.sock";
/** The status page, on the gateway's loopback only. */
export const HAPROXY_STATS_ADDRESS = "127.0.0.1:8404";

/** How long an API check may take: a loaded Pi's TLS handshake plus /readyz fit in it. */
export const API_CHECK_TIMEOUT_MS = 2500;

/** The client certificate HAProxy's API check presents (its key beside it, `<path>.key`). */
export interface ApiCheckClient {
    /** The certificate file on the gateway. */
    readonly path: string;
    /** SHA-256 of its content: a renewed certificate changes the file, and so reloads HAProxy. */
    readonly sha256: string;
}

/**
 * Renders haproxy.cfg.
 *
 * - The API frontend on VIP:apiPort balances new connections round robin over every
 *   server's 6443. With `https` checks each server must finish a TLS handshake and answer
 *   GET /readyz from its kube-apiserver. With the cluster's client certificate (`client`)
 *   only 200 passes: the apiserver answers 500 when its etcd has lost quorum, K3s's own
 *   handler 503 while its apiserver is not up. Without one (no cluster yet) 401 passes too,
 *   since K3s runs the apiserver with anonymous auth off — and then a server whose etcd is
 *   down stays in (it answers an anonymous request 401 all the same).
 *   `tcp` checks only connect, as K3s's load-balancer guide does.
 * - The ingress frontends on VIP:httpPort/httpsPort go to the ingress address's 80/443,
 *   checked by connect. Traefik sees the gateway's LAN address as the client.
 * - After a failed check the next one comes after half the interval (fastinter), so a dead
 *   backend is out after about interval + (fall - 1) × interval/2 plus one check timeout.
 * - A connect that fails is retried once and then sent to another server (redispatch), so a
 *   client is not the one to find a dead server before the checks do.
 * - Long timeouts on established connections: API watches and kubectl logs -f stay open.
 */
export function renderHaproxyConfig(plan: AddressPlan, client?: ApiCheckClient): string {
    const { intervalMs, fall, rise, apiCheck } = plan.loadBalancer;
    const fastInter = Math.max(100, Math.floor(intervalMs / 2));
    const checkTimeout = Math.min(intervalMs, 1000);
    // With two gateways HAProxy runs on both, the VIP on one: `transparent` (IP_TRANSPARENT)
    // binds it on the gateway that does not hold it too, ready the moment it arrives.
    const vip = plan.wan.vip;
    const bind = (port: number): string => `    bind ${vip}:${port}${plan.gateway2 ? " transparent" : ""}`;
    const check = `check inter ${intervalMs} fastinter ${fastInter} downinter ${intervalMs} fall ${fall} rise ${rise}`;
    const https = apiCheck === "https";
    const apiServerOptions = !https ? check : `${check} check-ssl verify none${client ? ` crt ${client.path}` : ""}`;
    const apiCheckLines = !https ? [] : [
        "    option httpchk",
        "    http-check send meth GET uri /readyz",
        ...client
            ? [`    # With the cluster's client certificate (sha256 ${client.sha256}): only 200 passes`, "    http-check expect status 200"]
            : ["    # No cluster client certificate yet: 401 (anonymous) passes too", "    http-check expect rstatus ^(200|401)$"],
        `    timeout check ${API_CHECK_TIMEOUT_MS}ms`,
    ];
    // The VIP's `port` passed to the ingress address's `target`, one checked server.
    const ingress = (name: string, port: number, target: number): string[] => [
        `frontend ${name}`,
        bind(port),
        `    default_backend ${name}`,
        "",
        `backend ${name}`,
        `    server ingress ${plan.ingressIp}:${target} ${check}`,
        "",
    ];
    return [
        "# Managed by homecloud (Pulumi): replaced on every update; checked by `haproxy -c` first.",
        "global",
        "    log /dev/log local0 info",
        "    chroot /var/lib/haproxy",
        `    stats socket ${HAPROXY_STATS_SOCKET} mode 660 level admin`,
        "    stats timeout 30s",
        "    user haproxy",
        "    group haproxy",
        "    daemon",
        "",
        "defaults",
        "    log global",
        "    mode tcp",
        "    option tcplog",
        "    option dontlognull",
        "    option redispatch",
        "    retries 1",
        "    timeout connect 1s",
        `    timeout check ${checkTimeout}ms`,
        "    timeout client 1h",
        "    timeout server 1h",
        "",
        "frontend k3s-api",
        bind(plan.ports.api),
        "    default_backend k3s-servers",
        "",
        "backend k3s-servers",
        "    balance roundrobin",
        ...apiCheckLines,
        `    default-server ${apiServerOptions}`,
        ...servers(plan).map((s) => `    server ${s.name} ${s.ip}:${K3S_SERVER_PORT}`),
        "",
        ...ingress("ingress-http", plan.ports.http, INGRESS_HTTP_PORT),
        ...ingress("ingress-https", plan.ports.https, INGRESS_HTTPS_PORT),
        "# Status page: the gateway's loopback only (ssh -L 8404:127.0.0.1:8404 to look at it).",
        "frontend stats",
        "    mode http",
        `    bind ${HAPROXY_STATS_ADDRESS}`,
        "    timeout client 30s",
        "    stats enable",
        "    stats uri /",
        "    stats refresh 5s",
        "",
    ].join("\n");
}
