// Validates the whole stack configuration at once and returns the typed, frozen plan.
// One small validator per concern (names, networks, ports and cluster, hosts, whole plan),
// all reporting into one Checker. Pure: no Pulumi import.
import * as ipaddr from "ipaddr.js";
import { ABS_PATH, Checker, HOSTNAME, IFNAME, inCidr, inRange, K3S_VERSION, rangesOverlap, SSH_USER } from "./checker";
import { checkHostKeys } from "./hostKeys";
import { checkHosts, Hosts } from "./hosts";
import { checkPki } from "./pki";
import { AddressPlan, ConfigError, K3sSettings, LoadBalancerSettings, ParsedPlan, PkiSettings, Ports } from "./plan";
import { RawConfig, withDefaults } from "./schema";

function checkDomain(c: Checker, key: string, v: unknown): string | undefined {
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
function checkNames(c: Checker, raw: RawConfig) {
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

/** Networks and addresses, each on its own: LAN, WAN, gateway, pools, VIP, lease, forwarders. */
function checkAddresses(c: Checker, raw: RawConfig) {
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

/** The VIP's forwarded ports (each different) and the SSH port. */
function checkPorts(c: Checker, raw: RawConfig): Partial<Ports> {
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
        }
        portSet.set(p, k);
    }
    return ports;
}

/** The cluster half's settings. */
function checkCluster(c: Checker, raw: RawConfig) {
    const k3s = {
        enabled: raw.k3sEnabled,
        version: c.pattern("k3sVersion", raw.k3sVersion, K3S_VERSION, "is not a K3s release; pin one such as v1.31.4+k3s1"),
        install: raw.k3sInstall,
        airgapDir: c.pattern("k3sAirgapDir", raw.k3sAirgapDir, ABS_PATH, "is not an absolute path; e.g. /opt/k3s-airgap"),
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

/** Dynamic DNS: on or off, and a suffix inside the domain. */
function checkDdns(c: Checker, raw: RawConfig, domain: string | undefined): { suffix: string } | undefined {
    if (typeof raw.ddnsEnabled !== "boolean") {
        c.fail("ddnsEnabled", `${JSON.stringify(raw.ddnsEnabled)} must be true or false`);
        return undefined;
    }
    if (raw.ddnsSuffix === "") {
        return raw.ddnsEnabled && domain ? { suffix: domain } : undefined;
    }
    const suffix = checkDomain(c, "ddnsSuffix", raw.ddnsSuffix);
    if (suffix && domain && suffix !== domain && !suffix.endsWith(`.${domain}`)) {
        c.fail("ddnsSuffix", `"${suffix}" is outside homecloud:domain ${domain}; BIND here serves only that zone: use ${domain} or a name under it, e.g. dhcp.${domain}`);
        return undefined;
    }
    return raw.ddnsEnabled && suffix ? { suffix } : undefined;
}

/** The load balancer's health checks. */
function checkLoadBalancer(c: Checker, raw: RawConfig): Partial<LoadBalancerSettings> {
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

/** "the network address" / "the broadcast address" of `cidr` when `ip` is one, else undefined. */
function reservedRole(ip: string, cidr: string): string | undefined {
    if (ip === ipaddr.IPv4.networkAddressFromCIDR(cidr).toString()) {
        return "the network address";
    }
    if (ip === ipaddr.IPv4.broadcastAddressFromCIDR(cidr).toString()) {
        return "the broadcast address";
    }
    return undefined;
}

/** DNS allows at most 253 characters in a name (RFC 1035, without the trailing dot). */
const MAX_NAME = 253;

type Names = ReturnType<typeof checkNames>;
type Addresses = ReturnType<typeof checkAddresses>;


/** Whole-plan checks, only where the parts themselves were valid: every host unique and placed, ranges apart. */
function checkPlan(c: Checker, raw: RawConfig, n: Names, a: Addresses, h: Hosts): void {
    const { lanCidr, wanCidr, gwLan, pool, vip, metallb, ingressIp } = a;
    const named: { key: string; name: string; mac?: string; ip: string }[] = [
        ...h.nodes.map((x, i) => ({ key: `nodes[${i}]`, ...x })),
        ...h.reservations.map((x, i) => ({ key: `reservations[${i}]`, ...x })),
    ];
    const seen = { name: new Map<string, string>(), mac: new Map<string, string>(), ip: new Map<string, string>() };
    if (n.gwHostname) {
        seen.name.set(n.gwHostname, "gatewayHostname");
    }
    if (gwLan) {
        seen.ip.set(gwLan, "gatewayLanAddress");
    }
    for (const host of named) {
        for (const field of ["name", "mac", "ip"] as const) {
            const value = host[field]!;
            const first = seen[field].get(value);
            if (first) {
                c.fail(`${host.key}.${field}`, `"${value}" is already used by homecloud:${first}; every host needs its own ${field}`);
            } else {
                seen[field].set(value, `${host.key}.${field}`);
            }
        }
        if (lanCidr && !inCidr(host.ip, lanCidr)) {
            c.fail(`${host.key}.ip`, `${host.ip} is outside the LAN ${raw.lanCidr}; reserve an address inside it`);
        } else if (lanCidr && reservedRole(host.ip, String(raw.lanCidr))) {
            c.fail(`${host.key}.ip`, `${host.ip} is ${reservedRole(host.ip, String(raw.lanCidr))} of ${raw.lanCidr}; reserve a host address`);
        } else if (pool && inRange(host.ip, pool)) {
            c.fail(`${host.key}.ip`, `${host.ip} is inside the dynamic pool ${pool.start}-${pool.end}; reserve an address outside the pool`);
        } else if (metallb && inRange(host.ip, metallb)) {
            c.fail(`${host.key}.ip`, `${host.ip} is inside the MetalLB pool ${metallb.start}-${metallb.end}; reserve an address outside it`);
        }
        if (n.apiName && host.name === n.apiName) {
            c.fail(`${host.key}.name`, `"${host.name}" is the API name (homecloud:apiName); pick another host name`);
        }
    }
    // The names the zones will contain, whole: <host>.<domain>, the API name, the wildcard.
    if (n.domain) {
        const names: [string, string][] = [
            ...named.map((x): [string, string] => [`${x.key}.name`, `${x.name}.${n.domain}`]),
            ...n.gwHostname ? [["gatewayHostname", `${n.gwHostname}.${n.domain}`] as [string, string]] : [],
            ...n.apiName ? [["apiName", `${n.apiName}.${n.domain}`] as [string, string]] : [],
            ["domain", `*.${n.domain}`],
        ];
        for (const [key, name] of names) {
            if (name.length > MAX_NAME) {
                c.fail(key, `makes the DNS name ${name.slice(0, 20)}… ${name.length} characters long; a name has at most ${MAX_NAME}: shorten it or homecloud:domain`);
            }
        }
    }
    if (lanCidr) {
        const prefix = lanCidr[1];
        if (prefix < 16 || prefix > 29) {
            c.fail("lanCidr", `/${prefix} is not supported; use a prefix from /16 to /29, e.g. 10.0.0.0/24`);
        }
        if (prefix > 24 && prefix <= 29) {
            c.warnings.push(`homecloud:lanCidr: a /${prefix} LAN does not fill a /24, so its reverse DNS is one zone per named host ` +
                "(the gateway, nodes, reservations); addresses from the DHCP pool get no PTR name");
        }
        const lan = String(raw.lanCidr);
        if (gwLan && !inCidr(gwLan, lanCidr)) {
            c.fail("gatewayLanAddress", `${gwLan} is not a host address of the LAN ${lan}; use one inside it, e.g. its first address`);
        } else if (gwLan && reservedRole(gwLan, lan)) {
            c.fail("gatewayLanAddress", `${gwLan} is ${reservedRole(gwLan, lan)} of ${lan}; use a host address, e.g. its first one`);
        }
        for (const [key, r] of [["dhcpPool", pool], ["metallbPool", metallb]] as const) {
            if (r && (!inCidr(r.start, lanCidr) || !inCidr(r.end, lanCidr))) {
                c.fail(key, `${r.start}-${r.end} is not inside the LAN ${lan}; use host addresses of the LAN`);
            } else if (r) {
                for (const end of [r.start, r.end]) {
                    if (reservedRole(end, lan)) {
                        c.fail(key, `${r.start}-${r.end} includes ${end}, ${reservedRole(end, lan)} of ${lan}; keep the range to host addresses`);
                    }
                }
            }
        }
    }
    if (pool && metallb && rangesOverlap(pool, metallb)) {
        c.fail("metallbPool", `${metallb.start}-${metallb.end} overlaps the DHCP pool ${pool.start}-${pool.end}; MetalLB and DHCP would hand out the same address`);
    }
    if (gwLan && pool && inRange(gwLan, pool)) {
        c.fail("gatewayLanAddress", `${gwLan} is inside the DHCP pool ${pool.start}-${pool.end}; move the pool or the gateway`);
    }
    if (gwLan && metallb && inRange(gwLan, metallb)) {
        c.fail("gatewayLanAddress", `${gwLan} is inside the MetalLB pool ${metallb.start}-${metallb.end}; move the pool or the gateway`);
    }
    if (ingressIp && metallb && !inRange(ingressIp, metallb)) {
        c.fail("ingressIp", `${ingressIp} is outside the MetalLB pool ${metallb.start}-${metallb.end}; pick an address from the pool`);
    }
    if (lanCidr && wanCidr && (inCidr(wanCidr[0].toString(), lanCidr) || inCidr(lanCidr[0].toString(), wanCidr))) {
        c.fail("wanCidr", `${raw.wanCidr} overlaps the LAN ${raw.lanCidr}; the cluster LAN must be a separate network`);
    }
    const taken = vip === undefined ? undefined
        : vip === gwLan ? "gatewayLanAddress" : named.find((x) => x.ip === vip)?.key.concat(".ip");
    if (vip && taken) {
        c.fail("vip", `${vip} is already homecloud:${taken}; the VIP needs a free address of the home network`);
    } else if (vip && wanCidr && !inCidr(vip, wanCidr)) {
        c.fail("vip", `${vip} is outside the home network ${raw.wanCidr}; pick a free address of the WAN side`);
    } else if (vip && wanCidr && reservedRole(vip, String(raw.wanCidr))) {
        c.fail("vip", `${vip} is ${reservedRole(vip, String(raw.wanCidr))} of the home network ${raw.wanCidr}; pick a free host address`);
    }
    if (vip && !taken && lanCidr && inCidr(vip, lanCidr)) {
        c.fail("vip", `${vip} is inside the LAN ${raw.lanCidr}; the VIP lives on the WAN side`);
    }
    // A forwarder that is the gateway itself makes BIND forward to itself.
    a.forwarders.forEach((f, i) => {
        const self = f === gwLan ? "gatewayLanAddress" : f === vip ? "vip" : f.startsWith("127.") ? "loopback" : undefined;
        if (self) {
            c.fail(`dnsForwarders[${i}]`, `${f} is the gateway itself (${self === "loopback" ? "a loopback address" : `homecloud:${self}`}); ` +
                "BIND would forward to itself: name your home router or an upstream resolver, or use []");
        }
    });
}

/**
 * Validates the whole stack configuration at once and returns the typed plan.
 * Throws ConfigError listing every problem, each naming its config key and the fix.
 */
export function parseAddressPlan(input: RawConfig): ParsedPlan {
    const c = new Checker();
    const raw = withDefaults(input);
    const n = checkNames(c, raw);
    const a = checkAddresses(c, raw);
    const ports = checkPorts(c, raw);
    const k3s = checkCluster(c, raw);
    const loadBalancer = checkLoadBalancer(c, raw);
    const ddns = checkDdns(c, raw, n.domain);
    const h = checkHosts(c, raw);
    checkPlan(c, raw, n, a, h);
    const pki = checkPki(c, raw, {
        domain: n.domain, lanCidr: a.lanCidr, lan: String(raw.lanCidr), gatewayHostname: n.gwHostname,
        nodes: h.nodes.map((x) => x.name), k3sEnabled: raw.k3sEnabled === true,
    });
    const hostKeys = checkHostKeys(c, raw, { gatewayHostname: n.gwHostname, nodes: h.nodes.map((x) => x.name) });
    if (c.problems.length > 0) {
        throw new ConfigError(c.problems);
    }
    const [lanNet, lanPrefix] = a.lanCidr!;
    const plan: AddressPlan = {
        domain: n.domain!,
        gateway: { hostname: n.gwHostname!, lanAddress: a.gwLan!, lanInterface: n.lanIf!, wanInterface: n.wanIf!, sshHost: a.sshHost! },
        lan: { cidr: String(raw.lanCidr), network: lanNet.toString(), prefixLength: lanPrefix, dhcpPool: a.pool!, leaseSeconds: a.leaseSeconds! },
        ...ddns ? { ddns } : {},
        wan: { cidr: String(raw.wanCidr), vip: a.vip! },
        dnsForwarders: a.forwarders,
        dnsTtlSeconds: a.dnsTtlSeconds!,
        metallbPool: a.metallb!,
        ingressIp: a.ingressIp!,
        apiName: n.apiName!,
        ports: ports as Ports,
        sshUser: n.sshUser!,
        hostKeys,
        nodes: h.nodes,
        reservations: h.reservations,
        k3s: k3s as K3sSettings,
        loadBalancer: loadBalancer as LoadBalancerSettings,
        pki: pki as PkiSettings,
    };
    return { plan: deepFreeze(plan), warnings: c.warnings };
}

function deepFreeze<T>(o: T): T {
    if (o && typeof o === "object") {
        Object.values(o).forEach(deepFreeze);
        Object.freeze(o);
    }
    return o;
}

