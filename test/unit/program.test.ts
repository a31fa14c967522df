// The whole program (index.ts) under mocks, with the example stack for real Pis.
import * as assert from "assert";
import { parse } from "yaml";
import { find, isSecret, recorded, resolve, stdoutHooks } from "../mocks";
import { runProgram, stackFile } from "../program";
import type { StackOutputs } from "../../outputs";
import { k3sStdout } from "../fixtures/k3s";

/** The mark the SDK puts on a secret input value. */
const SECRET_SIG = { key: "4dabf18193072939515e22adb298388d", value: "1b47061264138c4ac30d75fd1eb44270" };

describe("program (index.ts) with Pulumi.dev.yaml", () => {
    let program: StackOutputs;
    before(async () => {
        stdoutHooks.push(k3sStdout("k3s"));
        program = (await runProgram(stackFile("Pulumi.dev.yaml"))).outputs;
    });

    it("exports the documented stack outputs", async () => {
        assert.strictEqual(program.apiEndpoint, "https://api.home.arpa:6443");
        assert.strictEqual(program.vip, "192.168.1.240");
        assert.strictEqual(program.ingressIp, "10.0.0.200");
        assert.strictEqual(program.metallbPool, "10.0.0.200-10.0.0.220");
        assert.strictEqual(program.domain, "home.arpa");
        assert.deepStrictEqual(program.gateway, { hostname: "gateway", lanAddress: "10.0.0.1", vip: "192.168.1.240", lanRouter: "10.0.0.1" });
        assert.strictEqual(program.gateway2, null, "one gateway: null, not an undefined export");
        assert.deepStrictEqual(program.nodes, {
            "pi-server-1": { ip: "10.0.0.11", role: "server" },
            "pi-server-2": { ip: "10.0.0.12", role: "server" },
            "pi-server-3": { ip: "10.0.0.13", role: "server" },
            "pi-agent-1": { ip: "10.0.0.21", role: "agent" },
        });
        assert.deepStrictEqual(await resolve(program.loadBalancer), {
            statsSocket: "/run/haproxy/admin.sock", statsUrl: "http://127.0.0.1:8404/", apiHealthCheck: "https",
        });
    });

    it("exports the kubeconfig as a secret on the VIP (the default), named after project and stack, and its expiry", async () => {
        assert.ok(program.kubeconfig, "kubeconfig is exported when K3s is on");
        assert.strictEqual(await isSecret(program.kubeconfig!), true);
        const kc = parse(await resolve(program.kubeconfig!));
        assert.strictEqual(kc.clusters[0].cluster.server, "https://192.168.1.240:6443");
        assert.deepStrictEqual([kc.clusters[0].name, kc.users[0].name, kc.contexts[0].name, kc["current-context"]],
            ["homecloud-test", "homecloud-test", "homecloud-test", "homecloud-test"]);
        assert.strictEqual(await resolve(program.kubeconfigExpires!), "2026-03-01T00:00:00.000Z");
        assert.strictEqual(await isSecret(program.kubeconfigExpires!), false);
    });

    it("the in-program provider reaches the API by the VIP's address, with a fixed cluster identifier", async () => {
        const p = find("pulumi:providers:kubernetes")[0];
        assert.strictEqual(p.inputs.clusterIdentifier, "homecloud-test");
        assert.strictEqual(p.inputs.kubeconfig[SECRET_SIG.key], SECRET_SIG.value, "the provider's kubeconfig is secret");
        const kc = parse(p.inputs.kubeconfig.value);
        assert.strictEqual(kc.clusters[0].cluster.server, "https://192.168.1.240:6443");
    });

    it("kubeconfigServer: name points the exported kubeconfig at the API name; the provider stays on the VIP", async () => {
        const { outputs, resources } = await runProgram({ ...stackFile("Pulumi.dev.yaml"), kubeconfigServer: "name" });
        assert.strictEqual(parse(await resolve(outputs.kubeconfig!)).clusters[0].cluster.server, "https://api.home.arpa:6443");
        const p = resources.find((r) => r.type === "pulumi:providers:kubernetes")!;
        assert.strictEqual(parse(p.inputs.kubeconfig.value).clusters[0].cluster.server, "https://192.168.1.240:6443");
    });

    it("wires one gateway, one cluster, MetalLB and Traefik, with the k8s provider built from the kubeconfig", async () => {
        await resolve(program.kubeconfig);
        const types = (t: string) => find(t).map((r) => r.name);
        assert.deepStrictEqual(types("homecloud:network:Gateway"), ["gateway"]);
        assert.deepStrictEqual(types("homecloud:k8s:K3sCluster"), ["k3s"]);
        assert.deepStrictEqual(types("homecloud:k8s:MetalLB"), ["metallb"]);
        assert.deepStrictEqual(types("homecloud:k8s:Traefik"), ["traefik"]);
        assert.deepStrictEqual(types("pulumi:providers:kubernetes"), ["k3s"]);
        assert.deepStrictEqual(types("homecloud:pki:PrivateCa"), ["pki"]);
        assert.deepStrictEqual(types("homecloud:pki:ClusterIssuer"), ["cert-manager"]);
        const releases = find("kubernetes:helm.sh/v3:Release");
        assert.deepStrictEqual(releases.map((r) => r.inputs.name).sort(), ["cert-manager", "metallb", "traefik", "traefik-crds"]);
        // Traefik's CRDs release waits for the step that hands it CRDs an older chart installed.
        const adopt = find("command:remote:Command", "k3s-adopt-traefik-crds");
        assert.strictEqual(adopt.length, 1);
        assert.strictEqual(adopt[0].inputs.create, "sudo -n /usr/bin/env HC_RELEASE=traefik-crds HC_NAMESPACE=traefik HC_GROUP=traefik.io " +
            "HC_EXCEPT=hub /bin/bash /usr/local/lib/homecloud/cluster/k3s-node.sh adopt-crds");
        const crds = releases.find((r) => r.inputs.name === "traefik-crds")!;
        assert.ok(crds.dependencies.includes(adopt[0].registeredUrn), "the CRDs release waits for the adoption");
        for (const r of releases) {
            assert.match(r.provider ?? "", /^urn:pulumi:.*::pulumi:providers:kubernetes::k3s::/);
        }
        // Every host command reaches its host as the configured user, and its connection
        // (holding the key) goes to the engine as a secret value.
        const secretSig = { key: "4dabf18193072939515e22adb298388d", value: "1b47061264138c4ac30d75fd1eb44270" };
        const commands = recorded.filter((r) => r.type === "command:remote:Command");
        assert.ok(commands.length > 20, `only ${commands.length} host commands`);
        for (const c of commands) {
            assert.strictEqual(c.inputs.connection[secretSig.key], secretSig.value, `${c.name}: connection is not secret`);
            assert.strictEqual(c.inputs.connection.value.user, "pi");
        }
    });
});

describe("program (index.ts) with Pulumi.lab.yaml (K3s off)", () => {
    it("exports no kubeconfig at all (an undefined export is a warning on every run) and registers no cluster, only the CA", async () => {
        const { outputs, resources } = await runProgram(stackFile("Pulumi.lab.yaml"));
        assert.deepStrictEqual(Object.keys(outputs).sort(),
            ["apiEndpoint", "caCertificate", "certificates", "domain", "gateway", "gateway2", "hostKeys", "ingressIp", "loadBalancer", "metallbPool", "nodes", "vip"]);
        assert.ok(!("kubeconfigExpires" in outputs));
        assert.deepStrictEqual(resources.filter((r) => !r.type.startsWith("homecloud:network:") && r.type !== "command:remote:Command")
            .map((r) => `${r.type} ${r.name}`), ["homecloud:host:HostKeys hostkeys", "homecloud:pki:PrivateCa pki"]);
        assert.strictEqual(outputs.apiEndpoint, "https://api.lab.home.arpa:6443");
    });
});

describe("program (index.ts): a step's output the program cannot read", () => {
    it("fails the run with the program's own error, as the engine would, instead of waiting forever", async () => {
        // No K3s stand-in output: the join-token read prints what the mocks make up.
        const saved = stdoutHooks.splice(0, stdoutHooks.length);
        try {
            await assert.rejects(runProgram(stackFile("Pulumi.dev.yaml")), (e: Error) => {
                assert.ok(e.message.endsWith("/var/lib/rancher/k3s/server/token on the first server is not a full K3s token (K10<64 hex digits>::server:<token>)"),
                    e.message);
                return true;
            });
        } finally {
            stdoutHooks.push(...saved);
        }
    });
});
