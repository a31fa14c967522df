// The stack outputs, typed: what index.ts exports (`StackOutputs`) and what another project
// reads back through a StackReference (`HomecloudOutputs`, `homecloudOutputs`).
// Imports @pulumi/pulumi alone, so a consumer can import (or copy) this file by itself.
import * as pulumi from "@pulumi/pulumi";

export type NodeRole = "server" | "agent";

export interface StackOutputs {
    /**
     * Admin kubeconfig (secret): with K3s, server per `kubeconfigServer` (VIP or API name), never 127.0.0.1;
     * with homecloud:kubeconfig, that kubeconfig as given. Absent without a cluster.
     */
    readonly kubeconfig?: pulumi.Output<string>;
    /** When the kubeconfig's client certificate expires (ISO 8601, UTC); only when K3s is on. */
    readonly kubeconfigExpires?: pulumi.Output<string>;
    /** `https://<apiName>.<domain>:<apiPort>`; with homecloud:kubeconfig, its server. */
    readonly apiEndpoint: string;
    /** The VIP on the home network. */
    readonly vip: string;
    /** Traefik's LoadBalancer address. */
    readonly ingressIp: string;
    /** MetalLB's pool, `first-last`. */
    readonly metallbPool: string;
    /** The cluster domain. */
    readonly domain: string;
    /** Every node: name → address and role. */
    readonly nodes: Readonly<Record<string, { readonly ip: string; readonly role: NodeRole }>>;
    /**
     * The (first) gateway: its host name and LAN address, the VIP, and `lanRouter`, the LAN's
     * router and DNS server as DHCP hands it out: the floating address with two gateways, else
     * the gateway's LAN address.
     */
    readonly gateway: GatewayInfo;
    /** The second gateway and its own addresses; null with one gateway. */
    readonly gateway2: SecondGatewayInfo | null;
    /** The VIP's balancer (HAProxy on the gateway): where to look at it, on the gateway only. */
    readonly loadBalancer: pulumi.Output<LoadBalancerStatus>;
    /** The gateway CA's certificate (public, PEM): trust it to reach the home cloud's TLS services. */
    readonly caCertificate: pulumi.Output<string>;
    /** The certificate that expires first, when, and from when the next `up` re-signs them all. */
    readonly certificates: pulumi.Output<CertificateStatus>;
    /** Every host's pinned SSH host key (given or learned), as homecloud:hostKeys takes it. */
    readonly hostKeys: pulumi.Output<readonly HostKeyEntry[]>;
}

/** The `gateway` output. */
export interface GatewayInfo {
    readonly hostname: string;
    /** Its own static LAN address. */
    readonly lanAddress: string;
    /** The VIP on the home network (on whichever gateway is in charge). */
    readonly vip: string;
    /** The LAN's router and DNS server as DHCP hands it out: the floating address with two gateways. */
    readonly lanRouter: string;
}

/** The `gateway2` output: the second gateway, which takes the VIP and `lanRouter` over when the first fails. */
export interface SecondGatewayInfo {
    readonly hostname: string;
    /** Its own static LAN address. */
    readonly lanAddress: string;
    /** Its own static address on the home network. */
    readonly wanAddress: string;
}

/** One host's SSH host key: its name and `<type> <base64>`. */
export interface HostKeyEntry {
    readonly host: string;
    readonly key: string;
}

/** What an operator needs to look at the VIP's balancer, all on the gateway itself. */
export interface LoadBalancerStatus {
    /** HAProxy's runtime API socket, e.g. `sudo socat stdio /run/haproxy/admin.sock <<< "show stat"`. */
    readonly statsSocket: string;
    /** The status page, bound to the gateway's loopback only. */
    readonly statsUrl: string;
    /** How the API backends are checked: `https` or `tcp`. */
    readonly apiHealthCheck: string;
}

/** The `certificates` output (pki/pkiSteps.ts `certificateStatus`). */
export interface CertificateStatus {
    /** The certificate that expires first (`<host>-<label>`, or `ca`), null before any is signed. */
    readonly nearest: string | null;
    /** Its notAfter, ISO 8601, null before any is signed. */
    readonly nearestExpiry: string | null;
    /** From then on the next `up` re-signs every certificate. */
    readonly renewsFrom: string;
    readonly lifetimeDays: number;
}

/** One stack output's plain value, as the referenced stack holds it. */
export type StackOutputValues = { readonly [K in keyof StackOutputs]-?: pulumi.Unwrap<Exclude<StackOutputs[K], undefined>> };

/**
 * A homecloud stack's outputs as another project sees them: every one an Output of its
 * value's type, `kubeconfig` always secret.
 */
export type HomecloudOutputs = { readonly [K in keyof StackOutputValues]: pulumi.Output<StackOutputValues[K]> };

/** The StackReference methods the helper uses (structural, so any copy of the SDK fits). */
export type HomecloudStackReference = Pick<pulumi.StackReference, "name" | "getOutput">;

/** Checks one output's value; `where` is its path, e.g. `nodes.pi-server-1.role`. */
type Reader<T> = (value: unknown, where: string) => T;

class OutputMismatch extends Error {}

function fail(where: string, expected: string, value: unknown): never {
    throw new OutputMismatch(`output ${where} of stack %STACK% is ${value === undefined ? "missing" : JSON.stringify(value)}, ` +
        `expected ${expected}; is the StackReference's stack a homecloud stack, deployed with this version of outputs.ts?`);
}

const text: Reader<string> = (v, where) => typeof v === "string" ? v : fail(where, "a string", v);

function record<T extends Record<string, string>>(fields: readonly (keyof T & string)[]): Reader<T> {
    return (v, where) => {
        if (typeof v !== "object" || v === null || Array.isArray(v)) {
            return fail(where, `an object { ${fields.join(", ")} }`, v);
        }
        const o = v as Record<string, unknown>;
        return Object.fromEntries(fields.map((f) => [f, text(o[f], `${where}.${f}`)])) as T;
    };
}

const nodeEntry = record<{ ip: string; role: string }>(["ip", "role"]);

const secondGateway = record<{ hostname: string; lanAddress: string; wanAddress: string }>(["hostname", "lanAddress", "wanAddress"]);

const hostKeyEntry = record<{ host: string; key: string }>(["host", "key"]);

const nodes: Reader<StackOutputValues["nodes"]> = (v, where) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
        return fail(where, "an object of name → { ip, role }", v);
    }
    return Object.fromEntries(Object.entries(v).map(([name, entry]) => {
        const n = nodeEntry(entry, `${where}.${name}`);
        if (n.role !== "server" && n.role !== "agent") {
            fail(`${where}.${name}.role`, `"server" or "agent"`, n.role);
        }
        return [name, { ip: n.ip, role: n.role as NodeRole }];
    }));
};

// One reader per output: a new field in StackOutputs does not compile until it has one.
const readers: { readonly [K in keyof StackOutputValues]: Reader<StackOutputValues[K]> } = {
    kubeconfig: (v, where) => v === undefined
        ? fail(where, "the admin kubeconfig (the stack exports it only with a cluster: homecloud:k3sEnabled true or homecloud:kubeconfig)", v)
        : text(v, where),
    kubeconfigExpires: (v, where) => v === undefined
        ? fail(where, "the admin certificate's expiry (the stack exports it only with homecloud:k3sEnabled true)", v)
        : text(v, where),
    apiEndpoint: text,
    vip: text,
    ingressIp: text,
    metallbPool: text,
    domain: text,
    nodes,
    gateway: record(["hostname", "lanAddress", "vip", "lanRouter"]),
    // null with one gateway; absent reads as null too (the engine may drop a null output).
    gateway2: (v, where) => v === null || v === undefined ? null : secondGateway(v, where),
    loadBalancer: record(["statsSocket", "statsUrl", "apiHealthCheck"]),
    caCertificate: text,
    certificates: (v, where) => {
        const o = (typeof v === "object" && v !== null && !Array.isArray(v) ? v : fail(where, "an object { nearest, nearestExpiry, renewsFrom, lifetimeDays }", v)) as Record<string, unknown>;
        const textOrNull = (f: string): string | null => o[f] === null ? null : text(o[f], `${where}.${f}`);
        const days = typeof o.lifetimeDays === "number" ? o.lifetimeDays : fail(`${where}.lifetimeDays`, "a number", o.lifetimeDays);
        return { nearest: textOrNull("nearest"), nearestExpiry: textOrNull("nearestExpiry"), renewsFrom: text(o.renewsFrom, `${where}.renewsFrom`), lifetimeDays: days };
    },
    hostKeys: (v, where) => Array.isArray(v) ? v.map((e, i) => hostKeyEntry(e, `${where}[${i}]`))
        : fail(where, "a list of { host, key }", v),
};

/**
 * Reads a homecloud stack's outputs through a StackReference, typed and checked:
 *
 *     const home = homecloudOutputs(new pulumi.StackReference("organization/homecloud/dev"));
 *     new k8s.Provider("home", { kubeconfig: home.kubeconfig });
 *
 * A missing or mistyped output fails the consumer's run with the output's name and the
 * stack's. `kubeconfig` is wrapped in `pulumi.secret` whatever the stack's state says, so
 * it stays out of the consumer's logs and plain state.
 */
export function homecloudOutputs(ref: HomecloudStackReference): HomecloudOutputs {
    const read = <K extends keyof StackOutputValues>(key: K): pulumi.Output<StackOutputValues[K]> => {
        const value = pulumi.all([ref.name, ref.getOutput(key)]).apply(([stack, v]) => {
            try {
                return readers[key](v, key);
            } catch (e) {
                throw e instanceof OutputMismatch ? new Error(e.message.replace("%STACK%", stack)) : e;
            }
        });
        // Output<Unwrap<T>> is Output<T> for these plain values; TypeScript cannot see it for a generic K.
        return (key === "kubeconfig" ? pulumi.secret(value) : value) as unknown as pulumi.Output<StackOutputValues[K]>;
    };
    // Each output is read when first asked for: a consumer that never touches `kubeconfig`
    // (say, of a stack without K3s) must not fail on it, and Pulumi fails a run on any
    // rejected Output, used or not.
    const outputs: Partial<Record<keyof StackOutputValues, pulumi.Output<unknown>>> = {};
    const result = {} as HomecloudOutputs;
    for (const key of Object.keys(readers) as (keyof StackOutputValues)[]) {
        Object.defineProperty(result, key, { enumerable: true, get: () => outputs[key] ??= read(key) });
    }
    return result;
}

/** `homecloudOutputs` of a new StackReference to `stack` (`<organization>/homecloud/<stack>`). */
export function referenceHomecloud(stack: string, opts?: pulumi.CustomResourceOptions): HomecloudOutputs {
    return homecloudOutputs(new pulumi.StackReference(stack, { name: stack }, opts));
}
