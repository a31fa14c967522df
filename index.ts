// homecloud: config → every host's SSH key pinned → gateway (NAT, DHCP, DNS, VIP balanced by HAProxy) → private CA (gateway) with a
// certificate per host → K3s → MetalLB → Traefik → cert-manager under the CA → outputs.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { apiFqdn } from "./config/plan";
import { loadConfig } from "./config/load";
import { HostKeys } from "./host/hostKeys";
import { Gateway } from "./network/gateway";
import { pairSecrets } from "./network/pair/pairSecrets";
import { K3sCluster } from "./cluster/k3sCluster";
import { MetalLB } from "./cluster/metallb";
import { Traefik, TRAEFIK_NAMESPACE } from "./cluster/traefik";
import { TRAEFIK_CRDS_RELEASE } from "./cluster/helm";
import { adoptCrdsCommand } from "./cluster/k3sSteps";
import { LostNodeGuard } from "./cluster/lostNodeGuard";
import { PrivateCa } from "./pki/privateCa";
import { ClusterIssuer } from "./pki/clusterIssuer";
import { nodeGuards } from "./host/nodeGuard";
import { StackOutputs } from "./outputs";

const { plan, sshPrivateKey } = loadConfig();

// Every command pins its host's SSH key: given in config, or learned once on the first up.
const hostKeys = new HostKeys("hostkeys", { plan, sshPrivateKey });

// With a second gateway both run the same services; keepalived moves the VIP and the
// floating LAN address between them, Kea pairs in hot-standby, BIND's zones are transferred.
const pairs = plan.gateway2 ? pairSecrets(sshPrivateKey) : undefined;
const gatewayHost = new Gateway("gateway", {
    plan,
    connection: {
        host: plan.gateway.sshHost, port: plan.ports.ssh, user: plan.sshUser, privateKey: sshPrivateKey,
        hostKey: hostKeys.key(plan.gateway.hostname),
    },
    ...pairs ? { pair: { role: "first", secrets: pairs } } : {},
});
if (plan.gateway2 && pairs) {
    // After the first gateway, so that one takes the addresses on the first up.
    new Gateway("gateway2", {
        plan,
        connection: {
            host: plan.gateway2.sshHost, port: plan.ports.ssh, user: plan.sshUser, privateKey: sshPrivateKey,
            hostKey: hostKeys.key(plan.gateway2.hostname),
        },
        pair: { role: "second", secrets: pairs },
    }, { dependsOn: [gatewayHost] });
}

// The CA lives on the gateway; every host (gateway and nodes) gets its own key and certificate.
const ca = new PrivateCa("pki", { plan, sshPrivateKey, hostKeys: hostKeys.byHost, waitFor: [gatewayHost] });

// The cluster half; off in the lab, where no K3s can be downloaded.
function deployCluster(): { cluster: K3sCluster; outputs: Pick<StackOutputs, "kubeconfig" | "kubeconfigExpires"> } {
    // After the gateway and the PKI steps: a node's prepare may reboot it.
    const cluster = new K3sCluster("k3s", { plan, sshPrivateKey, hostKeys: hostKeys.byHost, waitFor: [gatewayHost, ca] });
    // Through the VIP's address (no DNS needed); a fixed cluster identifier makes a renewed
    // certificate or another server URL an update of the provider, never a replacement of
    // everything it manages.
    const provider = new k8s.Provider("k3s", { kubeconfig: cluster.providerKubeconfig, clusterIdentifier: cluster.clusterName });
    const metallb = new MetalLB("metallb", {
        pool: plan.metallbPool,
        admissionCheck: (manifest, release) => cluster.whenAccepted("metallb-pool", "MetalLB's address pool and L2 advertisement", manifest, [release]),
    }, { providers: { kubernetes: provider } });
    // CRDs the Traefik chart itself installed (stacks from before the CRDs chart) go to the CRDs release.
    const adopted = cluster.onFirstServer("adopt-traefik-crds", adoptCrdsCommand(TRAEFIK_CRDS_RELEASE, TRAEFIK_NAMESPACE, "traefik.io", "hub"));
    const traefik = new Traefik("traefik", {
        loadBalancerIp: plan.ingressIp, waitFor: metallb.ready, crdsWaitFor: [adopted],
    }, { providers: { kubernetes: provider } });
    new ClusterIssuer("cert-manager", { plan, ca, clusterReady: [cluster.kubeconfigRead], traefik }, { providers: { kubernetes: provider } });
    if (plan.lostNodes.length > 0) {
        // A lost Pi that comes back with K3s still installed must not rejoin by itself.
        new LostNodeGuard("lost-nodes", { lostNodes: plan.lostNodes, waitFor: [cluster.kubeconfigRead] }, { providers: { kubernetes: provider } });
    }
    return { cluster, outputs: { kubeconfig: pulumi.secret(cluster.kubeconfig), kubeconfigExpires: cluster.kubeconfigExpires } };
}
const deployed = plan.k3s.enabled ? deployCluster() : undefined;

// A node taken out of `nodes` that no longer answers fails the run at once, naming lostNodes.
nodeGuards(plan, ca.gateway, (node) => [...ca.stepsOn.get(node) ?? [], ...deployed?.cluster.stepsOn(node) ?? []]);

const outputs: StackOutputs = {
    // Only with K3s on: an undefined export would be a warning on every run.
    ...deployed?.outputs ?? {},
    apiEndpoint: `https://${apiFqdn(plan)}:${plan.ports.api}`,
    vip: plan.wan.vip,
    ingressIp: plan.ingressIp,
    metallbPool: `${plan.metallbPool.start}-${plan.metallbPool.end}`,
    domain: plan.domain,
    nodes: Object.fromEntries(plan.nodes.map((n) => [n.name, { ip: n.ip, role: n.role }])),
    gateway: { hostname: plan.gateway.hostname, lanAddress: plan.gateway.lanAddress, vip: plan.wan.vip },
    loadBalancer: gatewayHost.loadBalancerStatus,
    caCertificate: ca.caCertificate,
    certificates: ca.status,
    hostKeys: hostKeys.entries,
};
export = outputs;
