// Every file the network half renders, for both fixture plans, passes the daemon's own
// checker, run the way the host runs it (the spec's hooks file, as host-file.sh runs it);
// every toolkit script passes shellcheck and bash -n as a file, and every command line the
// components generate runs one of them. Each checker also gets a broken file, to prove it
// would catch one.
// Needs root (a network namespace for kea-dhcp4 -t and nft -c); CI runs as root.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { assertScriptsPass } from "../assertions";
import { recorded, reset, resolve, testHostKey } from "../mocks";
import { HostFileSpec, SERIAL_TOKEN } from "../../host/hostFile";
import { HOST_SCRIPTS, scriptsIn, TOOLKIT_DIR, TOOLKIT_INSTALL, TOOLKIT_REMOVE } from "../../host/toolkit";
import { DDNS_KEY, forwardZoneName, keyFilePath, renderNamedLocal, reverseZoneNames, STATIC_KEY } from "../../network/bind";
import { loadPlan, PLAN_NAMES, PlanName, rawPlan, renderAll } from "../fixtures/network/plans";
import { AddressPlan } from "../../config/plan";
import { parseAddressPlan } from "../../config/validate";
import * as ipaddr from "ipaddr.js";

const NS = `hc-test-${process.pid}`;

interface Run {
    readonly status: number | null;
    readonly output: string;
}

function run(cmd: string, args: readonly string[], input?: string): Run {
    const r = spawnSync(cmd, args, { input, encoding: "utf8" });
    if (r.error) {
        throw r.error;
    }
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function ok(r: Run, what: string): void {
    assert.strictEqual(r.status, 0, `${what} failed:\n${r.output}`);
}

const REPO = path.resolve(__dirname, "..", "..");

/**
 * Runs a spec's `check` hook exactly as host-file.sh does: its own `bash -eu` with lib.sh
 * and the hooks file sourced, the spec's data and `$CANDIDATE` in the environment;
 * optionally in the namespace. `dest` stands in for the spec's path where a test needs.
 */
function runCheck(spec: HostFileSpec, candidate: string, netns = false, dest = spec.path, hooks = "check"): Run {
    const env = Object.entries({ ...spec.env, HC_DEST: dest, CANDIDATE: candidate }).map(([k, v]) => `${k}=${v}`);
    const argv = ["env", ...env, "bash", "-eu", "-c", `. "$1"; . "$2"; ${hooks}`, "check",
        path.join(REPO, "host/scripts/lib.sh"), path.join(REPO, spec.hooks!)];
    return netns ? run("ip", ["netns", "exec", NS, ...argv]) : run(argv[0], argv.slice(1));
}

/** The gateway's TSIG keys, made the way ddns-keys.sh makes them, in `dir`. */
function tsigKeys(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
    for (const key of [DDNS_KEY, STATIC_KEY]) {
        const r = spawnSync("tsig-keygen", ["-a", "hmac-sha256", key], { encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stderr);
        fs.writeFileSync(keyFilePath(key, dir), r.stdout);
    }
}

/** The serial the host writes on a first install (installFileScript's zone serial step). */
function withSerial(zone: string): string {
    const today = new Date().toISOString().slice(0, 10).replace(/-/g, "");
    return zone.replace(`${SERIAL_TOKEN} ; serial`, `${today}00 ; serial`);
}

/** The words of a command line, as bash splits them. */
function words(commandLine: string): string[] {
    const r = run("bash", ["-c", 'eval "set -- $1"; printf "%s\\n" "$@"', "words", commandLine]);
    ok(r, `splitting ${commandLine}`);
    return r.output.trimEnd().split("\n");
}

describe("daemon checkers on the rendered network files", function () {
    this.timeout(120000);
    let tmp: string;
    let dhcp: typeof import("../../network/dhcpServer");
    let dns: typeof import("../../network/dnsZone");
    let nat: typeof import("../../network/natRules");
    let lb: typeof import("../../network/loadBalancer");
    let gateway: typeof import("../../network/gateway");

    before(async () => {
        dhcp = await import("../../network/dhcpServer");
        dns = await import("../../network/dnsZone");
        nat = await import("../../network/natRules");
        lb = await import("../../network/loadBalancer");
        gateway = await import("../../network/gateway");
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hc-checkers-"));
        ok(run("ip", ["netns", "add", NS]), `ip netns add ${NS} (needs root)`);
        // Kea refuses a configuration naming an interface the host does not have: give the
        // namespace every interface the fixture plans name (veth pairs; peers hcpN).
        const ifaces = PLAN_NAMES.flatMap((n) => [loadPlan(n).gateway.lanInterface, loadPlan(n).gateway.wanInterface]);
        ifaces.forEach((ifname, i) => {
            ok(run("ip", ["-n", NS, "link", "add", ifname, "type", "veth", "peer", "name", `hcp${i}`]), `veth ${ifname}`);
        });
    });

    after(() => {
        run("ip", ["netns", "del", NS]);
        if (tmp) {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
        assert.ok(!run("ip", ["netns", "list"]).output.split("\n").some((l) => l.split(" ")[0] === NS), "namespace removed");
    });

    function write(dir: string, file: string, content: string): string {
        fs.mkdirSync(dir, { recursive: true });
        const p = path.join(dir, file);
        fs.writeFileSync(p, content);
        return p;
    }

    /** A BIND tree like Debian's: named.conf including our two files and the default zones. */
    function bindTree(dir: string, name: PlanName | AddressPlan, local?: string): { top: string; options: string; local: string } {
        const plan = typeof name === "string" ? loadPlan(name) : name;
        const files = renderAll(plan);
        write(dir, `db.${forwardZoneName(plan)}`, withSerial(files["db.forward"]));
        for (const z of reverseZoneNames(plan)) {
            write(dir, `db.${z}`, withSerial(files[`db.${z}`]));
        }
        const options = write(dir, "named.conf.options", files["named.conf.options"]);
        tsigKeys(dir);
        const localPath = write(dir, "named.conf.local", local ?? renderNamedLocal(plan, dir, dir));
        const top = write(dir, "named.conf", [options, localPath, "/etc/bind/named.conf.default-zones"]
            .map((f) => `include "${f}";\n`).join(""));
        return { top, options, local: localPath };
    }

    for (const name of PLAN_NAMES) {
        describe(`${name} plan`, () => {
            const plan = loadPlan(name);
            const files = renderAll(plan);
            let dir: string;
            before(() => {
                dir = path.join(tmp, name);
            });

            it("kea-dhcp4 -t accepts the Kea configuration (DhcpServer's check, on the plan's interfaces)", () => {
                const f = write(dir, "kea-dhcp4.conf", files["kea-dhcp4.conf"]);
                ok(run("ip", ["netns", "exec", NS, "kea-dhcp4", "-t", f]), "kea-dhcp4 -t");
                ok(runCheck(dhcp.keaConfigFile(), f, true), "DhcpServer check");
            });

            it("named-checkzone accepts both zones, serial filled in as the host does", () => {
                for (const [zone, file] of [[forwardZoneName(plan), "db.forward"], ...reverseZoneNames(plan).map((z) => [z, `db.${z}`])]) {
                    const f = write(dir, file, withSerial(files[file]));
                    ok(run("named-checkzone", [zone, f]), `named-checkzone ${zone}`);
                    ok(runCheck(dns.zoneFile(zone), f), `DnsZone check of ${zone}`);
                }
            });

            it("named-checkconf -z accepts the whole configuration with every zone loaded", () => {
                const tree = bindTree(path.join(dir, "bind"), name);
                const r = run("named-checkconf", ["-z", tree.top]);
                ok(r, "named-checkconf -z");
                assert.match(r.output, new RegExp(`zone ${forwardZoneName(plan).replace(/\./g, "\\.")}/IN: loaded serial \\d{10}`));
                for (const z of reverseZoneNames(plan)) {
                    assert.match(r.output, new RegExp(`zone ${z.replace(/\./g, "\\.")}/IN: loaded serial \\d{10}`));
                }
                ok(run("named-checkconf", [tree.options]), "named-checkconf options alone");
                ok(run("named-checkconf", [tree.local]), "named-checkconf local alone");
            });

            it("DnsZone's check accepts each configuration file within the whole configuration", () => {
                const tree = bindTree(path.join(dir, "bind-check"), name);
                for (const dest of [tree.options, tree.local]) {
                    const candidate = write(path.dirname(dest), `${path.basename(dest)}.homecloud.test`, fs.readFileSync(dest, "utf8"));
                    ok(runCheck(dns.namedConfFile(dest, tree.top), candidate), `DnsZone check of ${dest}`);
                }
            });

            it("nft -c -f accepts the ruleset (NatRules' check, in a network namespace)", () => {
                const f = write(dir, "nat.nft", files["nat.nft"]);
                ok(run("ip", ["netns", "exec", NS, "nft", "-c", "-f", f]), "nft -c -f");
                ok(runCheck(nat.rulesetFile(plan), f, true), "NatRules ruleset check");
                // And it really loads, twice in a row (the second replaces the first atomically).
                ok(run("ip", ["netns", "exec", NS, "nft", "-f", f]), "nft -f");
                ok(run("ip", ["netns", "exec", NS, "nft", "-f", f]), "nft -f again");
                const listed = run("ip", ["netns", "exec", NS, "nft", "list", "table", "ip", "homecloud"]);
                ok(listed, "nft list");
                assert.ok(listed.output.includes(`oifname "${plan.gateway.wanInterface}" ip saddr ${plan.lan.cidr} masquerade`), listed.output);
                assert.doesNotMatch(listed.output, /dnat/, "the VIP is HAProxy's: nothing is DNAT'ed");
                ok(run("ip", ["netns", "exec", NS, "nft", "delete", "table", "ip", "homecloud"]), "nft delete table");
            });

            it("systemd-analyze verify accepts the unit (NatRules' check)", () => {
                const unitDir = path.join(dir, "unit");
                const f = write(unitDir, "homecloud-nat.service", files["homecloud-nat.service"]);
                ok(run("systemd-analyze", ["verify", f]), "systemd-analyze verify");
                const candidate = write(unitDir, "homecloud-nat.service.homecloud.test", files["homecloud-nat.service"]);
                ok(runCheck(nat.natUnitFile(plan), candidate), "NatRules unit check");
            });

            it("the unit's start lines run for real: the VIP up, then gratuitous ARPs a home-network neighbour takes; a failed send never fails the unit", () => {
                const [gwNs, nbNs] = [`${NS}-${name}-gw`, `${NS}-${name}-nb`];
                const wan = plan.gateway.wanInterface;
                const inGw = (line: string): Run => run("ip", ["netns", "exec", gwNs, "bash", "-c", line]);
                try {
                    ok(run("ip", ["netns", "add", gwNs]), "gateway namespace");
                    ok(run("ip", ["netns", "add", nbNs]), "neighbour namespace");
                    ok(run("ip", ["-n", gwNs, "link", "add", wan, "type", "veth", "peer", "name", "nb0", "netns", nbNs]), "veth to the neighbour");
                    ok(run("ip", ["-n", gwNs, "link", "set", wan, "up"]), "gateway side up");
                    ok(run("ip", ["-n", nbNs, "link", "set", "nb0", "up"]), "neighbour side up");
                    // A home-network neighbour (the kernel's defaults) whose entry for the VIP still names
                    // another gateway's MAC, as after the second gateway is taken out.
                    const [net, prefix] = ipaddr.IPv4.parseCIDR(plan.wan.cidr);
                    const first = ipaddr.IPv4.networkAddressFromCIDR(plan.wan.cidr).toByteArray();
                    first[3] += first[3] + 1 === Number(plan.wan.vip.split(".")[3]) ? 2 : 1;
                    ok(run("ip", ["-n", nbNs, "addr", "add", `${first.join(".")}/${prefix}`, "dev", "nb0"]), `neighbour address in ${net}/${prefix}`);
                    ok(run("ip", ["-n", nbNs, "neigh", "replace", plan.wan.vip, "lladdr", "02:77:01:00:00:03", "dev", "nb0", "nud", "reachable"]), "stale entry");
                    const starts = files["homecloud-nat.service"].split("\n").filter((l) => l.startsWith("ExecStart=")).map((l) => l.slice("ExecStart=".length));
                    assert.deepStrictEqual(starts.slice(0, 2), [
                        `/usr/sbin/ip addr replace ${plan.wan.vip}/32 dev ${wan}`,
                        `-/usr/bin/arping -q -U -c 2 -I ${wan} ${plan.wan.vip}`,
                    ]);
                    ok(inGw(starts[0]), starts[0]);
                    ok(inGw(starts[1].slice(1)), starts[1]);
                    const mac = /link\/ether (\S+)/.exec(run("ip", ["-n", gwNs, "link", "show", wan]).output)![1];
                    assert.match(run("ip", ["-n", nbNs, "neigh", "show", plan.wan.vip]).output, new RegExp(`^${plan.wan.vip.replace(/\./g, "\\.")} dev nb0 lladdr ${mac} `));
                    // No interface to send on: arping fails, and the line's `-` is what keeps the unit going.
                    assert.notStrictEqual(run("ip", ["netns", "exec", nbNs, "bash", "-c", starts[1].slice(1)]).status, 0);
                } finally {
                    run("ip", ["netns", "del", gwNs]);
                    run("ip", ["netns", "del", nbNs]);
                }
            });

            if (plan.ddns) {
                it("kea-dhcp-ddns -t accepts its configuration once the gateway's key is filled in (prepare, then check)", () => {
                    const keys = path.join(dir, "keys");
                    tsigKeys(keys);
                    const f = write(dir, "kea-dhcp-ddns.conf", files["kea-dhcp-ddns.conf"]);
                    const spec = { ...dhcp.d2ConfigFile(), env: { HC_KEY_FILE: keyFilePath(DDNS_KEY, keys) } };
                    ok(runCheck(spec, f, false, spec.path, "prepare; check"), "DhcpServer kea-dhcp-ddns prepare and check");
                    const secret = /secret "([^"]+)"/.exec(fs.readFileSync(keyFilePath(DDNS_KEY, keys), "utf8"))![1];
                    assert.deepStrictEqual(JSON.parse(fs.readFileSync(f, "utf8")).DhcpDdns["tsig-keys"][0].secret, secret);
                    assert.ok(!files["kea-dhcp-ddns.conf"].includes(secret), "the rendered file never holds the secret");
                    ok(run("kea-dhcp-ddns", ["-t", f]), "kea-dhcp-ddns -t");
                });

                it("the prepare step refuses a key file without a secret, naming it", () => {
                    const f = write(dir, "kea-dhcp-ddns-nokey.conf", files["kea-dhcp-ddns.conf"]);
                    const empty = write(dir, "empty.key", "");
                    const r = runCheck({ ...dhcp.d2ConfigFile(), env: { HC_KEY_FILE: empty } }, f, false, dhcp.d2ConfigFile().path, "prepare");
                    assert.notStrictEqual(r.status, 0);
                    assert.strictEqual(r.output.trim(), `no TSIG secret in ${empty}`);
                });
            }

            it("haproxy -c accepts the load balancer's configuration (LoadBalancer's check)", () => {
                const f = write(dir, "haproxy.cfg", files["haproxy.cfg"]);
                ok(run("haproxy", ["-c", "-f", f]), "haproxy -c");
                ok(runCheck(lb.haproxyConfigFile(), f), "LoadBalancer check");
            });

            it("every sysctl key of the forwarding drop-in exists (Gateway's check)", () => {
                const f = write(dir, "90-homecloud-forwarding.conf", files["90-homecloud-forwarding.conf"]);
                ok(runCheck(gateway.forwardingFile(), f), "forwarding check");
            });
        });
    }

    it("a /28 LAN: one zone per named address loads, and nothing else of its /24 is claimed", () => {
        const raw = rawPlan("small");
        const plan = parseAddressPlan({
            ...raw, lanCidr: "10.0.0.16/28", gatewayLanAddress: "10.0.0.17", dhcpPool: "10.0.0.25-10.0.0.27",
            metallbPool: "10.0.0.28-10.0.0.30", ingressIp: "10.0.0.28",
            nodes: [{ name: "pi1", mac: "dc:a6:32:00:00:01", ip: "10.0.0.18", role: "server" }],
        }).plan;
        assert.deepStrictEqual(reverseZoneNames(plan), ["17.0.0.10.in-addr.arpa", "18.0.0.10.in-addr.arpa"]);
        const tree = bindTree(path.join(tmp, "slash28"), plan);
        const r = run("named-checkconf", ["-z", tree.top]);
        ok(r, "named-checkconf -z");
        assert.match(r.output, /zone 18\.0\.0\.10\.in-addr\.arpa\/IN: loaded serial \d{10}/);
        assert.doesNotMatch(r.output, /zone 0\.0\.10\.in-addr\.arpa/);
    });

    describe("the toolkit and the command lines that run it", () => {
        const lines = new Map<string, string>();
        const toolkit = [...HOST_SCRIPTS, ...scriptsIn("network"), ...scriptsIn("cluster")];

        before(async () => {
            reset();
            for (const name of PLAN_NAMES) {
                const plan = loadPlan(name);
                const gw = new gateway.Gateway(`chk-${name}`, {
                    plan, connection: { host: plan.gateway.sshHost, port: 22, user: "pi", privateKey: "key", hostKey: testHostKey(name) },
                });
                await Promise.all([resolve(gw.vip), resolve(gw.lanAddress), resolve(gw.domain), resolve(gw.serveApi().status)]);
            }
            for (const r of recorded.filter((x) => x.type === "command:remote:Command")) {
                for (const field of ["create", "update", "delete"]) {
                    lines.set(`${r.name}.${field}`, r.inputs[field]);
                }
            }
        });

        it("every toolkit script passes shellcheck and bash -n as a file", () => {
            assert.ok(toolkit.length >= 9, toolkit.join(" "));
            assertScriptsPass(toolkit);
        });

        it("every command line is short and runs a toolkit script that exists, as root, data in HC_* variables", () => {
            assert.strictEqual(lines.size, (11 + 16) * 3, "small plan: 11 commands (one reverse zone, no DDNS); large /22: 16 (four, DDNS keys and config)");
            for (const [key, line] of lines) {
                // Short apart from the owner's URN (HC_RESOURCE), which is as long as the engine makes it.
                const withoutUrn = line.replace(/ HC_RESOURCE='urn:pulumi:[^']*'/, "");
                assert.ok(withoutUrn.length < 300, `${key} is ${withoutUrn.length} characters without its URN: ${line}`);
                if (line === TOOLKIT_INSTALL || line === TOOLKIT_REMOVE) {
                    continue;
                }
                const w = words(line);
                assert.deepStrictEqual(w.slice(0, 3), ["sudo", "-n", "/usr/bin/env"], key);
                const bash = w.indexOf("/bin/bash");
                assert.ok(w.slice(3, bash).every((v) => /^HC_[A-Z0-9_]+=/.test(v)), `${key}: ${w.slice(3, bash).join(" ")}`);
                const script = w[bash + 1].slice(TOOLKIT_DIR.length + 1);
                assert.ok(w[bash + 1].startsWith(`${TOOLKIT_DIR}/`) && toolkit.includes(script), `${key} runs ${w[bash + 1]}`);
                // host-file.sh install|remove, packages.sh install|remove, ddns-keys.sh create|remove, dyn-zone.sh apply|remove.
                assert.ok(["install", "create", "apply", "remove"].includes(w[bash + 2]), `${key}: ${w.slice(bash + 2).join(" ")}`);
                assert.strictEqual(w[bash + 2] === "remove", key.endsWith(".delete"), key);
            }
        });
    });

    describe("each checker catches a broken file", () => {
        const plan = loadPlan("small");
        const files = renderAll(plan);
        let dir: string;
        before(() => {
            dir = path.join(tmp, "broken");
        });

        function rejected(r: Run, message: RegExp): void {
            assert.notStrictEqual(r.status, 0, `accepted a broken file:\n${r.output}`);
            assert.match(r.output, message);
        }

        it("kea-dhcp4 -t rejects a reservation outside the subnet", () => {
            const kea = JSON.parse(files["kea-dhcp4.conf"]);
            kea.Dhcp4.subnet4[0].reservations[0]["ip-address"] = "10.9.9.9";
            const f = write(dir, "kea-dhcp4.conf", JSON.stringify(kea, null, 2));
            rejected(runCheck(dhcp.keaConfigFile(), f, true),
                /specified reservation '10\.9\.9\.9' is not within the IPv4 subnet '10\.0\.0\.0\/24'/);
        });

        it("kea-dhcp4 -t rejects an interface the gateway does not have", () => {
            const f = write(dir, "kea-typo.conf", files["kea-dhcp4.conf"].replace('"eth0"', '"eht0"'));
            rejected(runCheck(dhcp.keaConfigFile(), f, true), /interface 'eht0' doesn't exist in the system/);
        });

        it("named-checkzone rejects a bad address record", () => {
            const f = write(dir, "db.forward", withSerial(files["db.forward"]).replace("10.0.0.11", "10.0.0.311"));
            rejected(runCheck(dns.zoneFile("home.arpa"), f), /bad dotted quad/);
        });

        it("named-checkconf rejects a bad listen-on address", () => {
            const f = write(dir, "named.conf.options", files["named.conf.options"].replace("127.0.0.1;", "127.0.0.256;"));
            const tree = bindTree(path.join(dir, "bind-options"), "small");
            rejected(runCheck(dns.namedConfFile(tree.options, tree.top), f), /named\.conf\.options:\d+: .*127\.0\.0\.256/);
        });

        it("the whole-configuration check rejects a valid-looking local file whose zone does not load", () => {
            const tree = bindTree(path.join(dir, "bind-local"), "small");
            const broken = renderNamedLocal(plan, path.join(dir, "missing"), path.join(dir, "bind-local"));
            const f = write(dir, "named.conf.local", broken);
            ok(run("named-checkconf", [f]), "the file alone passes named-checkconf");
            rejected(runCheck(dns.namedConfFile(tree.local, tree.top), f), /db\.home\.arpa.*file not found|file not found/);
            assert.strictEqual(fs.readFileSync(tree.local, "utf8"), renderNamedLocal(plan, path.dirname(tree.local), path.dirname(tree.local)),
                "the check does not touch the installed file");
        });

        it("nft -c -f rejects a broken rule (in the namespace)", () => {
            const f = write(dir, "nat.nft", files["nat.nft"].replace("masquerade\n", "masqurade\n"));
            rejected(runCheck(nat.rulesetFile(plan), f, true), /Error: syntax error/);
        });

        it("the ruleset check rejects an interface the gateway does not have (nft itself accepts any iifname)", () => {
            const typo = loadPlan("small");
            const f = write(dir, "nat-typo.nft", files["nat.nft"].replace(/"eth0"/g, '"eht0"'));
            ok(run("ip", ["netns", "exec", NS, "nft", "-c", "-f", f]), "nft -c alone accepts it");
            rejected(runCheck({ ...nat.rulesetFile(typo), env: { ...nat.rulesetFile(typo).env, HC_IFACES: "eht0 eth1" } }, f, true),
                /interface eht0 does not exist on this host; check homecloud:lanInterface and homecloud:wanInterface/);
        });

        it("haproxy -c rejects a backend address that is not one, naming the line", () => {
            const f = write(dir, "haproxy.cfg", files["haproxy.cfg"].replace("10.0.0.11:6443", "10.0.0.311:6443"));
            rejected(runCheck(lb.haproxyConfigFile(), f), /haproxy\.cfg:\d+\] : 'server k3s-servers\/pi1' : could not resolve address '10\.0\.0\.311'/);
        });

        it("systemd-analyze verify rejects a unit with two ExecStart= in a simple service", () => {
            const f = write(path.join(dir, "unit"), "homecloud-nat.service.homecloud.test",
                files["homecloud-nat.service"].replace("Type=oneshot", "Type=simple"));
            rejected(runCheck(nat.natUnitFile(plan), f), /more than one ExecStart= setting/);
        });

        it("the forwarding check rejects a key the kernel does not have", () => {
            const f = write(dir, "90-bad.conf", `${files["90-homecloud-forwarding.conf"]}net.ipv4.ip_forwrd = 1\n`);
            rejected(runCheck(gateway.forwardingFile(), f), /unknown sysctl key net\.ipv4\.ip_forwrd/);
        });

        it("shellcheck rejects an unquoted expansion and bash -n a syntax error", () => {
            rejected(run("shellcheck", ["-s", "bash", "-"], 'set -eu\ndir=$1\nrm -rf $dir/*\n'), /SC2086/);
            rejected(run("bash", ["-n"], "set -eu\nif then fi\n"), /syntax error/);
        });
    });
});
