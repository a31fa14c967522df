// homecloud: config → every host's SSH key pinned → gateway (NAT, DHCP, DNS, VIP balanced by HAProxy) → private CA (gateway) with a
// certificate per host → K3s (or the user's cluster) → MetalLB → Traefik → cert-manager under the CA → outputs.
import * as pulumi from "@pulumi/pulumi";
import { apiFqdn, lanRouter, servers } from "./config/plan";
import { loadConfig } from "./config/load";
import { HostKeys } from "./host/hostKeys";
import { Gateway } from "./network/gateway";
import { LoadBalancer } from "./network/loadBalancer";
import { pairSecrets } from "./network/pair/pairSecrets";
import { K3sCluster } from "./cluster/k3sCluster";
import { ExistingCluster } from "./cluster/existingCluster";
import { deployKubernetes, k3sAccess } from "./cluster/kubernetesHalf";
import { PrivateCa } from "./pki/privateCa";
import { nodeGuards } from "./host/nodeGuard";
import { StackOutputs } from "./outputs";

const { plan, sshPrivateKey, kubeconfig } = loadConfig();

// Every command pins its host's SSH key: given in config, or learned once on the first up.
const hostKeys = new HostKeys("hostkeys", { plan, sshPrivateKey });

// With a second gateway both run the same services; keepalived moves the VIP and the
// floating LAN address between them, Kea pairs in hot-standby, BIND's zones are transferred.
const pairs = plan.gateway2 ? pairSecrets(sshPrivateKey) : undefined;
const gateway = new Gateway("gateway", {
    plan,
    connection: {
        host: plan.gateway.sshHost, port: plan.ports.ssh, user: plan.sshUser, privateKey: sshPrivateKey,
        hostKey: hostKeys.key(plan.gateway.hostname),
    },
    ...pairs ? { pair: { role: "first", secrets: pairs } } : {},
});
// After the first gateway, so that one takes the addresses on the first up. Its HAProxy
// checks the API without a client certificate (the check's key lives with the PKI on gw1).
const gateway2 = plan.gateway2 && pairs ? new Gateway("gateway2", {
    plan,
    connection: {
        host: plan.gateway2.sshHost, port: plan.ports.ssh, user: plan.sshUser, privateKey: sshPrivateKey,
        hostKey: hostKeys.key(plan.gateway2.hostname),
    },
    pair: { role: "second", secrets: pairs },
}, { dependsOn: gateway.services }) : undefined;
gateway2?.serveApi();

// The CA lives on the gateway; every host (both gateways and the nodes) gets its own key and
// certificate, the second gateway once its own packages and daemons are in.
const ca = new PrivateCa("pki", {
    plan, sshPrivateKey, hostKeys: hostKeys.byHost, waitFor: gateway.services,
    ...plan.gateway2 && gateway2 ? { hostWaitFor: { [plan.gateway2.hostname]: gateway2.services } } : {},
});

// HAProxy on the VIP checks each server's /readyz with a client certificate that K3s's client
// CA signs on the first server (so a server whose etcd lost quorum is taken out); before K3s
// runs there, without one. With K3s managed here it comes once the first server is installed.
const firstServer = servers(plan)[0];
const serveApi = (after: pulumi.Resource[]): LoadBalancer => gateway.serveApi(firstServer && ca.hosts.has(firstServer.name) ? {
    gateway: ca.gateway, firstServer: ca.hosts.get(firstServer.name)!, after,
    k3s: plan.k3s.enabled ? "managed" : "unmanaged", days: plan.pki.lifetimeDays, issue: ca.issue,
} : undefined);

// The cluster half: the program's K3s, or a cluster the user runs (homecloud:kubeconfig);
// either way the same Kubernetes half on it. Off in the lab, where no K3s can be downloaded.
interface DeployedCluster {
    readonly stepsOn: (node: string) => pulumi.Resource[];
    readonly outputs: Pick<StackOutputs, "kubeconfig" | "kubeconfigExpires">;
    /** HAProxy, when the cluster made it (once the first K3s server was installed). */
    readonly loadBalancer?: LoadBalancer;
}
function deployCluster(): DeployedCluster {
    // After the gateway and the PKI steps: a node's prepare may reboot it.
    const waitFor = [...gateway.services, ca];
    if (plan.cluster.source === "existing") {
        const cluster = new ExistingCluster("cluster", { plan, kubeconfig: kubeconfig!, sshPrivateKey, hostKeys: hostKeys.byHost, waitFor });
        deployKubernetes(plan, ca, cluster);
        // The user's own credentials, renewed by the user: no expiry to report.
        return { stepsOn: (node) => cluster.stepsOn(node), outputs: { kubeconfig: pulumi.secret(kubeconfig!) } };
    }
    let loadBalancer: LoadBalancer | undefined;
    const cluster = new K3sCluster("k3s", {
        plan, sshPrivateKey, hostKeys: hostKeys.byHost, waitFor,
        apiFrontend: (firstServerInstalled) => loadBalancer = serveApi([firstServerInstalled]),
        snapshotStore: gateway.host,
    });
    deployKubernetes(plan, ca, k3sAccess(cluster));
    return {
        stepsOn: (node) => cluster.stepsOn(node),
        outputs: { kubeconfig: pulumi.secret(cluster.kubeconfig), kubeconfigExpires: cluster.kubeconfigExpires },
        loadBalancer,
    };
}
const deployed = plan.cluster.source === "none" ? undefined : deployCluster();
const loadBalancer = deployed?.loadBalancer ?? serveApi([]);

// A node taken out of `nodes` that no longer answers fails the run at once, naming lostNodes.
nodeGuards(plan, ca.gateway, (node) => [...ca.stepsOn.get(node) ?? [], ...deployed?.stepsOn(node) ?? []]);

const outputs: StackOutputs = {
    // Only with a cluster: an undefined export would be a warning on every run.
    ...deployed?.outputs ?? {},
    apiEndpoint: plan.cluster.existing?.server ?? `https://${apiFqdn(plan)}:${plan.ports.api}`,
    vip: plan.wan.vip,
    ingressIp: plan.ingressIp,
    metallbPool: `${plan.metallbPool.start}-${plan.metallbPool.end}`,
    domain: plan.domain,
    nodes: Object.fromEntries(plan.nodes.map((n) => [n.name, { ip: n.ip, role: n.role }])),
    gateway: { hostname: plan.gateway.hostname, lanAddress: plan.gateway.lanAddress, vip: plan.wan.vip, lanRouter: lanRouter(plan) },
    gateway2: plan.gateway2
        ? { hostname: plan.gateway2.hostname, lanAddress: plan.gateway2.lanAddress, wanAddress: plan.gateway2.wanAddress }
        : null,
    loadBalancer: loadBalancer.status,
    caCertificate: ca.caCertificate,
    certificates: ca.status,
    hostKeys: hostKeys.entries,
};
export = outputs;
