// Where the cluster half's Kubernetes comes from, and where its charts and images come from:
// the program's own K3s (homecloud:k3sEnabled), a cluster the user already runs
// (homecloud:kubeconfig), or none; a Helm chart repository mirror (homecloud:chartRepository)
// and container registry mirrors for K3s (homecloud:registryMirrors). Pure: no Pulumi import.
import * as YAML from "yaml";
import { Checker } from "./checker";
import { RawConfig } from "./schema";

/** A registry K3s pulls from, and the mirrors it tries first (registries.yaml `mirrors`). */
export interface RegistryMirror {
    /** `docker.io`, `registry.k8s.io`, `host:port`, or `*` for every registry. */
    readonly registry: string;
    /** Mirror URLs, http or https, tried in order before the registry itself. */
    readonly endpoints: readonly string[];
}

/** What the program knows of a user's own cluster: never the kubeconfig's text (a secret, config/load.ts). */
export interface ExistingCluster {
    /** The kubeconfig's current context. */
    readonly context: string;
    /** Its cluster's API server URL: the `apiEndpoint` output. */
    readonly server: string;
}

export interface ClusterSettings {
    /** `k3s`: the program installs K3s; `existing`: homecloud:kubeconfig; `none`: no cluster half. */
    readonly source: "k3s" | "existing" | "none";
    /** With `existing`: the kubeconfig's context and server. */
    readonly existing?: ExistingCluster;
    /** Helm repository every chart is installed from; undefined: each chart's own repository. */
    readonly chartRepository?: string;
    /** registries.yaml mirrors written on every K3s node; empty: no registries.yaml. */
    readonly registryMirrors: readonly RegistryMirror[];
}

const KUBECONFIG_FIX = "give the file kubectl uses, with its files embedded: " +
    "`kubectl config view --minify --flatten --raw | pulumi config set --secret homecloud:kubeconfig`";

type Doc = Record<string, unknown>;
const isMap = (v: unknown): v is Doc => typeof v === "object" && v !== null && !Array.isArray(v);

/** The entry of a kubeconfig list (`clusters`, `users`, `contexts`) called `name`, as `field`. */
function named(doc: Doc, list: string, name: string, field: string): Doc | undefined {
    const entries = Array.isArray(doc[list]) ? doc[list] as unknown[] : [];
    const entry = entries.find((e) => isMap(e) && e.name === name) as Doc | undefined;
    return entry && isMap(entry[field]) ? entry[field] as Doc : undefined;
}

/**
 * A kubeconfig the program can use as it is, both in the Kubernetes provider (here) and
 * with kubectl on the first server: a current context whose cluster has an https server
 * and whose user has credentials inside the file (no file paths, no exec plugin, which
 * would not exist on the server). Returns the context and server, or what is wrong with it,
 * ending with the fix; never any of its text.
 */
export function parseKubeconfig(text: string): ExistingCluster | { problem: string } {
    let doc: unknown;
    try {
        doc = YAML.parse(text);
    } catch (e) {
        return { problem: `is not YAML (${(e as Error).message.split("\n")[0]}); ${KUBECONFIG_FIX}` };
    }
    if (!isMap(doc) || !Array.isArray(doc.clusters) || !Array.isArray(doc.users) || !Array.isArray(doc.contexts)) {
        return { problem: `is not a kubeconfig (no clusters, users and contexts lists); ${KUBECONFIG_FIX}` };
    }
    const context = doc["current-context"];
    if (typeof context !== "string" || context === "") {
        return { problem: `has no current-context; choose one with \`kubectl config use-context <name>\`, then ${KUBECONFIG_FIX}` };
    }
    const ctx = named(doc, "contexts", context, "context");
    if (!ctx || typeof ctx.cluster !== "string" || typeof ctx.user !== "string") {
        return { problem: `names current-context ${JSON.stringify(context)}, which is not a context with a cluster and a user; ${KUBECONFIG_FIX}` };
    }
    const cluster = named(doc, "clusters", ctx.cluster, "cluster");
    const server = cluster?.server;
    if (!cluster || typeof server !== "string" || !/^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/.test(server)) {
        return { problem: `context ${JSON.stringify(context)}'s cluster ${JSON.stringify(ctx.cluster)} has ${typeof server === "string" ? `server ${JSON.stringify(server)}` : "no server"}; ` +
            "it needs the API server's URL, https://<host>:<port>, reachable from the first server in homecloud:nodes" };
    }
    if (typeof cluster["certificate-authority"] === "string") {
        return { problem: `context ${JSON.stringify(context)}'s cluster names a CA file, which the first server does not have; ${KUBECONFIG_FIX}` };
    }
    const user = named(doc, "users", ctx.user, "user");
    if (!user) {
        return { problem: `context ${JSON.stringify(context)}'s user ${JSON.stringify(ctx.user)} is not in users; ${KUBECONFIG_FIX}` };
    }
    const files = ["client-certificate", "client-key", "tokenFile"].filter((k) => typeof user[k] === "string");
    if (files.length > 0 || user.exec !== undefined || user["auth-provider"] !== undefined) {
        return { problem: `user ${JSON.stringify(ctx.user)} ${files.length > 0 ? `reads ${files.join(" and ")} from files` : "runs a credential plugin"}, ` +
            `which the first server does not have; use a client certificate or a token inside the file: ${KUBECONFIG_FIX}` };
    }
    const certificate = typeof user["client-certificate-data"] === "string" && typeof user["client-key-data"] === "string";
    if (!certificate && typeof user.token !== "string") {
        return { problem: `user ${JSON.stringify(ctx.user)} has no credentials (client-certificate-data with client-key-data, or token); ` +
            "use a cluster-admin kubeconfig, e.g. the k3s.yaml a K3s server writes or kubeadm's admin.conf" };
    }
    return { context, server: server.replace(/\/$/, "") };
}

/** http(s)://host[:port][/path], nothing else (no user, query or fragment). */
const URL_SHAPE = /^(https?):\/\/([a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(:\d{1,5})?(\/[A-Za-z0-9._~\/-]*)?$/;
/** A registry as an image reference names it: a lower-case host name with an optional port, or `*`. */
const REGISTRY = /^(\*|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?)$/;

function url(c: Checker, key: string, v: unknown, example: string): string | undefined {
    const s = c.string(key, v);
    if (s !== undefined && !URL_SHAPE.test(s)) {
        return c.fail(key, `${JSON.stringify(s)} is not an http or https URL of a host; write e.g. ${example}`);
    }
    return s;
}

function checkMirrors(c: Checker, raw: RawConfig): RegistryMirror[] {
    const list = raw.registryMirrors;
    if (!Array.isArray(list)) {
        c.fail("registryMirrors", `must be a list of { registry, endpoints }, got ${JSON.stringify(list)}`);
        return [];
    }
    const seen = new Set<string>();
    const mirrors: RegistryMirror[] = [];
    list.forEach((entry, i) => {
        const k = `registryMirrors[${i}]`;
        const o = c.object(k, entry, true);
        if (!o) {
            return;
        }
        const unknown = Object.keys(o).filter((f) => f !== "registry" && f !== "endpoints");
        if (unknown.length > 0) {
            c.fail(k, `has ${unknown.join(", ")}; an entry has only registry and endpoints`);
        }
        const registry = c.pattern(`${k}.registry`, o.registry, REGISTRY,
            "is not a registry name; write it as image names start, lower case, e.g. docker.io, registry.k8s.io, ghcr.io or * for every registry");
        if (registry !== undefined && seen.has(registry)) {
            c.fail(`${k}.registry`, `"${registry}" is listed twice; give each registry one entry with all its endpoints`);
        }
        if (registry !== undefined) {
            seen.add(registry);
        }
        if (!Array.isArray(o.endpoints) || o.endpoints.length === 0) {
            c.fail(`${k}.endpoints`, "must be a list of one or more mirror URLs, e.g. [https://registry.home.arpa:5000]");
            return;
        }
        const endpoints = o.endpoints.map((e, j) => url(c, `${k}.endpoints[${j}]`, e, "https://registry.home.arpa:5000"));
        if (registry !== undefined && endpoints.every((e) => e !== undefined)) {
            mirrors.push({ registry, endpoints: endpoints as string[] });
        }
    });
    return mirrors;
}

/**
 * The cluster's source and the air-gap mirrors. `kubeconfig` is the secret's text (undefined
 * when unset or for readers without secrets: make diagram, the lab's plan).
 */
export function checkClusterSource(c: Checker, raw: RawConfig, servers: number): ClusterSettings {
    const k3s = raw.k3sEnabled === true;
    const text = raw.kubeconfig;
    let existing: ExistingCluster | undefined;
    if (text !== undefined && text !== "") {
        const parsed = typeof text === "string" ? parseKubeconfig(text) : { problem: "must be the kubeconfig's text" };
        if ("problem" in parsed) {
            c.fail("kubeconfig", parsed.problem);
        } else if (k3s) {
            c.fail("kubeconfig", "is set and so is homecloud:k3sEnabled (its default is true): the program would install K3s on the nodes " +
                "besides your cluster; to use your cluster, set homecloud:k3sEnabled to false, or remove homecloud:kubeconfig to let the program install K3s");
        } else if (servers === 0) {
            c.fail("kubeconfig", "is set but homecloud:nodes has no server: the cluster steps (kubectl with this kubeconfig) and cert-manager's " +
                "intermediate key need a control-plane node of your cluster; list it first in homecloud:nodes with role server");
        } else {
            existing = parsed;
        }
    }
    const repository = raw.chartRepository === "" ? undefined : url(c, "chartRepository", raw.chartRepository, "https://charts.home.arpa");
    const registryMirrors = checkMirrors(c, raw);
    if (registryMirrors.length > 0 && !k3s) {
        c.fail("registryMirrors", "is set but homecloud:k3sEnabled is false: registries.yaml is written on the nodes of the program's K3s only; " +
            "configure your own cluster's container runtime (K3s: /etc/rancher/k3s/registries.yaml on each node), then remove homecloud:registryMirrors");
    }
    return {
        source: k3s ? "k3s" : existing || (typeof text === "string" && text !== "") ? "existing" : "none",
        ...existing ? { existing } : {},
        ...repository ? { chartRepository: repository.replace(/\/$/, "") } : {},
        registryMirrors,
    };
}
