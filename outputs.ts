// The stack outputs, typed: what other projects read through a StackReference.
import * as pulumi from "@pulumi/pulumi";

export interface StackOutputs {
    /** Admin kubeconfig (secret), server per `kubeconfigServer` (VIP or API name), never 127.0.0.1; only when K3s is on. */
    readonly kubeconfig?: pulumi.Output<string>;
    /** When the kubeconfig's client certificate expires (ISO 8601, UTC); only when K3s is on. */
    readonly kubeconfigExpires?: pulumi.Output<string>;
    /** `https://<apiName>.<domain>:<apiPort>`. */
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
    readonly nodes: Readonly<Record<string, { readonly ip: string; readonly role: "server" | "agent" }>>;
    readonly gateway: { readonly hostname: string; readonly lanAddress: string; readonly vip: string };
}
