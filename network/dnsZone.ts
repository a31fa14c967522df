// DnsZone: BIND 9 on the gateway, authoritative for the cluster domain and its reverse
// zone, recursive resolver for the LAN.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { AddressPlan } from "../config/plan";
import { HostConnection, hostFile } from "../host/hostOps";
import { ManagedFileSpec, serviceActivate, serviceRevert, sh } from "../host/hostScripts";
import {
    forwardZoneName, NAMED_CONF, NAMED_CONF_LOCAL, NAMED_CONF_OPTIONS, renderForwardZone, renderNamedLocal,
    renderNamedOptions, renderReverseZone, reverseZoneName, ZONE_DIR, zoneFilePath,
} from "./bind";

/** Debian bookworm's unit for BIND (`bind9.service` is an alias of it). */
export const NAMED_UNIT = "named";

/**
 * A zone file: checked by `named-checkzone`, given a serial that grows only when the zone
 * changes, and loaded with `rndc reload` when named runs (a stopped named reads it at start).
 * On removal the program's zone directory goes too once it is empty.
 */
export function zoneFile(zone: string): ManagedFileSpec {
    return {
        path: zoneFilePath(zone),
        zoneSerial: true,
        check: `named-checkzone ${sh(zone)} "$CANDIDATE"`,
        activate: `if systemctl is-active -q ${NAMED_UNIT}; then rndc reload; fi`,
        revert: `rmdir --ignore-fail-on-non-empty ${sh(ZONE_DIR)} 2>/dev/null || true`,
    };
}

/**
 * Checker for a file `named.conf` includes. `named-checkconf` on the candidate alone cannot
 * see the rest of the configuration, so the candidate is also checked in place: a copy of
 * the top-level `named.conf` whose include of `dest` points at the candidate is checked
 * with `-z`, loading every zone, before anything is moved. `&&` chains the steps because a
 * check block runs without `set -e`.
 */
export function namedConfCheck(dest: string, topLevel: string = NAMED_CONF): string {
    const pattern = dest.replace(/[.]/g, "\\.");
    return `named-checkconf "$CANDIDATE" &&
full=$(mktemp /tmp/homecloud-named.conf.XXXXXX) &&
trap 'rm -f "$full"' EXIT &&
sed "s|\\"${pattern}\\"|\\"$CANDIDATE\\"|" ${sh(topLevel)} > "$full" &&
named-checkconf -z "$full"`;
}

/** `named.conf.options` / `named.conf.local`: checked with the whole configuration, then `rndc reload`. */
export function namedConfFile(dest: string, topLevel: string = NAMED_CONF): ManagedFileSpec {
    return {
        path: dest,
        check: namedConfCheck(dest, topLevel),
        activate: serviceActivate(NAMED_UNIT, "reload"),
        revert: serviceRevert(NAMED_UNIT),
    };
}

export interface DnsZoneArgs {
    /** The validated address plan: domain, hosts, VIP, ingress address, forwarders. */
    readonly plan: AddressPlan;
    /** SSH access to the gateway. */
    readonly connection: HostConnection;
}

/** The cluster's names on the gateway's BIND: forward and reverse zone plus resolver options. */
export class DnsZone extends pulumi.ComponentResource {
    /** The forward zone (the cluster domain), once BIND serves it. */
    public readonly zone: pulumi.Output<string>;
    /** The reverse zone of the LAN, once BIND serves it. */
    public readonly reverseZone: pulumi.Output<string>;
    /** Address clients use as their DNS server (the gateway's LAN address). */
    public readonly nameserver: pulumi.Output<string>;
    public readonly forwardZoneFile: command.remote.Command;
    public readonly reverseZoneFile: command.remote.Command;
    public readonly options: command.remote.Command;
    public readonly local: command.remote.Command;

    constructor(name: string, args: DnsZoneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud:network:DnsZone", name, {}, opts);
        const { plan, connection } = args;
        const forward = forwardZoneName(plan);
        const reverse = reverseZoneName(plan);
        this.forwardZoneFile = hostFile(`${name}-forward-zone`, {
            connection, file: zoneFile(forward), content: renderForwardZone(plan),
        }, { parent: this });
        this.reverseZoneFile = hostFile(`${name}-reverse-zone`, {
            connection, file: zoneFile(reverse), content: renderReverseZone(plan),
        }, { parent: this });
        // The configuration files come after the zone files they name, so a destroy puts
        // the host's own configuration back before the zone files disappear.
        const zones = [this.forwardZoneFile, this.reverseZoneFile];
        this.options = hostFile(`${name}-options`, {
            connection, file: namedConfFile(NAMED_CONF_OPTIONS), content: renderNamedOptions(plan),
        }, { parent: this, dependsOn: zones });
        this.local = hostFile(`${name}-local`, {
            connection, file: namedConfFile(NAMED_CONF_LOCAL), content: renderNamedLocal(plan),
        }, { parent: this, dependsOn: [...zones, this.options] });
        this.zone = this.local.stdout.apply(() => forward);
        this.reverseZone = this.local.stdout.apply(() => reverse);
        this.nameserver = pulumi.all([this.options.stdout, this.local.stdout]).apply(() => plan.gateway.lanAddress);
        this.registerOutputs({ zone: this.zone, reverseZone: this.reverseZone, nameserver: this.nameserver });
    }
}
