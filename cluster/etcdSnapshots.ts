// Copies of the etcd snapshot each K3s server saves before an upgrade (k3s-install.sh), kept
// on the gateway: the server's own disk is the one most likely to be lost. The gateway makes
// a key of its own (network/etcd-snapshots.sh key); each server's install step lets that key
// run one forced command (cluster/k3s-snapshots.sh); after each server's install the gateway
// pulls that version's snapshot, its host key pinned, and keeps the newest few per server.
// Pure: no Pulumi import.
import { requireSshPublicKey } from "../config/sshKey";
import { STATE_DIR } from "../host/hostFile";
import { toolkitCommand } from "../host/toolkit";

const GATEWAY_SCRIPT = "network/etcd-snapshots.sh";

/** Where the gateway keeps the copies: `<dir>/<node>/<K3s' snapshot name>`, root only. */
export const SNAPSHOT_STORE = `${STATE_DIR}/etcd-snapshots`;
/** Copies kept per server: the snapshots before its last three upgrades. */
export const SNAPSHOTS_KEPT = 3;

/** The name k3s-install.sh saves before upgrading to `version`: `v1.33.6+k3s1` → `homecloud-pre-v1.33.6-k3s1`. */
export function snapshotName(version: string): string {
    if (!/^v\d+\.\d+\.\d+\+k3s\d+$/.test(version)) {
        throw new RangeError(`K3s version ${JSON.stringify(version)} must look like v1.33.6+k3s1`);
    }
    return `homecloud-pre-${version.replace("+", "-")}`;
}

/** On the gateway: makes its snapshot key once and prints the public key. */
export const snapshotKeyCommand = (): string => toolkitCommand(GATEWAY_SCRIPT, ["key"]);
/** On the gateway: removes the key; the copies stay. */
export const snapshotForgetCommand = (): string => toolkitCommand(GATEWAY_SCRIPT, ["forget"]);

/** Where and how the gateway reaches a server. */
export interface SnapshotSource {
    readonly node: string;
    /** The server's LAN address (the gateway is on the LAN). */
    readonly address: string;
    readonly port: number;
    readonly user: string;
    /** The K3s release the server was just brought to: its pre-upgrade snapshot is fetched. */
    readonly version: string;
}

/** On the gateway: fetches `s.node`'s snapshot from before `s.version`; stdin is the known_hosts line. */
export function snapshotPullCommand(s: SnapshotSource, keep: number = SNAPSHOTS_KEPT): string {
    return toolkitCommand(GATEWAY_SCRIPT, ["pull"], {
        HC_NODE: s.node, HC_ADDRESS: s.address, HC_PORT: String(s.port), HC_USER: s.user,
        HC_SNAPSHOT: snapshotName(s.version), HC_KEEP: String(keep),
    });
}

/** The known_hosts line pinning `hostKey` (`<type> <base64> [comment]`) for `address:port`. */
export function knownHostsLine(address: string, port: number, hostKey: string): string {
    const host = port === 22 ? address : `[${address}]:${port}`;
    return `${host} ${requireSshPublicKey(hostKey, `the pinned host key of ${host}`).text}\n`;
}

/** What a server's install step adds to its environment: the gateway's key may fetch its snapshots as `user`. */
export function snapshotAccessEnv(gatewayKey: string, user: string): Record<string, string> {
    const key = requireSshPublicKey(gatewayKey, "the gateway's snapshot key");
    if (key.type !== "ssh-ed25519") {
        throw new RangeError(`the gateway's snapshot key is a ${key.type} key; network/etcd-snapshots.sh makes an ssh-ed25519 one`);
    }
    return { HC_SNAPSHOT_KEY: key.text, HC_SNAPSHOT_USER: user };
}
