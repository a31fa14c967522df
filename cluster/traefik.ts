// Traefik: the cluster's ingress controller from its Helm chart, behind a LoadBalancer
// Service that MetalLB gives the plan's fixed ingress address. The Kubernetes provider
// comes from the caller (`opts.providers: { kubernetes: provider }` or `opts.provider`).
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { isIPv4 } from "../config/plan";
import {
    deepMerge, HELM_TIMEOUT_SECONDS, HelmValues, TRAEFIK_CHART, TRAEFIK_CRDS_CHART, TRAEFIK_CRDS_RELEASE, traefikValues,
} from "./helm";

export const TRAEFIK_NAMESPACE = "traefik";

export interface TraefikArgs {
    /** LoadBalancer address of Traefik's Service, inside the MetalLB pool (`plan.ingressIp`). */
    readonly loadBalancerIp: string;
    /** Namespace created for Traefik; default `traefik`. */
    readonly namespace?: string;
    /** Helm repository of both charts (homecloud:chartRepository); default `TRAEFIK_CHART.repo`. */
    readonly chartRepository?: string;
    /** Chart version; default `TRAEFIK_CHART.version`. */
    readonly chartVersion?: string;
    /** The CRDs chart's version, released with `chartVersion`; default `TRAEFIK_CRDS_CHART.version`. */
    readonly crdsChartVersion?: string;
    /** Extra Helm values, deep-merged over the typed ones (objects merge, anything else replaces). */
    readonly values?: HelmValues;
    /** What the release waits for so its Service gets its address: MetalLB's `ready` resources. */
    readonly waitFor?: pulumi.Input<pulumi.Resource>[];
    /**
     * What the CRDs release waits for: on a cluster whose CRDs the main chart installed, the
     * step that hands them to the CRDs release (`k3s-node.sh adopt-crds`).
     */
    readonly crdsWaitFor?: pulumi.Input<pulumi.Resource>[];
}

/** Traefik serving HTTP (80) and HTTPS (443) on a fixed MetalLB address; dashboard not exposed. */
export class Traefik extends pulumi.ComponentResource {
    public readonly namespace: k8s.core.v1.Namespace;
    public readonly release: k8s.helm.v3.Release;
    /** Traefik's CRDs, from their own chart (upgraded with it, kept on uninstall). */
    public readonly crds: k8s.helm.v3.Release;
    /** The Service's address, once the release is deployed. */
    public readonly loadBalancerIp: pulumi.Output<string>;

    constructor(name: string, args: TraefikArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud:k8s:Traefik", name, {}, opts);
        if (!isIPv4(args.loadBalancerIp)) {
            throw new pulumi.ResourceError(
                `loadBalancerIp ${JSON.stringify(args.loadBalancerIp)} is not an IPv4 address; use homecloud:ingressIp`, this);
        }
        this.namespace = new k8s.core.v1.Namespace(`${name}-namespace`, {
            metadata: { name: args.namespace ?? TRAEFIK_NAMESPACE },
        }, { parent: this });
        this.crds = new k8s.helm.v3.Release(`${name}-crds`, {
            name: TRAEFIK_CRDS_RELEASE,
            chart: TRAEFIK_CRDS_CHART.chart,
            version: args.crdsChartVersion ?? TRAEFIK_CRDS_CHART.version,
            repositoryOpts: { repo: args.chartRepository ?? TRAEFIK_CRDS_CHART.repo },
            namespace: this.namespace.metadata.name,
            atomic: true,
            cleanupOnFail: true,
            timeout: HELM_TIMEOUT_SECONDS,
        }, { parent: this, dependsOn: args.crdsWaitFor });
        this.release = new k8s.helm.v3.Release(`${name}-release`, {
            name: "traefik",
            chart: TRAEFIK_CHART.chart,
            version: args.chartVersion ?? TRAEFIK_CHART.version,
            repositoryOpts: { repo: args.chartRepository ?? TRAEFIK_CHART.repo },
            namespace: this.namespace.metadata.name,
            values: deepMerge(traefikValues({ loadBalancerIp: args.loadBalancerIp }) as unknown as HelmValues, args.values),
            // The CRDs come from the CRDs release, which upgrades them; the chart's crds/ would
            // only ever be installed once.
            skipCrds: true,
            atomic: true,
            cleanupOnFail: true,
            waitForJobs: true,
            timeout: HELM_TIMEOUT_SECONDS,
        }, { parent: this, dependsOn: [...args.waitFor ?? [], this.crds] });
        this.loadBalancerIp = this.release.status.apply(() => args.loadBalancerIp);
        this.registerOutputs({ loadBalancerIp: this.loadBalancerIp });
    }
}
