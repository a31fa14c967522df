// Names: the domain, the gateway's host name and interfaces, the API name, the SSH login.
// Pure: no Pulumi import.
import { Checker, HOSTNAME, IFNAME, SSH_USER } from "./checker";
import { RawConfig } from "./schema";

/** A DNS domain of at least two labels whose last label is not numeric; `.local` is warned about. */
export function checkDomain(c: Checker, key: string, v: unknown): string | undefined {
    const s = c.string(key, v);
    if (s === undefined) {
        return undefined;
    }
    const labels = s.split(".");
    if (s.length > 253 || labels.length < 2 || !labels.every((l) => HOSTNAME.test(l)) || /^\d+$/.test(labels[labels.length - 1])) {
        return c.fail(key, `"${s}" is not a valid domain; use lower-case dot-separated labels, e.g. home.arpa`);
    }
    if (labels[labels.length - 1] === "local") {
        c.warnings.push(`homecloud:domain: "${s}" ends in .local, which collides with mDNS (Avahi/Bonjour); prefer home.arpa (RFC 8375)`);
    }
    return s;
}

/** Names: the domain, the gateway's host name and interfaces, the API name, the SSH login. */
export function checkNames(c: Checker, raw: RawConfig) {
    const domain = checkDomain(c, "domain", raw.domain);
    const gwHostname = c.hostname("gatewayHostname", raw.gatewayHostname);
    const lanIf = c.pattern("lanInterface", raw.lanInterface, IFNAME, "is not an interface name; use the name `ip link` shows on the gateway, e.g. eth0");
    const wanIf = c.pattern("wanInterface", raw.wanInterface, IFNAME, "is not an interface name; use the name `ip link` shows on the gateway, e.g. eth1");
    const apiName = c.hostname("apiName", raw.apiName);
    const sshUser = c.pattern("sshUser", raw.sshUser, SSH_USER, "is not a valid user name; use a lower-case Unix login such as pi");
    if (apiName && gwHostname && apiName === gwHostname) {
        c.fail("apiName", `"${apiName}" is also gatewayHostname; the API name points at the VIP, so pick another one`);
    }
    if (lanIf && wanIf && lanIf === wanIf) {
        c.fail("wanInterface", `"${wanIf}" is also lanInterface; the gateway needs two different interfaces`);
    }
    return { domain, gwHostname, lanIf, wanIf, apiName, sshUser };
}

export type Names = ReturnType<typeof checkNames>;
