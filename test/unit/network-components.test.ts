// The network components under Pulumi mocks: which resources, their names, parents,
// dependencies, scripts and content. Mocks first, then the code under test.
import * as assert from "assert";
import { dependsOn, find, isSecret, parentName, recorded, RecordedResource, reset, resolve, testHostKey } from "../mocks";
import * as pulumi from "@pulumi/pulumi";
import type * as GatewayModule from "../../network/gateway";
import { fileCommand, HostFileSpec } from "../../host/hostFile";
import { TOOLKIT_INSTALL, TOOLKIT_REMOVE, toolkitInstaller } from "../../host/toolkit";
import {
    renderForwardZone, renderNamedLocal, renderNamedOptions, renderReverseZone,
} from "../../network/bind";
import { renderHaproxyConfig } from "../../network/haproxy";
import { renderD2Config, renderKeaConfig } from "../../network/kea";
import { renderNftRuleset } from "../../network/nftables";
import { renderForwardingSysctl } from "../../network/sysctl";
import { renderNatUnit } from "../../network/natUnit";
import { loadPlan } from "../fixtures/network/plans";

const COMMAND = "command:remote:Command";
/** The large plan is a /22: one reverse zone per /24 it covers. */
const REVERSE = ["0", "1", "2", "3"].map((o) => `gw-dns-dynamic-reverse-${o}.20.172.in-addr.arpa`);
const REVERSE_ZONES = ["0", "1", "2", "3"].map((o) => `${o}.20.172.in-addr.arpa`);
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n";

describe("network components (mocks)", () => {
    const plan = loadPlan("large");
    let gw: GatewayModule.Gateway;
    let gwLb: import("../../network/loadBalancer").LoadBalancer;
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
            connection: { host: plan.gateway.sshHost, port: plan.ports.ssh, user: plan.sshUser, privateKey: KEY, hostKey: testHostKey("gw") },
        });
        gwLb = gw.serveApi();
        await Promise.all([resolve(gw.lanAddress), resolve(gw.vip), resolve(gw.domain), resolve(gw.apiFqdn), resolve(gwLb.status)]);
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
            `${COMMAND} gw-dhcp-ddns-config`,
            `${COMMAND} gw-dns-ddns-keys`,
            `${COMMAND} gw-dns-dynamic-forward-zone`,
            `${COMMAND} gw-dns-dynamic-reverse-0.20.172.in-addr.arpa`,
            `${COMMAND} gw-dns-dynamic-reverse-1.20.172.in-addr.arpa`,
            `${COMMAND} gw-dns-dynamic-reverse-2.20.172.in-addr.arpa`,
            `${COMMAND} gw-dns-dynamic-reverse-3.20.172.in-addr.arpa`,
            `${COMMAND} gw-dns-local`,
            `${COMMAND} gw-dns-options`,
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
            "gw-dns-ddns-keys": "gw-dns",
            "gw-dns-dynamic-forward-zone": "gw-dns",
            "gw-dns-dynamic-reverse-0.20.172.in-addr.arpa": "gw-dns",
            "gw-dns-dynamic-reverse-1.20.172.in-addr.arpa": "gw-dns",
            "gw-dns-dynamic-reverse-2.20.172.in-addr.arpa": "gw-dns",
            "gw-dns-dynamic-reverse-3.20.172.in-addr.arpa": "gw-dns",
            "gw-dhcp-ddns-config": "gw-dhcp",
            "gw-dhcp-config": "gw-dhcp",
            "gw-dns-options": "gw-dns",
            "gw-dns-local": "gw-dns",
            "gw-nat-ruleset": "gw-nat",
            "gw-nat-unit": "gw-nat",
            "gw-lb-config": "gw-lb",
        });
        assert.strictEqual(one("homecloud:network:Gateway", "gw").parent, "", "the gateway is top level");
        assert.strictEqual(one(COMMAND, "gw-dns-local").registeredUrn,
            "urn:pulumi:test::homecloud::homecloud:network:Gateway$homecloud:network:DnsZone$command:remote:Command::gw-dns-local");
    });

    it("orders the steps with dependsOn; every command waits for the toolkit", () => {
        const deps = Object.fromEntries(recorded.map((r) => [r.name, dependsOn(r)]));
        assert.deepStrictEqual(deps, {
            "gw": [],
            "gw-toolkit": [],
            "gw-packages": ["gw-toolkit"],
            "gw-forwarding": ["gw-toolkit"],
            // kea-dhcp-ddns signs with the keys the DNS side makes; Kea comes after it.
            "gw-dhcp": ["gw-dns-ddns-keys", "gw-packages"],
            "gw-dhcp-ddns-config": ["gw-toolkit"],
            "gw-dhcp-config": ["gw-dhcp-ddns-config", "gw-toolkit"],
            "gw-dns": ["gw-packages"],
            "gw-dns-ddns-keys": ["gw-toolkit"],
            "gw-dns-dynamic-forward-zone": ["gw-dns-ddns-keys", "gw-toolkit"],
            "gw-dns-dynamic-reverse-0.20.172.in-addr.arpa": ["gw-dns-ddns-keys", "gw-toolkit"],
            "gw-dns-dynamic-reverse-1.20.172.in-addr.arpa": ["gw-dns-ddns-keys", "gw-toolkit"],
            "gw-dns-dynamic-reverse-2.20.172.in-addr.arpa": ["gw-dns-ddns-keys", "gw-toolkit"],
            "gw-dns-dynamic-reverse-3.20.172.in-addr.arpa": ["gw-dns-ddns-keys", "gw-toolkit"],
            // The configuration files come after the zone files (and the keys they include), so destroy removes them first.
            "gw-dns-options": ["gw-dns-ddns-keys", "gw-dns-dynamic-forward-zone", ...REVERSE, "gw-toolkit"],
            "gw-dns-local": ["gw-dns-ddns-keys", "gw-dns-dynamic-forward-zone", ...REVERSE, "gw-dns-options", "gw-toolkit"],
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
        const network = [
            "network/d2-config.sh", "network/ddns-keys.sh", "network/dns-zone.sh", "network/dyn-zone.sh", "network/etcd-snapshots.sh", "network/forwarding.sh",
            "network/haproxy-config.sh", "network/kea-config.sh", "network/named-conf.sh", "network/nat-ruleset.sh",
            "network/nat-unit.sh", "network/packages.sh",
            // With one gateway too: taking the second one out runs these scripts' removals.
            "network/pair/kea-api-password.sh", "network/pair/kea-ctrl-agent-config.sh", "network/pair/kea-ha-config.sh", "network/pair/keepalived-config.sh",
            "network/pair/vrrp-check.sh", "network/pair/xfer-key.sh",
        ];
        assert.strictEqual(r.inputs.stdin, toolkitInstaller(network));
        assert.deepStrictEqual([...r.inputs.stdin.matchAll(/^cat > "\$new\/([^"]+)"/gm)].map((m) => m[1]),
            ["host/scripts/host-file.sh", "host/scripts/lib.sh", ...network]);
    });

    describe("host files", () => {
        const files = (): [string, HostFileSpec, string][] => [
            ["gw-dhcp-config", dhcp.keaConfigFile(), renderKeaConfig(plan)],
            ["gw-dhcp-ddns-config", dhcp.d2ConfigFile(), renderD2Config(plan, REVERSE_ZONES)],
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
                // The owner recorded on the host is the command's URN, as the engine knows it.
                assert.strictEqual(r.inputs.create, fileCommand("install", spec, r.urn), name);
                assert.strictEqual(r.inputs.update, fileCommand("install", spec, r.urn), name);
                assert.strictEqual(r.inputs.delete, fileCommand("remove", spec, r.urn), name);
            }
        });

        it("are one short command line each: path, hooks and data, never the content", () => {
            const lines = Object.fromEntries(files().map(([name]) => [name, one(COMMAND, name).inputs.create]));
            const run = "/bin/bash /usr/local/lib/homecloud/host/scripts/host-file.sh install";
            const urn = (chain: string, name: string): string =>
                `HC_RESOURCE='urn:pulumi:test::homecloud::homecloud:network:Gateway${chain}$command:remote:Command::${name}'`;
            assert.deepStrictEqual(lines, {
                "gw-dhcp-config": `sudo -n /usr/bin/env HC_DEST=/etc/kea/kea-dhcp4.conf ${urn("$homecloud:network:DhcpServer", "gw-dhcp-config")} HC_HOOKS=network/kea-config.sh ${run}`,
                "gw-dhcp-ddns-config": `sudo -n /usr/bin/env HC_DEST=/etc/kea/kea-dhcp-ddns.conf ${urn("$homecloud:network:DhcpServer", "gw-dhcp-ddns-config")} HC_MODE=0640 HC_OWNER=root:_kea ` +
                    `HC_HOOKS=network/d2-config.sh HC_KEY_FILE=/etc/bind/homecloud-keys/homecloud-ddns.key ${run}`,
                "gw-dns-options": `sudo -n /usr/bin/env HC_DEST=/etc/bind/named.conf.options ${urn("$homecloud:network:DnsZone", "gw-dns-options")} HC_HOOKS=network/named-conf.sh ${run}`,
                "gw-dns-local": `sudo -n /usr/bin/env HC_DEST=/etc/bind/named.conf.local ${urn("$homecloud:network:DnsZone", "gw-dns-local")} HC_HOOKS=network/named-conf.sh ${run}`,
                "gw-nat-ruleset": `sudo -n /usr/bin/env HC_DEST=/etc/homecloud/nat.nft ${urn("$homecloud:network:NatRules", "gw-nat-ruleset")} HC_HOOKS=network/nat-ruleset.sh HC_UNIT=homecloud-nat.service ` +
                    `HC_IFACES='lan0 enx00e04c680001' ${run}`,
                "gw-nat-unit": `sudo -n /usr/bin/env HC_DEST=/etc/systemd/system/homecloud-nat.service ${urn("$homecloud:network:NatRules", "gw-nat-unit")} HC_HOOKS=network/nat-unit.sh ` +
                    `HC_NFT_FAMILY=ip HC_NFT_TABLE=homecloud HC_VIP=192.168.50.10 HC_WAN_IF=enx00e04c680001 ${run}`,
                "gw-forwarding": `sudo -n /usr/bin/env HC_DEST=/etc/sysctl.d/90-homecloud-forwarding.conf ${urn("", "gw-forwarding")} HC_HOOKS=network/forwarding.sh ${run}`,
                "gw-lb-config": `sudo -n /usr/bin/env HC_DEST=/etc/haproxy/haproxy.cfg ${urn("$homecloud:network:LoadBalancer", "gw-lb-config")} HC_HOOKS=network/haproxy-config.sh ${run}`,
            });
        });
    });

    describe("dynamic DNS (on in this plan)", () => {
        it("makes the TSIG keys on the gateway once, keeps them on re-runs, removes them on delete", () => {
            const r = one(COMMAND, "gw-dns-ddns-keys");
            const env = "HC_KEY_DIR=/etc/bind/homecloud-keys HC_KEYS='homecloud-ddns homecloud-static'";
            assert.strictEqual(r.inputs.create, `sudo -n /usr/bin/env ${env} /bin/bash /usr/local/lib/homecloud/network/ddns-keys.sh create`);
            assert.strictEqual(r.inputs.delete, `sudo -n /usr/bin/env ${env} /bin/bash /usr/local/lib/homecloud/network/ddns-keys.sh remove`);
            assert.strictEqual(r.inputs.stdin, undefined, "no secret travels: the keys are made on the gateway");
            assert.strictEqual(r.inputs.triggers, undefined);
        });

        it("applies each zone through dyn-zone.sh with its rendering on stdin, never with triggers", () => {
            const zones: [string, string, string][] = [
                ["gw-dns-dynamic-forward-zone", "cluster.home.arpa", renderForwardZone(plan)],
                ...REVERSE_ZONES.map((z, i): [string, string, string] => [REVERSE[i], z, renderReverseZone(plan, z)]),
            ];
            for (const [name, zone, content] of zones) {
                const r = one(COMMAND, name);
                const env = `HC_ZONE=${zone} HC_DEST=/var/lib/bind/homecloud/db.${zone} ` +
                    `HC_KEY_FILE=/etc/bind/homecloud-keys/homecloud-static.key HC_RESOURCE='${r.urn}'`;
                assert.strictEqual(r.inputs.create, `sudo -n /usr/bin/env ${env} /bin/bash /usr/local/lib/homecloud/network/dyn-zone.sh apply`, name);
                assert.strictEqual(r.inputs.update, r.inputs.create, name);
                assert.strictEqual(r.inputs.delete, `sudo -n /usr/bin/env ${env} /bin/bash /usr/local/lib/homecloud/network/dyn-zone.sh remove`, name);
                assert.strictEqual(r.inputs.stdin, content, name);
                assert.strictEqual(r.inputs.triggers, undefined, name);
            }
        });

        it("sends kea-dhcp-ddns a configuration with a token where the secret goes, never the secret", () => {
            const stdin = one(COMMAND, "gw-dhcp-ddns-config").inputs.stdin as string;
            assert.deepStrictEqual(JSON.parse(stdin).DhcpDdns["tsig-keys"], [{ name: "homecloud-ddns", algorithm: "HMAC-SHA256", secret: "@TSIG_SECRET@" }]);
        });
    });

    it("installs the packages with one step that records and removes only what it installed", () => {
        const r = one(COMMAND, "gw-packages");
        const packages = ["kea-dhcp4-server", "kea-dhcp-ddns-server", "bind9", "bind9-utils", "bind9-dnsutils", "haproxy", "nftables", "iproute2", "iputils-arping"];
        assert.deepStrictEqual(m.GATEWAY_PACKAGES, packages);
        const install = "sudo -n /usr/bin/env HC_PACKAGES='kea-dhcp4-server kea-dhcp-ddns-server bind9 bind9-utils bind9-dnsutils haproxy nftables iproute2 iputils-arping' " +
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
        assert.strictEqual(commands.length, 16, "toolkit, packages, forwarding, Kea, kea-dhcp-ddns, TSIG keys, 2 named.conf files, forward zone, 4 reverse zones, ruleset, unit, HAProxy");
        for (const r of commands) {
            // What the engine received: the whole connection wrapped as a secret.
            const sent = r.inputs.connection;
            assert.strictEqual(sent[pulumi.runtime.specialSigKey], pulumi.runtime.specialSecretSig, `${r.name}: connection is secret`);
            assert.deepStrictEqual(sent.value, {
                host: "192.168.50.2", port: 22, user: "pi", privateKey: KEY, dialErrorLimit: 60, perDialTimeout: 5, hostKey: testHostKey("gw"),
            }, r.name);
            for (const field of ["create", "update", "delete", "stdin"]) {
                assert.ok(!String(r.inputs[field] ?? "").includes("not-a-real-key"), `${r.name}.${field}`);
            }
        }
        const conn = gw.dhcp.config.connection as pulumi.Output<{ privateKey?: string }>;
        assert.strictEqual(await isSecret(conn.apply((c) => c.privateKey)), true);
        for (const c of [gw.packages, gw.forwarding, gw.dns.local, gw.nat.unit, gwLb.config]) {
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
        assert.deepStrictEqual(await resolve(gwLb.status), {
            statsSocket: "/run/haproxy/admin.sock", statsUrl: "http://127.0.0.1:8404/", apiHealthCheck: "https",
        });
    });

    it("names every child after the component, so two gateways do not collide", async () => {
        const before = recorded.length;
        const other = new m.Gateway("edge", {
            plan: loadPlan("small"),
            connection: { host: "10.0.0.1", port: 22, user: "pi", privateKey: pulumi.secret(KEY), hostKey: testHostKey("edge") },
        });
        await resolve(other.serveApi().status);
        await new Promise((r) => setTimeout(r, 50));
        const names = recorded.slice(before).map((r) => r.name);
        assert.strictEqual(names.length, 16);
        assert.ok(names.every((n) => n === "edge" || n.startsWith("edge-")), names.join(", "));
        assert.strictEqual(one(COMMAND, "edge-nat-ruleset").inputs.stdin, renderNftRuleset(loadPlan("small")));
    });
});
