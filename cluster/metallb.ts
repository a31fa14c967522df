// MetalLB: the LoadBalancer implementation of the cluster, in layer 2 mode, handing out
// addresses from the plan's pool. The Kubernetes provider comes from the caller
// (`opts.providers: { kubernetes: provider }` or `opts.provider`); none is created here.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { IpRange } from "../config/plan";
import {
    deepMerge, HELM_TIMEOUT_SECONDS, HelmValues, ipAddressPool, manifestYaml, l2Advertisement, METALLB_CHART, METALLB_NAMESPACE, METALLB_POOL_NAME,
    metallbValues, privilegedNamespaceLabels,
} from "./helm";

export interface MetalLBArgs {
    /** The addresses MetalLB may hand out, e.g. `plan.metallbPool`. */
    readonly pool: IpRange;
    /** Helm repository of the chart (homecloud:chartRepository); default `METALLB_CHART.repo`. */
    readonly chartRepository?: string;
    /** Chart version; default `METALLB_CHART.version`. */
    readonly chartVersion?: string;
    /** Extra Helm values, deep-merged over the typed ones (objects merge, anything else replaces). */
    readonly values?: HelmValues;
    /**
     * What the pool and advertisement wait for after the release: given their manifest and
     * the release, a resource that exists once the API server accepts them (MetalLB's
     * validating webhook serves), e.g. `K3sCluster.whenAccepted`. Without it they wait for
     * the release only.
     */
    readonly admissionCheck?: (manifest: string, release: pulumi.Resource) => pulumi.Resource;
}

/** MetalLB from its Helm chart, plus one IPAddressPool and its L2Advertisement. */
export class MetalLB extends pulumi.ComponentResource {
    public readonly namespace: k8s.core.v1.Namespace;
    public readonly release: k8s.helm.v3.Release;
    public readonly addressPool: k8s.apiextensions.CustomResource;
    public readonly l2Advertisement: k8s.apiextensions.CustomResource;
    /** Pool and advertisement: what a LoadBalancer Service should wait for to get its address. */
    public readonly ready: pulumi.Resource[];
    /** The pool as `first-last`, once it exists. */
    public readonly poolRange: pulumi.Output<string>;

    constructor(name: string, args: MetalLBArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud:k8s:MetalLB", name, {}, opts);
        this.namespace = new k8s.core.v1.Namespace(`${name}-namespace`, {
            metadata: { name: METALLB_NAMESPACE, labels: privilegedNamespaceLabels() },
        }, { parent: this });
        const namespace = this.namespace.metadata.name;
        this.release = new k8s.helm.v3.Release(`${name}-release`, {
            name: "metallb",
            chart: METALLB_CHART.chart,
            version: args.chartVersion ?? METALLB_CHART.version,
            repositoryOpts: { repo: args.chartRepository ?? METALLB_CHART.repo },
            namespace,
            values: deepMerge(metallbValues() as unknown as HelmValues, args.values),
            // Wait until every resource is ready (the controller serves the validating
            // webhook the pool below goes through), roll back on failure.
            atomic: true,
            cleanupOnFail: true,
            waitForJobs: true,
            timeout: HELM_TIMEOUT_SECONDS,
        }, { parent: this });
        const pool = ipAddressPool({ name: METALLB_POOL_NAME, namespace: METALLB_NAMESPACE, range: args.pool });
        const l2 = l2Advertisement({ name: METALLB_POOL_NAME, namespace: METALLB_NAMESPACE, pools: [METALLB_POOL_NAME] });
        // The release is ready once its pods are (the controller's readiness probe is
        // /readyz on 17472 in charts/metallb/templates/controller.yaml), not once its webhook
        // server (9443) answers; the provider does not retry a refusal.
        const accepted = args.admissionCheck?.(manifestYaml([pool, l2]), this.release);
        const after = [this.release, ...accepted ? [accepted] : []];
        this.addressPool = new k8s.apiextensions.CustomResource(`${name}-pool`, {
            ...pool, metadata: { ...pool.metadata, namespace },
        }, { parent: this, dependsOn: after });
        this.l2Advertisement = new k8s.apiextensions.CustomResource(`${name}-l2`, {
            ...l2, metadata: { ...l2.metadata, namespace },
        }, { parent: this, dependsOn: [...after, this.addressPool] });
        this.ready = [this.addressPool, this.l2Advertisement];
        this.poolRange = pulumi.all([this.addressPool.id, this.l2Advertisement.id]).apply(() => `${args.pool.start}-${args.pool.end}`);
        this.registerOutputs({ poolRange: this.poolRange });
    }
}
