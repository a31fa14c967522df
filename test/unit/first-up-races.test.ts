// The first `up`'s ordering (program under mocks, dev stack): MetalLB's pool and
// advertisement wait for a server-side dry run the API server accepts (its webhook serves);
// the nodes' prepare (which may reboot a Pi) waits for the PKI steps.
import * as assert from "assert";
import { RecordedResource, stdoutHooks } from "../mocks";
import { runProgram, stackFile } from "../program";
import { k3sStdout } from "../fixtures/k3s";
import { admissionReadyCommand } from "../../cluster/k3sSteps";
import { ipAddressPool, l2Advertisement, manifestYaml, METALLB_NAMESPACE, METALLB_POOL_NAME } from "../../cluster/helm";
import { parseAddressPlan } from "../../config/validate";

describe("first up: no races (dev stack under mocks)", () => {
    let resources: readonly RecordedResource[] = [];
    const hook = k3sStdout("k3s");
    before(async () => {
        stdoutHooks.push(hook);
        resources = (await runProgram(stackFile("Pulumi.dev.yaml"))).resources;
    });
    after(() => { stdoutHooks.splice(stdoutHooks.indexOf(hook), 1); });

    const named = (name: string): RecordedResource => {
        const r = resources.filter((x) => x.name === name);
        assert.strictEqual(r.length, 1, `one resource named ${name}`);
        return r[0];
    };
    const deps = (r: RecordedResource): string[] => r.dependencies.map((u) => resources.find((x) => x.registeredUrn === u)!.name).sort();

    it("MetalLB's pool and L2 advertisement wait for the API server to accept them in a server-side dry run on the first server", () => {
        const plan = parseAddressPlan(stackFile("Pulumi.dev.yaml")).plan;
        const gate = named("k3s-accepts-metallb-pool");
        assert.strictEqual(gate.type, "command:remote:Command");
        assert.strictEqual(gate.inputs.connection.value.host, "10.0.0.11", "on the first server");
        assert.strictEqual(gate.inputs.create, admissionReadyCommand("MetalLB's address pool and L2 advertisement"));
        assert.strictEqual(gate.inputs.create,
            "sudo -n /usr/bin/env HC_WHAT='MetalLB'\\''s address pool and L2 advertisement' /bin/bash /usr/local/lib/homecloud/cluster/k3s-node.sh admission-ready");
        assert.strictEqual(gate.inputs.delete, undefined);
        assert.strictEqual(gate.inputs.stdin, manifestYaml([
            ipAddressPool({ name: METALLB_POOL_NAME, namespace: METALLB_NAMESPACE, range: plan.metallbPool }),
            l2Advertisement({ name: METALLB_POOL_NAME, namespace: METALLB_NAMESPACE, pools: [METALLB_POOL_NAME] }),
        ]));
        assert.match(gate.inputs.stdin, /^apiVersion: metallb\.io\/v1beta1\nkind: IPAddressPool\n[\s\S]*\n---\napiVersion: metallb\.io\/v1beta1\nkind: L2Advertisement\n/);
        // hostkeys-pi-server-1: the connection pins the first server's learned host key.
        assert.deepStrictEqual(deps(gate), ["hostkeys-pi-server-1", "k3s-kubeconfig", "k3s-pi-server-1-toolkit", "metallb-release"]);
        assert.deepStrictEqual(deps(named("metallb-pool")), ["k3s-accepts-metallb-pool", "metallb-namespace", "metallb-release"]);
        assert.deepStrictEqual(deps(named("metallb-l2")), ["k3s-accepts-metallb-pool", "metallb-namespace", "metallb-pool", "metallb-release"]);
    });

    it("every node's prepare (which may reboot the Pi) waits for the PKI steps, as it waits for the gateway", () => {
        for (const node of ["pi-server-1", "pi-server-2", "pi-server-3", "pi-agent-1"]) {
            // The SDK sends a component dependency as the component's children.
            const d = deps(named(`k3s-${node}-prepare`));
            for (const step of [`pki-${node}-toolkit`, `pki-${node}-trust`, `pki-${node}-host-key`, `pki-${node}-host-cert`, "gateway-nat-unit", "gateway-dns-local"]) {
                assert.ok(d.includes(step), `${node}'s prepare waits for ${step}: ${d.join(", ")}`);
            }
            // HAProxy comes later: its API check is signed on the first server once K3s runs there.
            assert.ok(!d.some((x) => x.startsWith("gateway-lb")), `${node}'s prepare does not wait for HAProxy: ${d.join(", ")}`);
        }
    });

    it("HAProxy's API check is signed once the first server is installed; agents (joining through the VIP) and the kubeconfig wait for HAProxy", () => {
        assert.deepStrictEqual(deps(named("gateway-lb-api-check-sign")),
            ["gateway-lb-api-check-key", "hostkeys-pi-server-1", "k3s-pi-server-1-install", "pki-pi-server-1-toolkit"]);
        assert.deepStrictEqual(deps(named("gateway-lb-config")).filter((d) => d.startsWith("gateway-lb")), ["gateway-lb-api-check-cert", "gateway-lb-api-check-sign"]);
        assert.ok(deps(named("k3s-pi-agent-1-config")).includes("gateway-lb-config"), deps(named("k3s-pi-agent-1-config")).join(", "));
        assert.ok(deps(named("k3s-kubeconfig")).includes("gateway-lb-config"), deps(named("k3s-kubeconfig")).join(", "));
        // The servers join the first one directly, not through the VIP.
        assert.ok(!deps(named("k3s-pi-server-2-config")).some((d) => d.startsWith("gateway-lb")));
    });
});
