// The stack outputs, typed: what other projects read through a StackReference.
import * as pulumi from "@pulumi/pulumi";
import { LoadBalancerStatus } from "./network/loadBalancer";
import { CertificateStatus } from "./pki/pkiSteps";

export interface StackOutputs {
    /** Admin kubeconfig (secret) whose server is the API name, never 127.0.0.1; only when K3s is on. */
    readonly kubeconfig?: pulumi.Output<string>;
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
    /** The VIP's balancer (HAProxy on the gateway): where to look at it, on the gateway only. */
    readonly loadBalancer: pulumi.Output<LoadBalancerStatus>;
    /** The gateway CA's certificate (public, PEM): trust it to reach the home cloud's TLS services. */
    readonly caCertificate: pulumi.Output<string>;
    /** The certificate that expires first, when, and from when the next `up` re-signs them all. */
    readonly certificates: pulumi.Output<CertificateStatus>;
}
