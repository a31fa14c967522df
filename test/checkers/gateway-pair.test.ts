// Every file a gateway pair renders, for each of the two gateways, passes its daemon's own
// checker, run the way the host runs it (the spec's hooks file, prepare then check); each
// checker also gets a broken file. keepalived's health checks run for real against a
// status page on loopback. Needs root (a network namespace with the plan's interfaces).
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { HostFileSpec } from "../../host/hostFile";
import {
    DDNS_KEY, forwardZoneName, keyFilePath, renderForwardZone, renderNamedLocal, renderReverseZone, reverseZoneNames, STATIC_KEY, XFER_KEY,
} from "../../network/bind";
import { renderNamedLocalSecondary } from "../../network/pair/bindPair";
import { renderKeepalivedConfig, VRRP_CHECK_SCRIPT } from "../../network/pair/keepalived";
import { keaApiPasswordFile, keaCtrlAgentConfigFile, keaHaConfigFile, keepalivedConfigFile, xferKeyFile } from "../../network/pair/pairFiles";
import { renderKeaApiPassword, renderKeaCtrlAgentConfig } from "../../network/pair/keaHa";
import { haproxyConfigFile } from "../../network/loadBalancer";
import { natUnitFile, rulesetFile } from "../../network/natRules";
import { pairPlan, renderGateway, TEST_VRRP_PASS } from "../fixtures/pair/pair";
import { REPO, stub } from "./harness";
import { assertScriptsPass } from "../assertions";
import { scriptsIn } from "../../host/toolkit";

const NS = `hc-pair-${process.pid}`;
/** A stand-in for the Control Agent's derived password (never a real one). */
const TEST_KEA_PASSWORD = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
/** A toolkit stand-in keepalived accepts: root's own directory (not under world-writable /tmp). */
const TOOLKIT = `/run/hc-pair-toolkit-${process.pid}`;

interface Run { readonly status: number | null; readonly output: string }

function run(cmd: string, args: readonly string[], env: Record<string, string> = {}): Run {
    const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env } });
    if (r.error) {
        throw r.error;
    }
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function ok(r: Run, what: string): void {
    assert.strictEqual(r.status, 0, `${what} failed:\n${r.output}`);
}

function fails(r: Run, what: string, pattern: RegExp): void {
    assert.notStrictEqual(r.status, 0, `${what} should fail:\n${r.output}`);
    assert.match(r.output, pattern);
}

/** Runs a spec's hooks (`prepare; check` or one of them) as host-file.sh does, in the namespace. */
function runHooks(spec: HostFileSpec, candidate: string, hooks = "check"): Run {
    const env = Object.entries({ ...spec.env, HC_DEST: spec.path, CANDIDATE: candidate }).map(([k, v]) => `${k}=${v}`);
    return run("ip", ["netns", "exec", NS, "env", ...env, "bash", "-euo", "pipefail", "-c", `. "$1"; . "$2"; ${hooks}`, "check",
        path.join(REPO, "host/scripts/lib.sh"), path.join(REPO, spec.hooks!)]);
}

describe("gateway pair: daemon checkers on both gateways' files", function () {
    this.timeout(120000);
    const plan = pairPlan();
    let tmp: string;

    before(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hc-pair-"));
        ok(run("ip", ["netns", "add", NS]), `ip netns add ${NS} (needs root)`);
        const ifaces = [plan.gateway.lanInterface, plan.gateway.wanInterface, plan.gateway2!.lanInterface, plan.gateway2!.wanInterface];
        ifaces.forEach((ifname, i) => ok(run("ip", ["-n", NS, "link", "add", ifname, "type", "veth", "peer", "name", `hcq${i}`]), `veth ${ifname}`));
        fs.mkdirSync(path.join(TOOLKIT, "network", "pair"), { recursive: true, mode: 0o755 });
        fs.copyFileSync(path.join(REPO, VRRP_CHECK_SCRIPT), path.join(TOOLKIT, VRRP_CHECK_SCRIPT));
        fs.chmodSync(path.join(TOOLKIT, VRRP_CHECK_SCRIPT), 0o755);
    });

    after(() => {
        run("ip", ["netns", "del", NS]);
        fs.rmSync(TOOLKIT, { recursive: true, force: true });
        if (tmp) {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
        assert.ok(!run("ip", ["netns", "list"]).output.split("\n").some((l) => l.split(" ")[0] === NS), "namespace removed");
    });

    function write(file: string, content: string): string {
        const p = path.join(tmp, file);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, content);
        return p;
    }

    it("every pair script passes shellcheck and bash -n", () => {
        assert.deepStrictEqual(scriptsIn("network/pair"), ["network/pair/kea-api-password.sh", "network/pair/kea-ctrl-agent-config.sh", "network/pair/kea-ha-config.sh",
            "network/pair/keepalived-config.sh", "network/pair/vrrp-check.sh", "network/pair/xfer-key.sh"]);
        assertScriptsPass(scriptsIn("network/pair"));
    });

    for (const role of ["first", "second"] as const) {
        describe(`the ${role} gateway`, () => {
            const files = renderGateway(plan, role);

            it("keepalived -t accepts keepalived.conf, health checks and interfaces included (the file's check)", () => {
                const f = write(`${role}/keepalived.conf`, renderKeepalivedConfig(plan, role, TEST_VRRP_PASS, TOOLKIT));
                ok(runHooks(keepalivedConfigFile(), f), "keepalived check");
                const other = role === "first" ? plan.gateway2!.lanInterface : plan.gateway.lanInterface;
                const mine = role === "first" ? plan.gateway.lanInterface : plan.gateway2!.lanInterface;
                const broken = write(`${role}/keepalived-broken.conf`, fs.readFileSync(f, "utf8").replace(`interface ${mine}`, "interface nosuch0"));
                fails(runHooks(keepalivedConfigFile(), broken), "keepalived -t on an unknown interface", /nosuch0/);
                assert.ok(other !== mine);
                const noScript = write(`${role}/keepalived-noscript.conf`, renderKeepalivedConfig(plan, role, TEST_VRRP_PASS, `${TOOLKIT}-missing`));
                fails(runHooks(keepalivedConfigFile(), noScript), "keepalived -t without its health-check script", /homecloud_haproxy/);
            });

            it("kea-dhcp4 -t loads both hook libraries from the host's own hooks directory (prepare, then check)", () => {
                const f = write(`${role}/kea-dhcp4.conf`, files["kea-dhcp4.conf"]);
                ok(runHooks(keaHaConfigFile(), f, "prepare; check"), "Kea HA prepare and check");
                const libs = (JSON.parse(fs.readFileSync(f, "utf8")).Dhcp4["hooks-libraries"] as { library: string }[]).map((l) => l.library);
                const dir = path.dirname(run("dpkg-query", ["-L", "kea-common"]).output.split("\n").find((l) => l.endsWith("/kea/hooks/libdhcp_ha.so"))!);
                assert.deepStrictEqual(libs, [`${dir}/libdhcp_lease_cmds.so`, `${dir}/libdhcp_ha.so`]);
                // Kea 2.2's -t opens the libraries but does not run the HA hook's own parser: a
                // missing library fails here; the HA parameters are held by the exact-text tests.
                const broken = write(`${role}/kea-dhcp4-broken.conf`, files["kea-dhcp4.conf"].replace("libdhcp_ha.so", "libdhcp_hx.so"));
                fails(runHooks(keaHaConfigFile(), broken, "prepare; check"), "kea-dhcp4 -t with a missing hook library", /libdhcp_hx\.so/);
            });

            it("the Control Agent's password file: prepare leaves the password alone, kea-ctrl-agent -t reads it; nothing prints it", () => {
                const pw = write(`${role}/homecloud-ha-password`, `${renderKeaApiPassword(TEST_KEA_PASSWORD)}\n`);
                const r = runHooks(keaApiPasswordFile(), pw, "prepare; check");
                ok(r, "password file prepare and check");
                assert.strictEqual(fs.readFileSync(pw, "utf8"), TEST_KEA_PASSWORD, "the password alone, the newline taken off");
                assert.match(r.output, /DCTL_CONFIG_CHECK_COMPLETE .*requires basic HTTP authentication.*result: success/);
                assert.ok(!r.output.includes(TEST_KEA_PASSWORD));
                const bad = write(`${role}/bad-password`, "short:pass word");
                const b = runHooks(keaApiPasswordFile(), bad, "prepare; check");
                assert.notStrictEqual(b.status, 0);
                assert.strictEqual(b.output.trim(), "the Control Agent's password must be 16 to 128 letters or digits");
            });

            it("kea-ctrl-agent -t accepts the Control Agent's configuration, basic authentication with the password file included", () => {
                const pw = write(`${role}/ca-password`, TEST_KEA_PASSWORD);
                const text = renderKeaCtrlAgentConfig(plan, role, pw);
                assert.strictEqual(text, files["kea-ctrl-agent.conf"].replace("/etc/kea/homecloud-ha-password", pw));
                const f = write(`${role}/kea-ctrl-agent.conf`, text);
                const r = runHooks(keaCtrlAgentConfigFile(), f);
                ok(r, "Control Agent check");
                assert.match(r.output, /requires basic HTTP authentication/);
                const missing = write(`${role}/kea-ctrl-agent-nopw.conf`, renderKeaCtrlAgentConfig(plan, role, `${pw}-missing`));
                fails(runHooks(keaCtrlAgentConfigFile(), missing), "kea-ctrl-agent -t without its password file", /can't open file '.*ca-password-missing': No such file or directory/);
                const broken = write(`${role}/kea-ctrl-agent-broken.conf`, text.replace('"http-port": 8000', '"http-port": "eight"'));
                fails(runHooks(keaCtrlAgentConfigFile(), broken), "kea-ctrl-agent -t on a bad port", /kea-ctrl-agent-broken.conf:4.18-24: syntax error, unexpected constant string, expecting integer/);
            });

            it("haproxy -c accepts the VIP bound transparently (the gateway without the VIP binds it too)", () => {
                const f = write(`${role}/haproxy.cfg`, files["haproxy.cfg"]);
                ok(runHooks(haproxyConfigFile(), f), "HAProxy check");
                assert.match(files["haproxy.cfg"], new RegExp(`bind ${plan.wan.vip.replace(/\./g, "\\.")}:6443 transparent`));
            });

            it("nft loads the ruleset with the Control Agent's port open to the two gateways only", () => {
                const f = write(`${role}/nat.nft`, files["nat.nft"]);
                ok(runHooks(rulesetFile(plan, role), f), "NatRules ruleset check");
                ok(run("ip", ["netns", "exec", NS, "nft", "-f", f]), "nft -f");
                const listed = run("ip", ["netns", "exec", NS, "nft", "list", "table", "ip", "homecloud"]);
                ok(listed, "nft list");
                assert.match(listed.output, new RegExp(`tcp dport 8000 ip saddr != \\{ ${plan.gateway.lanAddress}, ${plan.gateway2!.lanAddress} \\} drop`.replace(/\./g, "\\.")));
                const wan = role === "first" ? plan.gateway.wanInterface : plan.gateway2!.wanInterface;
                assert.ok(listed.output.includes(`oifname "${wan}" ip saddr ${plan.lan.cidr} masquerade`), listed.output);
                ok(run("ip", ["netns", "exec", NS, "nft", "delete", "table", "ip", "homecloud"]), "nft delete table");
            });

            it("systemd-analyze verify accepts the NAT unit, which leaves the VIP to keepalived", () => {
                const f = write(`${role}/unit/homecloud-nat.service`, files["homecloud-nat.service"]);
                ok(runHooks(natUnitFile(plan, role), f), "NatRules unit check");
                assert.doesNotMatch(files["homecloud-nat.service"], /ip addr/);
            });

            it("named-checkconf accepts the transfer key and the whole BIND configuration", () => {
                const dir = path.join(tmp, role, "bind");
                const key = write(`${role}/bind/${XFER_KEY}.key`, files["homecloud-xfer.key"]);
                ok(runHooks(xferKeyFile(dir), key), "transfer key check");
                const broken = write(`${role}/bind/broken.key`, files["homecloud-xfer.key"].replace("hmac-sha256", "hmac-nope"));
                fails(runHooks(xferKeyFile(dir), broken), "named-checkconf on a bad key", /hmac-nope|algorithm/);
                let local: string;
                if (role === "first") {
                    for (const [z, text] of [[forwardZoneName(plan), "db.forward"], ...reverseZoneNames(plan).map((n) => [n, n])]) {
                        const zone = text === "db.forward" ? renderForwardZone(plan) : renderReverseZone(plan, z);
                        write(`${role}/bind/db.${z}`, zone.replace("@SERIAL@ ; serial", "2026010100 ; serial"));
                    }
                    for (const k of [DDNS_KEY, STATIC_KEY]) {
                        const r = run("tsig-keygen", ["-a", "hmac-sha256", k]);
                        ok(r, "tsig-keygen");
                        write(`${role}/bind/${k}.key`, r.output);
                    }
                    local = write(`${role}/bind/named.conf.local`, renderNamedLocal(plan, dir, dir));
                } else {
                    local = write(`${role}/bind/named.conf.local`, renderNamedLocalSecondary(plan, dir, dir));
                }
                const options = write(`${role}/bind/named.conf.options`, files["named.conf.options"]);
                const top = write(`${role}/bind/named.conf`, [options, local].map((f) => `include "${f}";\n`).join(""));
                const r = run("named-checkconf", ["-z", top]);
                ok(r, "named-checkconf -z");
                if (role === "first") {
                    assert.match(r.output, /zone home\.arpa\/IN: loaded serial 2026010100/);
                    assert.match(fs.readFileSync(path.join(dir, "db.home.arpa"), "utf8"), /@ IN NS gw2\.home\.arpa\./);
                }
                assert.ok(fs.existsSync(keyFilePath(XFER_KEY, dir)));
            });
        });
    }

    describe("keepalived's health checks (vrrp-check.sh), for real", () => {
        const script = path.join(REPO, VRRP_CHECK_SCRIPT);
        let server: http.Server;
        let status = 200;
        let port = 0;

        before(async () => {
            server = http.createServer((_req, res) => { res.writeHead(status); res.end("ok"); });
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
            port = (server.address() as net.AddressInfo).port;
        });
        after(() => new Promise<void>((r) => server.close(() => r())));

        it("haproxy: 0 while the status page answers 200, 1 with its status line otherwise", async () => {
            status = 200;
            const good = await runAsync("bash", [script, "haproxy", `127.0.0.1:${port}`]);
            assert.strictEqual(good.status, 0, good.output);
            status = 503;
            const bad = await runAsync("bash", [script, "haproxy", `127.0.0.1:${port}`]);
            assert.strictEqual(bad.status, 1);
            assert.strictEqual(bad.output.trim(), "haproxy: status page answered 'HTTP/1.1 503 Service Unavailable'");
        });

        it("haproxy: fails when nothing listens", async () => {
            const closed = await freePort();
            const r = await runAsync("bash", [script, "haproxy", `127.0.0.1:${closed}`]);
            assert.notStrictEqual(r.status, 0);
            assert.match(r.output, /Connection refused/);
        });

        it("named: 0 on an authoritative answer, 1 naming the flags otherwise (dig stubbed)", () => {
            const stubs = path.join(tmp, "stubs");
            stub(stubs, "dig", 'echo "dig $*" >> "$STUB_CALLS"\nprintf \';; flags: %s; QUERY: 1, ANSWER: 1\\n\' "$STUB_FLAGS"');
            const calls = path.join(tmp, "dig-calls");
            const env = { PATH: `${stubs}:${process.env.PATH}`, STUB_CALLS: calls };
            ok(run("bash", [script, "named", "home.arpa"], { ...env, STUB_FLAGS: "qr aa rd" }), "named check, authoritative");
            const r = run("bash", [script, "named", "home.arpa"], { ...env, STUB_FLAGS: "qr rd ra" });
            assert.strictEqual(r.status, 1);
            assert.strictEqual(r.output.trim(), "named: no authoritative answer for home.arpa (flags 'qr rd ra')");
            assert.deepStrictEqual(fs.readFileSync(calls, "utf8").trim().split("\n"),
                Array(2).fill("dig +norecurse +time=1 +tries=1 @127.0.0.1 home.arpa SOA"));
        });
    });
});

/** Runs a command without blocking the event loop (the HTTP server above answers meanwhile). */
function runAsync(cmd: string, args: readonly string[]): Promise<Run> {
    return new Promise((resolve) => {
        const { spawn } = require("child_process") as typeof import("child_process");
        const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        p.stdout.on("data", (d: Buffer) => { out += d; });
        p.stderr.on("data", (d: Buffer) => { out += d; });
        p.on("close", (code: number | null) => resolve({ status: code, output: out }));
    });
}

function freePort(): Promise<number> {
    return new Promise((resolve) => {
        const s = net.createServer();
        s.listen(0, "127.0.0.1", () => {
            const p = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(p));
        });
    });
}
