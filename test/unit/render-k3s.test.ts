// The cluster half's pure renderers: K3s config.yaml per node kind, the kubeconfig rewrite,
// Helm values and MetalLB objects, by exact expectation. (The scripts are checked and run
// in the checker tier: test/checkers/k3s-scripts.test.ts.)
import * as assert from "assert";
import { AddressPlan } from "../../config/plan";
import { parseAddressPlan } from "../../config/validate";
import {
    apiNameUrl, firstServerUrl, k3sConfigFor, k3sService, renderK3sConfig, vipApiUrl,
} from "../../cluster/k3sConfig";
import { rewriteKubeconfig } from "../../cluster/kubeconfig";
import {
    deepMerge, ipAddressPool, l2Advertisement, METALLB_CHART, metallbValues, privilegedNamespaceLabels,
    TRAEFIK_CHART, traefikValues,
} from "../../cluster/helm";
import { clusterRawPlan, SAMPLE_K3S_KUBECONFIG } from "../fixtures/k3s";

function clusterPlan(): AddressPlan {
    return parseAddressPlan(clusterRawPlan()).plan;
}

describe("K3s renderers", () => {
    const plan = clusterPlan();
    const node = (name: string) => plan.nodes.find((n) => n.name === name)!;

    describe("config.yaml", () => {
        it("first server initialises etcd, with the VIP and API name in its TLS SANs", () => {
            assert.deepStrictEqual(k3sConfigFor(plan, node("pi1")), {
                kind: "init-server", nodeName: "pi1", nodeIp: "10.0.0.11", tlsSan: ["192.168.1.10", "api.home.arpa"],
            });
            assert.strictEqual(renderK3sConfig(k3sConfigFor(plan, node("pi1"))), `# Managed by homecloud (Pulumi). Edits here are overwritten on the next \`pulumi up\`.
node-name: pi1
node-ip: 10.0.0.11
cluster-init: true
token-file: /etc/rancher/k3s/token
tls-san:
  - 192.168.1.10
  - api.home.arpa
disable:
  - servicelb
  - traefik
write-kubeconfig-mode: "0600"
`);
        });

        it("a joining server points at the first server's own address and port 6443", () => {
            assert.strictEqual(renderK3sConfig(k3sConfigFor(plan, node("pi3"))), `# Managed by homecloud (Pulumi). Edits here are overwritten on the next \`pulumi up\`.
node-name: pi3
node-ip: 10.0.0.13
server: https://10.0.0.11:6443
token-file: /etc/rancher/k3s/token
tls-san:
  - 192.168.1.10
  - api.home.arpa
disable:
  - servicelb
  - traefik
write-kubeconfig-mode: "0600"
`);
        });

        it("an agent joins through the VIP on the API port, and has no server-only keys", () => {
            assert.strictEqual(renderK3sConfig(k3sConfigFor(plan, node("pi4"))), `# Managed by homecloud (Pulumi). Edits here are overwritten on the next \`pulumi up\`.
node-name: pi4
node-ip: 10.0.0.14
server: https://192.168.1.10:8443
token-file: /etc/rancher/k3s/token
`);
        });

        it("never carries the token itself", () => {
            for (const n of plan.nodes) {
                assert.doesNotMatch(renderK3sConfig(k3sConfigFor(plan, n)), /^token:/m);
            }
        });

        it("URLs and names", () => {
            assert.strictEqual(firstServerUrl(plan), "https://10.0.0.11:6443");
            assert.strictEqual(vipApiUrl(plan), "https://192.168.1.10:8443");
            assert.strictEqual(apiNameUrl(plan), "https://api.home.arpa:8443");
            assert.strictEqual(k3sService("server"), "k3s");
            assert.strictEqual(k3sService("agent"), "k3s-agent");
        });

        it("rejects a node that is not in the plan", () => {
            assert.throws(() => k3sConfigFor(plan, { name: "ghost", mac: "02:00:00:00:00:99", ip: "10.0.0.99", role: "server" }),
                { name: "RangeError", message: 'node "ghost" is not in homecloud:nodes' });
        });
    });

    describe("kubeconfig rewrite", () => {
        it("points the cluster at the given URL and changes nothing else", () => {
            assert.strictEqual(rewriteKubeconfig(SAMPLE_K3S_KUBECONFIG, "https://api.home.arpa:8443"), `apiVersion: v1
clusters:
  - cluster:
      certificate-authority-data: LS0tLS1CRUdJTiBDRVJU
      server: https://api.home.arpa:8443
    name: default
contexts:
  - context:
      cluster: default
      user: default
    name: default
current-context: default
kind: Config
preferences: {}
users:
  - name: default
    user:
      client-certificate-data: Q0xJRU5UIENFUlQ=
      client-key-data: Q0xJRU5UIEtFWQ==
`);
        });

        it("refuses a kubeconfig without a 127.0.0.1 cluster, a non-kubeconfig and a bad URL", () => {
            const elsewhere = SAMPLE_K3S_KUBECONFIG.replace("https://127.0.0.1:6443", "https://10.0.0.11:6443");
            assert.throws(() => rewriteKubeconfig(elsewhere, "https://api.home.arpa:8443"), {
                message: "/etc/rancher/k3s/k3s.yaml has no cluster at https://127.0.0.1:6443; refusing to guess which server to rewrite",
            });
            assert.throws(() => rewriteKubeconfig("", "https://api.home.arpa:8443"), {
                message: "/etc/rancher/k3s/k3s.yaml is not a kubeconfig: it has no clusters list",
            });
            assert.throws(() => rewriteKubeconfig(SAMPLE_K3S_KUBECONFIG, "api.home.arpa"), {
                name: "RangeError", message: 'kubeconfig server "api.home.arpa" must look like https://<host>:<port>',
            });
        });
    });

    describe("Helm values and MetalLB objects", () => {
        it("pins both charts", () => {
            assert.deepStrictEqual(METALLB_CHART, { chart: "metallb", repo: "https://metallb.github.io/metallb", version: "0.15.3" });
            assert.deepStrictEqual(TRAEFIK_CHART, { chart: "traefik", repo: "https://traefik.github.io/charts", version: "37.3.0" });
        });

        it("MetalLB: CRDs on, layer 2 speaker without FRR", () => {
            assert.deepStrictEqual(metallbValues(), { crds: { enabled: true }, speaker: { frr: { enabled: false } } });
        });

        it("Traefik: LoadBalancer with MetalLB's address annotation, 80 and 443, no dashboard", () => {
            assert.deepStrictEqual(traefikValues({ loadBalancerIp: "10.0.0.200" }), {
                service: { type: "LoadBalancer", annotations: { "metallb.io/loadBalancerIPs": "10.0.0.200" } },
                ports: {
                    web: { exposedPort: 80, expose: { default: true } },
                    websecure: { exposedPort: 443, expose: { default: true } },
                    traefik: { expose: { default: false } },
                },
                ingressRoute: { dashboard: { enabled: false } },
            });
            assert.throws(() => traefikValues({ loadBalancerIp: "10.0.0" }), {
                name: "RangeError", message: 'Traefik loadBalancerIp "10.0.0" is not an IPv4 address',
            });
        });

        it("the values escape hatch merges objects and replaces everything else, modifying neither input", () => {
            const base = { a: { b: 1, c: [1, 2] }, d: "x" };
            const over = { a: { c: [3], e: true }, f: null };
            assert.deepStrictEqual(deepMerge(base, over), { a: { b: 1, c: [3], e: true }, d: "x", f: null });
            assert.deepStrictEqual(base, { a: { b: 1, c: [1, 2] }, d: "x" });
            assert.deepStrictEqual(deepMerge(base, undefined), base);
        });

        it("IPAddressPool, L2Advertisement and namespace labels", () => {
            assert.deepStrictEqual(ipAddressPool({ name: "homecloud", namespace: "metallb-system", range: plan.metallbPool }), {
                apiVersion: "metallb.io/v1beta1",
                kind: "IPAddressPool",
                metadata: { name: "homecloud", namespace: "metallb-system" },
                spec: { addresses: ["10.0.0.200-10.0.0.220"] },
            });
            assert.deepStrictEqual(l2Advertisement({ name: "homecloud", namespace: "metallb-system", pools: ["homecloud"] }), {
                apiVersion: "metallb.io/v1beta1",
                kind: "L2Advertisement",
                metadata: { name: "homecloud", namespace: "metallb-system" },
                spec: { ipAddressPools: ["homecloud"] },
            });
            assert.deepStrictEqual(privilegedNamespaceLabels(), {
                "pod-security.kubernetes.io/enforce": "privileged",
                "pod-security.kubernetes.io/audit": "privileged",
                "pod-security.kubernetes.io/warn": "privileged",
            });
        });
    });
});
