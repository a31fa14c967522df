// What the gateway and the cluster run: the VIP's ports, HAProxy's health checks, the K3s
// settings. Pure: no Pulumi import.
import { Checker, K3S_VERSION } from "./checker";
import { LoadBalancerSettings, Ports } from "./plan";
import { RawConfig } from "./schema";

/**
 * The VIP's forwarded ports, each different and none the SSH port: the gateway's sshd
 * listens on every address, so HAProxy could not bind that port on the VIP.
 */
export function checkPorts(c: Checker, raw: RawConfig): Partial<Ports> {
    const ports = {
        api: c.port("apiPort", raw.apiPort),
        http: c.port("httpPort", raw.httpPort),
        https: c.port("httpsPort", raw.httpsPort),
        ssh: c.port("sshPort", raw.sshPort),
    };
    const portSet = new Map<number, string>();
    for (const [k, p] of Object.entries(ports)) {
        if (p === undefined || k === "ssh") {
            continue;
        }
        const other = portSet.get(p);
        if (other) {
            c.fail(`${k}Port`, `${p} is already used by ${other}Port; each forwarded port must differ`);
        } else if (p === ports.ssh) {
            c.fail(`${k}Port`, `${p} is also homecloud:sshPort; the gateway's sshd listens on it on every address, ` +
                "so HAProxy could not bind it on the VIP: pick another port");
        }
        portSet.set(p, k);
    }
    return ports;
}

/** The cluster half's settings. */
export function checkCluster(c: Checker, raw: RawConfig) {
    const k3s = {
        enabled: raw.k3sEnabled,
        version: c.pattern("k3sVersion", raw.k3sVersion, K3S_VERSION, "is not a K3s release; pin one such as v1.36.4+k3s1"),
        install: raw.k3sInstall,
        airgapDir: c.absolutePath("k3sAirgapDir", raw.k3sAirgapDir, "/opt/k3s-airgap"),
        kubeconfigServer: raw.kubeconfigServer,
        kubeconfigRenewDays: raw.kubeconfigRenewDays,
    };
    if (k3s.kubeconfigServer !== "vip" && k3s.kubeconfigServer !== "name") {
        c.fail("kubeconfigServer", `${JSON.stringify(k3s.kubeconfigServer)} must be "vip" (https://<vip>:<apiPort>, needs no DNS) ` +
            `or "name" (https://<apiName>.<domain>:<apiPort>, needs a resolver that answers for the domain)`);
    }
    c.wholeNumber("kubeconfigRenewDays", k3s.kubeconfigRenewDays, 1, 90, "whole days from 1 to 90 (the admin certificate lasts a year)");
    if (typeof k3s.enabled !== "boolean") {
        c.fail("k3sEnabled", `${JSON.stringify(k3s.enabled)} must be true or false`);
    }
    if (k3s.install !== "script" && k3s.install !== "airgap") {
        c.fail("k3sInstall", `${JSON.stringify(k3s.install)} must be "script" or "airgap"`);
    }
    return k3s;
}

/** The load balancer's health checks. */
export function checkLoadBalancer(c: Checker, raw: RawConfig): Partial<LoadBalancerSettings> {
    const apiCheck = raw.apiHealthCheck;
    if (apiCheck !== "https" && apiCheck !== "tcp") {
        c.fail("apiHealthCheck", `${JSON.stringify(apiCheck)} must be "https" (TLS and /readyz) or "tcp" (connect only)`);
    }
    const whole = (key: string, v: unknown, min: number, max: number, unit: string): number | undefined =>
        c.wholeNumber(key, v, min, max, `a whole number of ${unit} from ${min} to ${max}`);
    return {
        apiCheck: apiCheck as LoadBalancerSettings["apiCheck"],
        intervalMs: whole("healthCheckIntervalMs", raw.healthCheckIntervalMs, 200, 60000, "milliseconds"),
        fall: whole("healthCheckFall", raw.healthCheckFall, 1, 10, "checks"),
        rise: whole("healthCheckRise", raw.healthCheckRise, 1, 10, "checks"),
    };
}
