// Reads the stack configuration once and hands back the typed plan plus the secrets.
// The only module that touches pulumi.Config; which keys exist and what type each has
// comes from the schema.
import * as pulumi from "@pulumi/pulumi";
import { AddressPlan } from "./plan";
import { CONFIG_KEYS, CONFIG_SCHEMA, KeySpec, RawConfig } from "./schema";
import { parseAddressPlan } from "./validate";

export interface HomecloudConfig {
    readonly plan: AddressPlan;
    /** Private key (OpenSSH format) of `sshUser` on every host; a Pulumi secret. */
    readonly sshPrivateKey: pulumi.Output<string>;
}

export function loadConfig(): HomecloudConfig {
    const cfg = new pulumi.Config("homecloud");
    const raw: RawConfig = {};
    for (const key of CONFIG_KEYS) {
        const spec: KeySpec = CONFIG_SCHEMA[key];
        if (spec.secret) {
            continue;
        }
        // Non-strings are parsed only as far as JSON goes; a value that is not JSON stays a
        // string, so the plan check reports it with its key and the fix.
        raw[key] = spec.type === "string" ? cfg.get(key) : parseLoose(cfg.get(key));
    }
    const { plan, warnings } = parseAddressPlan(raw);
    warnings.forEach((w) => pulumi.log.warn(w));
    return { plan, sshPrivateKey: cfg.requireSecret("sshPrivateKey") };
}

function parseLoose(v: string | undefined): unknown {
    if (v === undefined) {
        return undefined;
    }
    try {
        return JSON.parse(v);
    } catch {
        return v;
    }
}
