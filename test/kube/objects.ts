// The Kubernetes objects a run of the program declares (taken from the resources it
// registered under the mocks, not retyped), and how to hand objects to the API server the
// way the Kubernetes provider does: server-side apply, with strict field validation.
import { RecordedResource } from "../mocks";
import { KubeApiServer, ApiAnswer } from "./apiserver";

/** A Kubernetes object as plain data. */
export interface KubeObject {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; [k: string]: unknown };
    [k: string]: unknown;
}

/** A Helm release as the program declares it. */
export interface ReleaseDecl {
    readonly resource: string;
    readonly name: string;
    readonly chart: string;
    readonly version: string;
    readonly namespace: string;
    readonly values: Record<string, unknown>;
}

/** The mark the SDK puts on a secret input value. */
const SIG_KEY = "4dabf18193072939515e22adb298388d";

/** An input with Pulumi's secret marks taken off. */
export function plain(v: any): any {
    if (typeof v === "object" && v !== null && SIG_KEY in v) {
        return plain(v.value);
    }
    if (Array.isArray(v)) {
        return v.map(plain);
    }
    if (typeof v === "object" && v !== null) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    }
    return v;
}

const RELEASE = "kubernetes:helm.sh/v3:Release";

/** Every Kubernetes object the run declares itself (Namespaces first), and its Helm releases. */
export function declaredObjects(resources: readonly RecordedResource[]): { objects: { resource: string; object: KubeObject }[]; releases: ReleaseDecl[] } {
    const kube = resources.filter((r) => r.type.startsWith("kubernetes:") && r.type !== RELEASE);
    const objects = kube.map((r) => {
        const object = plain(r.inputs) as KubeObject;
        // The resource's type token says which apiVersion and kind the provider sends.
        const token = `kubernetes:${object.apiVersion.includes("/") ? object.apiVersion : `core/${object.apiVersion}`}:${object.kind}`;
        if (r.type !== token) {
            throw new Error(`${r.name}: type ${r.type} does not match apiVersion ${object.apiVersion} kind ${object.kind}`);
        }
        return { resource: r.name, object };
    });
    objects.sort((a, b) => Number(b.object.kind === "Namespace") - Number(a.object.kind === "Namespace"));
    const releases = resources.filter((r) => r.type === RELEASE).map((r) => {
        const i = plain(r.inputs);
        return { resource: r.name, name: i.name, chart: i.chart, version: i.version, namespace: i.namespace, values: i.values ?? {} };
    });
    return { objects, releases };
}

interface ApiResource {
    readonly name: string;
    readonly namespaced: boolean;
}

/** Talks to the API server as the Kubernetes provider does (server-side apply), resource paths found by discovery. */
export class KubeClient {
    private readonly discovered = new Map<string, Map<string, ApiResource>>();

    constructor(readonly server: KubeApiServer) {}

    private async resourcesOf(apiVersion: string, refresh = false): Promise<Map<string, ApiResource>> {
        if (!refresh && this.discovered.has(apiVersion)) {
            return this.discovered.get(apiVersion)!;
        }
        const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
        const a = await this.server.request("GET", base);
        const byKind = new Map<string, ApiResource>();
        if (a.status === 200) {
            for (const r of a.json.resources as { name: string; kind: string; namespaced: boolean }[]) {
                if (!r.name.includes("/")) {
                    byKind.set(r.kind, { name: r.name, namespaced: r.namespaced });
                }
            }
        }
        this.discovered.set(apiVersion, byKind);
        return byKind;
    }

    /** The object's URL, or undefined when the server serves no such apiVersion and kind. */
    async pathOf(o: KubeObject, defaultNamespace?: string): Promise<string | undefined> {
        const base = o.apiVersion.includes("/") ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
        const r = (await this.resourcesOf(o.apiVersion)).get(o.kind) ?? (await this.resourcesOf(o.apiVersion, true)).get(o.kind);
        if (!r) {
            return undefined;
        }
        const ns = o.metadata.namespace ?? defaultNamespace;
        if (r.namespaced && !ns) {
            throw new Error(`${o.kind} ${o.metadata.name} is namespaced but has no namespace`);
        }
        return `${base}${r.namespaced ? `/namespaces/${ns}` : ""}/${r.name}/${encodeURIComponent(o.metadata.name)}`;
    }

    /** A plain create (POST) with strict field validation, as a client without server-side apply sends it. */
    async create(o: KubeObject, opts: { dryRun?: boolean } = {}): Promise<ApiAnswer> {
        const url = await this.pathOf(o);
        if (url === undefined) {
            throw new Error(`the server serves no ${o.kind} in ${o.apiVersion}`);
        }
        const collection = url.slice(0, url.lastIndexOf("/"));
        return this.server.request("POST", `${collection}?fieldValidation=Strict${opts.dryRun ? "&dryRun=All" : ""}`, { body: o });
    }

    /**
     * Server-side apply with strict field validation (unknown or duplicate fields are
     * errors, not warnings); `dryRun` keeps it out of etcd. A kind the server does not serve
     * answers 404 with the server's own message for that URL.
     */
    async apply(o: KubeObject, opts: { dryRun?: boolean; defaultNamespace?: string } = {}): Promise<ApiAnswer> {
        const url = await this.pathOf(o, opts.defaultNamespace);
        if (url === undefined) {
            // What the server says about the apiVersion itself (a 404 of its own).
            const base = o.apiVersion.includes("/") ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
            const a = await this.server.request("GET", base);
            return a.status === 200 ? { ...a, status: 404, body: `the server serves no kind ${o.kind} in ${o.apiVersion}`, json: undefined } : a;
        }
        const namespaced = o.metadata.namespace ?? opts.defaultNamespace;
        const obj = namespaced && url.includes("/namespaces/") ? { ...o, metadata: { ...o.metadata, namespace: namespaced } } : o;
        const query = `fieldManager=homecloud-checker&force=true&fieldValidation=Strict${opts.dryRun ? "&dryRun=All" : ""}`;
        return this.server.request("PATCH", `${url}?${query}`, { body: obj, contentType: "application/apply-patch+yaml" });
    }

    /** Waits until a CustomResourceDefinition is Established and its kinds are discovered. */
    async waitEstablished(name: string): Promise<void> {
        const deadline = Date.now() + 60_000;
        for (;;) {
            const a = await this.server.request("GET", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
            const established = a.json?.status?.conditions?.some((c: any) => c.type === "Established" && c.status === "True");
            if (established) {
                const group = a.json.spec.group as string;
                for (const v of a.json.spec.versions.filter((x: any) => x.served)) {
                    await this.resourcesOf(`${group}/${v.name}`, true);
                }
                return;
            }
            if (Date.now() > deadline) {
                throw new Error(`CRD ${name} not Established after 60 s: ${a.body}`);
            }
            await new Promise((r) => setTimeout(r, 200));
        }
    }
}

/** "metallb.io/v1beta1 IPAddressPool metallb-system/homecloud", for messages. */
export function objectName(o: KubeObject, defaultNamespace?: string): string {
    const ns = o.metadata.namespace ?? defaultNamespace;
    return `${o.apiVersion} ${o.kind} ${ns ? `${ns}/` : ""}${o.metadata.name}`;
}

/**
 * The paths of `sent` whose value the server did not keep in `kept` (fields the server adds,
 * such as a CRD's defaults, are not changes).
 */
export function changedFields(sent: unknown, kept: unknown, at: string): string[] {
    if (typeof sent === "object" && sent !== null && !Array.isArray(sent)) {
        if (typeof kept !== "object" || kept === null || Array.isArray(kept)) {
            return [at];
        }
        return Object.entries(sent).flatMap(([k, v]) => changedFields(v, (kept as Record<string, unknown>)[k], `${at}.${k}`));
    }
    return JSON.stringify(sent) === JSON.stringify(kept) ? [] : [at];
}
