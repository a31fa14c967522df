// The private CA's pure half: which certificates the plan asks for, their names, the files
// they live in, the renewal schedule, and the command lines of each step (pki/*.sh in the
// PKI toolkit, data in HC_* variables). Pure: no Pulumi import.
import * as crypto from "crypto";
import * as ipaddr from "ipaddr.js";
import { HOST_CERT_LABEL } from "../config/pki";
import { AddressPlan } from "../config/plan";
import { HostFileSpec } from "../host/hostFile";
import { PKI_TOOLKIT_DIR, toolkitCommand } from "../host/toolkit";
import type { CertificateStatus } from "../outputs";

/** Every host's keys, CSRs and certificates (pki/lib.sh: PKI_DIR). */
export const PKI_DIR = "/etc/homecloud/pki";
/** The CA on the gateway (pki/lib.sh: CA_DIR); never leaves it. */
export const CA_DIR = "/etc/homecloud/ca";
/** The CA certificate in each host's system trust store (pki/lib.sh: TRUST_FILE). */
export const TRUST_FILE = "/usr/local/share/ca-certificates/homecloud-ca.crt";
/** The CA's own lifetime: ten years; rotating it is a deliberate act (README). */
export const CA_DAYS = 3650;
/** The label of the cluster's intermediate CA key on the first server. */
export const CLUSTER_ISSUER_LABEL = "cluster-issuer";

const DAY_MS = 86_400_000;

/** One certificate the CA signs: whose key, on which host, for which names. */
export interface CertificateRequest {
    /** Host name of the host holding the key: the gateway's or a node's. */
    readonly host: string;
    /** Name of its files on that host (`host` for the host's own), e.g. `/etc/homecloud/pki/host.key`. */
    readonly label: string;
    /** The subject's common name: the first DNS name. */
    readonly commonName: string;
    /** Subject alternative names, `DNS:…` and `IP:…`, in order. */
    readonly sans: readonly string[];
}

/** The record name on the gateway: `<host>-<label>`, e.g. `node1-host`. */
export const recordName = (r: { host: string; label: string }): string => `${r.host}-${r.label}`;

/**
 * Every certificate the plan asks for: each host's own (its FQDN and its own LAN address),
 * the gateway first, the second gateway next, then the nodes and the service certificates in
 * config order. Excluded and lost nodes get none.
 */
export function certificateRequests(plan: AddressPlan): CertificateRequest[] {
    const hosts = [
        { name: plan.gateway.hostname, ip: plan.gateway.lanAddress },
        ...plan.gateway2 ? [{ name: plan.gateway2.hostname, ip: plan.gateway2.lanAddress }] : [],
        ...plan.nodes.filter((n) => !plan.pki.excluded.includes(n.name)).map((n) => ({ name: n.name, ip: n.ip })),
    ];
    return [
        ...hosts.map((h) => ({
            host: h.name, label: HOST_CERT_LABEL, commonName: `${h.name}.${plan.domain}`,
            sans: [`DNS:${h.name}.${plan.domain}`, `IP:${h.ip}`],
        })),
        ...plan.pki.certificates.filter((c) => !plan.lostNodes.includes(c.host)).map((c) => ({
            host: c.host, label: c.name, commonName: `${c.name}.${plan.domain}`,
            sans: [...new Set([`DNS:${c.name}.${plan.domain}`, ...c.sans])],
        })),
    ];
}

/**
 * The CA's name constraints (OpenSSL syntax): the domain and the LAN, so neither the CA nor
 * the cluster's intermediate can vouch for a name outside the home cloud.
 */
export function permittedNames(plan: AddressPlan): string {
    const mask = ipaddr.IPv4.subnetMaskFromPrefixLength(plan.lan.prefixLength).toString();
    return `permitted;DNS:${plan.domain},permitted;IP:${plan.lan.network}/${mask}`;
}

/** Days between renewals: a certificate is re-signed once a third of its lifetime is left. */
export function renewalPeriodDays(lifetimeDays: number): number {
    return lifetimeDays - Math.floor(lifetimeDays / 3);
}

/**
 * The renewal epoch `now` falls in: whole renewal periods since 1970-01-01 UTC. It is in
 * every signing step's command line, so two `up`s in one period plan nothing, and the
 * first `up` of a new period re-signs every certificate (same keys).
 */
export function renewalEpoch(now: Date, lifetimeDays: number): number {
    return Math.floor(now.getTime() / (renewalPeriodDays(lifetimeDays) * DAY_MS));
}

/** When the epoch of `now` ends: the first `up` from then on re-signs every certificate. */
export function nextRenewal(now: Date, lifetimeDays: number): Date {
    return new Date((renewalEpoch(now, lifetimeDays) + 1) * renewalPeriodDays(lifetimeDays) * DAY_MS);
}

/** What makes a signature due: the renewal epoch and the operator's forced renewals, e.g. `118.0`. */
export function issueToken(plan: AddressPlan, now: Date): string {
    return `${renewalEpoch(now, plan.pki.lifetimeDays)}.${plan.pki.renewal}`;
}

const PKI = (rel: string, args: readonly string[], env: Readonly<Record<string, string>>): string =>
    toolkitCommand(rel, args, env, PKI_TOOLKIT_DIR);

/** The CA's common name, e.g. `homecloud CA home.arpa`. */
export const caCommonName = (plan: AddressPlan): string => `homecloud CA ${plan.domain}`;

/** On the gateway: makes the CA unless it exists; prints its certificate. */
export function caCreateCommand(plan: AddressPlan): string {
    return PKI("pki/ca.sh", ["create"], { HC_CA_CN: caCommonName(plan), HC_CA_DAYS: String(CA_DAYS), HC_PERMITTED: permittedNames(plan) });
}

/** On the gateway, on delete: removes the CA only when homecloud:caDestroy was set. */
export function caRemoveCommand(destroy: boolean): string {
    return PKI("pki/ca.sh", ["remove"], destroy ? { HC_CA_DESTROY: "1" } : {});
}

/** On the key's host: makes the key once, prints its CSR (the same one while key and name stay). */
export function keyRequestCommand(label: string, commonName: string): string {
    return PKI("pki/key.sh", ["request"], { HC_LABEL: label, HC_CN: commonName });
}

/** On the key's host, on delete: removes the key and its CSR. */
export const keyForgetCommand = (label: string): string => PKI("pki/key.sh", ["forget"], { HC_LABEL: label });

export interface SignArgs {
    /** Record name on the gateway, `<host>-<label>`. */
    readonly name: string;
    readonly profile: "server" | "intermediate";
    /** Subject alternative names (server profile). */
    readonly sans?: readonly string[];
    readonly days: number;
    /** The renewal epoch and forced renewals (issueToken). */
    readonly issue: string;
    /** SHA-256 of the CA certificate: a new CA re-signs everything. */
    readonly caSha256: string;
    /** Name constraints (intermediate profile). */
    readonly permitted?: string;
}

/** On the gateway: signs the CSR on stdin, prints the certificate (the same one for the same request). */
export function signCommand(a: SignArgs): string {
    return PKI("pki/ca.sh", ["sign"], {
        HC_NAME: a.name, HC_PROFILE: a.profile,
        ...a.sans ? { HC_SANS: a.sans.join(",") } : {},
        ...a.permitted ? { HC_PERMITTED: a.permitted } : {},
        HC_DAYS: String(a.days), HC_ISSUE: a.issue, HC_CA: a.caSha256,
    });
}

/** On the gateway, on delete: forgets the record. */
export const unsignCommand = (name: string): string => PKI("pki/ca.sh", ["unsign"], { HC_NAME: name });

/**
 * On the gateway: succeeds while `node` answers at `address`:`port` (pki/reachable.sh), else
 * fails naming homecloud:lostNodes. A node's guard step runs it on create and on delete.
 */
export function reachableCommand(node: string, address: string, port: number): string {
    return PKI("pki/reachable.sh", [], { HC_NODE: node, HC_ADDRESS: address, HC_PORT: String(port) });
}

/** The CA certificate in the system trust store; update-ca-certificates on install and removal (pki/trust.sh). */
export function trustFile(): HostFileSpec {
    return { path: TRUST_FILE, hooks: "pki/trust.sh" };
}

/** A signed certificate next to its key; checked against the key and the CA (pki/cert.sh). */
export function certFile(label: string): HostFileSpec {
    return { path: `${PKI_DIR}/${label}.crt`, hooks: "pki/cert.sh", env: { HC_KEY: `${PKI_DIR}/${label}.key` } };
}

/** HAProxy's client key for the API check, on the gateway (`PKI_DIR/<label>.key`). */
export const API_CHECK_LABEL = "k3s-api-check";
/** The Kubernetes user HAProxy's check authenticates as (the certificate's CN; no groups). */
export const API_CHECK_USER = "homecloud:haproxy";

/**
 * On the first server: signs the CSR on stdin with K3s's client CA, prints the certificate
 * and the CA's, or nothing while K3s has no client CA there (pki/k3s-client.sh). `k3s` says
 * whether the program installs K3s there ("managed" or "unmanaged"): turning K3s on re-signs.
 */
export function k3sClientSignCommand(a: { readonly days: number; readonly issue: string; readonly k3s: string }): string {
    return PKI("pki/k3s-client.sh", ["sign"], { HC_DAYS: String(a.days), HC_ISSUE: a.issue, HC_K3S: a.k3s });
}

/** On the first server: drops the record of the signed certificate (what lets a re-run print the same one). */
export const k3sClientForgetCommand = (): string => PKI("pki/k3s-client.sh", ["forget"], {});

/**
 * HAProxy's API check certificate, beside its key: no extension, because HAProxy 2.6 loads
 * a `crt` file's missing key from `<crt>.key`. Empty until K3s signs it (pki/client-cert.sh).
 */
export function clientCertFile(label: string): HostFileSpec {
    return { path: `${PKI_DIR}/${label}`, hooks: "pki/client-cert.sh", env: { HC_KEY: `${PKI_DIR}/${label}.key` } };
}

/** On the first server: the ClusterIssuer's Secret from the intermediate on stdin and its key on disk. */
export function issuerSecretCommand(op: "install" | "remove", namespace: string, secret: string, kubectlEnv: Readonly<Record<string, string>> = {}): string {
    return PKI("pki/cluster-issuer.sh", [op], { HC_NAMESPACE: namespace, HC_SECRET: secret, HC_LABEL: CLUSTER_ISSUER_LABEL, ...kubectlEnv });
}

/** A PEM as a file holds it: one trailing newline (the provider may have trimmed it). */
export function pemText(s: string): string {
    return s.endsWith("\n") ? s : `${s}\n`;
}

/** SHA-256 of a PEM, newline-normalised; "" for no PEM yet. */
export function pemSha256(pem: string): string {
    return pem.trim() === "" ? "" : crypto.createHash("sha256").update(pemText(pem)).digest("hex");
}

/** A certificate's notAfter, or undefined when the text is not one certificate (yet). */
export function notAfter(pem: string): Date | undefined {
    try {
        return new Date(new crypto.X509Certificate(pem).validTo);
    } catch {
        return undefined;
    }
}

// What the stack output says about expiry: its type is defined once with the other outputs.
export type { CertificateStatus } from "../outputs";

/** The nearest expiry among `certs` (name → PEM) and the renewal schedule. */
export function certificateStatus(certs: Readonly<Record<string, string>>, lifetimeDays: number, now: Date): CertificateStatus {
    const dated = Object.entries(certs).map(([name, pem]) => ({ name, at: notAfter(pem) }))
        .filter((x): x is { name: string; at: Date } => x.at !== undefined)
        .sort((a, b) => a.at.getTime() - b.at.getTime() || a.name.localeCompare(b.name));
    return {
        nearest: dated[0]?.name ?? null,
        nearestExpiry: dated[0]?.at.toISOString() ?? null,
        renewsFrom: nextRenewal(now, lifetimeDays).toISOString(),
        lifetimeDays,
    };
}

/**
 * The warning a preview shows when the nearest certificate is close to expiry: within the
 * last third of a lifetime (renewal should have happened), or the CA within a year.
 */
export function expiryWarning(certs: Readonly<Record<string, string>>, lifetimeDays: number, now: Date): string | undefined {
    const late: string[] = [];
    for (const [name, pem] of Object.entries(certs)) {
        const at = notAfter(pem);
        const window = name === "ca" ? 365 : Math.floor(lifetimeDays / 3);
        if (at === undefined || at.getTime() - now.getTime() > window * DAY_MS) {
            continue;
        }
        const days = Math.floor((at.getTime() - now.getTime()) / DAY_MS);
        late.push(`${name} ${days < 0 ? "expired" : "expires"} ${at.toISOString()}${days < 0 ? "" : ` (in ${days} days)`}`);
    }
    if (late.length === 0) {
        return undefined;
    }
    return `homecloud: certificates close to expiry: ${late.join("; ")}. ` +
        "`pulumi up` re-signs host and service certificates (same keys); the CA is rotated by hand (README: rotating the CA)";
}
