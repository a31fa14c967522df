// Reads the stack configuration once and hands back the typed plan plus the secrets.
// The only module that touches pulumi.Config.
import * as pulumi from "@pulumi/pulumi";
import { AddressPlan, parseAddressPlan, RawConfig } from "./addressPlan";

/** Keys holding plain strings; every other key holds structured YAML. */
const STRING_KEYS = ["domain", "ingressIp", "apiName", "sshUser"] as const;
const OBJECT_KEYS = ["gateway", "lan", "wan", "dns", "metallb", "ports", "nodes", "reservations", "k3s"] as const;

export interface HomecloudConfig {
    readonly plan: AddressPlan;
    /** Private key (OpenSSH format) of `sshUser` on every host; a Pulumi secret. */
    readonly sshPrivateKey: pulumi.Output<string>;
}

export function loadConfig(): HomecloudConfig {
    const cfg = new pulumi.Config("homecloud");
    const raw: RawConfig = {};
    for (const key of STRING_KEYS) {
        raw[key] = cfg.get(key);
    }
    for (const key of OBJECT_KEYS) {
        raw[key] = cfg.getObject<unknown>(key);
    }
    const { plan, warnings } = parseAddressPlan(raw);
    warnings.forEach((w) => pulumi.log.warn(w));
    return { plan, sshPrivateKey: cfg.requireSecret("sshPrivateKey") };
}
