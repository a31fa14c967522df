// Reads the stack configuration once and hands back the typed plan plus the secrets.
// The only module that touches pulumi.Config; which keys exist and what type each has
// comes from the schema, and the strings the engine hands over are read as every other
// reader of a stack file reads them (stackFile.ts).
import * as pulumi from "@pulumi/pulumi";
import { AddressPlan, ConfigError } from "./plan";
import { CONFIG_NAMESPACE, rawConfigFromValues } from "./stackFile";
import { parseAddressPlan } from "./validate";

export interface HomecloudConfig {
    readonly plan: AddressPlan;
    /** Private key (OpenSSH format) of `sshUser` on every host; a Pulumi secret. */
    readonly sshPrivateKey: pulumi.Output<string>;
    /** homecloud:kubeconfig (validated: plan.cluster.existing), a Pulumi secret; only for an existing cluster. */
    readonly kubeconfig?: pulumi.Output<string>;
}

// The SDK's own test of `pulumi config set --secret` (runtime/config.js; not in its typings).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret: (key: string) => boolean };

/** The problem with a kubeconfig kept in plain text in the stack file, else undefined. */
export function plainKubeconfigProblem(value: string | undefined, secret: boolean): string | undefined {
    return value && !secret
        ? "homecloud:kubeconfig: is stored in plain text in the stack file, and it holds your cluster's admin credentials; " +
          "remove it (`pulumi config rm homecloud:kubeconfig`) and set it as a secret: " +
          "`kubectl config view --minify --flatten --raw | pulumi config set --secret homecloud:kubeconfig`"
        : undefined;
}

export function loadConfig(): HomecloudConfig {
    const cfg = new pulumi.Config(CONFIG_NAMESPACE);
    const raw = rawConfigFromValues((key) => cfg.get(key));
    const plain = plainKubeconfigProblem(cfg.get("kubeconfig"), isConfigSecret(`${CONFIG_NAMESPACE}:kubeconfig`));
    if (plain) {
        throw new ConfigError([plain]);
    }
    const { plan, warnings } = parseAddressPlan(raw);
    warnings.forEach((w) => pulumi.log.warn(w));
    return {
        plan,
        sshPrivateKey: cfg.requireSecret("sshPrivateKey"),
        ...plan.cluster.existing ? { kubeconfig: cfg.requireSecret("kubeconfig") } : {},
    };
}
