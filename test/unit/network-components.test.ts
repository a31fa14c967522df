// The network components under Pulumi mocks: which resources, their names, parents,
// dependencies, scripts and content. Mocks first, then the code under test.
import * as assert from "assert";
import { dependsOn, find, isSecret, parentName, recorded, RecordedResource, reset, resolve } from "../mocks";
import * as pulumi from "@pulumi/pulumi";
import type * as GatewayModule from "../../network/gateway";
import {
    installFileScript, ManagedFileSpec, removeFileScript, serviceActivate, serviceRevert, sudoScript,
} from "../../host/hostScripts";
import {
    renderForwardZone, renderNamedLocal, renderNamedOptions, renderReverseZone,
} from "../../network/bind";
import { renderKeaConfig } from "../../network/kea";
import { renderNftRuleset } from "../../network/nftables";
import { renderForwardingSysctl } from "../../network/sysctl";
import { renderNatUnit } from "../../network/natUnit";
import { loadPlan } from "../fixtures/network/plans";

const COMMAND = "command:remote:Command";
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n";

describe("network components (mocks)", () => {
    const plan = loadPlan("large");
    let gw: GatewayModule.Gateway;
    let m: typeof GatewayModule;
    let dhcp: typeof import("../../network/dhcpServer");
    let dns: typeof import("../../network/dnsZone");
    let nat: typeof import("../../network/natRules");

    before(async () => {
        reset();
        m = await import("../../network/gateway");
        dhcp = await import("../../network/dhcpServer");
        dns = await import("../../network/dnsZone");
        nat = await import("../../network/natRules");
        gw = new m.Gateway("gw", {
            plan,
            // A plain string on purpose: the helper must make it secret itself.
            connection: { host: plan.gateway.sshHost, port: plan.ports.ssh, user: plan.sshUser, privateKey: KEY },
        });
        await Promise.all([resolve(gw.lanAddress), resolve(gw.vip), resolve(gw.domain), resolve(gw.apiFqdn)]);
        // Let registrations still in flight (registerOutputs) finish.
        await new Promise((r) => setTimeout(r, 50));
    });

    function one(type: string, name: string): RecordedResource {
        const rs = recorded.filter((r) => r.type === type && r.name === name);
        assert.strictEqual(rs.length, 1, `one ${type} named ${name}`);
        return rs[0];
    }



    it("registers exactly the gateway's components and commands", () => {
        assert.deepStrictEqual(recorded.map((r) => `${r.type} ${r.name}`).sort(), [
            `${COMMAND} gw-dhcp-config`,
            `${COMMAND} gw-dns-forward-zone`,
            `${COMMAND} gw-dns-local`,
            `${COMMAND} gw-dns-options`,
            `${COMMAND} gw-dns-reverse-zone`,
            `${COMMAND} gw-forwarding`,
            `${COMMAND} gw-nat-ruleset`,
            `${COMMAND} gw-nat-unit`,
            `${COMMAND} gw-packages`,
            "homecloud:network:DhcpServer gw-dhcp",
            "homecloud:network:DnsZone gw-dns",
            "homecloud:network:Gateway gw",
            "homecloud:network:NatRules gw-nat",
        ]);
    });

    it("parents every child to its component (by the URN the SDK sent)", () => {
        const parents = Object.fromEntries(recorded.filter((r) => r.name !== "gw").map((r) => [r.name, parentName(r)]));
        assert.deepStrictEqual(parents, {
            "gw-packages": "gw",
            "gw-forwarding": "gw",
            "gw-dhcp": "gw",
            "gw-dns": "gw",
            "gw-nat": "gw",
            "gw-dhcp-config": "gw-dhcp",
            "gw-dns-forward-zone": "gw-dns",
            "gw-dns-reverse-zone": "gw-dns",
            "gw-dns-options": "gw-dns",
            "gw-dns-local": "gw-dns",
            "gw-nat-ruleset": "gw-nat",
            "gw-nat-unit": "gw-nat",
        });
        assert.strictEqual(one("homecloud:network:Gateway", "gw").parent, "", "the gateway is top level");
        assert.strictEqual(one(COMMAND, "gw-dns-local").registeredUrn,
            "urn:pulumi:test::homecloud::homecloud:network:DnsZone$command:remote:Command::gw-dns-local");
    });

    it("orders the steps with dependsOn", () => {
        const deps = Object.fromEntries(recorded.map((r) => [r.name, dependsOn(r)]));
        assert.deepStrictEqual(deps, {
            "gw": [],
            "gw-packages": [],
            "gw-forwarding": [],
            "gw-dhcp": ["gw-packages"],
            "gw-dhcp-config": [],
            "gw-dns": ["gw-packages"],
            "gw-dns-forward-zone": [],
            "gw-dns-reverse-zone": [],
            // The configuration files come after the zone files, so destroy removes them first.
            "gw-dns-options": ["gw-dns-forward-zone", "gw-dns-reverse-zone"],
            "gw-dns-local": ["gw-dns-forward-zone", "gw-dns-options", "gw-dns-reverse-zone"],
            "gw-nat": ["gw-forwarding", "gw-packages"],
            "gw-nat-ruleset": [],
            "gw-nat-unit": ["gw-nat-ruleset"],
        });
    });

    describe("host files", () => {
        const files = (): [string, ManagedFileSpec, string][] => [
            ["gw-dhcp-config", dhcp.keaConfigFile(), renderKeaConfig(plan)],
            ["gw-dns-forward-zone", dns.zoneFile("cluster.home.arpa"), renderForwardZone(plan)],
            ["gw-dns-reverse-zone", dns.zoneFile("20.172.in-addr.arpa"), renderReverseZone(plan)],
            ["gw-dns-options", dns.namedConfFile("/etc/bind/named.conf.options"), renderNamedOptions(plan)],
            ["gw-dns-local", dns.namedConfFile("/etc/bind/named.conf.local"), renderNamedLocal(plan)],
            ["gw-nat-ruleset", nat.rulesetFile(), renderNftRuleset(plan)],
            ["gw-nat-unit", nat.natUnitFile(plan), renderNatUnit(plan)],
            ["gw-forwarding", m.forwardingFile(), renderForwardingSysctl()],
        ];

        it("send the rendered content through stdin, with no triggers (a content change is an update)", () => {
            for (const [name, , content] of files()) {
                const r = one(COMMAND, name);
                assert.strictEqual(r.inputs.stdin, content, name);
                assert.strictEqual(r.inputs.triggers, undefined, name);
                assert.strictEqual(r.inputs.logging, "stdoutAndStderr", name);
            }
        });

        it("run the hostScripts install script on create and update and the remove script on delete", () => {
            for (const [name, spec] of files()) {
                const r = one(COMMAND, name);
                assert.strictEqual(r.inputs.create, sudoScript(installFileScript(spec)), name);
                assert.strictEqual(r.inputs.update, sudoScript(installFileScript(spec)), name);
                assert.strictEqual(r.inputs.delete, sudoScript(removeFileScript(spec)), name);
            }
        });

        it("install to the right paths with the right checkers and activation", () => {
            const summary = files().map(([name, s]) => [name, s.path, s.check?.split("\n")[0], !!s.zoneSerial]);
            assert.deepStrictEqual(summary, [
                ["gw-dhcp-config", "/etc/kea/kea-dhcp4.conf", 'kea-dhcp4 -t "$CANDIDATE"', false],
                ["gw-dns-forward-zone", "/etc/bind/homecloud/db.cluster.home.arpa", 'named-checkzone cluster.home.arpa "$CANDIDATE"', true],
                ["gw-dns-reverse-zone", "/etc/bind/homecloud/db.20.172.in-addr.arpa", 'named-checkzone 20.172.in-addr.arpa "$CANDIDATE"', true],
                ["gw-dns-options", "/etc/bind/named.conf.options", 'named-checkconf "$CANDIDATE" &&', false],
                ["gw-dns-local", "/etc/bind/named.conf.local", 'named-checkconf "$CANDIDATE" &&', false],
                ["gw-nat-ruleset", "/etc/homecloud/nat.nft", 'nft -c -f "$CANDIDATE"', false],
                ["gw-nat-unit", "/etc/systemd/system/homecloud-nat.service", "unitdir=$(mktemp -d) &&", false],
                ["gw-forwarding", "/etc/sysctl.d/90-homecloud-forwarding.conf", `sed -n 's/^ *\\([a-z0-9_.]*\\) *=.*$/\\1/p' "$CANDIDATE" | while read -r key; do`, false],
            ]);
            const kea = dhcp.keaConfigFile();
            assert.strictEqual(kea.activate, serviceActivate("kea-dhcp4-server", "hup"));
            assert.strictEqual(kea.revert, serviceRevert("kea-dhcp4-server"));
            const conf = dns.namedConfFile("/etc/bind/named.conf.local");
            assert.strictEqual(conf.activate, serviceActivate("named", "reload"));
            assert.strictEqual(conf.revert, serviceRevert("named"));
            assert.ok(conf.check!.endsWith('named-checkconf -z "$full"'), "the whole configuration is checked too");
            assert.strictEqual(dns.zoneFile("x.test").activate, "if systemctl is-active -q named; then rndc reload; fi");
            assert.strictEqual(nat.rulesetFile().activate,
                "if systemctl is-active -q homecloud-nat.service; then nft -f /etc/homecloud/nat.nft; fi");
            assert.ok(nat.natUnitFile(plan).activate!.endsWith(serviceActivate("homecloud-nat.service", "restart")));
            assert.ok(nat.natUnitFile(plan).revert!.includes("ip addr del 192.168.50.10/32 dev enx00e04c680001"));
        });
    });

    it("installs the packages with one step that records and removes only what it installed", () => {
        const r = one(COMMAND, "gw-packages");
        const packages = ["kea-dhcp4-server", "bind9", "bind9-dnsutils", "nftables", "iproute2"];
        assert.deepStrictEqual(m.GATEWAY_PACKAGES, packages);
        assert.strictEqual(r.inputs.create, sudoScript(m.installPackagesScript(packages)));
        assert.strictEqual(r.inputs.update, sudoScript(m.installPackagesScript(packages)));
        assert.strictEqual(r.inputs.delete, sudoScript(m.removePackagesScript()));
        assert.strictEqual(r.inputs.triggers, undefined, "a new package list is an update, never a purge of the old set");
        assert.strictEqual(r.inputs.stdin, undefined);
        assert.ok(m.installPackagesScript(packages).includes("\nfor p in kea-dhcp4-server bind9 bind9-dnsutils nftables iproute2; do\n"));
        assert.throws(() => m.installPackagesScript(["bind9; rm -rf /"]), /must be Debian package names; got \["bind9; rm -rf \/"\]/);
    });

    it("connects to the gateway with the SSH key as a secret, and never puts the key in a script", async () => {
        const commands = find(COMMAND, "gw-");
        assert.strictEqual(commands.length, 9);
        for (const r of commands) {
            // What the engine received: the whole connection wrapped as a secret.
            const sent = r.inputs.connection;
            assert.strictEqual(sent[pulumi.runtime.specialSigKey], pulumi.runtime.specialSecretSig, `${r.name}: connection is secret`);
            assert.deepStrictEqual(sent.value, {
                host: "192.168.50.2", port: 22, user: "pi", privateKey: KEY, dialErrorLimit: 60, perDialTimeout: 5,
            }, r.name);
            for (const field of ["create", "update", "delete", "stdin"]) {
                assert.ok(!String(r.inputs[field] ?? "").includes("not-a-real-key"), `${r.name}.${field}`);
            }
        }
        const conn = gw.dhcp.config.connection as pulumi.Output<{ privateKey?: string }>;
        assert.strictEqual(await isSecret(conn.apply((c) => c.privateKey)), true);
        for (const c of [gw.packages, gw.forwarding, gw.dns.local, gw.nat.unit]) {
            assert.strictEqual(await isSecret(c.connection), true);
        }
    });

    it("exposes the gateway's addresses as outputs", async () => {
        assert.deepStrictEqual(
            await Promise.all([resolve(gw.lanAddress), resolve(gw.vip), resolve(gw.domain), resolve(gw.apiFqdn)]),
            ["172.20.0.1", "192.168.50.10", "cluster.home.arpa", "k8s.cluster.home.arpa"]);
        assert.deepStrictEqual(
            await Promise.all([resolve(gw.dns.reverseZone), resolve(gw.dns.nameserver), resolve(gw.dhcp.lanInterface)]),
            ["20.172.in-addr.arpa", "172.20.0.1", "lan0"]);
    });

    it("names every child after the component, so two gateways do not collide", async () => {
        const before = recorded.length;
        const other = new m.Gateway("edge", {
            plan: loadPlan("small"),
            connection: { host: "10.0.0.1", port: 22, user: "pi", privateKey: pulumi.secret(KEY) },
        });
        await resolve(other.vip);
        await new Promise((r) => setTimeout(r, 50));
        const names = recorded.slice(before).map((r) => r.name);
        assert.strictEqual(names.length, 13);
        assert.ok(names.every((n) => n === "edge" || n.startsWith("edge-")), names.join(", "));
        assert.strictEqual(one(COMMAND, "edge-nat-ruleset").inputs.stdin, renderNftRuleset(loadPlan("small")));
    });
});
