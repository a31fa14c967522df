// The whole program (index.ts) under mocks, with the example stack for real Pis.
import * as assert from "assert";
import { parse } from "yaml";
import { find, isSecret, recorded, resolve, stdoutHooks } from "../mocks";
import { runProgram, stackFile } from "../program";
import type { StackOutputs } from "../../outputs";
import { SAMPLE_K3S_KUBECONFIG } from "../fixtures/k3s";

describe("program (index.ts) with Pulumi.dev.yaml", () => {
    let program: StackOutputs;
    before(async () => {
        stdoutHooks.push((r) => r.name === "k3s-kubeconfig" ? SAMPLE_K3S_KUBECONFIG : undefined);
        program = (await runProgram(stackFile("Pulumi.dev.yaml"))).outputs;
    });

    it("exports the documented stack outputs", async () => {
        assert.strictEqual(program.apiEndpoint, "https://api.home.arpa:6443");
        assert.strictEqual(program.vip, "192.168.1.240");
        assert.strictEqual(program.ingressIp, "10.0.0.200");
        assert.strictEqual(program.metallbPool, "10.0.0.200-10.0.0.220");
        assert.strictEqual(program.domain, "home.arpa");
        assert.deepStrictEqual(program.gateway, { hostname: "gateway", lanAddress: "10.0.0.1", vip: "192.168.1.240" });
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

    it("exports the kubeconfig as a secret pointing at the API name", async () => {
        assert.ok(program.kubeconfig, "kubeconfig is exported when K3s is on");
        assert.strictEqual(await isSecret(program.kubeconfig!), true);
        const kc = parse(await resolve(program.kubeconfig!));
        assert.strictEqual(kc.clusters[0].cluster.server, "https://api.home.arpa:6443");
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
        assert.deepStrictEqual(releases.map((r) => r.inputs.name).sort(), ["cert-manager", "metallb", "traefik"]);
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
            ["apiEndpoint", "caCertificate", "certificates", "domain", "gateway", "ingressIp", "loadBalancer", "metallbPool", "nodes", "vip"]);
        assert.deepStrictEqual(resources.filter((r) => !r.type.startsWith("homecloud:network:") && r.type !== "command:remote:Command")
            .map((r) => `${r.type} ${r.name}`), ["homecloud:pki:PrivateCa pki"]);
        assert.strictEqual(outputs.apiEndpoint, "https://api.lab.home.arpa:6443");
    });
});
