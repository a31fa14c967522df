// The SSH host keys the user pins in config (`hostKeys: [{ host, key }]`), one per host the
// program reaches over SSH. A list of objects, like `nodes`: Pulumi's project config types
// (string, integer, boolean, array) have no map. Pure: no Pulumi import.
import { Checker } from "./checker";
import { RawConfig } from "./schema";
import { parseSshPublicKey } from "./sshKey";

/** The hosts a key can be given for: the gateway's host name and the nodes' names. */
export interface HostKeyContext {
    readonly gatewayHostname?: string;
    /** The second gateway's host name, when there is one. */
    readonly gateway2Hostname?: string;
    readonly nodes: readonly string[];
}

/** Each configured host's key as `<type> <base64>` (comment dropped), by host name. */
export function checkHostKeys(c: Checker, raw: RawConfig, ctx: HostKeyContext): Record<string, string> {
    const v = raw.hostKeys;
    const out: Record<string, string> = {};
    if (!Array.isArray(v)) {
        c.fail("hostKeys", "must be a list of { host, key } (an empty list means every host's key is learned on the first up)");
        return out;
    }
    const hosts = [...ctx.gatewayHostname ? [ctx.gatewayHostname] : [], ...ctx.gateway2Hostname ? [ctx.gateway2Hostname] : [], ...ctx.nodes];
    const seen = new Map<string, string>();
    v.forEach((entry, i) => {
        const k = `hostKeys[${i}]`;
        const o = c.object(k, entry, true);
        if (!o) {
            return;
        }
        let host = c.string(`${k}.host`, o.host);
        if (host !== undefined && !hosts.includes(host)) {
            host = c.fail(`${k}.host`, `"${host}" is not a host the program reaches over SSH; use the gateway's host name or a node's name (${hosts.join(", ")})`);
        } else if (host !== undefined && seen.has(host)) {
            host = c.fail(`${k}.host`, `"${host}" already has a key at homecloud:${seen.get(host)}; give one key per host`);
        }
        if (host !== undefined) {
            seen.set(host, k);
        }
        const text = c.string(`${k}.key`, o.key);
        const key = text === undefined ? undefined : parseSshPublicKey(text);
        if (key !== undefined && "problem" in key) {
            c.fail(`${k}.key`, `"${text!.trim().slice(0, 40)}${text!.trim().length > 40 ? "…" : ""}" ${key.problem}`);
        } else if (key !== undefined && host !== undefined) {
            out[host] = key.text;
        }
    });
    return out;
}
