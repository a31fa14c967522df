// The typed, validated address plan every later layer receives, and small helpers on it.
// Pure: no Pulumi import. Built by validate.ts from the raw configuration.
import * as ipaddr from "ipaddr.js";
import type { ClusterSettings } from "./cluster";

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
    /** Pinned K3s release, e.g. `v1.36.4+k3s1`. */
    readonly version: string;
    /** `script`: the official install script; `airgap`: binary and images already on the host. */
    readonly install: "script" | "airgap";
    /** Air-gapped install: directory on each host holding `k3s` and the images tarball. */
    readonly airgapDir: string;
    /** Server of the exported kubeconfig: the VIP's address, or the API name. */
    readonly kubeconfigServer: "vip" | "name";
    /** Days before the admin client certificate expires that `pulumi up` renews it. */
    readonly kubeconfigRenewDays: number;
}

/** The optional second gateway: same daemons as the first, in standby until the first fails. */
export interface SecondGateway {
    readonly hostname: string;
    /** Its own static LAN address (Kea's and keepalived's peer address, BIND's secondary). */
    readonly lanAddress: string;
    /** Its own static address on the home network. */
    readonly wanAddress: string;
    readonly lanInterface: string;
    readonly wanInterface: string;
    readonly sshHost: string;
    /** The LAN address that moves with the VIP: router and DNS server handed out by DHCP. */
    readonly floatingLanAddress: string;
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
    /** A second gateway taking over the VIP, DHCP and DNS; undefined with one gateway. */
    readonly gateway2?: SecondGateway;
    readonly lan: {
        readonly cidr: string;
        readonly network: string;
        readonly prefixLength: number;
        readonly dhcpPool: IpRange;
        /** Valid lifetime of a lease in seconds. */
        readonly leaseSeconds: number;
    };
    /** Dynamic DNS for pool clients; undefined when off. */
    readonly ddns?: {
        /** Domain their names go in (the domain or a name under it), without the trailing dot. */
        readonly suffix: string;
    };
    readonly wan: {
        readonly cidr: string;
        /** Virtual IP on the gateway's WAN side, served by HAProxy: the servers' API and the ingress. */
        readonly vip: string;
    };
    readonly dnsForwarders: readonly string[];
    /** TTL of the program's own records and of negative answers, in seconds. */
    readonly dnsTtlSeconds: number;
    readonly metallbPool: IpRange;
    /** Fixed LoadBalancer address for Traefik, inside the MetalLB pool. */
    readonly ingressIp: string;
    /** DNS name of the API VIP inside the domain (`api` → `api.home.arpa`). */
    readonly apiName: string;
    readonly ports: Ports;
    readonly sshUser: string;
    /** SSH host keys given in config (`<type> <base64>`), by host name; other hosts' keys are learned. */
    readonly hostKeys: Readonly<Record<string, string>>;
    readonly nodes: readonly NodeSpec[];
    /**
     * Nodes taken out of `nodes` that cannot be reached: their steps on the host itself are
     * dropped from the stack without running; everything elsewhere goes as for any removal.
     */
    readonly lostNodes: readonly string[];
    readonly reservations: readonly ReservationSpec[];
    readonly k3s: K3sSettings;
    /** Where the cluster's Kubernetes, charts and images come from (config/cluster.ts). */
    readonly cluster: ClusterSettings;
    readonly loadBalancer: LoadBalancerSettings;
    readonly pki: PkiSettings;
}

/** A certificate for a service, signed by the gateway's CA, its key made on `host`. */
export interface ServiceCertificate {
    /** DNS label: the certificate's first name is `<name>.<domain>`; also its files' name on the host. */
    readonly name: string;
    /** The host that serves it: the gateway's host name or a node's name. */
    readonly host: string;
    /** Further subject alternative names: `DNS:<name inside the domain>` or `IP:<LAN address>`. */
    readonly sans: readonly string[];
}

/** The private CA on the gateway and the certificates it signs. */
export interface PkiSettings {
    /** Lifetime of every signed certificate, in days. */
    readonly lifetimeDays: number;
    /** Raised by the operator to re-sign every certificate at the next `up`. */
    readonly renewal: number;
    readonly certificates: readonly ServiceCertificate[];
    /** Nodes left out: no key, certificate or trust. */
    readonly excluded: readonly string[];
    /** When true, deleting the CA's step removes the CA from the gateway. */
    readonly caDestroy: boolean;
}

/** The gateway's HAProxy in front of the servers' API and the ingress. */
export interface LoadBalancerSettings {
    /** `https`: TLS handshake plus GET /readyz answered by the kube-apiserver; `tcp`: connect only. */
    readonly apiCheck: "https" | "tcp";
    /** Milliseconds between checks of a backend. */
    readonly intervalMs: number;
    /** Failed checks in a row that take a backend out. */
    readonly fall: number;
    /** Passed checks in a row that put it back. */
    readonly rise: number;
}

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

/** Dotted quad → unsigned 32-bit number. Only call on validated addresses. */
export function ipToNumber(ip: string): number {
    return ipaddr.IPv4.parse(ip).toByteArray().reduce((n, b) => n * 256 + b, 0);
}

export function isIPv4(s: unknown): s is string {
    return typeof s === "string" && ipaddr.IPv4.isValidFourPartDecimal(s);
}

/** Nodes with role server, in config order; the first one initialises the cluster. */
export function servers(plan: AddressPlan): NodeSpec[] {
    return plan.nodes.filter((n) => n.role === "server");
}

/** The LAN address DHCP hands out as router and DNS server: the floating one with two gateways. */
export function lanRouter(plan: AddressPlan): string {
    return plan.gateway2?.floatingLanAddress ?? plan.gateway.lanAddress;
}

/** Fully qualified name of the API VIP, e.g. `api.home.arpa`. */
export function apiFqdn(plan: AddressPlan): string {
    return `${plan.apiName}.${plan.domain}`;
}
