// ClusterIssuer: cert-manager rooted in the gateway's CA. In order, each after what it needs:
//
//   namespace → release (cert-manager, CRDs from the chart)
//   intermediate key (first server, CSR out) → signed on the gateway (CA profile, constrained
//     to the domain and LAN) → Secret (first server, kubectl: the key goes from the server's
//     disk to the API server only)
//   ClusterIssuer (after release and Secret) → wildcard Certificate in Traefik's namespace
//     → Traefik's default TLSStore (after Traefik's release, which brings its CRD)
//
// The Kubernetes provider comes from the caller (`opts.providers: { kubernetes: provider }`).
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import { AddressPlan, servers } from "../config/plan";
import { deepMerge, HELM_TIMEOUT_SECONDS, HelmValues } from "../cluster/helm";
import { hostStep } from "../host/hostOps";
import {
    CERT_MANAGER_CHART, CERT_MANAGER_NAMESPACE, certManagerValues, clusterIssuer, intermediateDays, ISSUER_SECRET_NAME,
    traefikDefaultTlsStore, wildcardCertificate,
} from "./certManager";
import {
    CLUSTER_ISSUER_LABEL, issuerSecretCommand, keyForgetCommand, keyRequestCommand, pemSha256, pemText, permittedNames,
    signCommand, unsignCommand,
} from "./pkiSteps";
import { PrivateCa } from "./privateCa";

export interface ClusterIssuerArgs {
    readonly plan: AddressPlan;
    /** The gateway's CA, with the PKI toolkit on every host. */
    readonly ca: PrivateCa;
    /** What the Secret step waits for: the cluster's API reachable from the first server (K3s: its kubeconfig read). */
    readonly clusterReady: pulumi.Input<pulumi.Resource>[];
    /** Traefik's namespace and release (the TLSStore CRD comes with it). */
    readonly traefik: { readonly namespace: k8s.core.v1.Namespace; readonly release: k8s.helm.v3.Release };
    /** Helm repository of the chart (homecloud:chartRepository); default `CERT_MANAGER_CHART.repo`. */
    readonly chartRepository?: string;
    /** How the Secret step on the first server reaches the API (cluster/k3sSteps.ts KubectlEnv); default K3s' own. */
    readonly kubectlEnv?: Readonly<Record<string, string>>;
    /** Chart version; default `CERT_MANAGER_CHART.version`. */
    readonly chartVersion?: string;
    /** Extra Helm values, deep-merged over the typed ones. */
    readonly values?: HelmValues;
}

/** cert-manager with a CA ClusterIssuer under the gateway's CA, and Traefik's default certificate from it. */
export class ClusterIssuer extends pulumi.ComponentResource {
    public readonly namespace: k8s.core.v1.Namespace;
    public readonly release: k8s.helm.v3.Release;
    /** On the first server: the intermediate's key and CSR. */
    public readonly intermediateKey: command.remote.Command;
    /** On the gateway: the intermediate's certificate. */
    public readonly intermediateSign: command.remote.Command;
    /** On the first server: the issuer's Secret. */
    public readonly secret: command.remote.Command;
    public readonly issuer: k8s.apiextensions.CustomResource;
    public readonly certificate: k8s.apiextensions.CustomResource;
    public readonly tlsStore: k8s.apiextensions.CustomResource;

    constructor(name: string, args: ClusterIssuerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud:pki:ClusterIssuer", name, {}, opts);
        const { plan, ca } = args;
        const first = servers(plan)[0];
        const firstHost = ca.hosts.get(first.name);
        if (!firstHost) {
            throw new pulumi.ResourceError(`the first server ${first.name} has no PKI toolkit`, this);
        }
        this.namespace = new k8s.core.v1.Namespace(`${name}-namespace`, {
            metadata: { name: CERT_MANAGER_NAMESPACE },
        }, { parent: this });
        this.release = new k8s.helm.v3.Release(`${name}-release`, {
            name: "cert-manager",
            chart: CERT_MANAGER_CHART.chart,
            version: args.chartVersion ?? CERT_MANAGER_CHART.version,
            repositoryOpts: { repo: args.chartRepository ?? CERT_MANAGER_CHART.repo },
            namespace: this.namespace.metadata.name,
            values: deepMerge(certManagerValues() as unknown as HelmValues, args.values),
            // The webhook must answer before any issuer or certificate is accepted.
            atomic: true,
            cleanupOnFail: true,
            waitForJobs: true,
            timeout: HELM_TIMEOUT_SECONDS,
        }, { parent: this });

        const id = `${first.name}-${CLUSTER_ISSUER_LABEL}`;
        this.intermediateKey = hostStep(`${name}-intermediate-key`, firstHost, {
            create: keyRequestCommand(CLUSTER_ISSUER_LABEL, `homecloud cluster issuer ${plan.domain}`),
            delete: keyForgetCommand(CLUSTER_ISSUER_LABEL),
        }, { parent: this, dependsOn: [ca.trust[first.name]] });
        this.intermediateSign = hostStep(`${name}-intermediate-sign`, ca.gateway, {
            create: ca.ca.stdout.apply((pem) => signCommand({
                name: id, profile: "intermediate", permitted: permittedNames(plan), days: intermediateDays(plan),
                issue: ca.issue, caSha256: pemSha256(pem),
            })),
            delete: unsignCommand(id),
            stdin: this.intermediateKey.stdout.apply(pemText),
        }, { parent: this, dependsOn: [ca.ca, this.intermediateKey] });
        this.secret = hostStep(`${name}-issuer-secret`, firstHost, {
            create: issuerSecretCommand("install", CERT_MANAGER_NAMESPACE, ISSUER_SECRET_NAME, args.kubectlEnv),
            delete: issuerSecretCommand("remove", CERT_MANAGER_NAMESPACE, ISSUER_SECRET_NAME, args.kubectlEnv),
            stdin: this.intermediateSign.stdout.apply(pemText),
        }, { parent: this, dependsOn: [this.namespace, this.intermediateKey, ...args.clusterReady] });

        this.issuer = new k8s.apiextensions.CustomResource(`${name}-issuer`, clusterIssuer(), {
            parent: this, dependsOn: [this.release, this.secret],
        });
        const wildcard = wildcardCertificate(plan, "traefik");
        this.certificate = new k8s.apiextensions.CustomResource(`${name}-wildcard`, {
            ...wildcard, metadata: { ...wildcard.metadata, namespace: args.traefik.namespace.metadata.name },
        }, { parent: this, dependsOn: [this.issuer, args.traefik.namespace] });
        const store = traefikDefaultTlsStore("traefik");
        this.tlsStore = new k8s.apiextensions.CustomResource(`${name}-tls-store`, {
            ...store, metadata: { ...store.metadata, namespace: args.traefik.namespace.metadata.name },
        }, { parent: this, dependsOn: [this.certificate, args.traefik.release] });
        this.registerOutputs({});
    }
}
