// DnsSecondary: BIND on the second gateway, a secondary of every zone of the first gateway
// (TSIG-signed transfers, NOTIFY), and the same resolver for the LAN.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { AddressPlan } from "../../config/plan";
import { Host, hostFile } from "../../host/hostOps";
import { forwardZoneName, NAMED_CONF_LOCAL, NAMED_CONF_OPTIONS, renderNamedOptions, reverseZoneNames } from "../bind";
import { namedConfFile } from "../dnsZone";
import { renderNamedLocalSecondary, renderXferKey } from "./bindPair";
import { xferKeyFile } from "./pairFiles";

export interface DnsSecondaryArgs {
    /** The validated address plan, with its second gateway. */
    readonly plan: AddressPlan;
    /** The second gateway, with its toolkit. */
    readonly host: Host;
    /** The zone-transfer key's secret (base64 of 32 bytes), a Pulumi secret. */
    readonly xferSecret: pulumi.Input<string>;
}

/** The second gateway's BIND: the first gateway's zones, transferred, and the LAN's resolver. */
export class DnsSecondary extends pulumi.ComponentResource {
    public readonly xferKey: command.remote.Command;
    public readonly options: command.remote.Command;
    public readonly local: command.remote.Command;
    /** The forward zone, once BIND is its secondary. */
    public readonly zone: pulumi.Output<string>;
    /** The reverse zones, once BIND is their secondary. */
    public readonly reverseZones: pulumi.Output<string[]>;
    /** This gateway's own LAN address, once BIND serves there. */
    public readonly nameserver: pulumi.Output<string>;

    constructor(name: string, args: DnsSecondaryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud:network:DnsSecondary", name, {}, opts);
        const { plan, host } = args;
        this.xferKey = hostFile(`${name}-xfer-key`, host, {
            file: xferKeyFile(), content: pulumi.output(args.xferSecret).apply(renderXferKey), secret: true,
        }, { parent: this });
        this.options = hostFile(`${name}-options`, host, {
            file: namedConfFile(NAMED_CONF_OPTIONS), content: renderNamedOptions(plan, "second"),
        }, { parent: this });
        this.local = hostFile(`${name}-local`, host, {
            file: namedConfFile(NAMED_CONF_LOCAL), content: renderNamedLocalSecondary(plan),
        }, { parent: this, dependsOn: [this.xferKey, this.options] });
        this.zone = this.local.stdout.apply(() => forwardZoneName(plan));
        this.reverseZones = this.local.stdout.apply(() => reverseZoneNames(plan));
        this.nameserver = pulumi.all([this.options.stdout, this.local.stdout]).apply(() => plan.gateway2!.lanAddress);
        this.registerOutputs({ zone: this.zone, reverseZones: this.reverseZones, nameserver: this.nameserver });
    }
}
