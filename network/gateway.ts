// Gateway: the Pi between the home network and the cluster LAN. Installs what it needs,
// turns on forwarding, and runs DHCP, DNS and NAT for the LAN.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { AddressPlan, apiFqdn } from "../config/plan";
import { DhcpServer } from "./dhcpServer";
import { DnsZone } from "./dnsZone";
import { Host, HostConnection, hostFile, hostStep, hostToolkit } from "../host/hostOps";
import { HostFileSpec } from "../host/hostFile";
import { scriptsIn, toolkitCommand } from "../host/toolkit";
import { ApiCheckSigner, LoadBalancer } from "./loadBalancer";
import { NatRules } from "./natRules";
import { FORWARDING_SYSCTL_PATH, renderForwardingSysctl } from "./sysctl";
import { DnsSecondary } from "./pair/dnsSecondary";
import { GatewayRole, renderKeepalivedConfig } from "./pair/keepalived";
import { keepalivedConfigFile } from "./pair/pairFiles";
import { PairSecrets } from "./pair/pairSecrets";

/**
 * Debian packages the gateway needs: the daemons, their checkers and tools, nft and ip, and
 * arping (the NAT unit announces the VIP with a gratuitous ARP).
 */
export const GATEWAY_PACKAGES: readonly string[] = Object.freeze(
    ["kea-dhcp4-server", "kea-dhcp-ddns-server", "bind9", "bind9-utils", "bind9-dnsutils", "haproxy", "nftables", "iproute2", "iputils-arping"]);

/** What a gateway of a pair needs on top: VRRP, and Kea's Control Agent for the HA partners. */
export const PAIR_PACKAGES: readonly string[] = Object.freeze(["keepalived", "kea-ctrl-agent"]);

const PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;

/**
 * The packages step's command lines (packages.sh): installs the missing ones and records
 * them; on delete purges what it recorded, and nothing else. The list is in the command
 * line, so adding a package is an in-place update.
 */
export function packagesCommands(packages: readonly string[]): { install: string; remove: string } {
    const bad = packages.filter((p) => !PACKAGE.test(p));
    if (packages.length === 0 || bad.length > 0) {
        throw new RangeError(`package names must be Debian package names; got ${JSON.stringify(bad)}`);
    }
    return {
        install: toolkitCommand("network/packages.sh", ["install"], { HC_PACKAGES: packages.join(" ") }),
        remove: toolkitCommand("network/packages.sh", ["remove"]),
    };
}

/** The forwarding drop-in: keys checked against /proc/sys, applied with `sysctl -p` (forwarding.sh). */
export function forwardingFile(): HostFileSpec {
    return { path: FORWARDING_SYSCTL_PATH, hooks: "network/forwarding.sh" };
}

export interface GatewayArgs {
    /** The validated address plan. */
    readonly plan: AddressPlan;
    /** SSH access to the gateway as a sudo-capable user (private key a Pulumi secret). */
    readonly connection: HostConnection;
    /** With a second gateway in the plan: which one this is, and the secrets the two share. */
    readonly pair?: { readonly role: GatewayRole; readonly secrets: PairSecrets };
}

/**
 * The gateway Pi: packages, IPv4 forwarding, then DHCP (Kea), DNS (BIND) and NAT with the
 * VIP (nftables), each a child component that waits for the packages. The VIP's load
 * balancer (HAProxy) comes with `serveApi`, once what its API check needs exists.
 */
export class Gateway extends pulumi.ComponentResource {
    /** The program's scripts on the gateway; every other command waits for it. */
    public readonly toolkit: command.remote.Command;
    public readonly packages: command.remote.Command;
    public readonly forwarding: command.remote.Command;
    public readonly dhcp: DhcpServer;
    /** The zones' primary on the first gateway, their secondary on the second. */
    public readonly dns: DnsZone | DnsSecondary;
    public readonly nat: NatRules;
    /** The gateway with the network toolkit. */
    public readonly host: Host;
    /**
     * What the rest waits for: everything but the load balancer, which may itself wait for
     * the first K3s server (a dependency on this component would include it).
     */
    public readonly services: pulumi.Resource[];
    /** The gateway's LAN address: router and DNS server of the LAN. */
    public readonly lanAddress: pulumi.Output<string>;
    /** The VIP on the home network (K3s API and ingress), once it is up. */
    public readonly vip: pulumi.Output<string>;
    /** The cluster domain, once BIND serves it. */
    public readonly domain: pulumi.Output<string>;
    /** DNS name of the VIP, e.g. `api.home.arpa`. */
    public readonly apiFqdn: pulumi.Output<string>;

    /** With two gateways: keepalived, holding the VIP and the floating LAN address on one of them (made by serveApi). */
    public vrrp?: command.remote.Command;

    private readonly name: string;
    private readonly plan: AddressPlan;
    private readonly pair?: GatewayArgs["pair"];

    constructor(name: string, args: GatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud:network:Gateway", name, {}, opts);
        this.name = name;
        const { plan, connection, pair } = args;
        if (plan.gateway2 !== undefined && pair === undefined) {
            throw new pulumi.ResourceError("the plan has a second gateway: each Gateway needs its pair role and secrets", this);
        }
        this.pair = pair;
        const role = pair?.role ?? "first";
        // The pair's scripts too with one gateway: taking the second gateway out updates the
        // toolkit before the pair's files are deleted, and their deletes run those scripts.
        const host = hostToolkit(`${name}-toolkit`, connection, [...scriptsIn("network"), ...scriptsIn("network/pair")], { parent: this });
        this.toolkit = host.toolkit;
        const packages = packagesCommands(pair ? [...GATEWAY_PACKAGES, ...PAIR_PACKAGES] : GATEWAY_PACKAGES);
        this.packages = hostStep(`${name}-packages`, host, {
            create: packages.install, delete: packages.remove,
        }, { parent: this });
        this.forwarding = hostFile(`${name}-forwarding`, host, {
            file: forwardingFile(), content: renderForwardingSysctl(),
        }, { parent: this });
        const dns = role === "second"
            ? new DnsSecondary(`${name}-dns`, { plan, host, xferSecret: pair!.secrets.xferSecret }, { parent: this, dependsOn: [this.packages] })
            : new DnsZone(`${name}-dns`, { plan, host, ...pair ? { xferSecret: pair.secrets.xferSecret } : {} }, { parent: this, dependsOn: [this.packages] });
        this.dns = dns;
        // kea-dhcp-ddns signs with a key the DNS side makes on the gateway.
        const ddnsKeys = dns instanceof DnsZone ? dns.ddnsKeys : undefined;
        this.dhcp = new DhcpServer(`${name}-dhcp`, { plan, host, role, ...pair ? { apiPassword: pair.secrets.keaApiPassword } : {} }, {
            parent: this, dependsOn: [this.packages, ...ddnsKeys ? [ddnsKeys] : []],
        });
        this.nat = new NatRules(`${name}-nat`, { plan, host, role }, {
            parent: this, dependsOn: [this.packages, this.forwarding],
        });
        this.host = host;
        this.plan = plan;
        this.services = [this.toolkit, this.packages, this.forwarding, this.dns, this.dhcp, this.nat];
        const lanAddress = role === "first" ? plan.gateway.lanAddress : plan.gateway2!.lanAddress;
        this.lanAddress = pulumi.all([this.dhcp.lanInterface, this.dns.nameserver]).apply(() => lanAddress);
        this.vip = this.nat.vip;
        this.domain = this.dns.zone;
        this.apiFqdn = this.dns.zone.apply(() => apiFqdn(plan));
        this.registerOutputs({
            lanAddress: this.lanAddress, vip: this.vip, domain: this.domain, apiFqdn: this.apiFqdn,
        });
    }

    /** HAProxy on the VIP, a child of the gateway (`<name>-lb`); its API check signed by `signer`. */
    public serveApi(signer?: ApiCheckSigner): LoadBalancer {
        // HAProxy binds the VIP, so it comes after the unit that puts the VIP up.
        const lb = new LoadBalancer(`${this.name}-lb`, { plan: this.plan, host: this.host, apiCheckSigner: signer }, {
            parent: this, dependsOn: [this.packages, this.nat],
        });
        if (this.pair) {
            // Last: its health checks ask HAProxy and BIND, so both must answer first.
            const { role, secrets } = this.pair;
            this.vrrp = hostFile(`${this.name}-vrrp`, this.host, {
                file: keepalivedConfigFile(), content: secrets.vrrpPass.apply((p) => renderKeepalivedConfig(this.plan, role, p)), secret: true,
            }, { parent: this, dependsOn: [this.packages, this.dns, this.dhcp, this.nat, lb] });
        }
        return lb;
    }
}
