// The cluster half from the Kubernetes provider on, the same for the program's K3s and for
// a cluster the user already runs (homecloud:kubeconfig): the provider, MetalLB, Traefik,
// cert-manager under the home CA and, with lost nodes, the guard against their return.
// It takes a ClusterAccess: a kubeconfig, and a way to run the few steps that need
// kubectl on the first server (MetalLB's admission wait, handing Traefik's CRDs to their
// release, the issuer's Secret, whose key never leaves that server).
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { AddressPlan } from "../config/plan";
import { ClusterIssuer } from "../pki/clusterIssuer";
import { PrivateCa } from "../pki/privateCa";
import { TRAEFIK_CRDS_RELEASE } from "./helm";
import { K3sCluster } from "./k3sCluster";
import { admissionReadyCommand, adoptCrdsCommand, KubectlEnv } from "./k3sSteps";
import { LostNodeGuard } from "./lostNodeGuard";
import { MetalLB } from "./metallb";
import { Traefik, TRAEFIK_NAMESPACE } from "./traefik";

/** What the Kubernetes half needs of a cluster. */
export interface ClusterAccess {
    /** Admin kubeconfig the program's provider uses; a secret. */
    readonly providerKubeconfig: pulumi.Output<string>;
    /** The provider's cluster identifier: a new kubeconfig under it updates the provider, never replaces what it manages. */
    readonly clusterIdentifier: string;
    /** What exists once the API answers to the first server's kubectl (K3s: the kubeconfig read). */
    readonly apiReady: pulumi.Resource[];
    /** How a first-server step's kubectl reaches the API. */
    readonly kubectlEnv: KubectlEnv;
    /** A step `<name>-<id>` on the first server once `apiReady` (no delete): `create` with `stdin`. */
    onFirstServer(id: string, create: string, after?: pulumi.Input<pulumi.Resource>[], stdin?: pulumi.Input<string>): pulumi.Resource;
}

/** The program's K3s as a ClusterAccess: through the VIP, its steps on its first server. */
export function k3sAccess(cluster: K3sCluster): ClusterAccess {
    return {
        providerKubeconfig: cluster.providerKubeconfig,
        clusterIdentifier: cluster.clusterName,
        apiReady: [cluster.kubeconfigRead],
        kubectlEnv: {},
        onFirstServer: (id, create, after, stdin) => cluster.onFirstServer(id, create, after, stdin),
    };
}

export interface KubernetesHalf {
    readonly provider: k8s.Provider;
    readonly metallb: MetalLB;
    readonly traefik: Traefik;
    readonly issuer: ClusterIssuer;
    readonly lostNodeGuard?: LostNodeGuard;
}

/**
 * Everything from the Kubernetes provider on. Names and parents are those the program has
 * always used (provider `k3s`, components at the top level), so a K3s stack's URNs stay as
 * they were, and a stack moved to homecloud:kubeconfig on the same cluster keeps its objects.
 */
export function deployKubernetes(plan: AddressPlan, ca: PrivateCa, access: ClusterAccess): KubernetesHalf {
    const provider = new k8s.Provider("k3s", { kubeconfig: access.providerKubeconfig, clusterIdentifier: access.clusterIdentifier });
    const providers = { providers: { kubernetes: provider } };
    const chartRepository = plan.cluster.chartRepository;
    const metallb = new MetalLB("metallb", {
        pool: plan.metallbPool,
        chartRepository,
        admissionCheck: (manifest, release) => access.onFirstServer("accepts-metallb-pool",
            admissionReadyCommand("MetalLB's address pool and L2 advertisement", access.kubectlEnv), [release], manifest),
    }, providers);
    // CRDs the Traefik chart itself installed (stacks from before the CRDs chart) go to the CRDs release.
    const adopted = access.onFirstServer("adopt-traefik-crds",
        adoptCrdsCommand(TRAEFIK_CRDS_RELEASE, TRAEFIK_NAMESPACE, "traefik.io", "hub", access.kubectlEnv));
    const traefik = new Traefik("traefik", {
        loadBalancerIp: plan.ingressIp, chartRepository, waitFor: metallb.ready, crdsWaitFor: [adopted],
    }, providers);
    const issuer = new ClusterIssuer("cert-manager", {
        plan, ca, clusterReady: access.apiReady, traefik, chartRepository, kubectlEnv: access.kubectlEnv,
    }, providers);
    // A lost Pi that comes back with K3s still installed must not rejoin by itself.
    const lostNodeGuard = plan.lostNodes.length === 0 ? undefined
        : new LostNodeGuard("lost-nodes", { lostNodes: plan.lostNodes, waitFor: access.apiReady }, providers);
    return { provider, metallb, traefik, issuer, ...lostNodeGuard ? { lostNodeGuard } : {} };
}
