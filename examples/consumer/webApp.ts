// A small web app on a homecloud cluster: its own namespace, a Deployment, a ClusterIP
// Service and an Ingress for Traefik at `<host>`. The Kubernetes provider comes from the
// caller (`opts.providers: { kubernetes: provider }`).
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

export interface WebAppArgs {
    /** DNS label: namespace and object names. */
    readonly name: string;
    /** Host name the Ingress answers, `<app>.<domain>` (the domain's wildcard points at the ingress IP). */
    readonly host: pulumi.Input<string>;
    /** Image serving HTTP on `--port` (traefik/whoami). */
    readonly image: string;
    readonly replicas: number;
}

/** The port the container listens on: above 1024, so it runs without root. */
export const APP_PORT = 8080;
/** homecloud's Traefik release creates this IngressClass. */
export const INGRESS_CLASS = "traefik";

export class WebApp extends pulumi.ComponentResource {
    public readonly namespace: k8s.core.v1.Namespace;
    public readonly deployment: k8s.apps.v1.Deployment;
    public readonly service: k8s.core.v1.Service;
    public readonly ingress: k8s.networking.v1.Ingress;

    constructor(name: string, args: WebAppArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud-consumer:app:WebApp", name, {}, opts);
        const labels = { "app.kubernetes.io/name": args.name };
        this.namespace = new k8s.core.v1.Namespace(`${name}-namespace`, {
            metadata: { name: args.name },
        }, { parent: this });
        const namespace = this.namespace.metadata.name;
        this.deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, {
            metadata: { name: args.name, namespace, labels },
            spec: {
                replicas: args.replicas,
                selector: { matchLabels: labels },
                template: {
                    metadata: { labels },
                    spec: {
                        securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } },
                        containers: [{
                            name: "web",
                            image: args.image,
                            args: [`--port=${APP_PORT}`, `--name=${args.name}`],
                            ports: [{ name: "http", containerPort: APP_PORT }],
                            readinessProbe: { httpGet: { path: "/health", port: "http" } },
                            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                            resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } },
                        }],
                    },
                },
            },
        }, { parent: this });
        this.service = new k8s.core.v1.Service(`${name}-service`, {
            metadata: { name: args.name, namespace, labels },
            spec: { selector: labels, ports: [{ name: "http", port: 80, targetPort: "http" }] },
        }, { parent: this });
        this.ingress = new k8s.networking.v1.Ingress(`${name}-ingress`, {
            metadata: { name: args.name, namespace, labels },
            spec: {
                ingressClassName: INGRESS_CLASS,
                rules: [{
                    host: args.host,
                    http: {
                        paths: [{
                            path: "/",
                            pathType: "Prefix",
                            backend: { service: { name: this.service.metadata.name, port: { name: "http" } } },
                        }],
                    },
                }],
            },
        }, { parent: this });
        this.registerOutputs({});
    }
}
