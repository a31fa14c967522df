// ExistingCluster: a cluster the user already runs (K3s by hand or k3sup, kubeadm, k0s),
// given as homecloud:kubeconfig, in place of K3sCluster. Nothing is installed or changed on
// its nodes but, on the first server in homecloud:nodes (a control-plane node of it):
//
//   toolkit (the cluster scripts) → the kubeconfig, root-only (/etc/homecloud/kubeconfig)
//
// so that the steps that need kubectl there (cluster/kubernetesHalf.ts) run as with K3s,
// with the node's own kubectl. The node already holds admin credentials of its cluster, so
// the file adds none; the issuer's key stays on it as with K3s.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { AddressPlan, servers } from "../config/plan";
import { Host, hostFile, hostStep, hostToolkit, pinnedKey } from "../host/hostOps";
import { HostFileSpec } from "../host/hostFile";
import { scriptsIn } from "../host/toolkit";
import { KubectlEnv } from "./k3sSteps";
import { ClusterAccess } from "./kubernetesHalf";

export const EXISTING_KUBECONFIG_PATH = "/etc/homecloud/kubeconfig";

/** The kubeconfig on the first server: the steps' kubectl reads it, nobody but root can. */
export function existingKubeconfigFile(): HostFileSpec {
    return { path: EXISTING_KUBECONFIG_PATH, mode: "0600" };
}

export interface ExistingClusterArgs {
    /** The validated plan, with `cluster.existing` set. */
    readonly plan: AddressPlan;
    /** homecloud:kubeconfig (a secret). */
    readonly kubeconfig: pulumi.Output<string>;
    readonly sshPrivateKey: pulumi.Input<string>;
    /** Each host's pinned SSH host key, by name (HostKeys.byHost). */
    readonly hostKeys: Readonly<Record<string, pulumi.Input<string>>>;
    /** What the first step waits for (the gateway). */
    readonly waitFor?: pulumi.Input<pulumi.Resource>[];
}

export class ExistingCluster extends pulumi.ComponentResource implements ClusterAccess {
    public readonly providerKubeconfig: pulumi.Output<string>;
    public readonly clusterIdentifier: string;
    public readonly apiReady: pulumi.Resource[];
    public readonly kubectlEnv: KubectlEnv = { HC_KUBECONFIG: EXISTING_KUBECONFIG_PATH };
    /** The kubeconfig on the first server. */
    public readonly kubeconfigFile: command.remote.Command;
    /** The API server the kubeconfig names. */
    public readonly apiEndpoint: string;

    private readonly host: Host;
    private readonly firstName: string;
    private readonly stepName: string;

    constructor(name: string, args: ExistingClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud:k8s:ExistingCluster", name, {}, opts);
        const { plan } = args;
        if (!plan.cluster.existing) {
            throw new pulumi.ResourceError("homecloud:kubeconfig is not set; ExistingCluster needs it", this);
        }
        const first = servers(plan)[0];
        this.firstName = first.name;
        this.stepName = name;
        this.host = hostToolkit(`${name}-${first.name}-toolkit`, {
            host: first.ip, port: plan.ports.ssh, user: plan.sshUser, privateKey: pulumi.secret(args.sshPrivateKey),
            hostKey: pinnedKey(args.hostKeys, first.name, this),
        }, scriptsIn("cluster"), { parent: this, dependsOn: args.waitFor });
        this.kubeconfigFile = hostFile(`${name}-${first.name}-kubeconfig`, this.host, {
            file: existingKubeconfigFile(), content: args.kubeconfig, secret: true,
        }, { parent: this });
        this.providerKubeconfig = pulumi.secret(args.kubeconfig);
        this.clusterIdentifier = `${pulumi.getProject()}-${pulumi.getStack()}`;
        this.apiReady = [this.kubeconfigFile];
        this.apiEndpoint = plan.cluster.existing.server;
        this.registerOutputs({ apiEndpoint: this.apiEndpoint });
    }

    public onFirstServer(id: string, create: string, after: pulumi.Input<pulumi.Resource>[] = [], stdin?: pulumi.Input<string>): command.remote.Command {
        return hostStep(`${this.stepName}-${id}`, this.host, { create, stdin }, { parent: this, dependsOn: [this.kubeconfigFile, ...after] });
    }

    /** Every step on `node` itself: the first server's toolkit and kubeconfig. */
    public stepsOn(node: string): command.remote.Command[] {
        return node === this.firstName ? [this.host.toolkit, this.kubeconfigFile] : [];
    }
}
