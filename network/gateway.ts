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

/** Debian packages the gateway needs: the daemons, their checkers and tools, nft and ip. */
export const GATEWAY_PACKAGES: readonly string[] = Object.freeze(
    ["kea-dhcp4-server", "kea-dhcp-ddns-server", "bind9", "bind9-utils", "bind9-dnsutils", "haproxy", "nftables", "iproute2"]);

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
    public readonly dns: DnsZone;
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

    private readonly name: string;
    private readonly plan: AddressPlan;

    constructor(name: string, args: GatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud:network:Gateway", name, {}, opts);
        this.name = name;
        const { plan, connection } = args;
        const host = hostToolkit(`${name}-toolkit`, connection, scriptsIn("network"), { parent: this });
        this.toolkit = host.toolkit;
        const packages = packagesCommands(GATEWAY_PACKAGES);
        this.packages = hostStep(`${name}-packages`, host, {
            create: packages.install, delete: packages.remove,
        }, { parent: this });
        this.forwarding = hostFile(`${name}-forwarding`, host, {
            file: forwardingFile(), content: renderForwardingSysctl(),
        }, { parent: this });
        this.dns = new DnsZone(`${name}-dns`, { plan, host }, { parent: this, dependsOn: [this.packages] });
        // kea-dhcp-ddns signs with a key the DNS side makes on the gateway.
        this.dhcp = new DhcpServer(`${name}-dhcp`, { plan, host }, {
            parent: this, dependsOn: [this.packages, ...this.dns.ddnsKeys ? [this.dns.ddnsKeys] : []],
        });
        this.nat = new NatRules(`${name}-nat`, { plan, host }, {
            parent: this, dependsOn: [this.packages, this.forwarding],
        });
        this.host = host;
        this.plan = plan;
        this.services = [this.toolkit, this.packages, this.forwarding, this.dns, this.dhcp, this.nat];
        this.lanAddress = pulumi.all([this.dhcp.lanInterface, this.dns.nameserver]).apply(() => plan.gateway.lanAddress);
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
        return new LoadBalancer(`${this.name}-lb`, { plan: this.plan, host: this.host, apiCheckSigner: signer }, {
            parent: this, dependsOn: [this.packages, this.nat],
        });
    }
}
