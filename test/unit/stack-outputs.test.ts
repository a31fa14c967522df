// The typed consumer helper (outputs.ts): the program's own outputs, read back through a
// mocked StackReference, arrive with the same values, the kubeconfig secret, and a
// missing or mistyped output fails naming the output and the stack.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { find, isSecret, referencedStacks, resolve, stdoutHooks, testHostKey } from "../mocks";
import { runProgram, StackConfig, stackFile } from "../program";
import { homecloudOutputs, HomecloudOutputs, referenceHomecloud, StackOutputValues } from "../../outputs";
import { k3sStdout } from "../fixtures/k3s";

/** What the engine stores for a stack: every export resolved to its plain value. */
async function stackState(stack: string | StackConfig): Promise<Record<string, unknown>> {
    const { outputs } = await runProgram(typeof stack === "string" ? stackFile(stack) : stack);
    const entries = await Promise.all(Object.entries(outputs).map(async ([k, v]) => [k, await resolve(v)] as const));
    return Object.fromEntries(entries);
}

/** Every output of the helper, resolved. */
async function values(home: HomecloudOutputs): Promise<Record<string, unknown>> {
    const entries = await Promise.all(Object.entries(home).map(async ([k, v]) => [k, await resolve(v as pulumi.Output<unknown>)] as const));
    return Object.fromEntries(entries);
}

/** The error an Output fails with (Output.promise() is the SDK's own way to await one). */
async function failure(o: pulumi.Output<unknown>): Promise<string> {
    try {
        await (o as unknown as { promise(): Promise<unknown> }).promise();
    } catch (e) {
        return (e as Error).message;
    }
    return assert.fail("the output resolved; expected it to fail");
}

describe("typed stack outputs for consumers (outputs.ts)", () => {
    let devState: Record<string, unknown>;
    before(async () => {
        stdoutHooks.push(k3sStdout("k3s"));
        devState = await stackState("Pulumi.dev.yaml");
        referencedStacks.set("organization/homecloud/dev", { outputs: devState, secretOutputNames: ["kubeconfig"] });
    });

    it("gives back every output of the dev stack with its value, through one StackReference", async () => {
        const home = referenceHomecloud("organization/homecloud/dev");
        const got = await values(home);
        assert.deepStrictEqual(Object.keys(got).sort(),
            ["apiEndpoint", "caCertificate", "certificates", "domain", "gateway", "gateway2", "hostKeys", "ingressIp", "kubeconfig", "kubeconfigExpires",
                "loadBalancer", "metallbPool", "nodes", "vip"]);
        assert.deepStrictEqual(got, devState);
        const expected: Omit<StackOutputValues, "kubeconfig" | "caCertificate" | "certificates"> = {
            apiEndpoint: "https://api.home.arpa:6443",
            vip: "192.168.1.240",
            ingressIp: "10.0.0.200",
            metallbPool: "10.0.0.200-10.0.0.220",
            domain: "home.arpa",
            nodes: {
                "pi-server-1": { ip: "10.0.0.11", role: "server" },
                "pi-server-2": { ip: "10.0.0.12", role: "server" },
                "pi-server-3": { ip: "10.0.0.13", role: "server" },
                "pi-agent-1": { ip: "10.0.0.21", role: "agent" },
            },
            gateway: { hostname: "gateway", lanAddress: "10.0.0.1", vip: "192.168.1.240", lanRouter: "10.0.0.1" },
            gateway2: null,
            loadBalancer: { statsSocket: "/run/haproxy/admin.sock", statsUrl: "http://127.0.0.1:8404/", apiHealthCheck: "https" },
            kubeconfigExpires: "2026-03-01T00:00:00.000Z",
            // Learned (under the mocks, a key made from each host's address), in homecloud:hostKeys' shape.
            hostKeys: [["gateway", "10.0.0.1"], ["pi-server-1", "10.0.0.11"], ["pi-server-2", "10.0.0.12"], ["pi-server-3", "10.0.0.13"],
                ["pi-agent-1", "10.0.0.21"]].map(([host, address]) => ({ host, key: testHostKey(address) })),
        };
        assert.deepStrictEqual({ ...got, kubeconfig: undefined, caCertificate: undefined, certificates: undefined },
            { ...expected, kubeconfig: undefined, caCertificate: undefined, certificates: undefined });
        assert.strictEqual(typeof got.caCertificate, "string");
        assert.deepStrictEqual(Object.keys(got.certificates as object).sort(), ["lifetimeDays", "nearest", "nearestExpiry", "renewsFrom"]);
        assert.match(got.kubeconfig as string, /server: https:\/\/192\.168\.1\.240:6443\n/);
        const refs = find("pulumi:pulumi:StackReference", "organization/homecloud/dev");
        assert.strictEqual(refs.length, 1);
        assert.strictEqual(refs[0].inputs.name, "organization/homecloud/dev");
    });

    it("with a second gateway: its own addresses, and the floating address as the LAN's router and DNS server", async () => {
        const pairState = await stackState({
            ...stackFile("Pulumi.lab.yaml"),
            gateway2Hostname: "gw2", gateway2LanAddress: "10.77.0.2", gateway2WanAddress: "192.168.77.3", lanFloatingAddress: "10.77.0.254",
        });
        referencedStacks.set("organization/homecloud/pair", { outputs: pairState, secretOutputNames: [] });
        const home = referenceHomecloud("organization/homecloud/pair");
        assert.deepStrictEqual(await resolve(home.gateway), { hostname: "gw", lanAddress: "10.77.0.1", vip: "192.168.77.10", lanRouter: "10.77.0.254" });
        assert.deepStrictEqual(await resolve(home.gateway2), { hostname: "gw2", lanAddress: "10.77.0.2", wanAddress: "192.168.77.3" });
        assert.deepStrictEqual((await resolve(home.hostKeys)).map((k) => k.host), ["gw", "gw2", "node1", "node2", "node3"]);
        // A stack that dropped the null (one gateway) reads as one gateway too.
        const { gateway2: _, ...withoutGateway2 } = devState;
        referencedStacks.set("organization/homecloud/dropped", { outputs: withoutGateway2, secretOutputNames: [] });
        assert.strictEqual(await resolve(referenceHomecloud("organization/homecloud/dropped").gateway2), null);
    });

    it("keeps the kubeconfig secret, and only the kubeconfig", async () => {
        const home = referenceHomecloud("organization/homecloud/dev");
        assert.strictEqual(home.kubeconfig, home.kubeconfig, "one Output per output, read once");
        assert.strictEqual(await isSecret(home.kubeconfig), true);
        for (const key of ["apiEndpoint", "vip", "ingressIp", "metallbPool", "domain", "nodes", "gateway", "gateway2", "loadBalancer", "kubeconfigExpires", "hostKeys"] as const) {
            assert.strictEqual(await isSecret(home[key]), false, key);
        }
    });

    it("keeps the kubeconfig secret even when the referenced state does not mark it", async () => {
        referencedStacks.set("organization/homecloud/unmarked", { outputs: devState, secretOutputNames: [] });
        const ref = new pulumi.StackReference("unmarked", { name: "organization/homecloud/unmarked" });
        assert.strictEqual(await isSecret(ref.getOutput("kubeconfig")), false, "the SDK alone would not hide it");
        const home = homecloudOutputs(ref);
        assert.strictEqual(await isSecret(home.kubeconfig), true);
        assert.strictEqual(await resolve(home.kubeconfig), devState.kubeconfig);
    });

    it("fails the kubeconfig of a stack without K3s naming the output, the stack and the key", async () => {
        const labState = await stackState("Pulumi.lab.yaml");
        assert.strictEqual(labState.kubeconfig, undefined);
        referencedStacks.set("organization/homecloud/lab", { outputs: labState, secretOutputNames: [] });
        const home = referenceHomecloud("organization/homecloud/lab");
        let rejected = 0;
        const count = () => { rejected++; };
        process.on("unhandledRejection", count);
        try {
            assert.strictEqual(await resolve(home.domain), "lab.home.arpa");
            await new Promise((r) => setTimeout(r, 50));
            assert.strictEqual(rejected, 0, "an output not asked for is not read (Pulumi fails a run on any rejected Output)");
        } finally {
            process.off("unhandledRejection", count);
        }
        assert.strictEqual(await failure(home.kubeconfig),
            "output kubeconfig of stack organization/homecloud/lab is missing, expected the admin kubeconfig " +
            "(the stack exports it only with a cluster: homecloud:k3sEnabled true or homecloud:kubeconfig); is the StackReference's stack a homecloud " +
            "stack, deployed with this version of outputs.ts?");
    });

    it("fails a mistyped output naming the field", async () => {
        referencedStacks.set("organization/other/prod", {
            outputs: {
                ...devState,
                vip: 7,
                nodes: { n1: { ip: "10.0.0.11", role: "master" } },
                gateway: { hostname: "gw", lanAddress: "10.0.0.1" },
                gateway2: { hostname: "gw2", lanAddress: "10.0.0.2", wanAddress: 3 },
                hostKeys: [{ host: "gw", key: 7 }],
            },
            secretOutputNames: [],
        });
        const home = referenceHomecloud("organization/other/prod");
        const tail = "; is the StackReference's stack a homecloud stack, deployed with this version of outputs.ts?";
        assert.strictEqual(await failure(home.vip), "output vip of stack organization/other/prod is 7, expected a string" + tail);
        assert.strictEqual(await failure(home.nodes),
            "output nodes.n1.role of stack organization/other/prod is \"master\", expected \"server\" or \"agent\"" + tail);
        assert.strictEqual(await failure(home.gateway),
            "output gateway.vip of stack organization/other/prod is missing, expected a string" + tail);
        assert.strictEqual(await failure(home.gateway2),
            "output gateway2.wanAddress of stack organization/other/prod is 3, expected a string" + tail);
        assert.strictEqual(await failure(home.hostKeys),
            "output hostKeys[0].key of stack organization/other/prod is 7, expected a string" + tail);
        assert.strictEqual(await resolve(home.domain), "home.arpa");
    });
});
