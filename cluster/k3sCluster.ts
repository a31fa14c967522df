// K3sCluster: an HA K3s cluster with embedded etcd on the plan's nodes, in explicit phases
// (each a child command, ordered with dependsOn):
//
//   prepare (every node, in parallel: memory cgroups, reboot only if cmdline.txt changed)
//     → first server (cluster-init)
//     → the other servers, one at a time, each after the previous one is Ready
//     → agents (in parallel, through the VIP)
//     → kubeconfig (read on the first server; renewed there when its certificate is due)
//
// With a snapshot store (the gateway), each server lets the gateway's key fetch its
// pre-upgrade etcd snapshots, and after each server's install the gateway copies the one
// that install saved (etcdSnapshots.ts).
//
// Every node but the first joins with K3s' full token (read on the first server once it is
// up), which pins the cluster CA: a joining node refuses a server whose CA does not match.
// The program's own Kubernetes provider reaches the API through the VIP's address, never a
// name, so the first `up` works before any resolver knows the cluster's domain.
//
// Pulumi runs deletes in the reverse order, which is what removing nodes needs: a removed
// node's `-member` command (on the first server) drains it and deletes its Node object,
// which for a server also removes its etcd member; then its `-install` command uninstalls
// K3s on the node itself. The first server has neither: it cannot leave this way.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as random from "@pulumi/random";
import { AddressPlan, NodeSpec, servers } from "../config/plan";
import { Host, HostConnection, hostFile, hostStep, hostToolkit, pinnedKey, sha256 } from "../host/hostOps";
import { lostHostStep } from "../host/lostHost";
import { scriptsIn } from "../host/toolkit";
import { apiNameUrl, fullJoinToken, k3sConfigFor, renderK3sConfig, vipApiUrl } from "./k3sConfig";
import {
    admissionReadyCommand, configFile, installCommand, memberReadyCommand, memberRemoveCommand, prepareCommand, readJoinTokenCommand,
    readKubeconfigCommand, renewKubeconfigCommand, tokenFile, uninstallCommand, unprepareCommand, waitForRebootCommand,
} from "./k3sSteps";
import { knownHostsLine, snapshotAccessEnv, snapshotForgetCommand, snapshotKeyCommand, snapshotPullCommand } from "./etcdSnapshots";
import { clientCertificateValidity, newestKubeconfig, renderKubeconfig, renewalsDue } from "./kubeconfig";
import { registriesFile, renderRegistries } from "./registries";

/** A node's commands on the node itself, by suffix (`K3sNodeSteps` but the member step). */
export const LOST_NODE_STEPS = ["toolkit", "prepare", "booted", "token", "config", "install"] as const;

/** Dials while a Pi reboots: `shutdown -r +1` plus a slow boot is well inside this. */
const REBOOT_DIAL_LIMIT = 120;

export interface K3sClusterArgs {
    /** The validated address plan: nodes and roles, `k3s` settings, VIP, API name, ports, SSH user. */
    readonly plan: AddressPlan;
    /** Private key (OpenSSH) of `plan.sshUser` on every node; kept secret. */
    readonly sshPrivateKey: pulumi.Input<string>;
    /** Each node's pinned SSH host key, by node name (HostKeys.byHost). */
    readonly hostKeys: Readonly<Record<string, pulumi.Input<string>>>;
    /** Address to SSH to, by node name; default the node's reserved LAN address. */
    readonly sshHosts?: Readonly<Record<string, pulumi.Input<string>>>;
    /**
     * Name of the exported kubeconfig's cluster, user and context, and the Kubernetes
     * provider's cluster identifier; default `<project>-<stack>`, e.g. `homecloud-dev`.
     */
    readonly clusterName?: string;
    /** The clock the certificate renewal is decided by; default the time the program runs. */
    readonly now?: Date;
    /** What the first phase waits for, e.g. the Gateway (DHCP reservations, DNS, the VIP). */
    readonly waitFor?: pulumi.Input<pulumi.Resource>[];
    /**
     * The API's load balancer on the VIP, made once the first server is installed (its health
     * check signs a client certificate there); agents, which join through the VIP, and the
     * kubeconfig wait for it.
     */
    readonly apiFrontend?: (firstServerInstalled: command.remote.Command) => pulumi.Resource;
    /**
     * The gateway, with its network toolkit: keeps copies of the etcd snapshot each server
     * saves before an upgrade (`<name>-snapshot-key`, `<name>-<server>-snapshot-copy`).
     */
    readonly snapshotStore?: Host;
}

/** The commands that make up one node, in phase order. */
export interface K3sNodeSteps {
    /** The program's scripts on the node; every other command there waits for it. */
    readonly toolkit: command.remote.Command;
    readonly prepare: command.remote.Command;
    readonly booted: command.remote.Command;
    readonly token: command.remote.Command;
    readonly config: command.remote.Command;
    /** registries.yaml, only with homecloud:registryMirrors. */
    readonly registries?: command.remote.Command;
    readonly install: command.remote.Command;
    /** On the first server: waits for the node to be Ready; drains and deletes it on removal. Absent for the first server. */
    readonly member?: command.remote.Command;
    /** On the snapshot store (servers only): copies the snapshot this server's install saved before an upgrade. */
    readonly snapshotCopy?: command.remote.Command;
}

/** An HA K3s cluster (embedded etcd) on the plan's nodes; exports an admin kubeconfig. */
export class K3sCluster extends pulumi.ComponentResource {
    /** The cluster token (random, generated once); the first server's token file; a secret. */
    public readonly token: pulumi.Output<string>;
    /** K3s' full token (`K10<CA hash>::server:<token>`) every other node joins with; a secret. */
    public readonly joinToken: pulumi.Output<string>;
    /** The command that reads the full token on the first server once it is up (once). */
    public readonly joinTokenRead: command.remote.Command;
    /** Every node's commands, by node name. */
    public readonly nodes: Readonly<Record<string, K3sNodeSteps>>;
    /** On the snapshot store: its key, which each server lets fetch its pre-upgrade snapshots. */
    public readonly snapshotKey?: command.remote.Command;
    /** The command that reads the kubeconfig on the first server, once every node is Ready. */
    public readonly kubeconfigRead: command.remote.Command;
    /** The command that renews the admin certificate when due (and reads the kubeconfig). */
    public readonly kubeconfigRenew: command.remote.Command;
    /** `<project>-<stack>`: the kubeconfig's cluster, user and context, the provider's cluster identifier. */
    public readonly clusterName: string;
    /** Admin kubeconfig whose server is `plan.k3s.kubeconfigServer`'s URL, never 127.0.0.1; a secret. */
    public readonly kubeconfig: pulumi.Output<string>;
    /** The same kubeconfig with the VIP's address as server: what the program's own provider uses. */
    public readonly providerKubeconfig: pulumi.Output<string>;
    /** When the kubeconfig's client certificate expires (ISO 8601, UTC); not secret. */
    public readonly kubeconfigExpires: pulumi.Output<string>;
    /** The API URL the kubeconfig names. */
    public readonly apiEndpoint: pulumi.Output<string>;

    private readonly firstHost: Host;
    private readonly stepName: string;

    /**
     * A step on the first server (`<name>-accepts-<id>`) that waits, bounded, until the API
     * server accepts `manifest` (YAML; `what` in messages) in a server-side dry run, after
     * `after`: what objects behind an admission webhook wait for before they are created.
     */
    public whenAccepted(id: string, what: string, manifest: pulumi.Input<string>, after: pulumi.Input<pulumi.Resource>[]): command.remote.Command {
        return this.onFirstServer(`accepts-${id}`, admissionReadyCommand(what), after, manifest);
    }

    /** A step `<name>-<id>` on the first server once the cluster is up (no delete): `create` with `stdin`. */
    public onFirstServer(id: string, create: string, after: pulumi.Input<pulumi.Resource>[] = [], stdin?: pulumi.Input<string>): command.remote.Command {
        return hostStep(`${this.stepName}-${id}`, this.firstHost, { create, stdin }, { parent: this, dependsOn: [this.kubeconfigRead, ...after] });
    }

    /** Every step on `node` itself (not its member step, which runs on the first server). */
    public stepsOn(node: string): command.remote.Command[] {
        const s = this.nodes[node];
        return s ? [s.toolkit, s.prepare, s.booted, s.token, s.config, ...s.registries ? [s.registries] : [], s.install] : [];
    }

    constructor(name: string, args: K3sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud:k8s:K3sCluster", name, {}, opts);
        const { plan } = args;
        const serverNodes = servers(plan);
        if (serverNodes.length === 0) {
            throw new pulumi.ResourceError("homecloud:nodes has no node with role server; K3s needs at least one server", this);
        }
        const unknownHosts = Object.keys(args.sshHosts ?? {}).filter((n) => !plan.nodes.some((node) => node.name === n));
        if (unknownHosts.length > 0) {
            throw new pulumi.ResourceError(
                `sshHosts names ${unknownHosts.join(", ")}, which ${unknownHosts.length === 1 ? "is" : "are"} not in homecloud:nodes; use node names`, this);
        }
        const connection = (node: NodeSpec): HostConnection => ({
            host: args.sshHosts?.[node.name] ?? node.ip,
            port: plan.ports.ssh,
            user: plan.sshUser,
            privateKey: pulumi.secret(args.sshPrivateKey),
            hostKey: pinnedKey(args.hostKeys, node.name, this),
        });
        const hosts = new Map<string, Host>(plan.nodes.map((node) => [node.name,
            hostToolkit(`${name}-${node.name}-toolkit`, connection(node), scriptsIn("cluster"), { parent: this, dependsOn: args.waitFor })]));
        const first = serverNodes[0];
        const firstHost = hosts.get(first.name)!;
        this.firstHost = firstHost;
        this.stepName = name;

        const password = new random.RandomPassword(`${name}-token`, { length: 48, special: false }, { parent: this });
        this.token = pulumi.secret(password.result);

        // Phase 1: prepare every node, in parallel.
        const prepared = new Map<string, { prepare: command.remote.Command; booted: command.remote.Command }>();
        for (const node of plan.nodes) {
            const host = hosts.get(node.name)!;
            const prepare = hostStep(`${name}-${node.name}-prepare`, host, {
                create: prepareCommand(), delete: unprepareCommand(),
            }, { parent: this, dependsOn: args.waitFor });
            // No delete, so a replacement (on a new prepare output) only waits again.
            const booted = hostStep(`${name}-${node.name}-booted`, host, {
                create: waitForRebootCommand(node.name), triggers: [prepare.stdout], dialErrorLimit: REBOOT_DIAL_LIMIT,
            }, { parent: this, dependsOn: [prepare] });
            prepared.set(node.name, { prepare, booted });
        }

        const store = args.snapshotStore;
        const snapshotKey = store === undefined ? undefined : hostStep(`${name}-snapshot-key`, store, {
            create: snapshotKeyCommand(), delete: snapshotForgetCommand(),
        }, { parent: this, dependsOn: args.waitFor });
        this.snapshotKey = snapshotKey;

        // Phases 2-4: the first server, the other servers one by one, then the agents.
        const nodes: Record<string, K3sNodeSteps> = {};
        const mirrors = plan.cluster.registryMirrors;
        const join = (node: NodeSpec, after: pulumi.Resource[], joinToken: pulumi.Output<string>): K3sNodeSteps => {
            const host = hosts.get(node.name)!;
            const configText = renderK3sConfig(k3sConfigFor(plan, node));
            const { prepare, booted } = prepared.get(node.name)!;
            const token = hostFile(`${name}-${node.name}-token`, host, {
                file: tokenFile(), content: joinToken, secret: true,
            }, { parent: this, dependsOn: [booted, ...after] });
            const config = hostFile(`${name}-${node.name}-config`, host, {
                file: configFile(node.name, node.role), content: configText,
            }, { parent: this, dependsOn: [booted, ...after] });
            // Mirrors in place before K3s first starts: an air-gapped node pulls nothing else.
            const registries = mirrors.length === 0 ? undefined : hostFile(`${name}-${node.name}-registries`, host, {
                file: registriesFile(node.name, node.role), content: renderRegistries(mirrors),
            }, { parent: this, dependsOn: [booted, ...after] });
            const installArgs = { role: node.role, ...plan.k3s };
            const storesSnapshots = node.role === "server" && snapshotKey !== undefined;
            const install = hostStep(`${name}-${node.name}-install`, host, {
                create: storesSnapshots
                    ? snapshotKey.stdout.apply((key) => installCommand(node.name, installArgs, snapshotAccessEnv(key, plan.sshUser)))
                    : installCommand(node.name, installArgs),
                delete: uninstallCommand(node.role),
            }, { parent: this, dependsOn: [token, config, ...registries ? [registries] : [], ...storesSnapshots ? [snapshotKey] : []] });
            // No delete: the copies outlive the server (README, "etcd snapshots").
            const snapshotCopy = !storesSnapshots ? undefined : hostStep(`${name}-${node.name}-snapshot-copy`, store!, {
                create: snapshotPullCommand({ node: node.name, address: node.ip, port: plan.ports.ssh, user: plan.sshUser, version: plan.k3s.version }),
                stdin: pulumi.output(pinnedKey(args.hostKeys, node.name, this)).apply((key) => knownHostsLine(node.ip, plan.ports.ssh, key)),
            }, { parent: this, dependsOn: [install] });
            const member = node.name === first.name ? undefined : hostStep(`${name}-${node.name}-member`, firstHost, {
                // Re-runs in place after an upgrade or a config change restarted the node.
                create: memberReadyCommand(node.name, plan.k3s.version, sha256(configText)),
                delete: memberRemoveCommand(node.name),
            }, { parent: this, dependsOn: [install, ...after] });
            return nodes[node.name] = { toolkit: host.toolkit, prepare, booted, token, config, registries, install, member, snapshotCopy };
        };

        const allBooted = [...prepared.values()].map((p) => p.booted);
        const firstSteps = join(first, allBooted, this.token);
        // The full token, read once: its command line never changes and it has no triggers,
        // so a no-op `up` runs nothing and every join's token file stays as it is.
        this.joinTokenRead = hostStep(`${name}-join-token`, firstHost, {
            create: readJoinTokenCommand(first.name), secretStdout: true,
        }, { parent: this, dependsOn: [firstSteps.install] });
        this.joinToken = pulumi.secret(pulumi.all([this.joinTokenRead.stdout, this.token])
            .apply(([printed, token]) => fullJoinToken(printed, token)));
        // Each step's dependents wait for it; the first server's install outlives every
        // other node's commands, so on destroy the first server goes last.
        let previous: pulumi.Resource = firstSteps.install;
        for (const node of serverNodes.slice(1)) {
            previous = join(node, [previous, firstSteps.install], this.joinToken).member!;
        }
        const lastServer = previous;
        const frontend = args.apiFrontend ? [args.apiFrontend(firstSteps.install)] : [];
        for (const node of plan.nodes.filter((n) => n.role === "agent")) {
            join(node, [lastServer, firstSteps.install, ...frontend], this.joinToken);
        }
        this.nodes = nodes;
        // A lost node's steps on the node itself stay as they are, never run again (its
        // `-member` step on the first server is deleted as usual: drain, delete the Node).
        for (const lost of plan.lostNodes) {
            for (const step of [...LOST_NODE_STEPS, ...mirrors.length > 0 ? ["registries"] : []]) {
                lostHostStep(`${name}-${lost}-${step}`, lost, { parent: this });
            }
        }

        // Phase 5: the kubeconfig, once every node is Ready; re-read after an upgrade (whose
        // restart may renew the certificate). Its certificate anchors the renewal dates.
        this.kubeconfigRead = hostStep(`${name}-kubeconfig`, firstHost, {
            create: readKubeconfigCommand(),
            secretStdout: true,
            triggers: [plan.k3s.version],
        }, {
            parent: this,
            dependsOn: [...Object.values(nodes).map((n) => n.member ?? n.install), ...frontend],
        });
        // Renewals due by now: an unchanged count is an unchanged command line, nothing runs.
        const now = args.now ?? new Date();
        this.kubeconfigRenew = hostStep(`${name}-kubeconfig-renew`, firstHost, {
            create: this.kubeconfigRead.stdout.apply((k) =>
                renewKubeconfigCommand(first.name, renewalsDue(clientCertificateValidity(k), now, plan.k3s.kubeconfigRenewDays))),
            secretStdout: true,
        }, { parent: this, dependsOn: [this.kubeconfigRead] });
        const current = pulumi.all([this.kubeconfigRead.stdout, this.kubeconfigRenew.stdout])
            .apply(([read, renewed]) => newestKubeconfig(read, renewed));

        this.clusterName = args.clusterName ?? `${pulumi.getProject()}-${pulumi.getStack()}`;
        const clusterName = this.clusterName;
        const server = plan.k3s.kubeconfigServer === "vip" ? vipApiUrl(plan) : apiNameUrl(plan);
        this.kubeconfig = pulumi.secret(current.apply((k) => renderKubeconfig(k, server, clusterName)));
        this.providerKubeconfig = pulumi.secret(current.apply((k) => renderKubeconfig(k, vipApiUrl(plan), clusterName)));
        this.kubeconfigExpires = pulumi.unsecret(current.apply((k) => clientCertificateValidity(k).validTo.toISOString()));
        this.apiEndpoint = this.kubeconfigRead.id.apply(() => server);

        this.registerOutputs({
            kubeconfig: this.kubeconfig, kubeconfigExpires: this.kubeconfigExpires, apiEndpoint: this.apiEndpoint,
            token: this.token, joinToken: this.joinToken,
        });
    }
}
