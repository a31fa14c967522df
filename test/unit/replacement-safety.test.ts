// No ordinary change may replace a command whose delete undoes work: with @pulumi/command
// 1.x a replacement creates the new command and then runs the OLD one's delete (restoring
// the original Kea config, purging packages, draining a node). This walks every command
// the whole program declares, for the committed stacks and a large plan with K3s on,
// before and after ordinary changes, and plans each one the way the real engine does.
// Commands are matched by URN, as the engine matches them: one that moved to another parent
// is a delete of the old and a create of the new. The mocks' stdout is derived from each
// command's inputs, so a change that travels through stdout (key → CSR → signature →
// certificate) shows here as it would on the hosts.
import * as assert from "assert";
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { planCommand, printInputs } from "../../lab/engine/commandSemantics";
import { fileCommand } from "../../host/hostFile";
import { clusterRawPlan, k3sStdout } from "../fixtures/k3s";
import { RecordedResource, recorded, resolve, stdoutHooks } from "../mocks";
import { runProgram, StackConfig, stackFile } from "../program";

const COMMAND = "command:remote:Command";

/** The large cluster plan with two reservations and a forwarder, K3s on. */
function largeStack(): StackConfig {
    return {
        ...clusterRawPlan(),
        reservations: [
            { name: "nas", mac: "00:11:32:00:00:01", ip: "10.0.0.30" },
            { name: "printer", mac: "00:11:32:00:00:02", ip: "10.0.0.31" },
        ],
        dnsForwarders: ["192.0.2.53"],
    };
}

/** The commands one run of the program declares, by URN. */
async function commandsOf(stack: StackConfig): Promise<Map<string, RecordedResource>> {
    const { resources } = await runProgram(stack);
    return new Map(resources.filter((r) => r.type === COMMAND).map((r) => [r.urn, r]));
}

/**
 * Commands with a delete that the change from `before` to `after` would replace, or delete
 * outright because their URN is gone (moved without an alias), by name.
 */
function replacementHazards(before: Map<string, RecordedResource>, after: Map<string, RecordedResource>): string[] {
    const hazards: string[] = [];
    for (const [urn, next] of after) {
        const prev = before.get(urn);
        if (prev === undefined || prev.inputs.delete === undefined) {
            continue;
        }
        const plan = planCommand(printInputs(prev.inputs), printInputs(next.inputs), next.replaceOnChanges);
        if (plan.action === "replace") {
            hazards.push(`${next.name} [${plan.replaceKeys.join(",")}]`);
        }
    }
    const aliased = new Set([...after.values()].flatMap((r) => r.aliasUrns));
    for (const [urn, prev] of before) {
        if (!after.has(urn) && !aliased.has(urn) && prev.inputs.delete !== undefined && [...after.values()].some((r) => r.name === prev.name)) {
            hazards.push(`${prev.name} [moved: deleted as ${urn}]`);
        }
    }
    return hazards.sort();
}

function updated(before: Map<string, RecordedResource>, after: Map<string, RecordedResource>): string[] {
    return [...after].filter(([u, r]) => before.has(u) &&
        planCommand(printInputs(before.get(u)!.inputs), printInputs(r.inputs), r.replaceOnChanges).action === "update")
        .map(([, r]) => r.name).sort();
}

const extraReservation = { name: "camera", mac: "02:77:00:00:00:61", ip: "10.0.0.61" };

describe("replacement safety: no ordinary change replaces a command whose delete reverts the host", function () {
    this.timeout(120_000);
    before(() => {
        stdoutHooks.push(k3sStdout("k3s"));
    });

    it("no command with a delete has triggers, in any stack", async () => {
        for (const stack of [stackFile("Pulumi.lab.yaml"), stackFile("Pulumi.dev.yaml"), largeStack()]) {
            const commands = await commandsOf(stack);
            assert.ok(commands.size >= 9);
            for (const r of commands.values()) {
                const name = r.name;
                assert.deepStrictEqual(r.replaceOnChanges, ["triggers[*]"], `${name}: the SDK marks triggers replace-on-change`);
                if (r.inputs.delete !== undefined) {
                    assert.strictEqual(r.inputs.triggers, undefined, `${name} has a delete and triggers`);
                }
            }
        }
    });

    it("a no-op up with K3s on runs no command: the full-token read, the joins' token files and the kubeconfig steps stay", async () => {
        const before = await commandsOf(largeStack());
        const after = await commandsOf(largeStack());
        const names = new Set([...after.values()].map((r) => r.name));
        for (const n of ["k3s-join-token", "k3s-pi2-token", "k3s-pi4-token", "k3s-kubeconfig", "k3s-kubeconfig-renew"]) {
            assert.ok(names.has(n), n);
        }
        for (const [urn, r] of after) {
            const p = planCommand(printInputs(before.get(urn)!.inputs), printInputs(r.inputs), r.replaceOnChanges);
            assert.strictEqual(p.action, "same", `${r.name}: ${p.action} (${p.changed.join(", ")})`);
        }
    });

    const changes: [string, () => StackConfig, (s: StackConfig) => StackConfig, string[]][] = [
        ["lab: one more DHCP reservation", () => stackFile("Pulumi.lab.yaml"),
            (s) => ({ ...s, reservations: [...s.reservations as object[], { ...extraReservation, ip: "10.77.0.61" }] }),
            // Dynamic DNS on: the zones change through signed updates, and named.conf.local's
            // update policy gains the new name (kea-dhcp-ddns may not take it).
            ["gateway-dhcp-config", "gateway-dns-dynamic-forward-zone", "gateway-dns-dynamic-reverse-zone", "gateway-dns-local"]],
        ["lab: a longer lease", () => stackFile("Pulumi.lab.yaml"), (s) => ({ ...s, leaseSeconds: 900 }), ["gateway-dhcp-config"]],
        // The new signature travels through the sign step's stdout to the certificate's install;
        // HAProxy's API check certificate renews with them, and HAProxy reloads to present it.
        ["lab: a forced renewal re-signs every certificate, keys untouched", () => stackFile("Pulumi.lab.yaml"),
            (s) => ({ ...s, certificateRenewal: 1 }), ["gateway-lb-api-check-cert", "gateway-lb-api-check-sign", "gateway-lb-config",
                ...["gw", "node1", "node2", "node3"].flatMap((h) => [`pki-${h}-host-cert`, `pki-${h}-host-sign`])]],
        ["lab: caDestroy changes only what the CA's delete will do", () => stackFile("Pulumi.lab.yaml"),
            (s) => ({ ...s, caDestroy: true }), ["pki-ca"]],
        ["lab: a service certificate is three new commands and BIND's update policy (pool clients may not take its name)", () => stackFile("Pulumi.lab.yaml"),
            (s) => ({ ...s, certificates: [{ name: "registry", host: "node1" }] }), ["gateway-dns-local"]],
        ["dev: one more DHCP reservation", () => stackFile("Pulumi.dev.yaml"),
            (s) => ({ ...s, reservations: [...s.reservations as object[], extraReservation] }),
            ["gateway-dhcp-config", "gateway-dns-dynamic-forward-zone", "gateway-dns-dynamic-reverse-zone", "gateway-dns-local"]],
        ["dev without dynamic DNS: one more DHCP reservation", () => ({ ...stackFile("Pulumi.dev.yaml"), ddnsEnabled: false }),
            (s) => ({ ...s, reservations: [...s.reservations as object[], extraReservation] }),
            ["gateway-dhcp-config", "gateway-dns-forward-zone", "gateway-dns-reverse-zone"]],
        ["large: a K3s upgrade", largeStack, (s) => ({ ...s, k3sVersion: "v1.33.1+k3s1" }),
            ["k3s-pi1-install", "k3s-pi1-snapshot-copy", "k3s-pi2-install", "k3s-pi2-member", "k3s-pi2-snapshot-copy",
                "k3s-pi3-install", "k3s-pi3-member", "k3s-pi3-snapshot-copy", "k3s-pi4-install", "k3s-pi4-member", "k3s-pi5-install", "k3s-pi5-member"]],
        ["large: a new API name (every server's config.yaml)", largeStack, (s) => ({ ...s, apiName: "k8s" }),
            ["gateway-dns-dynamic-forward-zone", "gateway-dns-local", "k3s-pi1-config", "k3s-pi2-config", "k3s-pi2-member", "k3s-pi3-config", "k3s-pi3-member"]],
        ["large: an air-gapped install", largeStack, (s) => ({ ...s, k3sInstall: "airgap" }),
            ["k3s-pi1-install", "k3s-pi2-install", "k3s-pi3-install", "k3s-pi4-install", "k3s-pi5-install"]],
        ["large: another forwarder and SSH port", largeStack, (s) => ({ ...s, dnsForwarders: ["192.0.2.53", "192.0.2.54"], sshPort: 2222 }),
            [] /* every command's connection changes: checked below by count */],
    ];
    for (const [title, base, change, expectUpdated] of changes) {
        it(`${title}: updates in place, replaces nothing that has a delete`, async () => {
            const before = await commandsOf(base());
            const after = await commandsOf(change(base()));
            assert.deepStrictEqual(replacementHazards(before, after), []);
            const u = updated(before, after);
            if (title.startsWith("lab: a service certificate")) {
                assert.deepStrictEqual(u, ["gateway-dns-local"]);
                assert.deepStrictEqual([...after].filter(([u]) => !before.has(u)).map(([, r]) => r.name).sort(),
                    ["pki-node1-registry-cert", "pki-node1-registry-key", "pki-node1-registry-sign"]);
            } else if (expectUpdated.length > 0) {
                assert.deepStrictEqual(u, expectUpdated);
            } else {
                assert.strictEqual(u.length, after.size, "a new SSH port updates every command");
            }
        });
    }

    it("catches the hazard it guards against: hostFile's old shape, triggers on the content hash", async () => {
        const oldShape = async (content: string): Promise<Map<string, RecordedResource>> => {
            recorded.length = 0;
            const file = { path: "/etc/kea/kea-dhcp4.conf" };
            const c = new command.remote.Command("gateway-dhcp-config", {
                connection: { host: "10.0.0.1", user: "pi", privateKey: pulumi.secret("k") },
                create: fileCommand("install", file),
                update: fileCommand("install", file),
                delete: fileCommand("remove", file),
                stdin: content,
                triggers: [crypto.createHash("sha256").update(content).digest("hex")],
            });
            await resolve(c.stdout);
            return new Map(recorded.filter((r) => r.type === COMMAND).map((r) => [r.urn, { ...r }]));
        };
        const before = await oldShape("{}\n");
        const after = await oldShape('{ "Dhcp4": {} }\n');
        assert.deepStrictEqual(replacementHazards(before, after), ["gateway-dhcp-config [triggers]"]);
    });

    it("catches a command moved to another parent without an alias: the engine deletes the old URN", async () => {
        class Box extends pulumi.ComponentResource {
            constructor(type: string, name: string) {
                super(type, name, {});
            }
        }
        const under = async (type: string, aliases?: pulumi.Input<string | pulumi.Alias>[]): Promise<Map<string, RecordedResource>> => {
            recorded.length = 0;
            const file = { path: "/etc/kea/kea-dhcp4.conf" };
            const c = new command.remote.Command("gateway-dhcp-config", {
                connection: { host: "10.0.0.1", user: "pi", privateKey: pulumi.secret("k") },
                create: fileCommand("install", file), delete: fileCommand("remove", file), stdin: "{}\n",
            }, { parent: new Box(type, "gateway-dhcp"), aliases });
            await resolve(c.stdout);
            return new Map(recorded.filter((r) => r.type === COMMAND).map((r) => [r.urn, { ...r }]));
        };
        const before = await under("homecloud:network:DhcpServer");
        assert.deepStrictEqual(replacementHazards(before, await under("homecloud:network:Dhcp")), [
            "gateway-dhcp-config [moved: deleted as urn:pulumi:test::homecloud::homecloud:network:DhcpServer$command:remote:Command::gateway-dhcp-config]",
        ]);
        const old = "urn:pulumi:test::homecloud::homecloud:network:DhcpServer$command:remote:Command::gateway-dhcp-config";
        assert.deepStrictEqual(replacementHazards(before, await under("homecloud:network:Dhcp", [old])), []);
    });
});
