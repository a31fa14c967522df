import * as assert from "assert";
import { RawConfig } from "../../config/schema";
import { parseAddressPlan } from "../../config/validate";
import { SERIAL_TOKEN } from "../../host/hostFile";
import {
    forwardZoneName, renderForwardZone, renderNamedLocal, renderNamedOptions, renderReverseZone, reverseZoneNames,
    ZONE_DIR, zoneDirOf, zoneFilePath,
} from "../../network/bind";
import { renderKeaConfig } from "../../network/kea";
import { renderHaproxyConfig } from "../../network/haproxy";
import { renderNftRuleset } from "../../network/nftables";
import { renderNatUnit } from "../../network/natUnit";
import { assertFixture, assertNoOrphans } from "../approval";
import { FIXTURES, fixturePath, loadPlan, PLAN_NAMES, rawPlan, renderAll } from "../fixtures/network/plans";

describe("network renderers", () => {
    for (const name of PLAN_NAMES) {
        describe(`${name} plan: exact text`, () => {
            const rendered = renderAll(loadPlan(name));
            for (const [file, text] of Object.entries(rendered)) {
                it(file, () => {
                    assertFixture(fixturePath(name, file), text);
                });
            }
            it(`the ${name} fixture directory holds only these files`, () => {
                assertNoOrphans(fixturePath(name), Object.keys(rendered));
            });
        });
    }

    it("the network fixtures hold one directory per plan, beside the plans' own files", () => {
        assertNoOrphans(FIXTURES, [...PLAN_NAMES, ...PLAN_NAMES.map((n) => `${n}.plan.json`), "plans.ts", "generated.ts"]);
    });

    describe("determinism", () => {
        it("renders byte-identical text twice from the same plan", () => {
            for (const name of PLAN_NAMES) {
                assert.deepStrictEqual(renderAll(loadPlan(name)), renderAll(loadPlan(name)));
            }
        });

        it("does not depend on the order of the configuration keys", () => {
            for (const name of PLAN_NAMES) {
                const raw = rawPlan(name);
                const reversed: RawConfig = Object.fromEntries(Object.entries(raw).reverse());
                assert.deepStrictEqual(Object.keys(reversed)[0], Object.keys(raw).at(-1));
                assert.deepStrictEqual(renderAll(parseAddressPlan(reversed).plan), renderAll(loadPlan(name)));
            }
        });
    });

    describe("Kea", () => {
        for (const name of PLAN_NAMES) {
            it(`${name}: serves the LAN interface only, never the WAN one`, () => {
                const plan = loadPlan(name);
                const kea = JSON.parse(renderKeaConfig(plan));
                assert.deepStrictEqual(kea.Dhcp4["interfaces-config"], {
                    interfaces: [plan.gateway.lanInterface],
                    "dhcp-socket-type": "raw",
                });
                assert.ok(!renderKeaConfig(plan).includes(plan.gateway.wanInterface));
            });
        }

        it("keeps only letters, digits and hyphens of a pool client's name (no dots), under dhcp.<domain>", () => {
            const kea = JSON.parse(renderKeaConfig(loadPlan("large"))).Dhcp4;
            assert.strictEqual(kea["hostname-char-set"], "[^A-Za-z0-9-]");
            assert.strictEqual(kea["hostname-char-replacement"], "");
            assert.strictEqual(kea["ddns-qualifying-suffix"], "dhcp.cluster.home.arpa.");
        });

        it("has one reservation per node and per extra reservation, in config order", () => {
            const plan = loadPlan("large");
            const subnets = JSON.parse(renderKeaConfig(plan)).Dhcp4.subnet4;
            assert.strictEqual(subnets.length, 1);
            assert.strictEqual(subnets[0].id, 1);
            assert.deepStrictEqual(subnets[0].reservations.map((r: { hostname: string }) => r.hostname),
                ["server1", "server2", "server3", "agent1", "nas", "printer"]);
        });

        it("sets renew and rebind timers at 50% and 87.5% of the lease, rounded down", () => {
            const raw = rawPlan("small");
            raw.leaseSeconds = 601;
            const kea = JSON.parse(renderKeaConfig(parseAddressPlan(raw).plan)).Dhcp4;
            assert.deepStrictEqual([kea["valid-lifetime"], kea["renew-timer"], kea["rebind-timer"]], [601, 300, 525]);
        });
    });

    describe("BIND", () => {
        it("renders no forwarders block at all when there are no forwarders", () => {
            const options = renderNamedOptions(loadPlan("small"));
            assert.ok(!/forward/.test(options), options);
        });

        it("forwards only to the configured forwarders, in order", () => {
            assert.match(renderNamedOptions(loadPlan("large")),
                /\n {4}forwarders \{\n {8}192\.168\.50\.1;\n {8}192\.0\.2\.53;\n {4}\};\n {4}forward only;\n/);
        });

        it("never listens on the WAN side or on IPv6", () => {
            const plan = loadPlan("large");
            const options = renderNamedOptions(plan);
            assert.ok(options.includes("    listen-on port 53 { 127.0.0.1; 172.20.0.1; };\n"));
            assert.ok(options.includes("    listen-on-v6 { none; };\n"));
            assert.ok(!options.includes(plan.wan.vip) && !options.includes("192.168.50.0"));
        });

        // Each LAN claims its own addresses and no others (tinyPlan: gateway .1, node .6).
        const reverse: [string, string[]][] = [
            ["10.9.0.0/16", ["9.10.in-addr.arpa"]],
            ["10.9.4.0/22", ["4.9.10.in-addr.arpa", "5.9.10.in-addr.arpa", "6.9.10.in-addr.arpa", "7.9.10.in-addr.arpa"]],
            ["10.9.6.0/23", ["6.9.10.in-addr.arpa", "7.9.10.in-addr.arpa"]],
            ["10.9.7.0/24", ["7.9.10.in-addr.arpa"]],
            ["10.9.7.128/25", ["129.7.9.10.in-addr.arpa", "134.7.9.10.in-addr.arpa"]],
            ["10.9.7.240/28", ["241.7.9.10.in-addr.arpa", "246.7.9.10.in-addr.arpa"]],
        ];
        for (const [cidr, zones] of reverse) {
            it(`names the reverse zones of ${cidr}: ${zones.join(", ")}`, () => {
                assert.deepStrictEqual(reverseZoneNames(tinyPlan(cidr)), zones);
            });
        }

        it("a /23 serves PTRs in both halves, each from its own /24 zone", () => {
            const plan = tinyPlan("10.9.6.0/23", "10.9.7.20");
            assert.deepStrictEqual(reverseZoneNames(plan), ["6.9.10.in-addr.arpa", "7.9.10.in-addr.arpa"]);
            assert.ok(renderReverseZone(plan, "6.9.10.in-addr.arpa").endsWith("@ IN NS gw.home.arpa.\n1 IN PTR gw.home.arpa.\n6 IN PTR n1.home.arpa.\n"));
            assert.ok(renderReverseZone(plan, "7.9.10.in-addr.arpa").endsWith("@ IN NS gw.home.arpa.\n20 IN PTR r1.home.arpa.\n"));
        });

        it("a /25 to /29 has one zone per named address, its PTR at the apex", () => {
            const zone = renderReverseZone(tinyPlan("10.9.7.128/25"), "134.7.9.10.in-addr.arpa");
            assert.ok(zone.includes("$ORIGIN 134.7.9.10.in-addr.arpa.\n"));
            assert.ok(zone.endsWith("@ IN NS gw.home.arpa.\n@ IN PTR n1.home.arpa.\n"));
        });

        it("writes PTR owners relative to their /24 zone; a zone without hosts has only SOA and NS", () => {
            const plan = loadPlan("large");
            assert.deepStrictEqual(reverseZoneNames(plan),
                ["0.20.172.in-addr.arpa", "1.20.172.in-addr.arpa", "2.20.172.in-addr.arpa", "3.20.172.in-addr.arpa"]);
            const one = renderReverseZone(plan, "1.20.172.in-addr.arpa");
            assert.ok(one.includes("$ORIGIN 1.20.172.in-addr.arpa.\n"));
            assert.ok(one.includes("\n21 IN PTR agent1.cluster.home.arpa.\n"));
            assert.ok(renderReverseZone(plan, "3.20.172.in-addr.arpa").endsWith("@ IN NS router.cluster.home.arpa.\n"));
        });

        it("gives the program's records and negative answers the configured TTL", () => {
            const zone = renderForwardZone(loadPlan("large")).split("\n");
            assert.ok(zone.includes("$TTL 600"), zone.join("\n"));
            assert.ok(zone.includes("        600 ) ; negative caching TTL"));
            assert.ok(renderForwardZone(loadPlan("small")).split("\n").includes("$TTL 300"), "the default");
        });

        it("points the API name at the VIP and the wildcard at the ingress", () => {
            const zone = renderForwardZone(loadPlan("large"));
            assert.match(zone, /\nk8s +IN A +192\.168\.50\.10\n/);
            assert.match(zone, /\n\* +IN A +172\.20\.3\.10\n/);
        });

        it("leaves the serial to the host, on a line the host scripts recognise", () => {
            for (const name of PLAN_NAMES) {
                const plan = loadPlan(name);
                for (const zone of [renderForwardZone(plan), ...reverseZoneNames(plan).map((z) => renderReverseZone(plan, z))]) {
                    const lines = zone.split("\n").filter((l) => l.includes(SERIAL_TOKEN));
                    assert.deepStrictEqual(lines, [`        ${SERIAL_TOKEN} ; serial`]);
                }
            }
        });

        it("keeps pool clients under dhcp.<domain>, out of the suffix's own name and every name a service certificate holds", () => {
            const { plan } = parseAddressPlan({
                ...rawPlan("large"),
                certificates: [
                    { name: "registry", host: "server1", sans: ["registry.dhcp.cluster.home.arpa", "*.builds.dhcp.cluster.home.arpa", "*.apps.cluster.home.arpa", "IP:172.20.0.11"] },
                    { name: "grafana", host: "server2" },
                ],
            });
            const policy = renderNamedLocal(plan).split("\n");
            const forward = policy.slice(policy.indexOf('zone "cluster.home.arpa" {'));
            assert.deepStrictEqual(forward.slice(forward.indexOf("    update-policy {"), forward.indexOf("    };") + 1), [
                "    update-policy {",
                "        grant homecloud-static zonesub ANY;",
                ...["cluster.home.arpa", "router", "server1", "server2", "server3", "agent1", "nas", "printer", "k8s", "*"].map((n) =>
                    `        deny homecloud-ddns name ${n === "cluster.home.arpa" ? n : `${n}.cluster.home.arpa`}. ANY;`),
                "        deny homecloud-ddns name dhcp.cluster.home.arpa. ANY;",
                "        deny homecloud-ddns name registry.cluster.home.arpa. ANY;",
                "        deny homecloud-ddns name registry.dhcp.cluster.home.arpa. ANY;",
                "        deny homecloud-ddns name grafana.cluster.home.arpa. ANY;",
                // The wildcard SAN over pool names is a wildcard rule; the one over apps is outside the grant anyway.
                "        deny homecloud-ddns wildcard *.builds.dhcp.cluster.home.arpa. ANY;",
                "        grant homecloud-ddns subdomain dhcp.cluster.home.arpa. A DHCID;",
                "    };",
            ]);
        });

        it("with the domain itself as the suffix, still denies the service certificates' names", () => {
            const { plan } = parseAddressPlan({ ...rawPlan("large"), ddnsSuffix: "cluster.home.arpa", certificates: [{ name: "grafana", host: "server2" }] });
            const local = renderNamedLocal(plan);
            assert.ok(local.includes("        deny homecloud-ddns name grafana.cluster.home.arpa. ANY;\n"));
            assert.ok(local.includes("        grant homecloud-ddns subdomain cluster.home.arpa. A DHCID;\n"));
        });

        it("declares both zones with files under /etc/bind/homecloud", () => {
            const plan = loadPlan("small");
            assert.strictEqual(forwardZoneName(plan), "home.arpa");
            assert.strictEqual(zoneFilePath("home.arpa", ZONE_DIR), "/etc/bind/homecloud/db.home.arpa");
            assert.strictEqual(zoneFilePath("home.arpa", zoneDirOf(loadPlan("large"))), "/var/lib/bind/homecloud/db.home.arpa", "dynamic zones live where named may write");
            assert.ok(renderNamedLocal(plan).includes('    file "/etc/bind/homecloud/db.0.0.10.in-addr.arpa";\n'));
            assert.ok(renderNamedLocal(plan, "/tmp/z").includes('    file "/tmp/z/db.home.arpa";\n'));
        });
    });

    describe("nftables", () => {
        it("masquerades LAN to WAN and forwards nothing from the WAN: no DNAT, the VIP is HAProxy's", () => {
            const rules = renderNftRuleset(loadPlan("large")).split("\n").map((l) => l.trim());
            assert.deepStrictEqual(rules.filter((l) => /masquerade|accept$|drop$|dnat/.test(l)), [
                'oifname "enx00e04c680001" ip saddr 172.20.0.0/22 masquerade',
                "ct state established,related accept",
                "ct state invalid drop",
                'iifname "lan0" oifname "enx00e04c680001" ip saddr 172.20.0.0/22 accept',
                'iifname "lan0" oifname "lan0" accept',
            ]);
        });

        it("has no input chain, so it can never cut SSH to the gateway", () => {
            for (const name of PLAN_NAMES) {
                assert.ok(!/hook input/.test(renderNftRuleset(loadPlan(name))));
            }
        });

        it("replaces its own table in one transaction", () => {
            const lines = renderNftRuleset(loadPlan("small")).split("\n").filter((l) => /^(table|delete)/.test(l));
            assert.deepStrictEqual(lines, ["table ip homecloud", "delete table ip homecloud", "table ip homecloud {"]);
        });
    });

    describe("haproxy", () => {
        const section = (cfg: string, head: string): string[] => {
            const lines = cfg.split("\n");
            const start = lines.indexOf(head);
            assert.ok(start >= 0, `no section ${head}`);
            const end = lines.findIndex((l, i) => i > start && l === "");
            return lines.slice(start, end);
        };

        it("balances the API over the servers only, each checked by TLS and /readyz (200, or K3s's 401 without a client certificate)", () => {
            assert.deepStrictEqual(section(renderHaproxyConfig(loadPlan("large")), "backend k3s-servers"), [
                "backend k3s-servers",
                "    balance roundrobin",
                "    option httpchk",
                "    http-check send meth GET uri /readyz",
                "    # No cluster client certificate yet: 401 (anonymous) passes too",
                "    http-check expect rstatus ^(200|401)$",
                "    timeout check 2500ms",
                "    default-server check inter 1000 fastinter 500 downinter 1000 fall 2 rise 2 check-ssl verify none",
                "    server server1 172.20.0.11:6443",
                "    server server2 172.20.0.12:6443",
                "    server server3 172.20.0.13:6443",
            ]);
        });

        it("checks by connect only with apiHealthCheck tcp, with the configured interval, fall and rise", () => {
            const plan = parseAddressPlan({ ...rawPlan("small"), healthCheckIntervalMs: 3000, healthCheckFall: 3, healthCheckRise: 4 }).plan;
            const cfg = renderHaproxyConfig(plan);
            assert.deepStrictEqual(section(cfg, "backend k3s-servers"), [
                "backend k3s-servers",
                "    balance roundrobin",
                "    default-server check inter 3000 fastinter 1500 downinter 3000 fall 3 rise 4",
                "    server pi1 10.0.0.11:6443",
            ]);
            assert.ok(cfg.includes("\n    timeout check 1000ms\n"), "a check never waits longer than 1 s");
        });

        it("binds the VIP's configurable ports, sends them to the fixed ports K3s and Traefik listen on", () => {
            const cfg = renderHaproxyConfig(loadPlan("large"));
            assert.deepStrictEqual(cfg.split("\n").filter((l) => /^\s+(bind|server ingress)/.test(l)).map((l) => l.trim()), [
                "bind 192.168.50.10:8443",
                "bind 192.168.50.10:8080",
                "server ingress 172.20.3.10:80 check inter 1000 fastinter 500 downinter 1000 fall 2 rise 2",
                "bind 192.168.50.10:8444",
                "server ingress 172.20.3.10:443 check inter 1000 fastinter 500 downinter 1000 fall 2 rise 2",
                "bind 127.0.0.1:8404",
            ]);
        });

        it("retries a failed connect once, on another server, before the checks have noticed", () => {
            const defaults = section(renderHaproxyConfig(loadPlan("large")), "defaults");
            assert.ok(defaults.includes("    option redispatch") && defaults.includes("    retries 1"), defaults.join("\n"));
        });

        it("is started after the unit that puts the VIP up (it cannot bind the VIP before)", () => {
            assert.ok(renderNatUnit(loadPlan("small")).split("\n").includes("Before=haproxy.service"));
        });
    });

    describe("systemd", () => {
        it("never fails to stop", () => {
            const stops = renderNatUnit(loadPlan("small")).split("\n").filter((l) => l.startsWith("ExecStop="));
            assert.deepStrictEqual(stops, [
                "ExecStop=-/usr/sbin/nft delete table ip homecloud",
                "ExecStop=-/usr/sbin/ip addr del 192.168.1.240/32 dev eth1",
            ]);
        });
    });
});

/** A valid plan on any LAN from /16 to /29 (first addresses: gateway, pool, MetalLB, node). */
function tinyPlan(cidr: string, reservation?: string) {
    const [net] = cidr.split("/");
    const base = net.split(".").map(Number);
    const at = (n: number) => [base[0], base[1], base[2], base[3] + n].join(".");
    return parseAddressPlan({
        lanCidr: cidr, gatewayLanAddress: at(1), gatewayHostname: "gw", lanInterface: "lan0", wanInterface: "wan0",
        dhcpPool: `${at(2)}-${at(3)}`, metallbPool: `${at(4)}-${at(5)}`, ingressIp: at(4),
        wanCidr: "192.168.1.0/24", vip: "192.168.1.10",
        nodes: [{ name: "n1", mac: "02:00:00:00:00:01", ip: at(6), role: "server" }],
        reservations: reservation ? [{ name: "r1", mac: "02:00:00:00:00:02", ip: reservation }] : [],
    }).plan;
}
