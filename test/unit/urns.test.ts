// Resources are known by URN, as the engine knows them. The lab stack's (with one gateway
// and with two) and a large K3s plan's command URNs are held against reviewed lists: a
// command moved to another parent (or a component type renamed) without an alias is a
// delete of the old URN on the real engine (its delete runs on the host: the stock file
// comes back, a node is drained), so any change to the lists fails until someone adds an
// alias or says why none is needed.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { childUrn, COMMAND_TYPE, engineUrn, stackFreeUrn } from "../../host/urn";
import { urnDrift, urnDriftMessage } from "../../lab/engine/urnDrift";
import { clusterRawPlan, k3sStdout } from "../fixtures/k3s";
import { recorded, resolve, stdoutHooks } from "../mocks";
import { runProgram, StackConfig, stackFile } from "../program";

const FIXTURES = path.join(__dirname, "..", "fixtures", "urns");

function commandUrns(resources: readonly { type: string; urn: string; aliasUrns: string[] }[]) {
    return resources.filter((r) => r.type === COMMAND_TYPE).map((r) => ({ urn: r.urn, aliasUrns: r.aliasUrns }));
}

async function checkAgainst(fixtureName: string, stack: StackConfig): Promise<void> {
    const { resources } = await runProgram(stack);
    const now = commandUrns(resources);
    const fixture = path.join(FIXTURES, fixtureName);
    const rel = path.relative(path.join(__dirname, "..", ".."), fixture);
    if (process.env.UPDATE_FIXTURES === "1") {
        const text = `${now.map((r) => stackFreeUrn(r.urn)).sort().join("\n")}\n`;
        if (!fs.existsSync(fixture) || fs.readFileSync(fixture, "utf8") !== text) {
            fs.writeFileSync(fixture, text);
            assert.fail(`${rel} rewritten: review it with git diff (a gone URN needs an alias), then run again without UPDATE_FIXTURES`);
        }
    }
    const reviewed = fs.readFileSync(fixture, "utf8").split("\n").filter(Boolean);
    assert.strictEqual(urnDriftMessage(urnDrift(reviewed, now), rel), "");
}

describe("URNs: commands are known as the engine knows them", function () {
    this.timeout(60_000);
    before(() => {
        stdoutHooks.push(k3sStdout("k3s"));
    });

    it("engineUrn follows the engine: the whole parent type chain, the root stack left out", () => {
        const gw = engineUrn("lab", "homecloud", "", "homecloud:network:Gateway", "gateway");
        assert.strictEqual(gw, "urn:pulumi:lab::homecloud::homecloud:network:Gateway::gateway");
        const dns = childUrn(gw, "homecloud:network:DnsZone", "gateway-dns");
        assert.strictEqual(dns, "urn:pulumi:lab::homecloud::homecloud:network:Gateway$homecloud:network:DnsZone::gateway-dns");
        assert.strictEqual(childUrn(dns, COMMAND_TYPE, "gateway-dns-local"),
            "urn:pulumi:lab::homecloud::homecloud:network:Gateway$homecloud:network:DnsZone$command:remote:Command::gateway-dns-local");
        const root = engineUrn("lab", "homecloud", "", "pulumi:pulumi:Stack", "homecloud-lab");
        assert.strictEqual(childUrn(root, "homecloud:network:Gateway", "gateway"), gw);
        assert.strictEqual(stackFreeUrn(dns), "homecloud:network:Gateway$homecloud:network:DnsZone::gateway-dns");
        assert.throws(() => childUrn("gateway", COMMAND_TYPE, "x"), /^RangeError: not a Pulumi URN: "gateway"$/);
    });

    it("the mocks answer the engine's URNs, and a host file's owner is its command's URN", async () => {
        const { resources } = await runProgram(stackFile("Pulumi.lab.yaml"));
        const kea = resources.find((r) => r.name === "gateway-dhcp-config")!;
        assert.strictEqual(kea.urn,
            "urn:pulumi:test::homecloud::homecloud:network:Gateway$homecloud:network:DhcpServer$command:remote:Command::gateway-dhcp-config");
        assert.ok(kea.inputs.create.includes(`HC_RESOURCE='${kea.urn}'`), kea.inputs.create);
        assert.ok(kea.inputs.delete.includes(`HC_RESOURCE='${kea.urn}'`), kea.inputs.delete);
        const zone = resources.find((r) => r.name === "gateway-dns-dynamic-forward-zone")!;
        assert.ok(zone.inputs.delete.includes(`HC_RESOURCE='${zone.urn}'`), zone.inputs.delete);
    });

    it("the lab stack's command URNs are the reviewed list", async () => {
        await checkAgainst("lab-commands.txt", stackFile("Pulumi.lab.yaml"));
    });

    it("the lab stack's command URNs with the second gateway (lab phase 7g) are the reviewed list", async () => {
        await checkAgainst("pair-commands.txt", {
            ...stackFile("Pulumi.lab.yaml"),
            gateway2Hostname: "gw2", gateway2LanAddress: "10.77.0.2", gateway2WanAddress: "192.168.77.3", lanFloatingAddress: "10.77.0.254",
        });
    });

    it("a large plan's command URNs (K3s on) are the reviewed list", async () => {
        await checkAgainst("large-commands.txt", clusterRawPlan());
    });

    describe("a command moved to another parent", () => {
        class Box extends pulumi.ComponentResource {
            constructor(type: string, name: string) {
                super(type, name, {});
            }
        }
        async function urnsOf(build: () => void) {
            recorded.length = 0;
            build();
            await new Promise((r) => setTimeout(r, 200));
            const c = recorded.filter((r) => r.type === COMMAND_TYPE);
            await Promise.all(c.map(() => resolve(pulumi.output(1))));
            return commandUrns(recorded);
        }
        const step = (parent: pulumi.Resource, aliases?: pulumi.Input<pulumi.Alias>[]) => new command.remote.Command("demo-config", {
            connection: { host: "10.0.0.1", user: "pi", privateKey: pulumi.secret("k") }, create: "true", delete: "true",
        }, { parent, aliases });

        it("without an alias: the old URN is gone (a delete on the real engine), and the message says what to do", async () => {
            const before = await urnsOf(() => step(new Box("homecloud:demo:Old", "box")));
            const after = await urnsOf(() => step(new Box("homecloud:demo:New", "box")));
            const reviewed = before.map((r) => stackFreeUrn(r.urn));
            assert.deepStrictEqual(reviewed, ["homecloud:demo:Old$command:remote:Command::demo-config"]);
            assert.strictEqual(urnDriftMessage(urnDrift(reviewed, after), "test/fixtures/urns/lab-commands.txt"), [
                "the commands' URNs differ from the reviewed list test/fixtures/urns/lab-commands.txt.",
                "  gone: homecloud:demo:Old$command:remote:Command::demo-config",
                "        the engine would DELETE it (its delete runs on the host) unless a command names it in `aliases`",
                "  new:  homecloud:demo:New$command:remote:Command::demo-config",
                "        the engine would CREATE it",
                "A command that moved (another parent, a renamed component type or name) keeps its state only with an alias:",
                "  pass `aliases: [{ parent: <old parent> }]` (or `{ type }`, `{ name }`) in its resource options.",
                "A command that is really new or really removed: update test/fixtures/urns/lab-commands.txt in the same change " +
                "and say in the commit why no alias is needed.",
            ].join("\n"));
        });

        it("with an alias naming the old parent: one resource, moved; nothing to review", async () => {
            const before = await urnsOf(() => step(new Box("homecloud:demo:Old", "box")));
            const after = await urnsOf(() => {
                const old = new Box("homecloud:demo:Old", "old-box");
                step(new Box("homecloud:demo:New", "box"), [{ parent: old }]);
            });
            const moved = after.find((r) => r.urn.endsWith("::demo-config"))!;
            assert.deepStrictEqual(moved.aliasUrns, ["urn:pulumi:test::homecloud::homecloud:demo:Old$command:remote:Command::demo-config"]);
            const reviewed = before.map((r) => stackFreeUrn(r.urn));
            assert.deepStrictEqual(urnDrift(reviewed, after.filter((r) => r.urn.endsWith("::demo-config"))), { gone: [], added: [] });
        });
    });
});
