// A second project on a homecloud cluster: the homecloud stack's outputs (typed, through
// the project's outputs.ts) → a Kubernetes provider from its kubeconfig → a web app at
// http://<app>.<domain>, served by homecloud's Traefik on the ingress IP.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { referenceHomecloud } from "../../outputs";
import { parseSettings } from "./settings";
import { WebApp } from "./webApp";

// Named explicitly: the project's config namespace, whatever project runs this file.
const config = new pulumi.Config("homecloud-consumer");
const settings = parseSettings({
    homecloudStack: config.get("homecloudStack"),
    app: config.get("app"),
    image: config.get("image"),
    replicas: config.getNumber("replicas"),
});

const home = referenceHomecloud(settings.homecloudStack);
const provider = new k8s.Provider("homecloud", { kubeconfig: home.kubeconfig });
const host = pulumi.interpolate`${settings.app}.${home.domain}`;

new WebApp(settings.app, { name: settings.app, host, image: settings.image, replicas: settings.replicas },
    { providers: { kubernetes: provider } });

export const url = pulumi.interpolate`http://${host}/`;
/** Where `<app>.<domain>` resolves: the cluster's ingress IP (the domain's wildcard record). */
export const ingressIp = home.ingressIp;
