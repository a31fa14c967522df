// The gateway's services checked from the lab's hosts, as a user on the LAN or the home
// network meets them: DHCP, DNS, NAT, the VIP, the balancer's health checks (measured), a
// reload that keeps connections, names for pool clients. The phases run them after the
// first `up`, after a reboot, after a rejected change and after a return to the stack.
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { STATE_DIR } from "../../host/hostFile";
import {
    bash, CLIENT_MAC, clusterKind, DOMAIN, engine, exec, execOk, GW_LAN, GW_WAN, ipNum, PLAN, REPO, Result, run, RUN_DIR,
    stackVariant, summaryOf, UNKNOWN_MAC, VIP,
} from "./lab-helpers";

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
export function poolLease(hostname: string | null): string {
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
export function clientBack(): void {
    clientRelease();
    execOk("client", "ip", "link", "set", "eth0", "address", CLIENT_MAC);
}

/**
 * Milliseconds until `name` resolves to `ip` and `ip` back to `name` at the gateway, polled
 * from node1 every 100 ms. For a removed name pass the removed address as `gone`: then the
 * name must no longer resolve to it (nothing, or the wildcard's ingress) and it has no PTR.
 */
export function waitName(name: string, ip: string, limitMs: number, gone?: string): number {
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

export function checkDhcp(): void {
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

export function digShort(host: string, ...args: string[]): string {
    const r = dig(host, "+short", ...args);
    assert.strictEqual(r.code, 0, `dig ${args.join(" ")} from ${host} exited ${r.code}: ${r.stdout}${r.stderr}`);
    return r.stdout.trim();
}

export function checkDns(): void {
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

export function checkNat(): void {
    assert.strictEqual(execOk("client", "curl", "-s", "--max-time", "5", `http://${PLAN.uplink}/`).trim(), GW_WAN);
}

/** curl to the VIP's API port as a cluster admin would (the lab's client certificate; -k: the lab's server CA). */
const API_CURL = "curl -sk --max-time 3 --cert /etc/lab-api/client.crt --key /etc/lab-api/client.key";

/**
 * A shell line: one new connection to the VIP's API, `GET /` as the admin; prints the server
 * that answered (the CN of its serving certificate, the node's name, for the stand-ins and
 * the real kube-apiserver alike) and the seconds it took, or FAIL and the seconds.
 */
const API_LANDING = `r=$(${API_CURL} -o /dev/null -w '%{http_code} %{time_total}\\n%{certs}' https://${VIP}:${PLAN.apiPort}/); ` +
    "cn=$(printf '%s\\n' \"$r\" | sed -n 's/^Subject:CN = //p' | head -n 1); set -- $r; " +
    "if [ \"$1\" = 200 ] && [ -n \"$cn\" ]; then echo \"$cn $2\"; else echo \"FAIL $2\"; fi";

/** Where `n` new connections to the VIP's API land: node name → count ("FAIL" for a failed one). */
function apiSpread(host: string, n: number): Record<string, number> {
    const out = bash(host, `for i in $(seq ${n}); do ${API_LANDING}; done`).stdout;
    const counts: Record<string, number> = {};
    for (const l of out.split("\n").filter(Boolean)) {
        const who = l.split(" ")[0];
        counts[who] = (counts[who] ?? 0) + 1;
    }
    return counts;
}

export function checkVip(): void {
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

/** The figures of this run start afresh (the first phase). */
export function resetFigures(): void {
    fs.rmSync(FIGURES, { force: true });
}

export function figure(line: string): void {
    console.log(`      ${line}`);
    fs.appendFileSync(FIGURES, `${line}\n`);
}

/** HAProxy's own view: server → UP / DOWN / … for the API backend, from its stats socket on gw. */
export function backendStates(): Record<string, string> {
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
    const out = bash("uplink", `for i in $(seq ${n}); do ${API_LANDING}; done`).stdout;
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

/**
 * How the balancer's faults are made on a server, and how long HAProxy may take over them:
 * the stand-ins by their flag files; the real control plane (lab/cluster.sh) by its
 * processes. A real kube-apiserver has no K3s supervisor in front answering 503 while it
 * starts, so its "up but not answering as it should" is a frozen process (SIGSTOP: the
 * kernel still accepts connections, the TLS handshake never comes), which the check's
 * timeout takes out; its etcd is down when its own member is (it asks no other, as K3s's).
 */
interface Faults {
    readonly notReady: { label: string; on: string[]; off: string[] };
    readonly etcdDown: { label: string; on: string[]; off: string[] };
    /**
     * Limits, ms: back UP after lab-api restarts; out after the not-ready fault and back UP
     * after it; out after the etcd fault; back UP after it (and after node3 is plugged back).
     */
    readonly restartUpMs: number;
    readonly notReadyDownMs: number;
    readonly notReadyUpMs: number;
    readonly etcdDownMs: number;
    readonly etcdUpMs: number;
}
const FAULTS: Record<"real" | "standin", Faults> = {
    standin: {
        notReady: { label: "API answering 503", on: ["touch", "/etc/lab-api/notready"], off: ["rm", "-f", "/etc/lab-api/notready"] },
        etcdDown: { label: "etcd down behind node2's API", on: ["touch", "/etc/lab-api/etcd-down"], off: ["rm", "-f", "/etc/lab-api/etcd-down"] },
        restartUpMs: 5_000,
        notReadyDownMs: 3_000,
        notReadyUpMs: 5_000,
        etcdDownMs: 4_000,
        etcdUpMs: 5_000,
    },
    real: {
        notReady: { label: "kube-apiserver frozen (SIGSTOP)", on: ["systemctl", "kill", "-s", "SIGSTOP", "lab-api"], off: ["systemctl", "kill", "-s", "SIGCONT", "lab-api"] },
        etcdDown: { label: "node2's etcd member stopped", on: ["systemctl", "stop", "lab-etcd"], off: ["systemctl", "start", "lab-etcd"] },
        // Measured (first boot, two loaded cores): back UP 4.7-6.8 s after a restart (the
        // apiserver starts in ~4 s); frozen: out after 2.9 s, UP 3.4 s after SIGCONT; its
        // etcd member stopped: 500 after 5.8 s (its own etcd probe), out after 6.0 s, UP
        // again 3.6 s after the member starts; node3 plugged back: UP after 3.1 s.
        restartUpMs: 30_000,
        notReadyDownMs: 8_000,
        notReadyUpMs: 10_000,
        etcdDownMs: 15_000,
        etcdUpMs: 15_000,
    },
};

/** `/readyz` on node2 asked from gw: its status code, anonymous or with HAProxy's check certificate. */
function node2Readyz(withCert: boolean): string {
    const cert = withCert ? "--cert /etc/homecloud/pki/k3s-api-check --key /etc/homecloud/pki/k3s-api-check.key " : "";
    return bash("gw", `curl -sk --max-time 3 -o /dev/null -w '%{http_code}' ${cert}https://10.77.0.12:6443/readyz`).stdout;
}

export function checkBalancer(when: string): void {
    const kind = clusterKind();
    const faults = FAULTS[kind];
    allUp();
    // A server's API process stops: its port refuses connections. Timed from the stop request
    // (--no-block: a real kube-apiserver closes its port at once, then drains for a while).
    let t = Date.now();
    execOk("node2", "systemctl", "stop", "--no-block", "lab-api");
    const detectStopped = waitState("node2", "DOWN", t, 3_000);
    const afterStop = timedConnections(60);
    t = Date.now();
    execOk("node2", "systemctl", "start", "lab-api");
    const backStopped = waitState("node2", "UP", t, faults.restartUpMs);
    figure(`${when}: responder stopped: DOWN after ${detectStopped} ms; then ${afterStop.failed} of 60 new connections failed ` +
        `(spread ${JSON.stringify(afterStop.spread)}); back UP ${backStopped} ms after restart (${kind})`);
    assert.ok(detectStopped <= 3_000, `detection took ${detectStopped} ms`);
    assert.strictEqual(afterStop.failed, 0);
    assert.deepStrictEqual(afterStop.spread, { node1: 30, node3: 30 });
    assert.ok(backStopped <= faults.restartUpMs, `back in rotation after ${backStopped} ms`);

    // Stopped again, this time asked at once, inside the detection window: redispatch covers it.
    execOk("node2", "systemctl", "stop", "--no-block", "lab-api");
    const inWindow = timedConnections(12);
    execOk("node2", "systemctl", "start", "lab-api");
    waitState("node2", "UP", Date.now(), faults.restartUpMs);
    figure(`${when}: responder stopped, 12 connections at once: ${inWindow.failed} failed, slowest ${inWindow.slowestMs} ms`);
    assert.strictEqual(inWindow.failed, 0);

    // Up but not ready: K3s answers 503 until its apiserver runs (the stand-ins), or the real
    // apiserver hangs; the https check takes it out.
    t = Date.now();
    execOk("node2", ...faults.notReady.on);
    let detectNotReady: number;
    let notReady: ReturnType<typeof timedConnections>;
    try {
        detectNotReady = waitState("node2", "DOWN", t, faults.notReadyDownMs);
        notReady = timedConnections(30);
    } finally {
        execOk("node2", ...faults.notReady.off);
    }
    const backNotReady = waitState("node2", "UP", Date.now(), faults.notReadyUpMs);
    figure(`${when}: ${faults.notReady.label}: DOWN after ${detectNotReady} ms; ${notReady.failed} of 30 failed; UP again after ${backNotReady} ms`);
    assert.strictEqual(notReady.failed, 0);
    assert.deepStrictEqual(notReady.spread, { node1: 15, node3: 15 });

    // etcd lost behind node2's apiserver: it still answers an anonymous request 401 (which the
    // check without a certificate passes), /readyz with the cluster's client certificate 500.
    const cfg = bash("gw", "cat /etc/haproxy/haproxy.cfg").stdout;
    assert.ok(cfg.includes("    http-check expect status 200\n") && cfg.includes(" crt /etc/homecloud/pki/k3s-api-check\n"),
        "HAProxy checks with the client certificate signed on node1");
    t = Date.now();
    execOk("node2", ...faults.etcdDown.on);
    try {
        // The real apiserver notices by its own etcd probe, within seconds; the stand-in at once.
        let withCert = node2Readyz(true);
        while (withCert !== "500" && Date.now() - t < faults.etcdDownMs) {
            spawnSync("sleep", ["0.2"]);
            withCert = node2Readyz(true);
        }
        const noticedMs = Date.now() - t;
        assert.strictEqual(node2Readyz(false), "401", "anonymous: 401 (the old check kept such a server in)");
        assert.strictEqual(withCert, "500", `with HAProxy's certificate: 500 (still ${withCert} after ${noticedMs} ms)`);
        const detectEtcd = waitState("node2", "DOWN", t, faults.etcdDownMs);
        const etcdDown = timedConnections(30);
        figure(`${when}: ${faults.etcdDown.label} (anonymous 401, certificate 500 after ${noticedMs} ms): DOWN after ${detectEtcd} ms; ` +
            `${etcdDown.failed} of 30 failed`);
        assert.strictEqual(etcdDown.failed, 0);
        assert.deepStrictEqual(etcdDown.spread, { node1: 15, node3: 15 });
    } finally {
        execOk("node2", ...faults.etcdDown.off);
    }
    figure(`${when}: etcd back: node2 UP after ${waitState("node2", "UP", Date.now(), faults.etcdUpMs)} ms`);

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
    const backUnplugged = waitState("node3", "UP", Date.now(), faults.etcdUpMs);
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
        "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False",
        "ctx.load_verify_locations('/etc/lab-api/server-ca.crt')",
        "ctx.load_cert_chain('/etc/lab-api/client.crt', '/etc/lab-api/client.key')",
        `c = http.client.HTTPSConnection('${VIP}', ${PLAN.apiPort}, context=ctx, timeout=300)`,
        // The server that answered: its certificate's CN (the node's name), and the answer's status.
        "who = lambda r: dict(x[0] for x in c.sock.getpeercert()['subject'])['commonName'] + '/' + str(r.status)",
        "c.request('GET', '/'); r = c.getresponse(); r.read(); print('before', who(r), flush=True)",
        "while not os.path.exists('/tmp/hc-reloaded'): time.sleep(0.1)",
        "c.request('GET', '/'); r = c.getresponse(); r.read(); print('after', who(r), flush=True)",
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
    const node3 = `    - { name: node3, mac: "02:77:00:00:00:13", ip: 10.77.0.13, role: server }`;
    return stackVariant("more-servers", (y) => {
        assert.ok(y.includes(node3), "Pulumi.lab.yaml's node3 line changed; update this test");
        return y.replace(node3, [node3,
            `    - { name: node4, mac: "02:77:00:00:00:14", ip: 10.77.0.14, role: server }`,
            `    - { name: node5, mac: "02:77:00:00:00:15", ip: 10.77.0.15, role: server }`].join("\n"))
            // No host answers for them: no key, certificate or trust to put there.
            .replace(/\s*$/, "\n  homecloud:certificateExclude: [node4, node5]\n");
    });
}

export function checkReloadKeepsConnections(when: string): void {
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

/** The gateway's files the program writes (a shell glob list for sha256sum). */
export const WATCHED_FILES = [
    "/etc/kea/kea-dhcp4.conf", "/etc/bind/named.conf.options", "/etc/bind/named.conf.local", `${STATE_DIR}/zones/*`,
    "/etc/homecloud/nat.nft", "/etc/systemd/system/homecloud-nat.service", "/etc/sysctl.d/90-homecloud*.conf",
    "/etc/haproxy/haproxy.cfg", "/etc/kea/kea-dhcp-ddns.conf", "/etc/bind/homecloud-keys/*",
].join(" ");
const UNITS = ["kea-dhcp4-server", "kea-dhcp-ddns-server", "named", "homecloud-nat", "haproxy"];

export function fingerprint(): { files: string; started: string } {
    const files = bash("gw", `sha256sum ${WATCHED_FILES}`);
    assert.strictEqual(files.code, 0, files.stderr);
    const started = UNITS.map((u) => `${u} ${execOk("gw", "systemctl", "show", "-p", "ActiveEnterTimestampMonotonic", u).trim()}`).join("\n");
    assert.doesNotMatch(started, /=0$/m, `a unit is not active:\n${started}`);
    return { files: files.stdout, started };
}
