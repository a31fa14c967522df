// Validates the whole stack configuration at once and returns the typed, frozen plan.
// One small validator per concern (names, networks, ports and cluster, hosts, whole plan),
// all reporting into one Checker. Pure: no Pulumi import.
import * as ipaddr from "ipaddr.js";
import { ABS_PATH, Checker, HOSTNAME, IFNAME, inCidr, inRange, K3S_VERSION, rangesOverlap, SSH_USER } from "./checker";
import { AddressPlan, ConfigError, K3sSettings, NodeRole, NodeSpec, ParsedPlan, Ports, ReservationSpec } from "./plan";
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
    const l = raw.leaseSeconds;
    const leaseSeconds = typeof l === "number" && Number.isInteger(l) && l >= 60 && l <= 604800 ? l
        : c.fail("leaseSeconds", `${JSON.stringify(l)} is out of range; use whole seconds from 60 to 604800`);
    let forwarders: string[] = [];
    if (!Array.isArray(raw.dnsForwarders)) {
        c.fail("dnsForwarders", "must be a list of IPv4 addresses (an empty list means no forwarding)");
    } else {
        forwarders = raw.dnsForwarders.filter((f, i) => c.ip(`dnsForwarders[${i}]`, f) !== undefined) as string[];
    }
    return { lanCidr, wanCidr, gwLan, sshHost, pool, vip, metallb, ingressIp, leaseSeconds, forwarders };
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
    };
    if (typeof k3s.enabled !== "boolean") {
        c.fail("k3sEnabled", `${JSON.stringify(k3s.enabled)} must be true or false`);
    }
    if (k3s.install !== "script" && k3s.install !== "airgap") {
        c.fail("k3sInstall", `${JSON.stringify(k3s.install)} must be "script" or "airgap"`);
    }
    return k3s;
}

/** Nodes and extra reservations, entry by entry; the servers' count. */
function checkHosts(c: Checker, raw: RawConfig) {
    const nodes: NodeSpec[] = [];
    const reservations: ReservationSpec[] = [];
    const hosts = (key: string, v: unknown, withRole: boolean): void => {
        if (!Array.isArray(v)) {
            c.fail(key, "must be a list of { name, mac, ip" + (withRole ? ", role }" : " }"));
            return;
        }
        v.forEach((entry, i) => {
            const k = `${key}[${i}]`;
            const o = c.object(k, entry, true);
            if (!o) {
                return;
            }
            const name = c.hostname(`${k}.name`, o.name);
            const mac = c.mac(`${k}.mac`, o.mac);
            const ip = c.ip(`${k}.ip`, o.ip);
            let role: NodeRole | undefined;
            if (withRole) {
                const r = o.role === undefined ? "server" : o.role;
                role = r === "server" || r === "agent" ? r : c.fail(`${k}.role`, `${JSON.stringify(r)} must be "server" or "agent"`);
            }
            if (name && mac && ip && (!withRole || role)) {
                if (withRole) {
                    nodes.push({ name, mac, ip, role: role! });
                } else {
                    reservations.push({ name, mac, ip });
                }
            }
        });
    };
    hosts("nodes", raw.nodes, true);
    hosts("reservations", raw.reservations, false);
    const servers = nodes.filter((n) => n.role === "server");
    if (Array.isArray(raw.nodes) && raw.nodes.length === 0) {
        c.fail("nodes", "is empty; list at least one node with role server");
    } else if (nodes.length > 0 && servers.length === 0) {
        c.fail("nodes", "has no node with role server; K3s needs at least one server");
    } else if (servers.length > 0 && servers.length % 2 === 0) {
        c.warnings.push(`homecloud:nodes: ${servers.length} servers give etcd no better fault tolerance than ${servers.length - 1}; use an odd number of servers`);
    }
    return { nodes, reservations };
}

type Names = ReturnType<typeof checkNames>;
type Addresses = ReturnType<typeof checkAddresses>;
type Hosts = ReturnType<typeof checkHosts>;

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
        } else if (pool && inRange(host.ip, pool)) {
            c.fail(`${host.key}.ip`, `${host.ip} is inside the dynamic pool ${pool.start}-${pool.end}; reserve an address outside the pool`);
        } else if (metallb && inRange(host.ip, metallb)) {
            c.fail(`${host.key}.ip`, `${host.ip} is inside the MetalLB pool ${metallb.start}-${metallb.end}; reserve an address outside it`);
        }
        if (n.apiName && host.name === n.apiName) {
            c.fail(`${host.key}.name`, `"${host.name}" is the API name (homecloud:apiName); pick another host name`);
        }
    }
    if (lanCidr) {
        const [net, prefix] = lanCidr;
        if (prefix < 16 || prefix > 29) {
            c.fail("lanCidr", `/${prefix} is not supported; use a prefix from /16 to /29, e.g. 10.0.0.0/24`);
        }
        const usable = (ip: string) => ip !== net.toString() && ip !== ipaddr.IPv4.broadcastAddressFromCIDR(String(raw.lanCidr)).toString();
        if (gwLan && (!inCidr(gwLan, lanCidr) || !usable(gwLan))) {
            c.fail("gatewayLanAddress", `${gwLan} is not a host address of the LAN ${raw.lanCidr}; use one inside it, e.g. its first address`);
        }
        for (const [key, r] of [["dhcpPool", pool], ["metallbPool", metallb]] as const) {
            if (r && (!inCidr(r.start, lanCidr) || !inCidr(r.end, lanCidr) || !usable(r.start) || !usable(r.end))) {
                c.fail(key, `${r.start}-${r.end} is not inside the LAN ${raw.lanCidr}; use host addresses of the LAN`);
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
    if (vip && wanCidr && !inCidr(vip, wanCidr)) {
        c.fail("vip", `${vip} is outside the home network ${raw.wanCidr}; pick a free address of the WAN side`);
    }
    if (vip && lanCidr && inCidr(vip, lanCidr)) {
        c.fail("vip", `${vip} is inside the LAN ${raw.lanCidr}; the VIP lives on the WAN side`);
    }
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
    const h = checkHosts(c, raw);
    checkPlan(c, raw, n, a, h);
    if (c.problems.length > 0) {
        throw new ConfigError(c.problems);
    }
    const [lanNet, lanPrefix] = a.lanCidr!;
    const plan: AddressPlan = {
        domain: n.domain!,
        gateway: { hostname: n.gwHostname!, lanAddress: a.gwLan!, lanInterface: n.lanIf!, wanInterface: n.wanIf!, sshHost: a.sshHost! },
        lan: { cidr: String(raw.lanCidr), network: lanNet.toString(), prefixLength: lanPrefix, dhcpPool: a.pool!, leaseSeconds: a.leaseSeconds! },
        wan: { cidr: String(raw.wanCidr), vip: a.vip! },
        dnsForwarders: a.forwarders,
        metallbPool: a.metallb!,
        ingressIp: a.ingressIp!,
        apiName: n.apiName!,
        ports: ports as Ports,
        sshUser: n.sshUser!,
        nodes: h.nodes,
        reservations: h.reservations,
        k3s: k3s as K3sSettings,
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

