// The admin kubeconfig handed out of the first server, and what the program decides from its
// client certificate. Pure: no Pulumi import.
import * as crypto from "crypto";
import * as YAML from "yaml";
import { K3S_KUBECONFIG_PATH, K3S_LOCAL_API } from "./k3sConfig";

const SERVER_URL = /^https:\/\/[A-Za-z0-9.-]+:\d{1,5}$/;
const ENTRY_NAME = /^[A-Za-z0-9._-]{1,253}$/;
const DAY_MS = 24 * 60 * 60 * 1000;

interface K3sKubeconfig {
    readonly caData: string;
    readonly certData: string;
    readonly keyData: string;
}

/** The one cluster (at https://127.0.0.1:6443) and the one user of the kubeconfig K3s writes. */
function parseK3sKubeconfig(kubeconfig: string): K3sKubeconfig {
    const doc = YAML.parse(kubeconfig) as {
        clusters?: { cluster?: Record<string, string> }[];
        users?: { user?: Record<string, string> }[];
    } | null;
    if (!doc || typeof doc !== "object" || !Array.isArray(doc.clusters) || !Array.isArray(doc.users)) {
        throw new Error(`${K3S_KUBECONFIG_PATH} is not a kubeconfig: it has no clusters or users list`);
    }
    if (doc.clusters.length !== 1 || doc.clusters[0]?.cluster?.server !== K3S_LOCAL_API) {
        throw new Error(`${K3S_KUBECONFIG_PATH} does not have exactly one cluster, at ${K3S_LOCAL_API}; refusing to guess which server to rewrite`);
    }
    const cluster = doc.clusters[0].cluster!;
    const user = doc.users.length === 1 ? doc.users[0]?.user : undefined;
    const caData = cluster["certificate-authority-data"];
    const certData = user?.["client-certificate-data"];
    const keyData = user?.["client-key-data"];
    if (!caData || !certData || !keyData) {
        throw new Error(`${K3S_KUBECONFIG_PATH} lacks the CA, the client certificate or the client key (one user with *-data entries expected)`);
    }
    return { caData, certData, keyData };
}

/**
 * The admin kubeconfig for use off the first server: its server is `server` (the VIP or the
 * API name, never 127.0.0.1), and its cluster, user and context are all called `name` (e.g.
 * `homecloud-dev`), so that merging it into ~/.kube/config never overwrites another cluster's
 * `default` entries.
 */
export function renderKubeconfig(k3sKubeconfig: string, server: string, name: string): string {
    if (!SERVER_URL.test(server)) {
        throw new RangeError(`kubeconfig server ${JSON.stringify(server)} must look like https://<host>:<port>`);
    }
    if (!ENTRY_NAME.test(name)) {
        throw new RangeError(`kubeconfig name ${JSON.stringify(name)} must be letters, digits, ".", "_" or "-"`);
    }
    const k = parseK3sKubeconfig(k3sKubeconfig);
    return YAML.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name, cluster: { "certificate-authority-data": k.caData, server } }],
        users: [{ name, user: { "client-certificate-data": k.certData, "client-key-data": k.keyData } }],
        contexts: [{ name, context: { cluster: name, user: name } }],
        "current-context": name,
        preferences: {},
    });
}

/** When the kubeconfig's client certificate (the first in its PEM bundle) became and stops being valid. */
export interface CertificateValidity {
    readonly validFrom: Date;
    readonly validTo: Date;
}

/** The validity of the admin client certificate in a kubeconfig K3s wrote (Node's X509Certificate). */
export function clientCertificateValidity(k3sKubeconfig: string): CertificateValidity {
    const { certData } = parseK3sKubeconfig(k3sKubeconfig);
    let cert: crypto.X509Certificate;
    try {
        cert = new crypto.X509Certificate(Buffer.from(certData, "base64"));
    } catch (e) {
        throw new Error(`${K3S_KUBECONFIG_PATH}: client-certificate-data is not a PEM certificate (${(e as Error).message})`);
    }
    return { validFrom: new Date(cert.validFrom), validTo: new Date(cert.validTo) };
}

/**
 * How many renewals of the admin certificate are due by `now`, counted from the certificate
 * `anchor` (the one read when the cluster was installed or upgraded): none until `renewDays`
 * before it expires, then one more every (lifetime - renewDays). Each renewal issues a
 * certificate valid for a full lifetime from when it ran, which is never earlier than its
 * due date, so at the next due date it still has `renewDays` left: an `up` at least every
 * `renewDays` keeps the exported kubeconfig valid. The count changes only at those dates, so
 * any other `up` runs nothing.
 */
export function renewalsDue(anchor: CertificateValidity, now: Date, renewDays: number): number {
    const window = renewDays * DAY_MS;
    const lifetime = anchor.validTo.getTime() - anchor.validFrom.getTime();
    // A certificate shorter-lived than two windows (not what K3s issues) renews every window.
    const period = Math.max(lifetime - window, window);
    const firstDue = anchor.validTo.getTime() - window;
    return now.getTime() < firstDue ? 0 : 1 + Math.floor((now.getTime() - firstDue) / period);
}

/** Of two kubeconfigs K3s wrote, the one whose client certificate expires later (the second on a tie). */
export function newestKubeconfig(a: string, b: string): string {
    return clientCertificateValidity(a).validTo > clientCertificateValidity(b).validTo ? a : b;
}
