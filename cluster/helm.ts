// Helm values and custom resources for the cluster add-ons (MetalLB, Traefik). Pure: no
// Pulumi import; typed values in, plain objects out.
import * as YAML from "yaml";
import { IpRange, isIPv4 } from "../config/plan";
import { INGRESS_HTTP_PORT, INGRESS_HTTPS_PORT } from "../config/ports";

/** How long a Helm install or upgrade may take before it is rolled back (atomic releases). */
export const HELM_TIMEOUT_SECONDS = 600;

/** A chart pinned to one version in one repository. */
export interface ChartRef {
    readonly chart: string;
    readonly repo: string;
    readonly version: string;
}

/**
 * MetalLB 0.15.3 (December 2025): the newest release of the maintained 0.15 line; 0.14 is
 * end of life. Its CRDs (metallb.io/v1beta1 IPAddressPool, L2Advertisement) ship with it.
 */
export const METALLB_CHART: ChartRef = Object.freeze({
    chart: "metallb",
    repo: "https://metallb.github.io/metallb",
    version: "0.15.3",
});

/**
 * Traefik chart 37.3.0 (November 2025, Traefik Proxy v3.6.0). Move to a newer major
 * deliberately, reading its release notes against the values below.
 */
export const TRAEFIK_CHART: ChartRef = Object.freeze({
    chart: "traefik",
    repo: "https://traefik.github.io/charts",
    version: "37.3.0",
});

/**
 * traefik-crds 1.12.0: Traefik's CRDs as a chart of their own, released with traefik 37.3.0
 * (traefik-helm-chart, "publish traefik 37.3.0 and 1.12.0"). Helm installs a chart's crds/
 * once and never upgrades them; the Traefik chart's README recommends this chart plus
 * `--skip-crds` on the main one, so that a chart bump brings its CRDs. Bump both together.
 */
export const TRAEFIK_CRDS_CHART: ChartRef = Object.freeze({
    chart: "traefik-crds",
    repo: TRAEFIK_CHART.repo,
    version: "1.12.0",
});

/** Release name of the CRDs chart (the CRDs' Helm ownership annotations name it). */
export const TRAEFIK_CRDS_RELEASE = "traefik-crds";

export const METALLB_NAMESPACE = "metallb-system";
/** Name of the one IPAddressPool and L2Advertisement the program manages. */
export const METALLB_POOL_NAME = "homecloud";
/** The annotation MetalLB (0.14.9+) reads a Service's requested address from; `metallb.universe.tf/…` is deprecated. */
export const METALLB_LB_IPS_ANNOTATION = "metallb.io/loadBalancerIPs";

/** Objects as one multi-document YAML manifest (`kubectl apply -f` reads it). */
export function manifestYaml(objects: readonly object[]): string {
    return objects.map((o) => YAML.stringify(o)).join("---\n");
}

/** Helm values as the chart reads them. */
export type HelmValues = { readonly [key: string]: unknown };

/**
 * Pod Security labels for a namespace whose pods need host networking and NET_RAW
 * (MetalLB's speaker answers ARP on the node's interface).
 */
export function privilegedNamespaceLabels(): Record<string, string> {
    return {
        "pod-security.kubernetes.io/enforce": "privileged",
        "pod-security.kubernetes.io/audit": "privileged",
        "pod-security.kubernetes.io/warn": "privileged",
    };
}

/** The MetalLB values this program sets. */
export interface MetalLBValues {
    readonly crds: { readonly enabled: boolean };
    /** Layer 2 only: the speaker runs without its FRR (BGP) sidecar, lighter on a Pi. */
    readonly speaker: { readonly frr: { readonly enabled: boolean } };
}

export function metallbValues(): MetalLBValues {
    return { crds: { enabled: true }, speaker: { frr: { enabled: false } } };
}

export interface TraefikValuesArgs {
    /** Fixed LoadBalancer address for Traefik's Service, inside the MetalLB pool. */
    readonly loadBalancerIp: string;
}

interface TraefikPort {
    /** Port on the LoadBalancer Service. */
    readonly exposedPort: number;
    readonly expose: { readonly default: boolean };
}

/** The Traefik values this program sets. */
export interface TraefikValues {
    readonly service: {
        readonly type: "LoadBalancer";
        readonly annotations: Readonly<Record<string, string>>;
    };
    readonly ports: {
        readonly web: TraefikPort;
        readonly websecure: TraefikPort;
        /** Traefik's own API/dashboard entry point: never on the Service. */
        readonly traefik: { readonly expose: { readonly default: boolean } };
    };
    readonly ingressRoute: { readonly dashboard: { readonly enabled: boolean } };
}

/**
 * Traefik behind a LoadBalancer Service that MetalLB gives a fixed address (through the
 * annotation; `spec.loadBalancerIP` is deprecated since Kubernetes 1.24), HTTP on 80 and
 * HTTPS on 443, and the dashboard not exposed.
 */
export function traefikValues(a: TraefikValuesArgs): TraefikValues {
    if (!isIPv4(a.loadBalancerIp)) {
        throw new RangeError(`Traefik loadBalancerIp ${JSON.stringify(a.loadBalancerIp)} is not an IPv4 address`);
    }
    return {
        service: { type: "LoadBalancer", annotations: { [METALLB_LB_IPS_ANNOTATION]: a.loadBalancerIp } },
        ports: {
            web: { exposedPort: INGRESS_HTTP_PORT, expose: { default: true } },
            websecure: { exposedPort: INGRESS_HTTPS_PORT, expose: { default: true } },
            traefik: { expose: { default: false } },
        },
        ingressRoute: { dashboard: { enabled: false } },
    };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The `values` escape hatch: `override` merged into `base`, objects key by key, anything
 * else (lists, scalars, null) replacing what was there. Neither input is modified.
 */
export function deepMerge(base: HelmValues, override: HelmValues | undefined): HelmValues {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(override ?? {})) {
        const b = out[k];
        out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
    }
    return out;
}

/** A Kubernetes object as plain data (apiVersion, kind, metadata, spec). */
export interface Manifest {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: { readonly name: string; readonly namespace: string };
    readonly spec: Readonly<Record<string, unknown>>;
}

/** The MetalLB address pool: one range, handed out first come first served. */
export function ipAddressPool(a: { name: string; namespace: string; range: IpRange }): Manifest {
    if (!isIPv4(a.range.start) || !isIPv4(a.range.end)) {
        throw new RangeError(`MetalLB pool ${JSON.stringify(a.range)} must be two IPv4 addresses`);
    }
    return {
        apiVersion: "metallb.io/v1beta1",
        kind: "IPAddressPool",
        metadata: { name: a.name, namespace: a.namespace },
        spec: { addresses: [`${a.range.start}-${a.range.end}`] },
    };
}

/** Announces the pools' addresses on the LAN with ARP (layer 2 mode). */
export function l2Advertisement(a: { name: string; namespace: string; pools: readonly string[] }): Manifest {
    return {
        apiVersion: "metallb.io/v1beta1",
        kind: "L2Advertisement",
        metadata: { name: a.name, namespace: a.namespace },
        spec: { ipAddressPools: [...a.pools] },
    };
}
