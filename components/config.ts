// Reads the stack configuration once and hands back the typed plan plus the secrets.
// The only module that touches pulumi.Config.
import * as pulumi from "@pulumi/pulumi";
import { AddressPlan, parseAddressPlan, RawConfig } from "./addressPlan";

/** Keys holding scalars (typed in Pulumi.yaml). */
const STRING_KEYS = [
    "domain", "gatewayHostname", "gatewayLanAddress", "gatewaySshHost", "lanInterface", "wanInterface",
    "lanCidr", "dhcpPool", "wanCidr", "vip", "metallbPool", "ingressIp", "apiName", "sshUser",
    "k3sVersion", "k3sInstall", "k3sAirgapDir",
] as const;
const NUMBER_KEYS = ["leaseSeconds", "apiPort", "httpPort", "httpsPort", "sshPort"] as const;
/** Keys holding structured YAML (lists). */
const OBJECT_KEYS = ["dnsForwarders", "nodes", "reservations"] as const;

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
    // Parsed only as far as JSON goes; a value that is not JSON stays a string so the plan
    // check reports it with its key and the fix, instead of a bare JSON parse error.
    for (const key of [...NUMBER_KEYS, ...OBJECT_KEYS, "k3sEnabled"]) {
        raw[key] = parseLoose(cfg.get(key));
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
