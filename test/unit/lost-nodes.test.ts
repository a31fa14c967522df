// homecloud:lostNodes: a node that is gone for good is taken out of `nodes` and named here.
// Its config errors, the commands the program still declares for it (kept as the state has
// them, never run: ignoreChanges ["*"] and retainOnDelete), the engine rules the lab's SSH
// engine follows for them, and the cluster's refusal of a Node of that name.
import * as assert from "assert";
import { recorded, RecordedResource, stdoutHooks } from "../mocks";
import { ConfigError } from "../../config/plan";
import { RawConfig } from "../../config/schema";
import { parseAddressPlan } from "../../config/validate";
import { planCommand, printInputs } from "../../lab/engine/commandSemantics";
import { lostNodesBindingSpec, lostNodesPolicySpec } from "../../cluster/lostNodes";
import { LOST_NODE_STEPS } from "../../cluster/k3sCluster";
import { runProgram, stackFile } from "../program";
import { k3sStdout } from "../fixtures/k3s";

const COMMAND = "command:remote:Command";

/** The lab stack with node3 gone: out of `nodes`, into `lostNodes`. */
function labWithout(node: string, extra: RawConfig = {}): RawConfig {
    const lab = stackFile("Pulumi.lab.yaml");
    return { ...lab, nodes: (lab.nodes as { name: string }[]).filter((n) => n.name !== node), lostNodes: [node], ...extra };
}

function problems(raw: RawConfig): readonly string[] {
    try {
        parseAddressPlan(raw);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
        return (e as ConfigError).problems;
    }
    assert.fail("the configuration was accepted");
}

const commands = (rs: readonly RecordedResource[], part: string) =>
    rs.filter((r) => r.type === COMMAND && r.name.includes(part)).map((r) => r.name).sort();

describe("lostNodes: configuration", () => {
    it("defaults to none; takes names of nodes no longer in nodes", () => {
        assert.deepStrictEqual(parseAddressPlan(stackFile("Pulumi.lab.yaml")).plan.lostNodes, []);
        assert.deepStrictEqual(parseAddressPlan(labWithout("node3")).plan.lostNodes, ["node3"]);
    });

    it("rejects a node still in nodes, the gateway, a repeat, a bad name and a non-list, naming each key", () => {
        const lab = stackFile("Pulumi.lab.yaml");
        assert.deepStrictEqual(problems({ ...lab, lostNodes: ["node2", "gw", "old", "old", "Bad_Name"] }), [
            'homecloud:lostNodes[0]: "node2" is still in homecloud:nodes; take it out of nodes to remove it (a node that answers is removed by that alone)',
            'homecloud:lostNodes[1]: "gw" is the gateway, which the program always needs; only nodes can be lost',
            'homecloud:lostNodes[3]: "old" is listed twice; list each lost node once',
            'homecloud:lostNodes[4]: "Bad_Name" is not a valid host name; use 1-63 lower-case letters, digits and inner hyphens (RFC 1123)',
        ]);
        assert.deepStrictEqual(problems({ ...lab, lostNodes: "node3" }),
            ["homecloud:lostNodes: must be a list of node names (an empty list means no node was lost)"]);
    });

    it("a lost node may keep its certificateExclude and certificates entries (they say which of its steps exist)", () => {
        const plan = parseAddressPlan(labWithout("node3", {
            certificateExclude: ["node3"], certificates: [{ name: "web", host: "node2" }],
        })).plan;
        assert.deepStrictEqual(plan.pki.excluded, ["node3"]);
        assert.deepStrictEqual(parseAddressPlan(labWithout("node3", { certificates: [{ name: "web", host: "node3" }] })).plan.pki.certificates,
            [{ name: "web", host: "node3", sans: [] }]);
    });
});

describe("lostNodes: the engine's rules the lab's SSH engine follows", () => {
    const base = { create: "a", delete: "d", connection: { host: "10.77.0.13" } };
    it("ignoreChanges [\"*\"] leaves an existing command as it is whatever the new inputs; a command the state lacks is created", () => {
        const ghost = { create: "true", connection: { host: "node3.lost.invalid", dialErrorLimit: 1 } };
        assert.deepStrictEqual(planCommand(printInputs(base), printInputs(ghost), ["triggers[*]"], ["*"]),
            { action: "same", changed: [], replaceKeys: [] });
        assert.strictEqual(planCommand(printInputs(base), printInputs(ghost), ["triggers[*]"], []).action, "update");
        assert.strictEqual(planCommand(undefined, printInputs(ghost), ["triggers[*]"], ["*"]).action, "create");
    });
});

describe("lostNodes: the program (index.ts) under mocks", () => {
    it("lab, K3s off: node3's PKI steps on node3 are declared again, kept and retained; its signing on the gateway is not", async () => {
        const before = (await runProgram(stackFile("Pulumi.lab.yaml"))).resources;
        const { resources, outputs } = await runProgram(labWithout("node3", { certificates: [{ name: "web", host: "node3" }] }));
        assert.deepStrictEqual(commands(before, "-node3-"),
            ["node-node3-reachable", "pki-node3-host-cert", "pki-node3-host-key", "pki-node3-host-sign", "pki-node3-toolkit", "pki-node3-trust"]);
        // The guard on the gateway waits for every step on node3, so it is deleted before them.
        const guard = before.find((r) => r.name === "node-node3-reachable")!;
        assert.deepStrictEqual(guard.dependencies.map((u) => before.find((r) => r.registeredUrn === u)!.name).sort(),
            // hostkeys-gw: the guard's connection pins the gateway's learned host key.
            ["hostkeys-gw", "pki-gw-toolkit", "pki-node3-host-cert", "pki-node3-host-key", "pki-node3-toolkit", "pki-node3-trust"]);
        assert.strictEqual(guard.inputs.connection.value.host, "10.77.0.1", "run on the gateway");
        assert.strictEqual(guard.inputs.delete,
            "sudo -n /usr/bin/env HC_NODE=node3 HC_ADDRESS=10.77.0.13 HC_PORT=22 /bin/bash /usr/local/lib/homecloud-pki/pki/reachable.sh");
        assert.strictEqual(guard.inputs.create, guard.inputs.delete);
        const lost = ["node-node3-reachable", "pki-node3-host-cert", "pki-node3-host-key", "pki-node3-toolkit", "pki-node3-trust",
            "pki-node3-web-cert", "pki-node3-web-key"];
        assert.deepStrictEqual(commands(resources, "-node3-"), lost, "no -sign step: the gateway's records of node3 are deleted");
        for (const name of lost) {
            const r = resources.find((x) => x.name === name)!;
            assert.deepStrictEqual(r.ignoreChanges, ["*"], name);
            assert.strictEqual(r.retainOnDelete, true, name);
            assert.strictEqual(r.inputs.create, "true", name);
            assert.strictEqual(r.inputs.delete, undefined, name);
            assert.strictEqual(r.inputs.connection.value.host, "node3.lost.invalid", name);
            assert.strictEqual(r.inputs.connection.value.dialErrorLimit, 1, name);
        }
        // Every other command keeps its options: nothing else is retained or frozen.
        // (A host key's learn step ignores its own inputs by design: it reads the key once.)
        for (const r of resources.filter((x) => x.type === COMMAND && !lost.includes(x.name))) {
            const ignored = r.name.startsWith("hostkeys-") ? ["connection", "create", "logging", "addPreviousOutputInEnv"] : [];
            assert.deepStrictEqual([r.ignoreChanges, r.retainOnDelete], [ignored, false], r.name);
        }
        assert.deepStrictEqual(Object.keys(outputs.nodes as object).sort(), ["node1", "node2"]);
        assert.ok(!resources.some((r) => r.type.startsWith("kubernetes:")), "K3s off: no Kubernetes resource");
    });

    it("dev, K3s on: the lost agent's K3s steps kept and retained, its member step gone (drained and deleted), the cluster refuses its Node", async () => {
        const hook = k3sStdout("k3s");
        stdoutHooks.push(hook);
        try {
            const dev = stackFile("Pulumi.dev.yaml");
            const { resources } = await runProgram({
                ...dev, nodes: (dev.nodes as { name: string }[]).filter((n) => n.name !== "pi-agent-1"), lostNodes: ["pi-agent-1"],
            });
            const k3s = [...LOST_NODE_STEPS].map((s) => `k3s-pi-agent-1-${s}`).sort();
            assert.deepStrictEqual(commands(resources, "k3s-pi-agent-1-"), k3s, "no k3s-pi-agent-1-member");
            for (const name of [...k3s, "pki-pi-agent-1-toolkit", "pki-pi-agent-1-host-key", "node-pi-agent-1-reachable"]) {
                const r = resources.find((x) => x.name === name)!;
                assert.deepStrictEqual([r.ignoreChanges, r.retainOnDelete], [["*"], true], name);
            }
            const policy = resources.filter((r) => r.type === "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy");
            assert.deepStrictEqual(policy.map((r) => r.name), ["lost-nodes-policy"]);
            assert.deepStrictEqual(policy[0].inputs.spec.validations[0].expression, "!(object.metadata.name in ['pi-agent-1'])");
            const binding = resources.filter((r) => r.type === "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding");
            assert.deepStrictEqual(binding.map((r) => [r.name, r.inputs.spec]), [["lost-nodes-binding",
                { policyName: "homecloud-lost-nodes", validationActions: ["Deny"] }]]);
            const plain = (await runProgram(stackFile("Pulumi.dev.yaml"))).resources;
            assert.ok(!plain.some((r) => r.type.includes("ValidatingAdmissionPolicy")), "no lost node, no policy");
            assert.ok(!recorded.some((r) => r.retainOnDelete), "no lost node, nothing retained");
        } finally {
            stdoutHooks.splice(stdoutHooks.indexOf(hook), 1);
        }
    });
});

describe("lostNodes: the policy (pure)", () => {
    it("denies creating a Node of a lost name, saying what to do; refuses an empty or odd list", () => {
        assert.deepStrictEqual(lostNodesPolicySpec(["node3", "pi-7"]), {
            failurePolicy: "Fail",
            matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["nodes"] }] },
            validations: [{
                expression: "!(object.metadata.name in ['node3', 'pi-7'])",
                messageExpression: "'node ' + object.metadata.name + ' is in homecloud:lostNodes; uninstall K3s on it " +
                    "(k3s-uninstall.sh or k3s-agent-uninstall.sh), take it out of lostNodes, then add it to nodes again'",
                reason: "Forbidden",
            }],
        });
        assert.deepStrictEqual(lostNodesBindingSpec(), { policyName: "homecloud-lost-nodes", validationActions: ["Deny"] });
        assert.throws(() => lostNodesPolicySpec([]), /must be one or more host names/);
        assert.throws(() => lostNodesPolicySpec(["a' || true || '"]), /must be one or more host names/);
    });
});
