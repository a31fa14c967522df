// Lab integration checks, run by test/integration/run.sh after the SSH engine's first `up`
// (fresh lab, gw snapshot in $HOMECLOUD_LAB_RUN/before). Order matters: each phase builds
// on the previous one, and the last one destroys what the first `up` made.
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { keaConfigFile } from "../../network/dhcpServer";
import { fileCommand } from "../../host/hostFile";
import { labPlan } from "../../lab/plan";

const REPO = path.resolve(__dirname, "..", "..");
const RUN_DIR = process.env.HOMECLOUD_LAB_RUN ?? "/run/homecloud-lab";
const KEY = path.join(process.env.HOMECLOUD_CACHE ?? "/var/cache/homecloud", "lab-ssh", "id_ed25519");
const PLAN = labPlan();
const DOMAIN = PLAN.domain;
/** Where pool clients' names go (dhcp.<domain> by default). */
const DDNS = PLAN.ddnsSuffix;
const GW_LAN = PLAN.gwLan;
const GW_WAN = PLAN.gwWan;
const VIP = PLAN.vip;
const CLIENT_MAC = PLAN.client.mac;
/** A MAC no reservation has: the client takes it to get a pool address. */
const UNKNOWN_MAC = CLIENT_MAC.replace(/..$/, "99");
/** One more reservation, for the one-value-change checks. */
const PRINTER = { name: "printer", mac: CLIENT_MAC.replace(/..$/, "60"), ip: PLAN.client.ip.replace(/\d+$/, "60") };
const ipNum = (ip: string): number => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);

interface Result { code: number; stdout: string; stderr: string }

function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Result {
    const r = spawnSync(cmd, args, {
        cwd: REPO, input: opts.input ?? "", env: opts.env ?? process.env,
        encoding: "utf8", timeout: opts.timeout ?? 120_000, maxBuffer: 64 * 1024 * 1024,
    });
    if (r.error) {
        throw r.error;
    }
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Root inside a lab host. */
function exec(host: string, ...args: string[]): Result {
    return run("lab/exec", [host, ...args]);
}

function execOk(host: string, ...args: string[]): string {
    const r = exec(host, ...args);
    assert.strictEqual(r.code, 0, `${host}: ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
}

function bash(host: string, script: string): Result {
    return exec(host, "bash", "-c", script);
}

/** pi@gw over the LAN side (the management veth sits on the LAN bridge). */
function assertSshFromLan(): void {
    const r = run("lab/ssh", ["gw", "echo", "ssh-ok"]);
    assert.strictEqual(r.code, 0, `ssh pi@gw from the LAN side failed: ${r.stderr}`);
    assert.strictEqual(r.stdout.trim(), "ssh-ok");
}

function engine(mode: "up" | "destroy", label: string, env: NodeJS.ProcessEnv = {}): string {
    const t = Date.now();
    const r = run("npx", ["ts-node", "lab/engine/sshEngine.ts", mode], {
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1", ...env }, timeout: 600_000,
    });
    const secs = ((Date.now() - t) / 1000).toFixed(1);
    fs.writeFileSync(path.join(RUN_DIR, `${label}.log`), r.stdout + r.stderr);
    fs.writeFileSync(path.join(RUN_DIR, `${label}.time`), secs);
    assert.strictEqual(r.code, 0, `engine ${mode} (${label}) exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
}

function summaryOf(out: string): Record<string, number> {
    const line = out.split("\n").find((l) => l.startsWith("summary"));
    assert.ok(line, `no summary line in:\n${out}`);
    return Object.fromEntries([...line.matchAll(/(\w[\w-]*)=([\d.]+)/g)].map((m) => [m[1], Number(m[2])]));
}

// ---------------------------------------------------------------------------------------------
// Checks 1–4, used before and after the gateway reboots.

function clientRelease(): void {
    bash("client", "dhclient -r eth0 >/dev/null 2>&1 || true; pkill -x dhclient || true; ip -4 addr flush dev eth0");
}

function clientLease(): string {
    const r = bash("client", "timeout 40 dhclient -v -1 eth0");
    assert.strictEqual(r.code, 0, `dhclient failed (${r.code}): ${r.stderr}`);
    const m = /inet (\d+\.\d+\.\d+\.\d+)\/24/.exec(execOk("client", "ip", "-4", "addr", "show", "eth0"));
    assert.ok(m, "client eth0 has no IPv4 address after dhclient");
    return m[1];
}

/** The client on an unknown MAC (so from the pool), sending the host name `hostname` (null: none). */
function poolLease(hostname: string | null): string {
    clientRelease();
    execOk("client", "ip", "link", "set", "eth0", "address", UNKNOWN_MAC);
    const send = hostname === null ? "" : `send host-name "${hostname}";\\n`;
    execOk("client", "bash", "-c", `printf '${send}request subnet-mask, routers, domain-name-servers, domain-name;\\n' >/tmp/dhclient-pool.conf`);
    const r = bash("client", "timeout 40 dhclient -v -1 -cf /tmp/dhclient-pool.conf eth0");
    assert.strictEqual(r.code, 0, `dhclient failed (${r.code}): ${r.stderr}`);
    const m = /inet (\d+\.\d+\.\d+\.\d+)\/24/.exec(execOk("client", "ip", "-4", "addr", "show", "eth0"));
    assert.ok(m, "client eth0 has no IPv4 address after dhclient");
    assert.ok(ipNum(m[1]) >= ipNum(PLAN.pool.start) && ipNum(m[1]) <= ipNum(PLAN.pool.end), `${m[1]} is not from the pool`);
    return m[1];
}

/** Back on the client's reserved MAC, with no lease. */
function clientBack(): void {
    clientRelease();
    execOk("client", "ip", "link", "set", "eth0", "address", CLIENT_MAC);
}

/**
 * Milliseconds until `name` resolves to `ip` and `ip` back to `name` at the gateway, polled
 * from node1 every 100 ms. For a removed name pass the removed address as `gone`: then the
 * name must no longer resolve to it (nothing, or the wildcard's ingress) and it has no PTR.
 */
function waitName(name: string, ip: string, limitMs: number, gone?: string): number {
    const t = Date.now();
    const address = gone ?? ip;
    const want = gone ? "" : `${name}.`;
    const script = `for i in $(seq ${Math.ceil(limitMs / 100) + 10}); do ` +
        `a=$(dig +short +time=1 +tries=1 @${GW_LAN} ${name} A); p=$(dig +short +time=1 +tries=1 @${GW_LAN} -x ${address}); ` +
        `${gone ? `[ "$a" != "${gone}" ]` : `[ "$a" = "${ip}" ]`} && [ "$p" = "${want}" ] && exit 0; sleep 0.1; done; echo "A=$a PTR=$p"; exit 1`;
    const r = bash("node1", script);
    const ms = Date.now() - t;
    assert.strictEqual(r.code, 0, `${name} / ${address}: still ${r.stdout.trim()} after ${ms} ms`);
    return ms;
}

function lastLease(): string {
    const leases = execOk("client", "cat", "/var/lib/dhcp/dhclient.leases");
    const blocks = leases.split(/^lease \{$/m);
    return blocks[blocks.length - 1];
}

function checkDhcp(): void {
    // Reserved MAC → its reservation, with the gateway as DNS and the lab domain.
    clientRelease();
    assert.strictEqual(clientLease(), PLAN.client.ip);
    const lease = lastLease();
    assert.ok(lease.includes(`fixed-address ${PLAN.client.ip};`), lease);
    assert.ok(lease.includes(`option domain-name-servers ${GW_LAN};`), lease);
    assert.ok(lease.includes(`option domain-name "${DOMAIN}";`), lease);
    assert.ok(lease.includes(`option routers ${GW_LAN};`), lease);
    const resolv = execOk("client", "cat", "/etc/resolv.conf").split("\n");
    assert.ok(resolv.includes(`nameserver ${GW_LAN}`), resolv.join("\n"));
    assert.ok(resolv.some((l) => l === `domain ${DOMAIN}` || l === `search ${DOMAIN}` || l === `search ${DOMAIN}.`), resolv.join("\n"));

    // Unknown MAC → the pool.
    clientRelease();
    execOk("client", "ip", "link", "set", "eth0", "address", UNKNOWN_MAC);
    try {
        const ip = clientLease();
        assert.ok(ipNum(ip) >= ipNum(PLAN.pool.start) && ipNum(ip) <= ipNum(PLAN.pool.end),
            `unknown MAC got ${ip}, not in ${PLAN.pool.start}-${PLAN.pool.end}`);
    } finally {
        clientRelease();
        execOk("client", "ip", "link", "set", "eth0", "address", CLIENT_MAC);
    }
    // Back on the reservation for the checks that follow.
    assert.strictEqual(clientLease(), PLAN.client.ip);

    // Nothing answers DHCP on the WAN side (no script: the uplink's address is not touched).
    const wan = exec("uplink", "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-t", "3", "-T", "1", "-s", "/bin/true");
    assert.notStrictEqual(wan.code, 0, `a DHCP server answered on the WAN side:\n${wan.stdout}${wan.stderr}`);
    assert.doesNotMatch(wan.stdout + wan.stderr, /lease of .* obtained/i);
}

function dig(host: string, ...args: string[]): Result {
    return exec(host, "dig", "+time=2", "+tries=1", ...args);
}

function digShort(host: string, ...args: string[]): string {
    const r = dig(host, "+short", ...args);
    assert.strictEqual(r.code, 0, `dig ${args.join(" ")} from ${host} exited ${r.code}: ${r.stdout}${r.stderr}`);
    return r.stdout.trim();
}

function checkDns(): void {
    const a: Record<string, string> = {
        gw: GW_LAN, ...Object.fromEntries(PLAN.nodes.map((n) => [n.name, n.ip])), client: PLAN.client.ip,
        api: VIP, anything: PLAN.ingressIp,
    };
    for (const [name, ip] of Object.entries(a)) {
        assert.strictEqual(digShort("client", `@${GW_LAN}`, `${name}.${DOMAIN}`, "A"), ip, `A ${name}.${DOMAIN}`);
    }
    assert.strictEqual(digShort("client", `@${GW_LAN}`, "-x", PLAN.nodes[0].ip), `${PLAN.nodes[0].name}.${DOMAIN}.`);

    // WAN side: neither recursion nor the zone is served to the uplink (REFUSED, or no
    // server reachable at all: dig exits 9 / "connection refused" / timeout).
    for (const q of ["example.com", `gw.${DOMAIN}`]) {
        const r = dig("uplink", `@${GW_WAN}`, q, "A");
        const out = r.stdout + r.stderr;
        const refused = /status: REFUSED/.test(out);
        const unreachable = r.code === 9 || /no servers could be reached|connection refused|timed out/.test(out);
        assert.ok(refused || unreachable, `query ${q} @${GW_WAN} from the WAN side was answered:\n${out}`);
        assert.doesNotMatch(out, /ANSWER: [1-9]/);
    }
}

function checkNat(): void {
    assert.strictEqual(execOk("client", "curl", "-s", "--max-time", "5", `http://${PLAN.uplink}/`).trim(), GW_WAN);
}

/** curl to the VIP's API port as a cluster admin would (the lab's client certificate; -k: the stand-ins' CA is the lab's). */
const API_CURL = "curl -sk --max-time 3 --cert /etc/lab-api/client.crt --key /etc/lab-api/client.key";

/** Where `n` new connections to the VIP's API land: node name → count ("FAIL" for a failed one). */
function apiSpread(host: string, n: number): Record<string, number> {
    const out = bash(host, `for i in $(seq ${n}); do ${API_CURL} https://${VIP}:${PLAN.apiPort}/ || echo FAIL; done`).stdout;
    const counts: Record<string, number> = {};
    for (const l of out.split("\n").filter(Boolean)) {
        counts[l] = (counts[l] ?? 0) + 1;
    }
    return counts;
}

function checkVip(): void {
    assert.deepStrictEqual(apiSpread("uplink", 9), { node1: 3, node2: 3, node3: 3 }, "VIP :6443 from the WAN side");
    assert.deepStrictEqual(apiSpread("client", 9), { node1: 3, node2: 3, node3: 3 }, "VIP :6443 from the LAN (hairpin)");
    // Like K3s, the API refuses an anonymous request: the balancer's check must not expect 200.
    assert.strictEqual(execOk("uplink", "curl", "-sk", "--max-time", "3", "-o", "/dev/null", "-w", "%{http_code}",
        `https://${VIP}:${PLAN.apiPort}/readyz`), "401");
    assert.strictEqual(execOk("uplink", "curl", "-s", "--max-time", "5", `http://${VIP}/`).trim(), "ingress@node1");
    assert.strictEqual(execOk("client", "curl", "-s", "--max-time", "5", `http://${VIP}/`).trim(), "ingress@node1");
    // The lab's ingress stand-in speaks plain HTTP on 443 too: the VIP's :443 reaches it.
    assert.strictEqual(execOk("uplink", "curl", "-s", "--max-time", "5", `http://${VIP}:443/`).trim(), "ingress@node1");

    // The WAN side reaches the VIP's ports and nothing else: not the status page, not the LAN.
    for (const target of [`${VIP}:8404`, `${GW_WAN}:8404`]) {
        const r = bash("uplink", `curl -s --max-time 2 http://${target}/`);
        assert.notStrictEqual(r.code, 0, `${target} answered the WAN side: ${r.stdout}`);
    }
    execOk("uplink", "ip", "route", "add", PLAN.lanCidr, "via", GW_WAN);
    try {
        const r = bash("uplink", `${API_CURL} https://${PLAN.nodes[0].ip}:6443/`);
        assert.notStrictEqual(r.code, 0, `the WAN side reached a node directly through the gateway: ${r.stdout}`);
    } finally {
        execOk("uplink", "ip", "route", "del", PLAN.lanCidr, "via", GW_WAN);
    }
    // The status page is on the gateway's loopback.
    assert.match(execOk("gw", "curl", "-s", "--max-time", "3", "http://127.0.0.1:8404/;csv"), /^k3s-servers,node1,/m);
}

// ---------------------------------------------------------------------------------------------
// The balancer's health checks, measured. Figures go to the log and to balancer-figures.txt.

const FIGURES = path.join(RUN_DIR, "balancer-figures.txt");

function figure(line: string): void {
    console.log(`      ${line}`);
    fs.appendFileSync(FIGURES, `${line}\n`);
}

/** HAProxy's own view: server → UP / DOWN / … for the API backend, from its stats socket on gw. */
function backendStates(): Record<string, string> {
    const csv = execOk("gw", "bash", "-c", "echo 'show stat' | socat stdio /run/haproxy/admin.sock");
    const header = csv.split("\n")[0].replace(/^# /, "").split(",");
    const status = header.indexOf("status");
    return Object.fromEntries(csv.split("\n").filter((l) => l.startsWith("k3s-servers,") && !/,(FRONTEND|BACKEND),/.test(l))
        .map((l) => l.split(",")).map((f) => [f[1], f[status].split(" ")[0]]));
}

/** Milliseconds from `since` until `server` shows `state` (polled on gw every 50 ms), or fails after `limitMs`. */
function waitState(server: string, state: "UP" | "DOWN", since: number, limitMs: number): number {
    const loop = `for i in $(seq ${Math.ceil(limitMs / 50) + 20}); do ` +
        `echo 'show stat' | socat stdio /run/haproxy/admin.sock | grep -q '^k3s-servers,${server},.*,${state}' && exit 0; sleep 0.05; done; exit 1`;
    const r = bash("gw", loop);
    const ms = Date.now() - since;
    assert.strictEqual(r.code, 0, `${server} never became ${state}: ${JSON.stringify(backendStates())}`);
    return ms;
}

function allUp(): void {
    const t = Date.now();
    for (const n of PLAN.nodes) {
        waitState(n.name, "UP", t, 15_000);
    }
}

/** `n` new connections from the uplink, each timed: failures and the slowest, in ms. */
function timedConnections(n: number): { failed: number; slowestMs: number; spread: Record<string, number> } {
    const out = bash("uplink", `for i in $(seq ${n}); do ` +
        `r=$(${API_CURL} -w ' %{time_total}' https://${VIP}:${PLAN.apiPort}/ | tr -d '\\n') && echo "$r" || echo "FAIL $r"; done`).stdout;
    let failed = 0;
    let slowestMs = 0;
    const spread: Record<string, number> = {};
    for (const l of out.split("\n").filter(Boolean)) {
        const [what, secs] = l.split(" ");
        if (what === "FAIL") {
            failed += 1;
        } else {
            spread[what] = (spread[what] ?? 0) + 1;
        }
        slowestMs = Math.max(slowestMs, Math.round(Number(secs ?? 0) * 1000));
    }
    return { failed, slowestMs, spread };
}

function checkBalancer(when: string): void {
    allUp();
    // A server's API process stops: its port refuses connections.
    let t = Date.now();
    execOk("node2", "systemctl", "stop", "lab-api");
    const detectStopped = waitState("node2", "DOWN", t, 3_000);
    const afterStop = timedConnections(60);
    t = Date.now();
    execOk("node2", "systemctl", "start", "lab-api");
    const backStopped = waitState("node2", "UP", t, 5_000);
    figure(`${when}: responder stopped: DOWN after ${detectStopped} ms; then ${afterStop.failed} of 60 new connections failed ` +
        `(spread ${JSON.stringify(afterStop.spread)}); back UP ${backStopped} ms after restart`);
    assert.ok(detectStopped <= 3_000, `detection took ${detectStopped} ms`);
    assert.strictEqual(afterStop.failed, 0);
    assert.deepStrictEqual(afterStop.spread, { node1: 30, node3: 30 });
    assert.ok(backStopped <= 5_000, `back in rotation after ${backStopped} ms`);

    // Stopped again, this time asked at once, inside the detection window: redispatch covers it.
    execOk("node2", "systemctl", "stop", "lab-api");
    const inWindow = timedConnections(12);
    execOk("node2", "systemctl", "start", "lab-api");
    waitState("node2", "UP", Date.now(), 5_000);
    figure(`${when}: responder stopped, 12 connections at once: ${inWindow.failed} failed, slowest ${inWindow.slowestMs} ms`);
    assert.strictEqual(inWindow.failed, 0);

    // Up but not ready: K3s answers 503 until its apiserver runs; the https check takes it out.
    t = Date.now();
    execOk("node2", "touch", "/etc/lab-api/notready");
    const detectNotReady = waitState("node2", "DOWN", t, 3_000);
    const notReady = timedConnections(30);
    execOk("node2", "rm", "-f", "/etc/lab-api/notready");
    const backNotReady = waitState("node2", "UP", Date.now(), 5_000);
    figure(`${when}: API answering 503: DOWN after ${detectNotReady} ms; ${notReady.failed} of 30 failed; UP again after ${backNotReady} ms`);
    assert.strictEqual(notReady.failed, 0);
    assert.deepStrictEqual(notReady.spread, { node1: 15, node3: 15 });

    // Unplugged: node3's switch port goes down; packets to it vanish.
    t = Date.now();
    const port = ["-n", "hc-sw", "link", "set", "p-node3"];
    assert.strictEqual(run("ip", [...port, "down"]).code, 0);
    try {
        const detectUnplugged = waitState("node3", "DOWN", t, 6_000);
        const unplugged = timedConnections(20);
        figure(`${when}: node3 unplugged: DOWN after ${detectUnplugged} ms; then ${unplugged.failed} of 20 failed, slowest ${unplugged.slowestMs} ms`);
        assert.strictEqual(unplugged.failed, 0);
        assert.ok(unplugged.slowestMs < 1_000, `a connection waited ${unplugged.slowestMs} ms`);
    } finally {
        assert.strictEqual(run("ip", [...port, "up"]).code, 0);
    }
    const backUnplugged = waitState("node3", "UP", Date.now(), 5_000);
    figure(`${when}: node3 plugged back: UP after ${backUnplugged} ms`);
    assert.deepStrictEqual(apiSpread("uplink", 9), { node1: 3, node2: 3, node3: 3 }, "every server in rotation again");
}

/**
 * An API connection through the VIP opened before `change` runs and used again after it:
 * the same server must answer on the same connection (the reload dropped nothing).
 */
function keepsEstablished(change: () => void): { before: string; after: string } {
    const script = [
        "import http.client, os, ssl, time",
        "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE",
        "ctx.load_cert_chain('/etc/lab-api/client.crt', '/etc/lab-api/client.key')",
        `c = http.client.HTTPSConnection('${VIP}', ${PLAN.apiPort}, context=ctx, timeout=300)`,
        "c.request('GET', '/'); print('before', c.getresponse().read().decode().strip(), flush=True)",
        "while not os.path.exists('/tmp/hc-reloaded'): time.sleep(0.1)",
        "c.request('GET', '/'); print('after', c.getresponse().read().decode().strip(), flush=True)",
    ].join("\n");
    execOk("uplink", "rm", "-f", "/tmp/hc-reloaded", "/tmp/hc-keepalive.out");
    const child = spawn("lab/exec", ["uplink", "bash", "-c", "python3 -c \"$1\" >/tmp/hc-keepalive.out 2>&1", "keepalive", script],
        { cwd: REPO, stdio: "ignore" });
    try {
        for (let i = 0; i < 100 && !/^before /m.test(bash("uplink", "cat /tmp/hc-keepalive.out").stdout); i++) {
            spawnSync("sleep", ["0.1"]);
        }
        change();
    } finally {
        // Also when the change failed: the client asks once more and ends by itself.
        execOk("uplink", "touch", "/tmp/hc-reloaded");
        for (let i = 0; i < 100 && !/^after |Error/m.test(bash("uplink", "cat /tmp/hc-keepalive.out").stdout); i++) {
            spawnSync("sleep", ["0.1"]);
        }
        child.kill();
    }
    const out = execOk("uplink", "cat", "/tmp/hc-keepalive.out");
    const before = /^before (\S+)$/m.exec(out)?.[1];
    const after = /^after (\S+)$/m.exec(out)?.[1];
    assert.ok(before && after, `the connection across the change:\n${out}`);
    return { before, after };
}

/** The lab stack with two more servers (node4, node5: no host answers for them). */
function stackWithMoreServers(): string {
    const f = path.join(RUN_DIR, "stack-more-servers.yaml");
    const node3 = `    - { name: node3, mac: "02:77:00:00:00:13", ip: 10.77.0.13, role: server }`;
    const y = fs.readFileSync(path.join(REPO, "Pulumi.lab.yaml"), "utf8");
    assert.ok(y.includes(node3), "Pulumi.lab.yaml's node3 line changed; update this test");
    fs.writeFileSync(f, y.replace(node3, [node3,
        `    - { name: node4, mac: "02:77:00:00:00:14", ip: 10.77.0.14, role: server }`,
        `    - { name: node5, mac: "02:77:00:00:00:15", ip: 10.77.0.15, role: server }`].join("\n"))
        // No host answers for them: no key, certificate or trust to put there.
        .replace(/\s*$/, "\n  homecloud:certificateExclude: [node4, node5]\n"));
    return f;
}

function checkReloadKeepsConnections(when: string): void {
    const grown = keepsEstablished(() => {
        const s = summaryOf(engine("up", "more-servers-up", { SSH_ENGINE_STACK_FILE: stackWithMoreServers() }));
        assert.strictEqual(s.failed, 0);
        assert.match(fs.readFileSync(path.join(RUN_DIR, "more-servers-up.log"), "utf8"), /^updated gateway-lb-config \[diff: ~stdin\]$/m);
        assert.deepStrictEqual(Object.keys(backendStates()), ["node1", "node2", "node3", "node4", "node5"]);
    });
    const shrunk = keepsEstablished(() => {
        assert.strictEqual(summaryOf(engine("up", "fewer-servers-up")).failed, 0);
        assert.deepStrictEqual(Object.keys(backendStates()), ["node1", "node2", "node3"]);
    });
    figure(`${when}: reload adding two servers: the open connection answered ${grown.before} then ${grown.after}; ` +
        `removing them: ${shrunk.before} then ${shrunk.after}`);
    assert.strictEqual(grown.after, grown.before);
    assert.strictEqual(shrunk.after, shrunk.before);
}

// ---------------------------------------------------------------------------------------------

const WATCHED_FILES = "/etc/kea/kea-dhcp4.conf /etc/bind/named.conf.options /etc/bind/named.conf.local " +
    "/var/lib/homecloud/zones/* /etc/homecloud/nat.nft /etc/systemd/system/homecloud-nat.service /etc/sysctl.d/90-homecloud*.conf " +
    "/etc/haproxy/haproxy.cfg /etc/kea/kea-dhcp-ddns.conf /etc/bind/homecloud-keys/*";
const UNITS = ["kea-dhcp4-server", "kea-dhcp-ddns-server", "named", "homecloud-nat", "haproxy"];
/** Hosts whose trust store lab/snapshot.sh records (trust-<host>.txt): the PKI puts the CA in each. */
const TRUST_HOSTS = ["gw", "node1", "node2", "node3"];

function fingerprint(): { files: string; started: string } {
    const files = bash("gw", `sha256sum ${WATCHED_FILES}`);
    assert.strictEqual(files.code, 0, files.stderr);
    const started = UNITS.map((u) => `${u} ${execOk("gw", "systemctl", "show", "-p", "ActiveEnterTimestampMonotonic", u).trim()}`).join("\n");
    assert.doesNotMatch(started, /=0$/m, `a unit is not active:\n${started}`);
    return { files: files.stdout, started };
}

describe("homecloud on the lab (SSH engine)", function () {
    this.timeout(600_000);

    before(() => {
        assert.ok(fs.existsSync(path.join(RUN_DIR, "ssh-engine-state.json")), "run the engine `up` first (run.sh does)");
    });

    describe("1-4: the gateway serves the LAN", () => {
        it("1 DHCP: reservation, DNS and domain options, pool for unknown MACs, nothing on the WAN", checkDhcp);
        it("2 DNS: A, PTR, api → VIP, wildcard → ingress; nothing served to the WAN side", checkDns);
        it("3 NAT: the uplink sees the gateway's WAN address", checkNat);
        it("4 VIP: 3×node1/2/3 round robin from WAN and LAN, :80 → ingress; only the VIP's ports open to the WAN", checkVip);
        it("4b VIP health checks: a stopped, a not-ready and an unplugged server are taken out and come back", () => {
            fs.rmSync(FIGURES, { force: true });
            checkBalancer("first boot");
        });
        it("4c a configuration change reloads HAProxy without dropping an established connection", () => {
            checkReloadKeepsConnections("first boot");
        });
        it("4d names for pool clients: both records within 5 s of the lease, gone within 5 s of the release", () => {
            try {
                const ip = poolLease("laptop");
                const added = waitName(`laptop.${DDNS}`, ip, 5_000);
                bash("client", "dhclient -r -cf /tmp/dhclient-pool.conf eth0");
                const removed = waitName(`laptop.${DDNS}`, PLAN.ingressIp, 5_000, ip);
                figure(`DDNS: laptop.${DDNS} → ${ip} and its PTR resolvable ${added} ms after the lease; both gone ${removed} ms after dhclient -r`);
                // Characters a DNS label cannot hold are dropped.
                const messy = poolLease("my_laptop!");
                const cleanMs = waitName(`mylaptop.${DDNS}`, messy, 5_000);
                // A client that sends no name gets one made from its address.
                const nameless = poolLease(null);
                const made = `dhcp-${nameless.replace(/\./g, "-")}.${DDNS}`;
                const madeMs = waitName(made, nameless, 5_000);
                figure(`DDNS: "my_laptop!" is mylaptop.${DDNS} after ${cleanMs} ms; a client sending no name is ${made} after ${madeMs} ms`);
            } finally {
                clientBack();
            }
        });
        it("4e a pool client naming itself after a host gets a name under the suffix, not the host's; nothing but kea-dhcp-ddns may update", () => {
            const node2 = PLAN.nodes[1];
            try {
                const ip = poolLease(node2.name);
                waitName(`${node2.name}.${DDNS}`, ip, 5_000);
                assert.strictEqual(digShort("node1", `@${GW_LAN}`, `${node2.name}.${DOMAIN}`, "A"), node2.ip);
            } finally {
                clientBack();
            }
            const evil = (server: string): string =>
                `printf 'server ${server}\\nzone ${DOMAIN}.\\nupdate add evil.${DOMAIN}. 60 A 192.0.2.66\\nsend\\n' | nsupdate -t 3`;
            const wan = bash("uplink", evil(GW_WAN));
            assert.notStrictEqual(wan.code, 0, `an update from the WAN side was taken: ${wan.stdout}${wan.stderr}`);
            const lan = bash("node1", evil(GW_LAN));
            assert.notStrictEqual(lan.code, 0);
            assert.match(lan.stdout + lan.stderr, /REFUSED/, "an unsigned update from the LAN is refused");
            // Only the wildcard answers for it (the ingress), no record of its own.
            assert.strictEqual(digShort("node1", `@${GW_LAN}`, `evil.${DOMAIN}`, "A"), PLAN.ingressIp);
        });
        after(assertSshFromLan);
    });

    describe("5: after a gateway reboot", () => {
        before(function () {
            this.timeout(180_000);
            const r = run("bash", ["lab/reboot.sh", "gw"], { timeout: 180_000 });
            assert.strictEqual(r.code, 0, `reboot failed: ${r.stderr}`);
            // Services come up after sshd; give Kea and named a moment to bind.
            for (let i = 0; i < 60; i++) {
                const s = bash("gw", "systemctl is-active kea-dhcp4-server kea-dhcp-ddns-server named homecloud-nat haproxy");
                if (s.code === 0) {
                    break;
                }
                spawnSync("sleep", ["0.5"]);
            }
        });
        it("1 DHCP again", checkDhcp);
        it("2 DNS again", checkDns);
        it("3 NAT again", checkNat);
        it("4 VIP again", checkVip);
        it("4b VIP health checks again", () => checkBalancer("after reboot"));
        it("4c reload without dropping a connection again", () => checkReloadKeepsConnections("after reboot"));
        after(assertSshFromLan);
    });

    describe("6: safety", () => {
        it("a broken Kea config is rejected by the checker and changes nothing", () => {
            const before = execOk("gw", "sha256sum", "/etc/kea/kea-dhcp4.conf");
            const script = fileCommand("install", keaConfigFile());
            const r = run("ssh", ["-F", "/dev/null", "-i", KEY, "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
                `pi@${GW_LAN}`, script], { input: '{ "Dhcp4": { "subnet4": [ broken' });
            assert.strictEqual(r.code, 1, `expected exit 1, got ${r.code}: ${r.stderr}`);
            assert.match(r.stderr, /\/etc\/kea\/kea-dhcp4\.conf rejected by its checker; the running configuration is untouched/);
            assert.strictEqual(execOk("gw", "sha256sum", "/etc/kea/kea-dhcp4.conf"), before);
            assert.strictEqual(bash("gw", "ls /etc/kea/kea-dhcp4.conf.homecloud.* 2>/dev/null").stdout, "", "candidate left behind");
            execOk("gw", "systemctl", "is-active", "kea-dhcp4-server");
            checkDhcp();
            checkDns();
        });
        after(assertSshFromLan);
    });

    describe("7: idempotency", () => {
        it("a second `up` changes nothing; forced re-runs of every install change nothing either", () => {
            const fp = fingerprint();
            const s = summaryOf(engine("up", "noop-up"));
            assert.deepStrictEqual(
                { created: s.created, updated: s.updated, deleted: s.deleted, failed: s.failed, remote: s["remote-commands"] },
                { created: 0, updated: 0, deleted: 0, failed: 0, remote: 0 });
            assert.ok(s.unchanged > 0);
            assert.deepStrictEqual(fingerprint(), fp, "no-op up touched files or restarted units");

            const f = summaryOf(engine("up", "force-up", { SSH_ENGINE_FORCE: "1" }));
            assert.strictEqual(f.forced, s.unchanged, "every command re-ran");
            assert.deepStrictEqual({ created: f.created, updated: f.updated, deleted: f.deleted, failed: f.failed },
                { created: 0, updated: 0, deleted: 0, failed: 0 });
            assert.deepStrictEqual(fingerprint(), fp, "re-running the installs touched files or restarted units");
        });
        after(assertSshFromLan);
    });

    describe("7b: the engine's update, failure and orphan paths", () => {
        const stack = (edit: (y: string) => string): string => {
            const f = path.join(RUN_DIR, `stack-${Date.now()}.yaml`);
            fs.writeFileSync(f, edit(fs.readFileSync(path.join(REPO, "Pulumi.lab.yaml"), "utf8")));
            return f;
        };
        const stateFile = path.join(RUN_DIR, "ssh-engine-state.json");
        const keaSha = (): string => execOk("gw", "sha256sum", "/etc/kea/kea-dhcp4.conf");
        let filesBefore = "";

        it("a changed input updates just that command; a rejected one fails the run and records nothing", () => {
            const fp = fingerprint();
            filesBefore = fp.files;
            const longer = stack((y) => y.replace("homecloud:leaseSeconds: 600", "homecloud:leaseSeconds: 900"));
            const s = summaryOf(engine("up", "update-up", { SSH_ENGINE_STACK_FILE: longer }));
            assert.deepStrictEqual({ created: s.created, updated: s.updated, deleted: s.deleted }, { created: 0, updated: 1, deleted: 0 });
            assert.match(fs.readFileSync(path.join(RUN_DIR, "update-up.log"), "utf8"), /^updated gateway-dhcp-config \[diff: ~stdin\]$/m);
            assert.match(execOk("gw", "cat", "/etc/kea/kea-dhcp4.conf"), /900/);
            const updatedSha = keaSha();
            assert.ok(!fp.files.includes(updatedSha.split(" ")[0]), "the Kea file did not change");
            const recorded = JSON.parse(fs.readFileSync(stateFile, "utf8")).resources["gateway-dhcp-config"].prints;

            const broken = stack((y) => y.replace("homecloud:leaseSeconds: 600", "homecloud:leaseSeconds: 1200")
                .replace("homecloud:lanInterface: lan0", "homecloud:lanInterface: nosuch0"));
            const r = run("npx", ["ts-node", "lab/engine/sshEngine.ts", "up"], {
                env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1", SSH_ENGINE_STACK_FILE: broken }, timeout: 300_000,
            });
            assert.strictEqual(r.code, 1, `a rejected command must fail the run:\n${r.stdout}${r.stderr}`);
            assert.match(r.stdout, /^FAILED gateway-dhcp-config \(exit 1\)$/m);
            assert.match(r.stderr, /rejected by its checker; the running configuration is untouched/);
            assert.match(r.stderr, /interface 'nosuch0' doesn't exist/);
            assert.strictEqual(keaSha(), updatedSha, "the rejected Kea config reached the gateway");
            // nft accepts any interface name; the ruleset's check does not.
            assert.doesNotMatch(execOk("gw", "cat", "/etc/homecloud/nat.nft"), /nosuch0/, "a ruleset for a missing interface was loaded");
            assert.deepStrictEqual(JSON.parse(fs.readFileSync(stateFile, "utf8")).resources["gateway-dhcp-config"].prints, recorded,
                "the failed command was recorded");
        });

        it("back to the stack: the same files as before; a resource no longer declared is deleted", () => {
            const state = JSON.parse(fs.readFileSync(stateFile, "utf8"));
            state.resources["zz-orphan"] = {
                prints: {}, delete: "echo orphan > /tmp/homecloud-orphan-deleted", dependsOn: [],
                connection: { host: GW_LAN, port: 22, user: "pi" }, order: state.nextOrder + 1000, stdout: "", stderr: "",
            };
            fs.writeFileSync(stateFile, JSON.stringify(state));
            const out = engine("up", "restore-up");
            const s = summaryOf(out);
            assert.strictEqual(s.failed, 0);
            assert.strictEqual(s.deleted, 1);
            assert.match(out, /^updated gateway-dhcp-config \[diff: ~stdin\]$/m);
            assert.match(out, /^deleted zz-orphan$/m);
            assert.strictEqual(execOk("gw", "cat", "/tmp/homecloud-orphan-deleted").trim(), "orphan");
            execOk("gw", "rm", "-f", "/tmp/homecloud-orphan-deleted");
            assert.ok(!("zz-orphan" in JSON.parse(fs.readFileSync(stateFile, "utf8")).resources));
            const files = bash("gw", `sha256sum ${WATCHED_FILES}`).stdout;
            assert.strictEqual(files, filesBefore, "back on the stack, the files differ from before the update");
            assert.strictEqual(summaryOf(engine("up", "noop-up-2")).updated, 0);
            assert.strictEqual(bash("gw", `sha256sum ${WATCHED_FILES}`).stdout, files);
            checkNat();
            checkVip();
        });
        after(assertSshFromLan);
    });

    describe("7c: one-value change and secrets in the engine's state", () => {
        const stateFile = path.join(RUN_DIR, "ssh-engine-state.json");
        const changed = (log: string): string[] =>
            fs.readFileSync(path.join(RUN_DIR, log), "utf8").split("\n")
                .filter((l) => /^(created|updated|replaced|deleted) /.test(l)).sort();

        it("adding a DHCP reservation touches only the Kea config and the zones that name it", () => {
            const f = path.join(RUN_DIR, "stack-extra-reservation.yaml");
            const clientLine = `    - { name: client, mac: "${CLIENT_MAC}", ip: ${PLAN.client.ip} }`;
            const stackText = fs.readFileSync(path.join(REPO, "Pulumi.lab.yaml"), "utf8");
            assert.ok(stackText.includes(clientLine), "Pulumi.lab.yaml lists the client reservation on one line");
            fs.writeFileSync(f, stackText.replace(clientLine,
                `${clientLine}\n    - { name: ${PRINTER.name}, mac: "${PRINTER.mac}", ip: ${PRINTER.ip} }`));
            const fourUpdates = [
                "updated gateway-dhcp-config [diff: ~stdin]",
                "updated gateway-dns-dynamic-forward-zone [diff: ~stdin]",
                "updated gateway-dns-dynamic-reverse-zone [diff: ~stdin]",
                "updated gateway-dns-local [diff: ~stdin]",
            ];
            // A pool client's name is in the zone before the change; it must still be after.
            const laptop = poolLease("laptop");
            waitName(`laptop.${DDNS}`, laptop, 5_000);
            engine("up", "reservation-up", { SSH_ENGINE_STACK_FILE: f });
            assert.deepStrictEqual(changed("reservation-up.log"), fourUpdates, "4 updates, no replacement, no delete");
            assert.ok(execOk("gw", "cat", "/etc/kea/kea-dhcp4.conf").includes(`"hw-address": "${PRINTER.mac}"`));
            // What the replacement broke with the real engine: Kea stopped on Debian's stock
            // file, the zone directory deleted (named answered from memory until a restart).
            execOk("gw", "systemctl", "is-active", "kea-dhcp4-server");
            execOk("gw", "systemctl", "restart", "named");
            execOk("gw", "rndc", "status");
            assert.strictEqual(digShort("client", `@${GW_LAN}`, `${PRINTER.name}.${DOMAIN}`, "A"), PRINTER.ip);
            assert.strictEqual(digShort("client", `@${GW_LAN}`, "-x", PRINTER.ip), `${PRINTER.name}.${DOMAIN}.`);
            // The pool client's records went through the `up` and the restart (named's journal).
            assert.strictEqual(digShort("client", `@${GW_LAN}`, `laptop.${DDNS}`, "A"), laptop);
            assert.strictEqual(digShort("client", `@${GW_LAN}`, "-x", laptop), `laptop.${DDNS}.`);
            figure(`DDNS: a dynamic record present through an \`up\` adding a reservation and a named restart: laptop.${DDNS} → ${laptop} kept`);
            clientBack();
            checkDhcp();
            engine("up", "reservation-back");
            assert.deepStrictEqual(changed("reservation-back.log"), fourUpdates);
        });

        it("keeps no SSH key in its state file", () => {
            const keyBody = fs.readFileSync(KEY, "utf8").split("\n").filter((l) => l && !l.startsWith("-----"));
            const state = fs.readFileSync(stateFile, "utf8");
            assert.ok(keyBody.length > 0);
            for (const line of keyBody) {
                assert.ok(!state.includes(line), "a line of the private key is in the engine's state");
            }
        });
        after(assertSshFromLan);
    });

    describe("7d: the engine follows the command provider's replacement semantics", () => {
        const replay = (shape: "old" | "current", content: string, label: string): string => engine("up", label, {
            SSH_ENGINE_PROGRAM: path.join(REPO, "test/integration/fixtures/replayProgram"),
            SSH_ENGINE_STATE: path.join(RUN_DIR, `replay-${shape}.json`),
            REPLAY_SHAPE: shape, REPLAY_CONTENT: content,
        });
        const replayFile = (): Result => exec("gw", "cat", "/etc/homecloud-replay.conf");

        it("the old hostFile shape (triggers on the content hash): a content change replaces it, and the old delete undoes the new file", () => {
            assert.match(replay("old", "first\n", "replay-old-1"), /^created replay-file$/m);
            assert.strictEqual(replayFile().stdout, "first\n");
            const out = replay("old", "second\n", "replay-old-2");
            assert.match(out, /^replaced replay-file \[diff: ~stdin,triggers\]$/m);
            assert.match(out, /^deleted replay-file \(replaced\)$/m);
            assert.ok(out.indexOf("replaced replay-file") < out.indexOf("deleted replay-file (replaced)"), "create before delete");
            assert.notStrictEqual(replayFile().code, 0, "the old delete left the file in place; the real engine removes it");
            engine("destroy", "replay-old-destroy", { SSH_ENGINE_STATE: path.join(RUN_DIR, "replay-old.json") });
        });

        it("today's hostFile: the same change is one in-place update and the file stays", () => {
            assert.match(replay("current", "first\n", "replay-current-1"), /^created replay-file$/m);
            assert.strictEqual(replayFile().stdout, "first\n");
            const out = replay("current", "second\n", "replay-current-2");
            assert.match(out, /^updated replay-file \[diff: ~stdin\]$/m);
            assert.doesNotMatch(out, /^(replaced|deleted) /m);
            assert.strictEqual(replayFile().stdout, "second\n");
            engine("destroy", "replay-current-destroy", { SSH_ENGINE_STATE: path.join(RUN_DIR, "replay-current.json") });
            assert.notStrictEqual(replayFile().code, 0, "destroy removes the file");
            const leftovers = run("lab/exec", ["gw", "sh", "-c", "ls -A /var/lib/homecloud/original/etc 2>/dev/null | grep -c replay || true"]);
            assert.strictEqual(leftovers.stdout.trim(), "0");
        });
        after(assertSshFromLan);
    });

    describe("7e: a /23 LAN claims both of its /24 reverse zones and nothing else", () => {
        const FAR = { name: "far", mac: CLIENT_MAC.replace(/..$/, "61"), ip: "10.77.1.50" };
        const zoneFile = (zone: string): string => `/var/lib/bind/homecloud/db.${zone}.in-addr.arpa`;
        const lines = (log: string): string[] => fs.readFileSync(path.join(RUN_DIR, log), "utf8").split("\n")
            .filter((l) => /^(created|updated|replaced|deleted) /.test(l)).map((l) => l.replace(/ \[diff: .*\]$/, "")).sort();
        /** dig from node1 (a LAN address) at the gateway. */
        const ask = (...args: string[]): Result => exec("node1", "dig", "+time=2", "+tries=1", `@${GW_LAN}`, ...args);

        it("a /23 with a host in each half: forward and reverse names for both halves, none for outside it", () => {
            const clientLine = `    - { name: client, mac: "${CLIENT_MAC}", ip: ${PLAN.client.ip} }`;
            const stackText = fs.readFileSync(path.join(REPO, "Pulumi.lab.yaml"), "utf8");
            assert.ok(stackText.includes(clientLine) && stackText.includes("homecloud:lanCidr: 10.77.0.0/24\n"));
            const f = path.join(RUN_DIR, "stack-slash23.yaml");
            fs.writeFileSync(f, stackText.replace("homecloud:lanCidr: 10.77.0.0/24\n", "homecloud:lanCidr: 10.77.0.0/23\n")
                .replace(clientLine, `${clientLine}\n    - { name: ${FAR.name}, mac: "${FAR.mac}", ip: ${FAR.ip} }`));
            engine("up", "slash23-up", { SSH_ENGINE_STACK_FILE: f });
            assert.deepStrictEqual(lines("slash23-up.log"), [
                "created gateway-dns-dynamic-reverse-0.77.10.in-addr.arpa",
                "created gateway-dns-dynamic-reverse-1.77.10.in-addr.arpa",
                "deleted gateway-dns-dynamic-reverse-zone",
                "updated gateway-dhcp-config",
                "updated gateway-dhcp-ddns-config",
                "updated gateway-dns-dynamic-forward-zone",
                "updated gateway-dns-local",
                "updated gateway-dns-options",
                "updated gateway-nat-ruleset",
                // The CA's line names the LAN (its constraints); the step keeps the CA as it is.
                "updated pki-ca",
            ]);
            // The old name's delete ran after the new name took the same file over: left alone.
            assert.match(fs.readFileSync(path.join(RUN_DIR, "slash23-up.log"), "utf8"),
                /zone 0\.77\.10\.in-addr\.arpa belongs to gateway-dns-dynamic-reverse-0\.77\.10\.in-addr\.arpa now; left as it is/);
            execOk("gw", "test", "-s", zoneFile("0.77.10"));
            execOk("gw", "systemctl", "restart", "named");
            assert.strictEqual(digShort("node1", `@${GW_LAN}`, `${FAR.name}.${DOMAIN}`, "A"), FAR.ip);
            assert.strictEqual(digShort("node1", `@${GW_LAN}`, "-x", FAR.ip), `${FAR.name}.${DOMAIN}.`);
            assert.strictEqual(digShort("node1", `@${GW_LAN}`, "-x", PLAN.nodes[0].ip), `${PLAN.nodes[0].name}.${DOMAIN}.`);
            // 10.77.2.5 is outside the LAN: none of the gateway's own zones answers for it.
            const outside = ask("-x", "10.77.2.5");
            assert.doesNotMatch(outside.stdout, /ANSWER: [1-9]/);
            assert.doesNotMatch(outside.stdout, /IN\s+SOA\s+gw\.lab\.home\.arpa\./, `answered from the gateway's zones:\n${outside.stdout}`);
            assert.ok(!execOk("gw", "named-checkconf", "-p").includes('zone "77.10.in-addr.arpa"'), "claims the whole /16");
        });

        it("back to the /24: its one zone under its old name, the second half's zone removed", () => {
            engine("up", "slash24-back");
            assert.deepStrictEqual(lines("slash24-back.log"), [
                "created gateway-dns-dynamic-reverse-zone",
                "deleted gateway-dns-dynamic-reverse-0.77.10.in-addr.arpa",
                "deleted gateway-dns-dynamic-reverse-1.77.10.in-addr.arpa",
                "updated gateway-dhcp-config",
                "updated gateway-dhcp-ddns-config",
                "updated gateway-dns-dynamic-forward-zone",
                "updated gateway-dns-local",
                "updated gateway-dns-options",
                "updated gateway-nat-ruleset",
                // The CA's line names the LAN (its constraints); the step keeps the CA as it is.
                "updated pki-ca",
            ]);
            execOk("gw", "test", "-s", zoneFile("0.77.10"));
            assert.notStrictEqual(exec("gw", "test", "-e", zoneFile("1.77.10")).code, 0, "the second half's zone file is left");
            assert.notStrictEqual(exec("gw", "test", "-e", `${zoneFile("1.77.10")}.jnl`).code, 0, "the second half's journal is left");
            execOk("gw", "systemctl", "restart", "named");
            assert.strictEqual(digShort("node1", `@${GW_LAN}`, "-x", PLAN.nodes[0].ip), `${PLAN.nodes[0].name}.${DOMAIN}.`);
            assert.strictEqual(summaryOf(engine("up", "slash24-noop")).updated, 0);
        });
        after(assertSshFromLan);
    });

    describe("7f: the private CA: a key and certificate per host, trust where it is needed, renewal", () => {
        const HOSTS = ["gw", ...PLAN.nodes.map((n) => n.name)];
        const NODE1 = PLAN.nodes[0];
        const stateFile = path.join(RUN_DIR, "ssh-engine-state.json");
        /**
         * The base64 lines of a key file on a host that hold private bytes (what a copy
         * anywhere would contain). The keys are P-256 in PKCS#8 (138 bytes: lines of 64, 64
         * and 56 characters); the last line is only the public point, which the CSR and the
         * certificate carry too, so it is left out.
         */
        const pemBody = (host: string, file: string): string[] => {
            const lines = execOk(host, "cat", file).split("\n").filter((l) => l && !l.startsWith("-----"));
            assert.deepStrictEqual(lines.map((l) => l.length), [64, 64, 56], `${host}:${file} is not a P-256 PKCS#8 key`);
            return lines.slice(0, 2);
        };
        /** Every file on `host` holding `line` (searched in every place a copy could land). */
        const holders = (host: string, line: string): string[] => bash(host,
            `grep -rlF -- '${line}' /etc /root /home /tmp /var /usr/local /opt /srv 2>/dev/null | sort || true`).stdout.split("\n").filter(Boolean);
        const keySha = (): Record<string, string> => Object.fromEntries(HOSTS.map((h) =>
            [h, execOk(h, "sha256sum", "/etc/homecloud/pki/host.key").split(" ")[0]]));
        const certOf = (host: string): string => execOk(host, "cat", "/etc/homecloud/pki/host.crt");
        // The certificate goes to gw on stdin into a scratch file (a pipe through nsenter has no /dev/stdin).
        const verifyOnGw = (host: string): string => {
            const r = run("lab/exec", ["gw", "bash", "-c", 'f=$(mktemp); trap \'rm -f "$f"\' EXIT; cat >"$f"; ' +
                'openssl verify -purpose sslserver -CAfile /etc/homecloud/ca/ca.crt "$f" | sed "s|^$f:|certificate:|"'], { input: certOf(host) });
            assert.strictEqual(r.code, 0, `${host}'s certificate does not verify on gw: ${r.stdout}${r.stderr}`);
            return r.stdout.trim();
        };
        const serialOf = (host: string): string => execOk(host, "openssl", "x509", "-noout", "-serial", "-in", "/etc/homecloud/pki/host.crt").trim();
        let keysAtFirstUp: Record<string, string> = {};

        it("every host's certificate verifies against the CA on gw, for its FQDN and LAN address", () => {
            for (const host of HOSTS) {
                assert.strictEqual(verifyOnGw(host), "certificate: OK");
                const ip = host === "gw" ? GW_LAN : PLAN.nodes.find((n) => n.name === host)!.ip;
                assert.match(execOk(host, "openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", "/etc/homecloud/pki/host.crt"),
                    new RegExp(`DNS:${host}\\.${DOMAIN.replace(/\./g, "\\.")}, IP Address:${ip.replace(/\./g, "\\.")}\\n`));
                assert.strictEqual(execOk(host, "stat", "-c", "%a %U", "/etc/homecloud/pki/host.key").trim(), "600 root");
                // The host's own trust store vouches for it too.
                assert.strictEqual(execOk(host, "openssl", "verify", "-CApath", "/etc/ssl/certs", "/etc/homecloud/pki/host.crt").trim(),
                    "/etc/homecloud/pki/host.crt: OK");
            }
            keysAtFirstUp = keySha();
        });

        it("each host's key is only on its host, the CA key only on gw (searched on every host), none in the engine's state or logs", () => {
            const state = fs.readFileSync(stateFile, "utf8");
            const logs = run("bash", ["-c", `cat ${RUN_DIR}/*.log`]).stdout;
            const secrets: [string, string][] = [["gw", "/etc/homecloud/ca/ca.key"], ...HOSTS.map((h): [string, string] => [h, "/etc/homecloud/pki/host.key"])];
            for (const [owner, file] of secrets) {
                const body = pemBody(owner, file);
                assert.ok(body.length > 0, `${owner}:${file} is empty`);
                for (const host of HOSTS) {
                    assert.deepStrictEqual(holders(host, body[0]), host === owner ? [file] : [], `${owner}:${file} searched on ${host}`);
                }
                for (const line of body) {
                    assert.ok(!state.includes(line), `a line of ${owner}:${file} is in the engine's state`);
                    assert.ok(!logs.includes(line), `a line of ${owner}:${file} is in the engine's logs`);
                }
            }
            assert.strictEqual(execOk("gw", "stat", "-c", "%a %U", "/etc/homecloud/ca/ca.key").trim(), "600 root");
        });

        it("curl https://node1.<domain>:8443/ from the client: refused without the CA, verified with the system store once it trusts the stack's CA", () => {
            const responder = [
                "import http.server, ssl",
                "class H(http.server.BaseHTTPRequestHandler):",
                "    def do_GET(self):",
                "        b = b'tls@node1\\n'; self.send_response(200); self.send_header('Content-Length', str(len(b))); self.end_headers(); self.wfile.write(b)",
                "    def log_message(self, *a): pass",
                "s = http.server.HTTPServer(('0.0.0.0', 8443), H)",
                "c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain('/etc/homecloud/pki/host.crt', '/etc/homecloud/pki/host.key')",
                "s.socket = c.wrap_socket(s.socket, server_side=True); s.serve_forever()",
            ].join("\n");
            const url = `https://${NODE1.name}.${DOMAIN}:8443/`;
            const caPem = JSON.parse(fs.readFileSync(path.join(RUN_DIR, "first-up.log"), "utf8").split("\noutputs: ")[1]).caCertificate as string;
            assert.match(caPem, /^-----BEGIN CERTIFICATE-----\n/);
            assert.strictEqual(caPem, execOk("gw", "cat", "/etc/homecloud/ca/ca.crt"), "the stack output is the CA on gw");
            execOk(NODE1.name, "systemd-run", "--unit=hc-tls-responder", "--collect", "python3", "-c", responder);
            try {
                assert.strictEqual(bash(NODE1.name, "for i in $(seq 50); do curl -sk https://127.0.0.1:8443/ && exit 0; sleep 0.1; done; exit 1").code, 0);
                const without = bash("client", `curl -sS --max-time 5 ${url}`);
                assert.strictEqual(without.code, 60, `without the CA: ${without.stdout}${without.stderr}`);
                assert.match(without.stderr, /unable to get local issuer certificate/);
                // The owner of the client trusts the CA the way a laptop would: the stack's output into its store.
                run("lab/exec", ["client", "bash", "-c", "cat > /usr/local/share/ca-certificates/homecloud-ca.crt && update-ca-certificates >/dev/null"],
                    { input: caPem });
                try {
                    assert.strictEqual(execOk("client", "curl", "-sS", "--max-time", "5", url), "tls@node1\n");
                } finally {
                    execOk("client", "bash", "-c", "rm -f /usr/local/share/ca-certificates/homecloud-ca.crt && update-ca-certificates --fresh >/dev/null");
                }
                assert.strictEqual(bash("client", `curl -sS --max-time 5 ${url}`).code, 60, "the client without the CA again");
                // node2 trusts it through the program, and so does the gateway.
                assert.strictEqual(execOk("node2", "curl", "-sS", "--max-time", "5", url), "tls@node1\n");
                assert.strictEqual(execOk("gw", "curl", "-sS", "--max-time", "5", "--resolve", `${NODE1.name}.${DOMAIN}:8443:${NODE1.ip}`, url), "tls@node1\n");
            } finally {
                exec(NODE1.name, "systemctl", "stop", "hc-tls-responder");
            }
        });

        it("a second up runs 0 commands", () => {
            const s = summaryOf(engine("up", "pki-noop-up"));
            assert.deepStrictEqual({ updated: s.updated, created: s.created, deleted: s.deleted, remote: s["remote-commands"] },
                { updated: 0, created: 0, deleted: 0, remote: 0 });
        });

        it("a forced renewal (certificateRenewal: 1) re-signs every certificate with the same keys; the next up runs 0 commands", () => {
            const f = path.join(RUN_DIR, "stack-renewal.yaml");
            const y = fs.readFileSync(path.join(REPO, "Pulumi.lab.yaml"), "utf8");
            fs.writeFileSync(f, `${y.trimEnd()}\n  homecloud:certificateRenewal: 1\n`);
            const serials = Object.fromEntries(HOSTS.map((h) => [h, serialOf(h)]));
            const out = engine("up", "pki-renewal-up", { SSH_ENGINE_STACK_FILE: f });
            const changed = out.split("\n").filter((l) => /^(created|updated|replaced|deleted) /.test(l)).map((l) => l.replace(/ \[diff: .*\]$/, "")).sort();
            assert.deepStrictEqual(changed, HOSTS.flatMap((h) => [`updated pki-${h}-host-cert`, `updated pki-${h}-host-sign`]).sort());
            assert.deepStrictEqual(keySha(), keysAtFirstUp, "a host key changed");
            for (const h of HOSTS) {
                assert.notStrictEqual(serialOf(h), serials[h], `${h} was not re-signed`);
                assert.strictEqual(verifyOnGw(h), "certificate: OK");
            }
            const s = summaryOf(engine("up", "pki-renewal-noop", { SSH_ENGINE_STACK_FILE: f }));
            assert.strictEqual(s["remote-commands"], 0);
            // Back to the stack as committed: one more re-signing, keys still the same.
            engine("up", "pki-renewal-back");
            assert.deepStrictEqual(keySha(), keysAtFirstUp);
        });
        after(assertSshFromLan);
    });

    describe("8: destroy", () => {
        /** A line of the CA certificate, to look for in every trust store after destroy. */
        let caLine = "";
        it("with caDestroy set, an up changes only what the CA's delete will do", () => {
            caLine = execOk("gw", "sed", "-n", "2p", "/etc/homecloud/ca/ca.crt").trim();
            assert.match(caLine, /^[A-Za-z0-9+/=]{20,}$/);
            const f = path.join(RUN_DIR, "stack-ca-destroy.yaml");
            const y = fs.readFileSync(path.join(REPO, "Pulumi.lab.yaml"), "utf8");
            fs.writeFileSync(f, `${y.trimEnd()}\n  homecloud:caDestroy: true\n`);
            const out = engine("up", "ca-destroy-up", { SSH_ENGINE_STACK_FILE: f });
            assert.deepStrictEqual(out.split("\n").filter((l) => /^(created|updated|replaced|deleted) /.test(l)), ["updated pki-ca [diff: ~delete]"]);
        });

        it("gives back the gateway exactly as before the first up", () => {
            const out = engine("destroy", "destroy");
            const s = summaryOf(out);
            assert.strictEqual(s.failed, 0);
            assert.ok(s.deleted > 0);
            const state = JSON.parse(fs.readFileSync(path.join(RUN_DIR, "ssh-engine-state.json"), "utf8"));
            assert.deepStrictEqual(state.resources, {});
            const after = path.join(RUN_DIR, "after");
            fs.rmSync(after, { recursive: true, force: true });
            const r = run("bash", ["lab/snapshot.sh", after]);
            assert.strictEqual(r.code, 0, r.stderr);
            for (const f of ["etc.sha256", "nft.txt", "enabled.txt", "ip_forward.txt", "addr.txt", ...TRUST_HOSTS.map((h) => `trust-${h}.txt`)]) {
                const d = run("diff", ["-u", path.join(RUN_DIR, "before", f), path.join(after, f)]);
                assert.strictEqual(d.code, 0, `gw ${f} differs after destroy:\n${d.stdout}`);
            }
            const leftovers = run("lab/exec", ["gw", "sh", "-c", "ls -A /var/lib/homecloud 2>&1; echo rc=$?"]);
            assert.strictEqual(leftovers.stdout.trim().split("\n").pop(), "rc=2", `bookkeeping left on gw: ${leftovers.stdout}`);
            assert.notStrictEqual(exec("gw", "test", "-e", "/usr/local/lib/homecloud").code, 0, "the toolkit is left on gw");
        });

        it("the CA is out of every trust store; no host keeps a key, certificate, CA or PKI toolkit", () => {
            assert.ok(caLine, "the caDestroy step ran first");
            for (const host of TRUST_HOSTS) {
                for (const p of ["/etc/homecloud", "/usr/local/share/ca-certificates/homecloud-ca.crt", "/usr/local/lib/homecloud-pki", "/var/lib/homecloud"]) {
                    assert.notStrictEqual(exec(host, "test", "-e", p).code, 0, `${host}: ${p} is left`);
                }
                assert.strictEqual(bash(host, "ls -l /etc/ssl/certs | grep -c homecloud || true").stdout.trim(), "0", `${host}: a link to the CA is left`);
                assert.strictEqual(bash(host, `grep -cF -- '${caLine}' /etc/ssl/certs/ca-certificates.crt || true`).stdout.trim(), "0",
                    `${host}: the CA is in the bundle`);
            }
        });
        after(assertSshFromLan);
    });
});
