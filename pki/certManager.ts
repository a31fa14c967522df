// The cluster half's pure part: cert-manager's chart and values, and the objects that root
// the cluster's certificates in the gateway's CA (a CA ClusterIssuer on an intermediate,
// the wildcard certificate, Traefik's default TLS store). Pure: no Pulumi import.
import { AddressPlan } from "../config/plan";
import { ChartRef, Manifest } from "../cluster/helm";

/**
 * cert-manager 1.21.2: the newest release of the maintained 1.21 line (its chart's
 * versions carry the `v`). The chart installs its CRDs when `crds.enabled` is set (the
 * `installCRDs` value is deprecated), and `crds.keep` annotates them
 * `helm.sh/resource-policy: keep`, so uninstalling the release never deletes every
 * Certificate in the cluster with them.
 */
export const CERT_MANAGER_CHART: ChartRef = Object.freeze({
    chart: "cert-manager",
    repo: "https://charts.jetstack.io",
    version: "v1.21.2",
});

/** cert-manager's namespace, also its cluster resource namespace: where a ClusterIssuer's Secret must be. */
export const CERT_MANAGER_NAMESPACE = "cert-manager";
/** The ClusterIssuer every workload can name (`cert-manager.io/cluster-issuer: homecloud`). */
export const CLUSTER_ISSUER_NAME = "homecloud";
/** The Secret holding the intermediate CA (tls.crt: intermediate then root; tls.key). */
export const ISSUER_SECRET_NAME = "homecloud-issuer-ca";
/** The wildcard certificate's Secret in Traefik's namespace. */
export const WILDCARD_SECRET_NAME = "homecloud-wildcard-tls";

export interface CertManagerValues {
    readonly crds: { readonly enabled: boolean; readonly keep: boolean };
}

export function certManagerValues(): CertManagerValues {
    return { crds: { enabled: true, keep: true } };
}

/**
 * The intermediate's lifetime: twice a leaf's. It is re-signed (same key) on the same
 * schedule as every other certificate, so a leaf cert-manager signed with it never outlives it.
 */
export const intermediateDays = (plan: AddressPlan): number => 2 * plan.pki.lifetimeDays;

/** A cluster-scoped object (no namespace). */
export interface ClusterManifest {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: { readonly name: string };
    readonly spec: Readonly<Record<string, unknown>>;
}

/** A ClusterIssuer of type CA on the intermediate's Secret. */
export function clusterIssuer(): ClusterManifest {
    return {
        apiVersion: "cert-manager.io/v1",
        kind: "ClusterIssuer",
        metadata: { name: CLUSTER_ISSUER_NAME },
        spec: { ca: { secretName: ISSUER_SECRET_NAME } },
    };
}

/**
 * The certificate for `*.<domain>` (and the domain itself) that Traefik serves by default,
 * renewed by cert-manager with a third of its lifetime left, as the gateway renews its own.
 */
export function wildcardCertificate(plan: AddressPlan, namespace: string): Manifest {
    const hours = (days: number): string => `${days * 24}h`;
    return {
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: { name: "homecloud-wildcard", namespace },
        spec: {
            secretName: WILDCARD_SECRET_NAME,
            commonName: `*.${plan.domain}`,
            dnsNames: [`*.${plan.domain}`, plan.domain],
            duration: hours(plan.pki.lifetimeDays),
            renewBefore: hours(Math.floor(plan.pki.lifetimeDays / 3)),
            privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
            issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: CLUSTER_ISSUER_NAME },
        },
    };
}

/** Traefik's default TLS store (it must be named `default`): the wildcard certificate. */
export function traefikDefaultTlsStore(namespace: string): Manifest {
    return {
        apiVersion: "traefik.io/v1alpha1",
        kind: "TLSStore",
        metadata: { name: "default", namespace },
        spec: { defaultCertificate: { secretName: WILDCARD_SECRET_NAME } },
    };
}
