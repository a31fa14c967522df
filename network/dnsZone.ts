// DnsZone: BIND 9 on the gateway, authoritative for the cluster domain and its reverse
// zone, recursive resolver for the LAN.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { AddressPlan } from "../config/plan";
import { commandUrn, Host, hostFile, hostStep } from "../host/hostOps";
import { HostFileSpec } from "../host/hostFile";
import { toolkitCommand } from "../host/toolkit";
import { renderXferKey } from "./pair/bindPair";
import { xferKeyFile } from "./pair/pairFiles";
import {
    DDNS_KEY, DYNAMIC_ZONE_DIR, forwardZoneName, KEY_DIR, keyFilePath, NAMED_CONF_LOCAL, NAMED_CONF_OPTIONS,
    renderForwardZone, renderNamedLocal, renderNamedOptions, renderReverseZone, reverseZoneNames, STATIC_KEY,
    ZONE_DIR, zoneFilePath,
} from "./bind";

/**
 * A zone file: checked by `named-checkzone`, given a serial that grows only when the zone
 * changes, loaded with `rndc reload` (dns-zone.sh).
 */
export function zoneFile(zone: string): HostFileSpec {
    return { path: zoneFilePath(zone, ZONE_DIR), zoneSerial: true, hooks: "network/dns-zone.sh", env: { HC_ZONE: zone } };
}

/**
 * A zone that takes dynamic updates (dyn-zone.sh): written once, then changed only through
 * signed updates, so pool clients' records survive every `up`.
 */
export function dynamicZoneCommands(zone: string, resource: string): { apply: string; remove: string } {
    const env = { HC_ZONE: zone, HC_DEST: zoneFilePath(zone, DYNAMIC_ZONE_DIR), HC_KEY_FILE: keyFilePath(STATIC_KEY), HC_RESOURCE: resource };
    return {
        apply: toolkitCommand("network/dyn-zone.sh", ["apply"], env),
        remove: toolkitCommand("network/dyn-zone.sh", ["remove"], env),
    };
}

/** The gateway's two TSIG keys (ddns-keys.sh): made there once, kept, removed on destroy. */
export function ddnsKeysCommands(): { create: string; remove: string } {
    const env = { HC_KEY_DIR: KEY_DIR, HC_KEYS: `${DDNS_KEY} ${STATIC_KEY}` };
    return {
        create: toolkitCommand("network/ddns-keys.sh", ["create"], env),
        remove: toolkitCommand("network/ddns-keys.sh", ["remove"], env),
    };
}

/**
 * `named.conf.options` / `named.conf.local`: checked within the whole configuration
 * (`named-checkconf -z` on a copy of `topLevel` that includes the candidate), then
 * `rndc reload` (named-conf.sh).
 */
export function namedConfFile(dest: string, topLevel?: string): HostFileSpec {
    return { path: dest, hooks: "network/named-conf.sh", env: topLevel === undefined ? {} : { HC_NAMED_CONF: topLevel } };
}

export interface DnsZoneArgs {
    /** The validated address plan: domain, hosts, VIP, ingress address, forwarders. */
    readonly plan: AddressPlan;
    /** The gateway, with its toolkit. */
    readonly host: Host;
    /** With two gateways: the zone-transfer key's secret (base64 of 32 bytes), a Pulumi secret. */
    readonly xferSecret?: pulumi.Input<string>;
}

/** The cluster's names on the gateway's BIND: forward and reverse zone plus resolver options. */
export class DnsZone extends pulumi.ComponentResource {
    /** The forward zone (the cluster domain), once BIND serves it. */
    public readonly zone: pulumi.Output<string>;
    /** The reverse zones of the LAN (see `reverseZoneNames`), once BIND serves them. */
    public readonly reverseZones: pulumi.Output<string[]>;
    /** Address clients use as their DNS server (the gateway's LAN address). */
    public readonly nameserver: pulumi.Output<string>;
    /** The TSIG keys of dynamic DNS; only with `ddnsEnabled`. */
    public readonly ddnsKeys?: command.remote.Command;
    public readonly forwardZoneFile: command.remote.Command;
    /** One command per reverse zone, in address order. */
    public readonly reverseZoneFiles: command.remote.Command[];
    public readonly options: command.remote.Command;
    public readonly local: command.remote.Command;
    /** With two gateways: the key transfers to the second gateway are signed with. */
    public readonly xferKey?: command.remote.Command;

    constructor(name: string, args: DnsZoneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud:network:DnsZone", name, {}, opts);
        const { plan, host } = args;
        const forward = forwardZoneName(plan);
        const reverse = reverseZoneNames(plan);
        // A /16 or /24 LAN has the one zone it always had, under the name it always had. Other
        // LANs name each zone's command after the zone, so a name never moves to another file
        // (and a renamed one's delete leaves its successor's file alone: host-file.sh).
        const single = plan.lan.prefixLength === 16 || plan.lan.prefixLength === 24;
        const reverseName = (prefix: string, zone: string): string => single ? `${prefix}-reverse-zone` : `${prefix}-reverse-${zone}`;
        if (plan.ddns) {
            // Dynamic zones are other resources than static ones (and live elsewhere), so
            // turning DDNS on or off creates the new kind, then deletes the old one whole.
            const keys = ddnsKeysCommands();
            const ddnsKeys = hostStep(`${name}-ddns-keys`, host, { create: keys.create, delete: keys.remove }, { parent: this });
            this.ddnsKeys = ddnsKeys;
            const dynamicZone = (resource: string, zone: string, content: string): command.remote.Command => {
                // The zone's owner is the command's URN, as for host files.
                const c = commandUrn(resource, { parent: this }).apply((u) => dynamicZoneCommands(zone, u));
                return hostStep(resource, host, { create: c.apply((x) => x.apply), delete: c.apply((x) => x.remove), stdin: content },
                    { parent: this, dependsOn: [ddnsKeys] });
            };
            this.forwardZoneFile = dynamicZone(`${name}-dynamic-forward-zone`, forward, renderForwardZone(plan));
            this.reverseZoneFiles = reverse.map((zone) => dynamicZone(reverseName(`${name}-dynamic`, zone), zone, renderReverseZone(plan, zone)));
        } else {
            this.forwardZoneFile = hostFile(`${name}-forward-zone`, host, {
                file: zoneFile(forward), content: renderForwardZone(plan),
            }, { parent: this });
            this.reverseZoneFiles = reverse.map((zone) => hostFile(reverseName(name, zone), host, {
                file: zoneFile(zone), content: renderReverseZone(plan, zone),
            }, { parent: this }));
        }
        // The configuration files come after the zone files they name, so a destroy puts
        // the host's own configuration back before the zone files disappear.
        const zones = [...this.ddnsKeys ? [this.ddnsKeys] : [], this.forwardZoneFile, ...this.reverseZoneFiles];
        this.options = hostFile(`${name}-options`, host, {
            file: namedConfFile(NAMED_CONF_OPTIONS), content: renderNamedOptions(plan),
        }, { parent: this, dependsOn: zones });
        if (plan.gateway2) {
            if (args.xferSecret === undefined) {
                throw new pulumi.ResourceError("a gateway pair's primary DNS needs the zone-transfer key (xferSecret)", this);
            }
            this.xferKey = hostFile(`${name}-xfer-key`, host, {
                file: xferKeyFile(), content: pulumi.output(args.xferSecret).apply(renderXferKey), secret: true,
            }, { parent: this });
        }
        this.local = hostFile(`${name}-local`, host, {
            file: namedConfFile(NAMED_CONF_LOCAL), content: renderNamedLocal(plan),
        }, { parent: this, dependsOn: [...zones, this.options, ...this.xferKey ? [this.xferKey] : []] });
        this.zone = this.local.stdout.apply(() => forward);
        this.reverseZones = this.local.stdout.apply(() => reverse);
        this.nameserver = pulumi.all([this.options.stdout, this.local.stdout]).apply(() => plan.gateway.lanAddress);
        this.registerOutputs({ zone: this.zone, reverseZones: this.reverseZones, nameserver: this.nameserver });
    }
}
