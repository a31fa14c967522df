// Gateway: the Pi between the home network and the cluster LAN. Installs what it needs,
// turns on forwarding, and runs DHCP, DNS and NAT for the LAN.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { AddressPlan, apiFqdn } from "../config/plan";
import { DhcpServer } from "./dhcpServer";
import { DnsZone } from "./dnsZone";
import { HostConnection, hostFile, hostScript } from "../host/hostOps";
import { ManagedFileSpec, sh, STATE_DIR } from "../host/hostScripts";
import { NatRules } from "./natRules";
import { FORWARDING_SYSCTL_PATH, renderForwardingSysctl } from "./sysctl";

/** Debian packages the gateway needs: the daemons, their checkers and tools, nft and ip. */
export const GATEWAY_PACKAGES: readonly string[] = Object.freeze(
    ["kea-dhcp4-server", "bind9", "bind9-dnsutils", "nftables", "iproute2"]);

/** Packages this program installed (one a line), so that destroy removes those and no others. */
export const PACKAGES_RECORD = `${STATE_DIR}/packages-installed`;
/** `net.ipv4.ip_forward` as the program found it, for destroy to put back. */
export const FORWARD_BEFORE = `${STATE_DIR}/ip_forward.before`;

const PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;

function checkPackages(packages: readonly string[]): string {
    const bad = packages.filter((p) => !PACKAGE.test(p));
    if (packages.length === 0 || bad.length > 0) {
        throw new RangeError(`package names must be Debian package names; got ${JSON.stringify(bad)}`);
    }
    return packages.join(" ");
}

/**
 * Installs the packages that are missing, and only those, with apt. Their names are
 * recorded before apt runs, so even an interrupted install is undone by destroy.
 */
export function installPackagesScript(packages: readonly string[]): string {
    const list = checkPackages(packages);
    return `set -eu
record=${sh(PACKAGES_RECORD)}
missing=""
for p in ${list}; do
  if ! dpkg-query -W -f='\${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done
if [ -z "$missing" ]; then
  echo "homecloud: packages already installed: ${list}"
  exit 0
fi
install -d -m 0755 "$(dirname "$record")"
# shellcheck disable=SC2086 # one word per package
{ if [ -f "$record" ]; then cat "$record"; fi; printf '%s\n' $missing; } | sort -u > "$record.new"
mv -f "$record.new" "$record"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends $missing
echo "homecloud: installed$missing"
`;
}

/**
 * Purges the packages this program installed. dpkg (not apt) removes them, so nothing
 * that came later and depends on one of them is taken along: such a package stays.
 */
export function removePackagesScript(): string {
    return `set -eu
record=${sh(PACKAGES_RECORD)}
[ -f "$record" ] || exit 0
installed=""
while read -r p; do
  if dpkg-query -W -f='\${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    installed="$installed $p"
  fi
done < "$record"
if [ -n "$installed" ]; then
  # shellcheck disable=SC2086 # one word per package
  if DEBIAN_FRONTEND=noninteractive dpkg --purge $installed; then
    echo "homecloud: removed$installed"
  else
    echo "homecloud: left installed what other packages still need:$installed" >&2
  fi
fi
rm -f "$record"
`;
}

/**
 * The forwarding drop-in: every key in it must exist under /proc/sys; applied with
 * `sysctl -p`. The value found before is recorded once; destroy turns forwarding off
 * again only if it was off then.
 */
export function forwardingFile(): ManagedFileSpec {
    const before = sh(FORWARD_BEFORE);
    return {
        path: FORWARDING_SYSCTL_PATH,
        check: `sed -n 's/^ *\\([a-z0-9_.]*\\) *=.*$/\\1/p' "$CANDIDATE" | while read -r key; do
  if [ ! -e "/proc/sys/$(printf %s "$key" | tr . /)" ]; then
    echo "unknown sysctl key $key: there is no /proc/sys entry for it"
    exit 1
  fi
done`,
        activate: `if [ ! -e ${before} ]; then cat /proc/sys/net/ipv4/ip_forward > ${before}; fi
sysctl -q -p ${sh(FORWARDING_SYSCTL_PATH)}`,
        revert: `if [ -f ${before} ] && [ "$(cat ${before})" = 0 ]; then sysctl -q -w net.ipv4.ip_forward=0; fi
rm -f ${before}`,
    };
}

export interface GatewayArgs {
    /** The validated address plan. */
    readonly plan: AddressPlan;
    /** SSH access to the gateway as a sudo-capable user (private key a Pulumi secret). */
    readonly connection: HostConnection;
}

/**
 * The gateway Pi: packages, IPv4 forwarding, then DHCP (Kea), DNS (BIND) and NAT with the
 * VIP (nftables), each a child component that waits for the packages.
 */
export class Gateway extends pulumi.ComponentResource {
    public readonly packages: command.remote.Command;
    public readonly forwarding: command.remote.Command;
    public readonly dhcp: DhcpServer;
    public readonly dns: DnsZone;
    public readonly nat: NatRules;
    /** The gateway's LAN address: router and DNS server of the LAN. */
    public readonly lanAddress: pulumi.Output<string>;
    /** The VIP on the home network (K3s API and ingress), once its rules are loaded. */
    public readonly vip: pulumi.Output<string>;
    /** The cluster domain, once BIND serves it. */
    public readonly domain: pulumi.Output<string>;
    /** DNS name of the VIP, e.g. `api.home.arpa`. */
    public readonly apiFqdn: pulumi.Output<string>;

    constructor(name: string, args: GatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud:network:Gateway", name, {}, opts);
        const { plan, connection } = args;
        this.packages = hostScript(`${name}-packages`, {
            connection,
            create: installPackagesScript(GATEWAY_PACKAGES),
            // The list is in the script's text: adding a package is an in-place update.
            delete: removePackagesScript(),
        }, { parent: this });
        this.forwarding = hostFile(`${name}-forwarding`, {
            connection, file: forwardingFile(), content: renderForwardingSysctl(),
        }, { parent: this });
        this.dhcp = new DhcpServer(`${name}-dhcp`, { plan, connection }, { parent: this, dependsOn: [this.packages] });
        this.dns = new DnsZone(`${name}-dns`, { plan, connection }, { parent: this, dependsOn: [this.packages] });
        this.nat = new NatRules(`${name}-nat`, { plan, connection }, {
            parent: this, dependsOn: [this.packages, this.forwarding],
        });
        this.lanAddress = pulumi.all([this.dhcp.lanInterface, this.dns.nameserver]).apply(() => plan.gateway.lanAddress);
        this.vip = this.nat.vip;
        this.domain = this.dns.zone;
        this.apiFqdn = this.dns.zone.apply(() => apiFqdn(plan));
        this.registerOutputs({ lanAddress: this.lanAddress, vip: this.vip, domain: this.domain, apiFqdn: this.apiFqdn });
    }
}
