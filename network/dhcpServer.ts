// DhcpServer: Kea DHCPv4 on the gateway's LAN interface, with a reservation per host.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { AddressPlan } from "../config/plan";
import { HostConnection, hostFile } from "../host/hostOps";
import { ManagedFileSpec, serviceActivate, serviceRevert } from "../host/hostScripts";
import { KEA_CONFIG_PATH, renderKeaConfig } from "./kea";

/** Debian's unit for kea-dhcp4 (it has no ExecReload; Kea reloads its file on SIGHUP). */
export const KEA_UNIT = "kea-dhcp4-server";

/**
 * How the Kea configuration is installed: checked by `kea-dhcp4 -t` (which also rejects an
 * interface the gateway does not have), then activated with SIGHUP. Kea re-reads its file
 * and keeps serving the leases in its lease file, so clients see no outage.
 */
export function keaConfigFile(): ManagedFileSpec {
    return {
        path: KEA_CONFIG_PATH,
        check: 'kea-dhcp4 -t "$CANDIDATE"',
        activate: serviceActivate(KEA_UNIT, "hup"),
        revert: serviceRevert(KEA_UNIT),
    };
}

export interface DhcpServerArgs {
    /** The validated address plan: LAN, pool, lease time, nodes and reservations. */
    readonly plan: AddressPlan;
    /** SSH access to the gateway. */
    readonly connection: HostConnection;
}

/** Kea DHCPv4 serving the cluster LAN from the gateway, and only the LAN. */
export class DhcpServer extends pulumi.ComponentResource {
    /** The command that installs and activates `/etc/kea/kea-dhcp4.conf`. */
    public readonly config: command.remote.Command;
    /** The interface Kea serves, known once the configuration is active. */
    public readonly lanInterface: pulumi.Output<string>;

    constructor(name: string, args: DhcpServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud:network:DhcpServer", name, {}, opts);
        this.config = hostFile(`${name}-config`, {
            connection: args.connection,
            file: keaConfigFile(),
            content: renderKeaConfig(args.plan),
        }, { parent: this });
        this.lanInterface = this.config.stdout.apply(() => args.plan.gateway.lanInterface);
        this.registerOutputs({ lanInterface: this.lanInterface });
    }
}
