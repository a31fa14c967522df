// The cluster half's pure renderers: K3s config.yaml per node kind, the exported kubeconfig,
// the admin certificate's renewal dates, the full join token,
// Helm values and MetalLB objects, by exact expectation. (The scripts are checked and run
// in the checker tier: test/checkers/k3s-scripts.test.ts.)
import * as assert from "assert";
import { AddressPlan } from "../../config/plan";
import { parseAddressPlan } from "../../config/validate";
import {
    apiNameUrl, firstServerUrl, fullJoinToken, k3sConfigFor, k3sService, renderK3sConfig, vipApiUrl,
} from "../../cluster/k3sConfig";
import { clientCertificateValidity, newestKubeconfig, renderKubeconfig, renewalsDue } from "../../cluster/kubeconfig";
import {
    deepMerge, ipAddressPool, l2Advertisement, METALLB_CHART, metallbValues, privilegedNamespaceLabels,
    TRAEFIK_CHART, traefikValues,
} from "../../cluster/helm";
import { ADMIN_CERT_2025, ADMIN_CERT_2026, clusterRawPlan, k3sKubeconfig, SAMPLE_K3S_KUBECONFIG } from "../fixtures/k3s";

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

    describe("exported kubeconfig", () => {
        it("points the cluster at the given URL and names cluster, user and context after the stack", () => {
            assert.strictEqual(renderKubeconfig(SAMPLE_K3S_KUBECONFIG, "https://192.168.1.10:8443", "homecloud-dev"), `apiVersion: v1
kind: Config
clusters:
  - name: homecloud-dev
    cluster:
      certificate-authority-data: LS0tLS1CRUdJTiBDRVJU
      server: https://192.168.1.10:8443
users:
  - name: homecloud-dev
    user:
      client-certificate-data: Q0xJRU5UIENFUlQ=
      client-key-data: Q0xJRU5UIEtFWQ==
contexts:
  - name: homecloud-dev
    context:
      cluster: homecloud-dev
      user: homecloud-dev
current-context: homecloud-dev
preferences: {}
`);
            assert.doesNotMatch(renderKubeconfig(SAMPLE_K3S_KUBECONFIG, "https://api.home.arpa:8443", "homecloud-lab"), /default/);
            assert.match(renderKubeconfig(SAMPLE_K3S_KUBECONFIG, "https://api.home.arpa:8443", "homecloud-lab"),
                /^ {6}server: https:\/\/api\.home\.arpa:8443$/m);
        });

        it("refuses a kubeconfig without exactly one 127.0.0.1 cluster, a non-kubeconfig, a bad URL and a bad name", () => {
            const elsewhere = SAMPLE_K3S_KUBECONFIG.replace("https://127.0.0.1:6443", "https://10.0.0.11:6443");
            assert.throws(() => renderKubeconfig(elsewhere, "https://api.home.arpa:8443", "homecloud-dev"), {
                message: "/etc/rancher/k3s/k3s.yaml does not have exactly one cluster, at https://127.0.0.1:6443; refusing to guess which server to rewrite",
            });
            assert.throws(() => renderKubeconfig("", "https://api.home.arpa:8443", "homecloud-dev"), {
                message: "/etc/rancher/k3s/k3s.yaml is not a kubeconfig: it has no clusters or users list",
            });
            assert.throws(() => renderKubeconfig(SAMPLE_K3S_KUBECONFIG.replace(/ {4}client-key-data: .*\n/, ""), "https://api.home.arpa:8443", "x"), {
                message: "/etc/rancher/k3s/k3s.yaml lacks the CA, the client certificate or the client key (one user with *-data entries expected)",
            });
            assert.throws(() => renderKubeconfig(SAMPLE_K3S_KUBECONFIG, "api.home.arpa", "homecloud-dev"), {
                name: "RangeError", message: 'kubeconfig server "api.home.arpa" must look like https://<host>:<port>',
            });
            assert.throws(() => renderKubeconfig(SAMPLE_K3S_KUBECONFIG, "https://api.home.arpa:8443", "home cloud"), {
                name: "RangeError", message: 'kubeconfig name "home cloud" must be letters, digits, ".", "_" or "-"',
            });
        });
    });

    describe("admin certificate expiry and renewal", () => {
        const y2025 = k3sKubeconfig(ADMIN_CERT_2025);
        const y2026 = k3sKubeconfig(ADMIN_CERT_2026);
        const at = (iso: string) => new Date(iso);

        it("reads the client certificate's validity (X509Certificate), and refuses what is not a certificate", () => {
            const v = clientCertificateValidity(y2025);
            assert.strictEqual(v.validFrom.toISOString(), "2025-03-01T00:00:00.000Z");
            assert.strictEqual(v.validTo.toISOString(), "2026-03-01T00:00:00.000Z");
            assert.throws(() => clientCertificateValidity(SAMPLE_K3S_KUBECONFIG),
                /^Error: \/etc\/rancher\/k3s\/k3s\.yaml: client-certificate-data is not a PEM certificate/);
        });

        it("no renewal until 30 days before expiry, then one more every lifetime minus 30 days", () => {
            const v = clientCertificateValidity(y2025); // 365 days: first due 2026-01-30, then every 335 days
            assert.strictEqual(renewalsDue(v, at("2025-03-01T00:00:00Z"), 30), 0);
            assert.strictEqual(renewalsDue(v, at("2026-01-29T23:59:59Z"), 30), 0);
            assert.strictEqual(renewalsDue(v, at("2026-01-30T00:00:00Z"), 30), 1);
            assert.strictEqual(renewalsDue(v, at("2026-12-30T23:59:59Z"), 30), 1);
            assert.strictEqual(renewalsDue(v, at("2026-12-31T00:00:00Z"), 30), 2);
            assert.strictEqual(renewalsDue(v, at("2025-11-30T23:59:59Z"), 90), 0);
            assert.strictEqual(renewalsDue(v, at("2025-12-01T00:00:00Z"), 91), 1);
        });

        it("a renewal run on its due date leaves the certificate the whole window at the next one", () => {
            const v = clientCertificateValidity(y2025);
            const period = 335 * 86400000;
            for (let g = 1; g <= 5; g++) {
                const due = v.validTo.getTime() - 30 * 86400000 + (g - 1) * period;
                const renewedUntil = due + 365 * 86400000;
                const nextDue = due + period;
                assert.strictEqual(renewalsDue(v, new Date(nextDue - 1), 30), g);
                assert.strictEqual(renewalsDue(v, new Date(nextDue), 30), g + 1);
                assert.strictEqual(renewedUntil - nextDue, 30 * 86400000);
            }
        });

        it("of two kubeconfigs, the one whose certificate expires later", () => {
            assert.strictEqual(newestKubeconfig(y2025, y2026), y2026);
            assert.strictEqual(newestKubeconfig(y2026, y2025), y2026);
            assert.strictEqual(newestKubeconfig(y2025, y2025), y2025);
        });
    });

    describe("full join token", () => {
        const hash = "0123456789abcdef".repeat(4);
        it("accepts K10<sha256 of the CA>::server:<this cluster's token>, trimmed", () => {
            assert.strictEqual(fullJoinToken(`K10${hash}::server:s3cret\n`, "s3cret"), `K10${hash}::server:s3cret`);
        });
        it("refuses a short token, a bad hash and another cluster's token, never quoting it", () => {
            for (const printed of ["s3cret", `K10${hash.slice(1)}::server:s3cret`, `K10${hash}::node:s3cret`, ""]) {
                assert.throws(() => fullJoinToken(printed, "s3cret"), {
                    message: "/var/lib/rancher/k3s/server/token on the first server is not a full K3s token (K10<64 hex digits>::server:<token>)",
                });
            }
            assert.throws(() => fullJoinToken(`K10${hash}::server:other`, "s3cret"), {
                message: "/var/lib/rancher/k3s/server/token on the first server holds another cluster token than this stack's; " +
                    "the first server was initialised with a different token",
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
