// The network components under Pulumi mocks: which resources, their names, parents,
// dependencies, scripts and content. Mocks first, then the code under test.
import * as assert from "assert";
import { dependsOn, find, isSecret, parentName, recorded, RecordedResource, reset, resolve } from "../mocks";
import * as pulumi from "@pulumi/pulumi";
import type * as GatewayModule from "../../network/gateway";
import { fileCommand, HostFileSpec } from "../../host/hostFile";
import { TOOLKIT_INSTALL, TOOLKIT_REMOVE, toolkitInstaller } from "../../host/toolkit";
import {
    renderForwardZone, renderNamedLocal, renderNamedOptions, renderReverseZone,
} from "../../network/bind";
import { renderHaproxyConfig } from "../../network/haproxy";
import { renderKeaConfig } from "../../network/kea";
import { renderNftRuleset } from "../../network/nftables";
import { renderForwardingSysctl } from "../../network/sysctl";
import { renderNatUnit } from "../../network/natUnit";
import { loadPlan } from "../fixtures/network/plans";

const COMMAND = "command:remote:Command";
/** The large plan is a /22: one reverse zone per /24 it covers. */
const REVERSE = ["0", "1", "2", "3"].map((o) => `gw-dns-reverse-${o}.20.172.in-addr.arpa`);
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n";

describe("network components (mocks)", () => {
    const plan = loadPlan("large");
    let gw: GatewayModule.Gateway;
    let m: typeof GatewayModule;
    let dhcp: typeof import("../../network/dhcpServer");
    let dns: typeof import("../../network/dnsZone");
    let nat: typeof import("../../network/natRules");
    let lb: typeof import("../../network/loadBalancer");

    before(async () => {
        reset();
        m = await import("../../network/gateway");
        dhcp = await import("../../network/dhcpServer");
        dns = await import("../../network/dnsZone");
        nat = await import("../../network/natRules");
        lb = await import("../../network/loadBalancer");
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
            `${COMMAND} gw-dns-reverse-0.20.172.in-addr.arpa`,
            `${COMMAND} gw-dns-reverse-1.20.172.in-addr.arpa`,
            `${COMMAND} gw-dns-reverse-2.20.172.in-addr.arpa`,
            `${COMMAND} gw-dns-reverse-3.20.172.in-addr.arpa`,
            `${COMMAND} gw-forwarding`,
            `${COMMAND} gw-lb-config`,
            `${COMMAND} gw-nat-ruleset`,
            `${COMMAND} gw-nat-unit`,
            `${COMMAND} gw-packages`,
            `${COMMAND} gw-toolkit`,
            "homecloud:network:DhcpServer gw-dhcp",
            "homecloud:network:DnsZone gw-dns",
            "homecloud:network:Gateway gw",
            "homecloud:network:LoadBalancer gw-lb",
            "homecloud:network:NatRules gw-nat",
        ]);
    });

    it("parents every child to its component (by the URN the SDK sent)", () => {
        const parents = Object.fromEntries(recorded.filter((r) => r.name !== "gw").map((r) => [r.name, parentName(r)]));
        assert.deepStrictEqual(parents, {
            "gw-toolkit": "gw",
            "gw-packages": "gw",
            "gw-forwarding": "gw",
            "gw-dhcp": "gw",
            "gw-dns": "gw",
            "gw-nat": "gw",
            "gw-lb": "gw",
            "gw-dhcp-config": "gw-dhcp",
            "gw-dns-forward-zone": "gw-dns",
            "gw-dns-reverse-0.20.172.in-addr.arpa": "gw-dns",
            "gw-dns-reverse-1.20.172.in-addr.arpa": "gw-dns",
            "gw-dns-reverse-2.20.172.in-addr.arpa": "gw-dns",
            "gw-dns-reverse-3.20.172.in-addr.arpa": "gw-dns",
            "gw-dns-options": "gw-dns",
            "gw-dns-local": "gw-dns",
            "gw-nat-ruleset": "gw-nat",
            "gw-nat-unit": "gw-nat",
            "gw-lb-config": "gw-lb",
        });
        assert.strictEqual(one("homecloud:network:Gateway", "gw").parent, "", "the gateway is top level");
        assert.strictEqual(one(COMMAND, "gw-dns-local").registeredUrn,
            "urn:pulumi:test::homecloud::homecloud:network:DnsZone$command:remote:Command::gw-dns-local");
    });

    it("orders the steps with dependsOn; every command waits for the toolkit", () => {
        const deps = Object.fromEntries(recorded.map((r) => [r.name, dependsOn(r)]));
        assert.deepStrictEqual(deps, {
            "gw": [],
            "gw-toolkit": [],
            "gw-packages": ["gw-toolkit"],
            "gw-forwarding": ["gw-toolkit"],
            "gw-dhcp": ["gw-packages"],
            "gw-dhcp-config": ["gw-toolkit"],
            "gw-dns": ["gw-packages"],
            "gw-dns-forward-zone": ["gw-toolkit"],
            "gw-dns-reverse-0.20.172.in-addr.arpa": ["gw-toolkit"],
            "gw-dns-reverse-1.20.172.in-addr.arpa": ["gw-toolkit"],
            "gw-dns-reverse-2.20.172.in-addr.arpa": ["gw-toolkit"],
            "gw-dns-reverse-3.20.172.in-addr.arpa": ["gw-toolkit"],
            // The configuration files come after the zone files, so destroy removes them first.
            "gw-dns-options": ["gw-dns-forward-zone", ...REVERSE, "gw-toolkit"],
            "gw-dns-local": ["gw-dns-forward-zone", "gw-dns-options", ...REVERSE, "gw-toolkit"],
            "gw-nat": ["gw-forwarding", "gw-packages"],
            "gw-nat-ruleset": ["gw-toolkit"],
            "gw-nat-unit": ["gw-nat-ruleset", "gw-toolkit"],
            "gw-lb": ["gw-nat-ruleset", "gw-nat-unit", "gw-packages"],
            "gw-lb-config": ["gw-toolkit"],
        });
    });

    it("installs the toolkit first: the host layer's and the network half's scripts, removed on delete", () => {
        const r = one(COMMAND, "gw-toolkit");
        assert.strictEqual(r.inputs.create, TOOLKIT_INSTALL);
        assert.strictEqual(r.inputs.update, TOOLKIT_INSTALL);
        assert.strictEqual(r.inputs.delete, TOOLKIT_REMOVE);
        assert.strictEqual(r.inputs.create, "sudo -n /bin/bash -s");
        assert.strictEqual(r.inputs.delete, "sudo -n /bin/rm -rf /usr/local/lib/homecloud");
        assert.strictEqual(r.inputs.stdin, toolkitInstaller([
            "network/dns-zone.sh", "network/forwarding.sh", "network/haproxy-config.sh", "network/kea-config.sh",
            "network/named-conf.sh", "network/nat-ruleset.sh", "network/nat-unit.sh", "network/packages.sh",
        ]));
        assert.deepStrictEqual([...r.inputs.stdin.matchAll(/^cat > "\$new\/([^"]+)"/gm)].map((m) => m[1]), [
            "host/scripts/host-file.sh", "host/scripts/lib.sh", "network/dns-zone.sh", "network/forwarding.sh",
            "network/haproxy-config.sh", "network/kea-config.sh", "network/named-conf.sh", "network/nat-ruleset.sh", "network/nat-unit.sh",
            "network/packages.sh",
        ]);
    });

    describe("host files", () => {
        const files = (): [string, HostFileSpec, string][] => [
            ["gw-dhcp-config", dhcp.keaConfigFile(), renderKeaConfig(plan)],
            ["gw-dns-forward-zone", dns.zoneFile("cluster.home.arpa"), renderForwardZone(plan)],
            ...["0", "1", "2", "3"].map((o): [string, HostFileSpec, string] => [`gw-dns-reverse-${o}.20.172.in-addr.arpa`,
                dns.zoneFile(`${o}.20.172.in-addr.arpa`), renderReverseZone(plan, `${o}.20.172.in-addr.arpa`)]),
            ["gw-dns-options", dns.namedConfFile("/etc/bind/named.conf.options"), renderNamedOptions(plan)],
            ["gw-dns-local", dns.namedConfFile("/etc/bind/named.conf.local"), renderNamedLocal(plan)],
            ["gw-nat-ruleset", nat.rulesetFile(plan), renderNftRuleset(plan)],
            ["gw-nat-unit", nat.natUnitFile(plan), renderNatUnit(plan)],
            ["gw-forwarding", m.forwardingFile(), renderForwardingSysctl()],
            ["gw-lb-config", lb.haproxyConfigFile(), renderHaproxyConfig(plan)],
        ];

        it("send the rendered content through stdin, with no triggers (a content change is an update)", () => {
            for (const [name, , content] of files()) {
                const r = one(COMMAND, name);
                assert.strictEqual(r.inputs.stdin, content, name);
                assert.strictEqual(r.inputs.triggers, undefined, name);
                assert.strictEqual(r.inputs.logging, "stdoutAndStderr", name);
            }
        });

        it("run host-file.sh install on create and update and remove on delete, with the spec's data", () => {
            for (const [name, spec] of files()) {
                const r = one(COMMAND, name);
                assert.strictEqual(r.inputs.create, fileCommand("install", spec, name), name);
                assert.strictEqual(r.inputs.update, fileCommand("install", spec, name), name);
                assert.strictEqual(r.inputs.delete, fileCommand("remove", spec, name), name);
            }
        });

        it("are one short command line each: path, hooks and data, never the content", () => {
            const lines = Object.fromEntries(files().map(([name]) => [name, one(COMMAND, name).inputs.create]));
            const run = "/bin/bash /usr/local/lib/homecloud/host/scripts/host-file.sh install";
            assert.deepStrictEqual(lines, {
                "gw-dhcp-config": `sudo -n /usr/bin/env HC_DEST=/etc/kea/kea-dhcp4.conf HC_RESOURCE=gw-dhcp-config HC_HOOKS=network/kea-config.sh ${run}`,
                "gw-dns-forward-zone": "sudo -n /usr/bin/env HC_DEST=/etc/bind/homecloud/db.cluster.home.arpa HC_RESOURCE=gw-dns-forward-zone HC_HOOKS=network/dns-zone.sh " +
                    `HC_ZONE_SERIAL=1 HC_ZONE=cluster.home.arpa ${run}`,
                ...Object.fromEntries(["0", "1", "2", "3"].map((o) => [`gw-dns-reverse-${o}.20.172.in-addr.arpa`,
                    `sudo -n /usr/bin/env HC_DEST=/etc/bind/homecloud/db.${o}.20.172.in-addr.arpa HC_RESOURCE=gw-dns-reverse-${o}.20.172.in-addr.arpa ` +
                    `HC_HOOKS=network/dns-zone.sh HC_ZONE_SERIAL=1 HC_ZONE=${o}.20.172.in-addr.arpa ${run}`])),
                "gw-dns-options": `sudo -n /usr/bin/env HC_DEST=/etc/bind/named.conf.options HC_RESOURCE=gw-dns-options HC_HOOKS=network/named-conf.sh ${run}`,
                "gw-dns-local": `sudo -n /usr/bin/env HC_DEST=/etc/bind/named.conf.local HC_RESOURCE=gw-dns-local HC_HOOKS=network/named-conf.sh ${run}`,
                "gw-nat-ruleset": "sudo -n /usr/bin/env HC_DEST=/etc/homecloud/nat.nft HC_RESOURCE=gw-nat-ruleset HC_HOOKS=network/nat-ruleset.sh HC_UNIT=homecloud-nat.service " +
                    `HC_IFACES='lan0 enx00e04c680001' ${run}`,
                "gw-nat-unit": "sudo -n /usr/bin/env HC_DEST=/etc/systemd/system/homecloud-nat.service HC_RESOURCE=gw-nat-unit HC_HOOKS=network/nat-unit.sh " +
                    `HC_NFT_FAMILY=ip HC_NFT_TABLE=homecloud HC_VIP=192.168.50.10 HC_WAN_IF=enx00e04c680001 ${run}`,
                "gw-forwarding": `sudo -n /usr/bin/env HC_DEST=/etc/sysctl.d/90-homecloud-forwarding.conf HC_RESOURCE=gw-forwarding HC_HOOKS=network/forwarding.sh ${run}`,
                "gw-lb-config": `sudo -n /usr/bin/env HC_DEST=/etc/haproxy/haproxy.cfg HC_RESOURCE=gw-lb-config HC_HOOKS=network/haproxy-config.sh ${run}`,
            });
        });
    });

    it("installs the packages with one step that records and removes only what it installed", () => {
        const r = one(COMMAND, "gw-packages");
        const packages = ["kea-dhcp4-server", "bind9", "bind9-dnsutils", "haproxy", "nftables", "iproute2"];
        assert.deepStrictEqual(m.GATEWAY_PACKAGES, packages);
        const install = "sudo -n /usr/bin/env HC_PACKAGES='kea-dhcp4-server bind9 bind9-dnsutils haproxy nftables iproute2' " +
            "/bin/bash /usr/local/lib/homecloud/network/packages.sh install";
        assert.strictEqual(r.inputs.create, install);
        assert.strictEqual(r.inputs.update, install);
        assert.strictEqual(r.inputs.delete, "sudo -n /usr/bin/env /bin/bash /usr/local/lib/homecloud/network/packages.sh remove");
        assert.strictEqual(r.inputs.triggers, undefined, "a new package list is an update, never a purge of the old set");
        assert.strictEqual(r.inputs.stdin, undefined);
        assert.throws(() => m.packagesCommands(["bind9; rm -rf /"]), { message: 'package names must be Debian package names; got ["bind9; rm -rf /"]' });
    });

    it("connects to the gateway with the SSH key as a secret, and never puts the key in a script", async () => {
        const commands = find(COMMAND, "gw-");
        assert.strictEqual(commands.length, 14, "toolkit, packages, forwarding, Kea, 2 named.conf files, forward zone, 4 reverse zones, ruleset, unit, HAProxy");
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
        for (const c of [gw.packages, gw.forwarding, gw.dns.local, gw.nat.unit, gw.loadBalancer.config]) {
            assert.strictEqual(await isSecret(c.connection), true);
        }
    });

    it("exposes the gateway's addresses as outputs", async () => {
        assert.deepStrictEqual(
            await Promise.all([resolve(gw.lanAddress), resolve(gw.vip), resolve(gw.domain), resolve(gw.apiFqdn)]),
            ["172.20.0.1", "192.168.50.10", "cluster.home.arpa", "k8s.cluster.home.arpa"]);
        assert.deepStrictEqual(
            await Promise.all([resolve(gw.dns.reverseZones), resolve(gw.dns.nameserver), resolve(gw.dhcp.lanInterface)]),
            [["0.20.172.in-addr.arpa", "1.20.172.in-addr.arpa", "2.20.172.in-addr.arpa", "3.20.172.in-addr.arpa"], "172.20.0.1", "lan0"]);
        assert.deepStrictEqual(await resolve(gw.loadBalancerStatus), {
            statsSocket: "/run/haproxy/admin.sock", statsUrl: "http://127.0.0.1:8404/", apiHealthCheck: "https",
        });
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
        assert.strictEqual(names.length, 16);
        assert.ok(names.every((n) => n === "edge" || n.startsWith("edge-")), names.join(", "));
        assert.strictEqual(one(COMMAND, "edge-nat-ruleset").inputs.stdin, renderNftRuleset(loadPlan("small")));
    });
});
