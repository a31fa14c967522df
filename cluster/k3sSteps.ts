// The command lines of the K3s phases: each runs cluster/k3s-node.sh (in the toolkit) with
// its data in HC_* variables. Versions and hashes are in the line, so a change re-runs the
// step as an in-place update, never as a replacement (whose delete would drain a node).
// Pure: no Pulumi import.
import { NodeRole } from "../config/plan";
import { HostFileSpec } from "../host/hostFile";
import { toolkitCommand } from "../host/toolkit";
import { K3S_CONFIG_PATH, K3S_TOKEN_PATH, k3sService } from "./k3sConfig";

const NODE_SCRIPT = "cluster/k3s-node.sh";

/**
 * How a first-server step reaches the cluster's API: nothing for the program's K3s (`k3s
 * kubectl`), `HC_KUBECONFIG=<file>` for a cluster of the user's (homecloud:kubeconfig).
 */
export type KubectlEnv = Readonly<Record<string, string>>;

/** How K3s gets onto a node: the plan's `k3s` settings plus the node's role. */
export interface InstallArgs {
    readonly role: NodeRole;
    /** Pinned release, e.g. `v1.36.4+k3s1` (validated by the config). */
    readonly version: string;
    readonly install: "script" | "airgap";
    /** Air-gapped install: directory holding `k3s`, `k3s-airgap-images-*` and `install.sh`. */
    readonly airgapDir: string;
}

export const prepareCommand = (): string => toolkitCommand(NODE_SCRIPT, ["prepare"]);
export const unprepareCommand = (): string => toolkitCommand(NODE_SCRIPT, ["unprepare"]);
/** Fails until the node rebooted; then checks its kernel has the cgroup controllers K3s needs. */
export const waitForRebootCommand = (node: string): string => toolkitCommand(NODE_SCRIPT, ["wait-reboot"], { HC_NODE: node });

/**
 * Installs or upgrades K3s on `node`; a timeout names the node. `snapshotAccess`
 * (snapshotAccessEnv) lets the gateway's key fetch a server's pre-upgrade snapshots.
 */
export function installCommand(node: string, a: InstallArgs, snapshotAccess: Readonly<Record<string, string>> = {}): string {
    return toolkitCommand(NODE_SCRIPT, ["install"], {
        HC_NODE: node, HC_ROLE: a.role, HC_VERSION: a.version, HC_INSTALL: a.install,
        ...a.install === "airgap" ? { HC_AIRGAP_DIR: a.airgapDir } : {},
        ...snapshotAccess,
    });
}

/** Uninstalls K3s; a server's authorized_keys loses the gateway's snapshot key. */
export const uninstallCommand = (role: NodeRole): string => toolkitCommand(NODE_SCRIPT, ["uninstall"], { HC_ROLE: role });

/** On the first server: waits until `node` runs `version` and is Ready; re-run when its config.yaml changes. */
export function memberReadyCommand(node: string, version: string, configSha256: string): string {
    return toolkitCommand(NODE_SCRIPT, ["member-ready"], { HC_NODE: node, HC_VERSION: version, HC_CONFIG_SHA256: configSha256 });
}

/** On the first server, when `node` leaves: drain it and delete its Node (and a server's etcd member). */
export const memberRemoveCommand = (node: string): string => toolkitCommand(NODE_SCRIPT, ["member-remove"], { HC_NODE: node });

/** On the first server: prints the admin kubeconfig (kept secret by the step). */
export const readKubeconfigCommand = (): string => toolkitCommand(NODE_SCRIPT, ["read-kubeconfig"]);

/**
 * On the first server: renewal `renewal` of the admin client certificate (rotate it, restart
 * k3s), then prints the kubeconfig; renewal 0 only prints it. The number is in the command
 * line, so a new one re-runs the step in place and an unchanged one runs nothing.
 */
export function renewKubeconfigCommand(node: string, renewal: number): string {
    if (!Number.isInteger(renewal) || renewal < 0) {
        throw new RangeError(`renewal ${renewal} must be a whole number from 0`);
    }
    return toolkitCommand(NODE_SCRIPT, ["read-kubeconfig"], { HC_NODE: node, HC_RENEWAL: String(renewal) });
}

/**
 * On the first server: waits, bounded, until the API server accepts the manifest on stdin
 * in a server-side dry run (every admission webhook it meets serves); `what` names it.
 */
export const admissionReadyCommand = (what: string, kubectlEnv: KubectlEnv = {}): string =>
    toolkitCommand(NODE_SCRIPT, ["admission-ready"], { HC_WHAT: what, ...kubectlEnv });

/**
 * On the first server: CRDs named `*.<group>` (not `*.<except>.<group>`) that no release owns
 * get Helm's ownership marks for `namespace`/`release`, so that release's chart adopts them.
 */
export function adoptCrdsCommand(release: string, namespace: string, group: string, except = "", kubectlEnv: KubectlEnv = {}): string {
    return toolkitCommand(NODE_SCRIPT, ["adopt-crds"], {
        HC_RELEASE: release, HC_NAMESPACE: namespace, HC_GROUP: group, ...except ? { HC_EXCEPT: except } : {}, ...kubectlEnv,
    });
}

/** On the first server: prints K3s' full join token, `K10<CA hash>::server:<secret>` (kept secret by the step). */
export const readJoinTokenCommand = (node: string): string => toolkitCommand(NODE_SCRIPT, ["read-token"], { HC_NODE: node });

/**
 * The token file: read by K3s (`token-file`), root only. The first server gets the cluster
 * token; every other node K3s' full token read from it, which pins the cluster CA. A token
 * change is not applied to a running cluster.
 */
export function tokenFile(): HostFileSpec {
    return { path: K3S_TOKEN_PATH, mode: "0600" };
}

/** config.yaml: a change restarts the node's K3s (k3s-config.sh, bounded), one node at a time in phase order. */
export function configFile(node: string, role: NodeRole): HostFileSpec {
    return { path: K3S_CONFIG_PATH, mode: "0600", hooks: "cluster/k3s-config.sh", env: { HC_UNIT: k3sService(role), HC_NODE: node } };
}
