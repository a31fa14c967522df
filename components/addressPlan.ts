// The typed, validated address plan. Pure: no Pulumi import, so it is tested on plain
// objects and every later layer receives values that are already known to be sound.
import * as ipaddr from "ipaddr.js";

export type NodeRole = "server" | "agent";

export interface NodeSpec {
    /** RFC 1123 host name; also the DNS name `<name>.<domain>` and the K3s node name. */
    readonly name: string;
    /** MAC address of the node's LAN card, lower case, colon separated. */
    readonly mac: string;
    /** Reserved LAN address (Kea host reservation). */
    readonly ip: string;
    readonly role: NodeRole;
}

/** A DHCP reservation for something that is not a cluster node (a NAS, a printer, a laptop). */
export interface ReservationSpec {
    readonly name: string;
    readonly mac: string;
    readonly ip: string;
}

export interface IpRange {
    readonly start: string;
    readonly end: string;
}

export interface Ports {
    readonly api: number;
    readonly http: number;
    readonly https: number;
    readonly ssh: number;
}

export interface K3sSettings {
    /** When false the cluster half (K3s, MetalLB, Traefik) is not deployed. */
    readonly enabled: boolean;
    /** Pinned K3s release, e.g. `v1.31.4+k3s1`. */
    readonly version: string;
    /** `script`: the official install script; `airgap`: binary and images already on the host. */
    readonly install: "script" | "airgap";
    /** Air-gapped install: directory on each host holding `k3s` and the images tarball. */
    readonly airgapDir: string;
}

export interface AddressPlan {
    /** Cluster DNS domain, e.g. `home.arpa`. */
    readonly domain: string;
    readonly gateway: {
        readonly hostname: string;
        /** The gateway's static address on the cluster LAN (router, DNS server). */
        readonly lanAddress: string;
        readonly lanInterface: string;
        readonly wanInterface: string;
        /** Address the program uses to reach the gateway over SSH. */
        readonly sshHost: string;
    };
    readonly lan: {
        readonly cidr: string;
        readonly network: string;
        readonly prefixLength: number;
        readonly dhcpPool: IpRange;
        /** Valid lifetime of a lease in seconds. */
        readonly leaseSeconds: number;
    };
    readonly wan: {
        readonly cidr: string;
        /** Virtual IP on the gateway's WAN side, DNAT'ed to the servers and the ingress. */
        readonly vip: string;
    };
    readonly dnsForwarders: readonly string[];
    readonly metallbPool: IpRange;
    /** Fixed LoadBalancer address for Traefik, inside the MetalLB pool. */
    readonly ingressIp: string;
    /** DNS name of the API VIP inside the domain (`api` → `api.home.arpa`). */
    readonly apiName: string;
    readonly ports: Ports;
    readonly sshUser: string;
    readonly nodes: readonly NodeSpec[];
    readonly reservations: readonly ReservationSpec[];
    readonly k3s: K3sSettings;
}

/** Raw stack configuration, as read from `homecloud:*` keys (values not yet trusted). */
export type RawConfig = Record<string, unknown>;

export class ConfigError extends Error {
    constructor(public readonly problems: readonly string[]) {
        super(`Invalid homecloud configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
            problems.map((p) => `  - ${p}`).join("\n"));
        this.name = "ConfigError";
    }
}

export interface ParsedPlan {
    readonly plan: AddressPlan;
    readonly warnings: readonly string[];
}

const HOSTNAME = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const IFNAME = /^[a-zA-Z0-9_.@-]{1,15}$/;
const SSH_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const K3S_VERSION = /^v\d+\.\d+\.\d+\+k3s\d+$/;
const ABS_PATH = /^\/[A-Za-z0-9._/-]*$/;

/** Dotted quad → unsigned 32-bit number. Only call on validated addresses. */
export function ipToNumber(ip: string): number {
    return ipaddr.IPv4.parse(ip).toByteArray().reduce((n, b) => n * 256 + b, 0);
}

export function isIPv4(s: unknown): s is string {
    return typeof s === "string" && ipaddr.IPv4.isValidFourPartDecimal(s);
}

function inCidr(ip: string, cidr: [ipaddr.IPv4, number]): boolean {
    return ipaddr.IPv4.parse(ip).match(cidr);
}

function inRange(ip: string, r: IpRange): boolean {
    const n = ipToNumber(ip);
    return n >= ipToNumber(r.start) && n <= ipToNumber(r.end);
}

function rangesOverlap(a: IpRange, b: IpRange): boolean {
    return ipToNumber(a.start) <= ipToNumber(b.end) && ipToNumber(b.start) <= ipToNumber(a.end);
}

/** Collects problems instead of stopping at the first, so one run shows every mistake. */
class Checker {
    readonly problems: string[] = [];
    readonly warnings: string[] = [];

    fail(key: string, message: string): undefined {
        this.problems.push(`homecloud:${key}: ${message}`);
        return undefined;
    }

    object(key: string, v: unknown, required: boolean): Record<string, unknown> | undefined {
        if (v === undefined) {
            return required ? this.fail(key, "is required") : {};
        }
        if (typeof v !== "object" || v === null || Array.isArray(v)) {
            return this.fail(key, `must be an object, got ${JSON.stringify(v)}`);
        }
        return v as Record<string, unknown>;
    }

    string(key: string, v: unknown, fallback?: string): string | undefined {
        if (v === undefined && fallback !== undefined) {
            return fallback;
        }
        if (v === undefined) {
            return this.fail(key, "is required");
        }
        if (typeof v !== "string") {
            return this.fail(key, `must be a string, got ${JSON.stringify(v)}`);
        }
        return v;
    }

    ip(key: string, v: unknown, fallback?: string): string | undefined {
        const s = this.string(key, v, fallback);
        if (s === undefined) {
            return undefined;
        }
        if (!isIPv4(s)) {
            return this.fail(key, `"${s}" is not an IPv4 address; write four decimal numbers 0-255, e.g. 10.0.0.1`);
        }
        return s;
    }

    cidr(key: string, v: unknown): [ipaddr.IPv4, number] | undefined {
        const s = this.string(key, v);
        if (s === undefined) {
            return undefined;
        }
        const m = /^(.+)\/(\d{1,2})$/.exec(s);
        if (!m || !isIPv4(m[1]) || Number(m[2]) > 32) {
            return this.fail(key, `"${s}" is not an IPv4 CIDR; write network/prefix, e.g. 10.0.0.0/24`);
        }
        const parsed = ipaddr.IPv4.parseCIDR(s);
        const network = ipaddr.IPv4.networkAddressFromCIDR(s).toString();
        if (network !== m[1]) {
            return this.fail(key, `"${s}" has host bits set; the network is ${network}/${m[2]}`);
        }
        return parsed;
    }

    hostname(key: string, v: unknown, fallback?: string): string | undefined {
        const s = this.string(key, v, fallback);
        if (s !== undefined && !HOSTNAME.test(s)) {
            return this.fail(key, `"${s}" is not a valid host name; use 1-63 lower-case letters, digits and inner hyphens (RFC 1123)`);
        }
        return s;
    }

    mac(key: string, v: unknown): string | undefined {
        const s = this.string(key, v);
        if (s === undefined) {
            return undefined;
        }
        const normal = s.toLowerCase().replace(/-/g, ":");
        if (!MAC.test(normal)) {
            return this.fail(key, `"${s}" is not a MAC address; write six hex pairs, e.g. dc:a6:32:01:02:03`);
        }
        return normal;
    }

    port(key: string, v: unknown, fallback: number): number | undefined {
        const n = v === undefined ? fallback : v;
        if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535) {
            return this.fail(key, `${JSON.stringify(n)} is not a TCP port; use a whole number from 1 to 65535`);
        }
        return n;
    }

    pattern(key: string, v: unknown, re: RegExp, hint: string, fallback?: string): string | undefined {
        const s = this.string(key, v, fallback);
        if (s !== undefined && !re.test(s)) {
            return this.fail(key, `"${s}" ${hint}`);
        }
        return s;
    }

    range(key: string, v: unknown): IpRange | undefined {
        const s = this.string(key, v);
        if (s === undefined) {
            return undefined;
        }
        const parts = s.split("-").map((p) => p.trim());
        if (parts.length !== 2 || !isIPv4(parts[0]) || !isIPv4(parts[1])) {
            return this.fail(key, `"${s}" is not an address range; write first-last, e.g. 10.0.0.100-10.0.0.149`);
        }
        const r = { start: parts[0], end: parts[1] };
        if (ipToNumber(r.start) > ipToNumber(r.end)) {
            return this.fail(key, `"${s}" is reversed; put the lower address first`);
        }
        return r;
    }
}

function checkDomain(c: Checker, key: string, v: unknown): string | undefined {
    const s = c.string(key, v, "home.arpa");
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

/**
 * Validates the whole stack configuration at once and returns the typed plan.
 * Throws ConfigError listing every problem, each naming its config key and the fix.
 */
export function parseAddressPlan(raw: RawConfig): ParsedPlan {
    const c = new Checker();

    const domain = checkDomain(c, "domain", raw.domain);
    const lanCidr = c.cidr("lanCidr", raw.lanCidr);
    const wanCidr = c.cidr("wanCidr", raw.wanCidr);
    const gwLan = c.ip("gatewayLanAddress", raw.gatewayLanAddress);
    const gwHostname = c.hostname("gatewayHostname", raw.gatewayHostname, "gateway");
    const lanIf = c.pattern("lanInterface", raw.lanInterface, IFNAME, "is not an interface name; use the name `ip link` shows on the gateway, e.g. eth0");
    const wanIf = c.pattern("wanInterface", raw.wanInterface, IFNAME, "is not an interface name; use the name `ip link` shows on the gateway, e.g. eth1");
    const sshHost = raw.gatewaySshHost === undefined ? gwLan : c.ip("gatewaySshHost", raw.gatewaySshHost);
    const pool = c.range("dhcpPool", raw.dhcpPool);
    const vip = c.ip("vip", raw.vip);
    const metallb = c.range("metallbPool", raw.metallbPool);
    const ingressIp = c.ip("ingressIp", raw.ingressIp);
    const apiName = c.hostname("apiName", raw.apiName, "api");
    const sshUser = c.pattern("sshUser", raw.sshUser, SSH_USER, "is not a valid user name; use a lower-case Unix login such as pi", "pi");
    if (apiName && gwHostname && apiName === gwHostname) {
        c.fail("apiName", `"${apiName}" is also gatewayHostname; the API name points at the VIP, so pick another one`);
    }
    if (lanIf && wanIf && lanIf === wanIf) {
        c.fail("wanInterface", `"${wanIf}" is also lanInterface; the gateway needs two different interfaces`);
    }

    let leaseSeconds: number | undefined = 3600;
    if (raw.leaseSeconds !== undefined) {
        const l = raw.leaseSeconds;
        leaseSeconds = typeof l === "number" && Number.isInteger(l) && l >= 60 && l <= 604800 ? l
            : c.fail("leaseSeconds", `${JSON.stringify(l)} is out of range; use whole seconds from 60 to 604800`);
    }

    let forwarders: string[] = [];
    if (raw.dnsForwarders !== undefined) {
        if (!Array.isArray(raw.dnsForwarders)) {
            c.fail("dnsForwarders", "must be a list of IPv4 addresses (an empty list means no forwarding)");
        } else {
            forwarders = raw.dnsForwarders.filter((f, i) => c.ip(`dnsForwarders[${i}]`, f) !== undefined) as string[];
        }
    }

    const ports = {
        api: c.port("apiPort", raw.apiPort, 6443),
        http: c.port("httpPort", raw.httpPort, 80),
        https: c.port("httpsPort", raw.httpsPort, 443),
        ssh: c.port("sshPort", raw.sshPort, 22),
    };

    const k3s = {
        enabled: raw.k3sEnabled === undefined ? true : raw.k3sEnabled,
        version: c.pattern("k3sVersion", raw.k3sVersion, K3S_VERSION, "is not a K3s release; pin one such as v1.31.4+k3s1", "v1.31.4+k3s1"),
        install: raw.k3sInstall === undefined ? "script" : raw.k3sInstall,
        airgapDir: c.pattern("k3sAirgapDir", raw.k3sAirgapDir, ABS_PATH, "is not an absolute path; e.g. /opt/k3s-airgap", "/opt/k3s-airgap"),
    };
    if (typeof k3s.enabled !== "boolean") {
        c.fail("k3sEnabled", `${JSON.stringify(k3s.enabled)} must be true or false`);
    }
    if (k3s.install !== "script" && k3s.install !== "airgap") {
        c.fail("k3sInstall", `${JSON.stringify(k3s.install)} must be "script" or "airgap"`);
    }

    // Hosts: nodes and extra reservations share one namespace of names, MACs and addresses.
    const nodes: NodeSpec[] = [];
    const reservations: ReservationSpec[] = [];
    const hosts = (key: string, v: unknown, withRole: boolean): void => {
        if (v === undefined && !withRole) {
            return;
        }
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

    // Whole-plan checks, only where the parts themselves were valid.
    const named: { key: string; name: string; mac?: string; ip: string }[] = [
        ...nodes.map((n, i) => ({ key: `nodes[${i}]`, ...n })),
        ...reservations.map((r, i) => ({ key: `reservations[${i}]`, ...r })),
    ];
    const seen = { name: new Map<string, string>(), mac: new Map<string, string>(), ip: new Map<string, string>() };
    if (gwHostname) {
        seen.name.set(gwHostname, "gatewayHostname");
    }
    if (gwLan) {
        seen.ip.set(gwLan, "gatewayLanAddress");
    }
    for (const h of named) {
        for (const field of ["name", "mac", "ip"] as const) {
            const value = h[field]!;
            const first = seen[field].get(value);
            if (first) {
                c.fail(`${h.key}.${field}`, `"${value}" is already used by homecloud:${first}; every host needs its own ${field}`);
            } else {
                seen[field].set(value, `${h.key}.${field}`);
            }
        }
        if (lanCidr && !inCidr(h.ip, lanCidr)) {
            c.fail(`${h.key}.ip`, `${h.ip} is outside the LAN ${raw.lanCidr}; reserve an address inside it`);
        } else if (pool && inRange(h.ip, pool)) {
            c.fail(`${h.key}.ip`, `${h.ip} is inside the dynamic pool ${pool.start}-${pool.end}; reserve an address outside the pool`);
        } else if (metallb && inRange(h.ip, metallb)) {
            c.fail(`${h.key}.ip`, `${h.ip} is inside the MetalLB pool ${metallb.start}-${metallb.end}; reserve an address outside it`);
        }
        if (apiName && h.name === apiName) {
            c.fail(`${h.key}.name`, `"${h.name}" is the API name (homecloud:apiName); pick another host name`);
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

    if (c.problems.length > 0) {
        throw new ConfigError(c.problems);
    }

    const [lanNet, lanPrefix] = lanCidr!;
    const plan: AddressPlan = {
        domain: domain!,
        gateway: { hostname: gwHostname!, lanAddress: gwLan!, lanInterface: lanIf!, wanInterface: wanIf!, sshHost: sshHost! },
        lan: { cidr: String(raw.lanCidr), network: lanNet.toString(), prefixLength: lanPrefix, dhcpPool: pool!, leaseSeconds: leaseSeconds! },
        wan: { cidr: String(raw.wanCidr), vip: vip! },
        dnsForwarders: forwarders,
        metallbPool: metallb!,
        ingressIp: ingressIp!,
        apiName: apiName!,
        ports: ports as Ports,
        sshUser: sshUser!,
        nodes,
        reservations,
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

/** Nodes with role server, in config order; the first one initialises the cluster. */
export function servers(plan: AddressPlan): NodeSpec[] {
    return plan.nodes.filter((n) => n.role === "server");
}

/** Fully qualified name of the API VIP, e.g. `api.home.arpa`. */
export function apiFqdn(plan: AddressPlan): string {
    return `${plan.apiName}.${plan.domain}`;
}
