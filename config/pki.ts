// The private CA's settings: certificate lifetime, forced renewal, the CA's delete guard and
// the service certificates, each entry checked against the domain, the LAN and the hosts.
// Pure: no Pulumi import.
import * as ipaddr from "ipaddr.js";
import { Checker, HOSTNAME, inCidr } from "./checker";
import { isIPv4, PkiSettings, ServiceCertificate } from "./plan";
import { RawConfig } from "./schema";

/** Lifetimes a signed certificate may have, in days (clients refuse server certificates over 398 days). */
export const LIFETIME_DAYS = Object.freeze({ min: 7, max: 397 });

/** The label the host's own certificate goes by on its host; no service may take it. */
export const HOST_CERT_LABEL = "host";

/** What the PKI check needs from the rest of the plan, each undefined when it was invalid. */
export interface PkiContext {
    readonly domain?: string;
    readonly lanCidr?: [ipaddr.IPv4, number];
    readonly lan: string;
    readonly gatewayHostname?: string;
    /** The second gateway's host name, with two gateways: a host with its own certificate too. */
    readonly gateway2Hostname?: string;
    /** The nodes' names, servers first; the first one holds the cluster issuer's key. */
    readonly nodes: readonly string[];
    /** Nodes in homecloud:lostNodes: their entries here stay until the node is forgotten. */
    readonly lostNodes: readonly string[];
    readonly k3sEnabled: boolean;
}

/** A name inside `domain` (the domain itself, or below it, `*.` allowed as the first label). */
function dnsName(s: string): boolean {
    const labels = s.split(".");
    return s.length <= 253 && labels.length >= 1 &&
        labels.every((l, i) => HOSTNAME.test(l) || (i === 0 && l === "*" && labels.length > 1));
}

function checkSan(c: Checker, key: string, v: unknown, ctx: PkiContext): string | undefined {
    const s = c.string(key, v);
    if (s === undefined) {
        return undefined;
    }
    const m = /^(DNS|IP):(.*)$/.exec(s);
    const value = m ? m[2] : s;
    const kind = m ? m[1] : isIPv4(s) ? "IP" : "DNS";
    if (kind === "IP") {
        if (!isIPv4(value)) {
            return c.fail(key, `"${s}" is not an IPv4 address; write IP:<a LAN address>, e.g. IP:10.0.0.11`);
        }
        if (ctx.lanCidr && !inCidr(value, ctx.lanCidr)) {
            return c.fail(key, `"${s}" is outside the LAN ${ctx.lan}; the CA signs LAN addresses only: use one inside it or a DNS name`);
        }
        return `IP:${value}`;
    }
    if (!dnsName(value)) {
        return c.fail(key, `"${s}" is not a valid DNS name; use lower-case dot-separated labels (RFC 1123), e.g. registry.home.arpa`);
    }
    if (ctx.domain && value !== ctx.domain && !value.endsWith(`.${ctx.domain}`)) {
        return c.fail(key, `"${s}" is outside the domain ${ctx.domain}; the CA signs names in it only: use a name ending in .${ctx.domain}`);
    }
    return `DNS:${value}`;
}

function checkExcluded(c: Checker, raw: RawConfig, ctx: PkiContext): string[] | undefined {
    const v = raw.certificateExclude;
    if (!Array.isArray(v)) {
        return c.fail("certificateExclude", "must be a list of node names (an empty list means every node)");
    }
    const out: string[] = [];
    v.forEach((name, i) => {
        const k = `certificateExclude[${i}]`;
        if (name === ctx.gatewayHostname) {
            c.fail(k, `"${name}" is the gateway, which holds the CA; only nodes can be left out`);
        } else if (name === ctx.gateway2Hostname) {
            c.fail(k, `"${name}" is the second gateway, which gets its certificate like the first; only nodes can be left out`);
        } else if (typeof name !== "string" || (!ctx.nodes.includes(name) && !ctx.lostNodes.includes(name))) {
            c.fail(k, `${JSON.stringify(name)} is not a node; use a name from homecloud:nodes (${ctx.nodes.join(", ")})`);
        } else if (ctx.k3sEnabled && name === ctx.nodes[0]) {
            c.fail(k, `"${name}" is the first server, which holds the cluster issuer's key while K3s is on; it cannot be left out`);
        } else {
            out.push(name);
        }
    });
    return out.length === v.length ? out : undefined;
}

function checkCertificates(c: Checker, raw: RawConfig, ctx: PkiContext, excluded: readonly string[]): ServiceCertificate[] {
    const v = raw.certificates;
    if (!Array.isArray(v)) {
        c.fail("certificates", "must be a list of { name, host, sans } (an empty list means host certificates only)");
        return [];
    }
    const hosts = [...ctx.gatewayHostname ? [ctx.gatewayHostname] : [], ...ctx.gateway2Hostname ? [ctx.gateway2Hostname] : [],
        ...ctx.nodes, ...ctx.lostNodes];
    const seen = new Map<string, string>();
    const out: ServiceCertificate[] = [];
    v.forEach((entry, i) => {
        const k = `certificates[${i}]`;
        const o = c.object(k, entry, true);
        if (!o) {
            return;
        }
        let name = c.string(`${k}.name`, o.name);
        if (name !== undefined && !HOSTNAME.test(name)) {
            name = c.fail(`${k}.name`, `"${name}" is not a valid DNS name; use 1-63 lower-case letters, digits and inner hyphens (RFC 1123), e.g. registry`);
        } else if (name === HOST_CERT_LABEL) {
            name = c.fail(`${k}.name`, `"${name}" is the name of each host's own certificate; pick another name`);
        } else if (name !== undefined && hosts.includes(name)) {
            name = c.fail(`${k}.name`, `"${name}" is a host's name, and the host's own certificate already holds ${name}.${ctx.domain ?? "<domain>"}; pick another name`);
        } else if (name !== undefined && seen.has(name)) {
            name = c.fail(`${k}.name`, `"${name}" is already homecloud:${seen.get(name)}; every certificate needs its own name`);
        }
        if (name !== undefined) {
            seen.set(name, `${k}.name`);
        }
        let host = c.string(`${k}.host`, o.host);
        if (host !== undefined && !hosts.includes(host)) {
            host = c.fail(`${k}.host`, `"${host}" is not a host the program manages; use the gateway's host name or a node's name (${hosts.join(", ")})`);
        } else if (host !== undefined && excluded.includes(host)) {
            host = c.fail(`${k}.host`, `"${host}" is in homecloud:certificateExclude; serve it from another host or take it off that list`);
        }
        let sans: string[] | undefined = [];
        if (o.sans !== undefined && !Array.isArray(o.sans)) {
            sans = c.fail(`${k}.sans`, "must be a list of names inside the domain or LAN addresses, e.g. [registry.home.arpa, IP:10.0.0.11]");
        } else {
            const checked = ((o.sans ?? []) as unknown[]).map((s, j) => checkSan(c, `${k}.sans[${j}]`, s, ctx));
            sans = checked.every((s) => s !== undefined) ? [...new Set(checked as string[])] : undefined;
        }
        if (name !== undefined && host !== undefined && sans !== undefined) {
            out.push({ name, host, sans });
        }
    });
    return out;
}

/** The PKI settings, checked; undefined fields where a value was invalid (reported). */
export function checkPki(c: Checker, raw: RawConfig, ctx: PkiContext): Partial<PkiSettings> {
    const lifetimeDays = c.wholeNumber("certificateLifetimeDays", raw.certificateLifetimeDays, LIFETIME_DAYS.min, LIFETIME_DAYS.max,
        `whole days from ${LIFETIME_DAYS.min} to ${LIFETIME_DAYS.max} (clients refuse server certificates valid for longer than 398 days)`);
    const r = raw.certificateRenewal;
    const renewal = typeof r === "number" && Number.isInteger(r) && r >= 0 ? r
        : c.fail("certificateRenewal", `${JSON.stringify(r)} must be a whole number from 0; raise it by one to re-sign every certificate`);
    const caDestroy = typeof raw.caDestroy === "boolean" ? raw.caDestroy
        : c.fail("caDestroy", `${JSON.stringify(raw.caDestroy)} must be true or false`);
    const excluded = checkExcluded(c, raw, ctx);
    return { lifetimeDays, renewal, caDestroy, excluded, certificates: checkCertificates(c, raw, ctx, excluded ?? []) };
}
