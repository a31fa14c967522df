// Reads the stack configuration once and hands back the typed plan plus the secrets.
// The only module that touches pulumi.Config; which keys exist and what type each has
// comes from the schema, and the strings the engine hands over are read as every other
// reader of a stack file reads them (stackFile.ts).
import * as pulumi from "@pulumi/pulumi";
import { AddressPlan } from "./plan";
import { CONFIG_NAMESPACE, rawConfigFromValues } from "./stackFile";
import { parseAddressPlan } from "./validate";

export interface HomecloudConfig {
    readonly plan: AddressPlan;
    /** Private key (OpenSSH format) of `sshUser` on every host; a Pulumi secret. */
    readonly sshPrivateKey: pulumi.Output<string>;
}

export function loadConfig(): HomecloudConfig {
    const cfg = new pulumi.Config(CONFIG_NAMESPACE);
    const { plan, warnings } = parseAddressPlan(rawConfigFromValues((key) => cfg.get(key)));
    warnings.forEach((w) => pulumi.log.warn(w));
    return { plan, sshPrivateKey: cfg.requireSecret("sshPrivateKey") };
}
