// Phase 11: the lab's real control plane (lab/cluster.sh), when the real binaries are there:
// on node1..3 an etcd member each (one cluster over the LAN) and a real kube-apiserver on
// 6443 using its own member, as K3s runs them. Through the VIP (the gateway's HAProxy,
// checking /readyz with the certificate the program signed with K3s's client CA on node1)
// kubectl works with a kubeconfig made as K3s makes one: a ConfigMap written through the VIP
// is read from each server directly (one etcd behind all three). Then two of the three etcd
// members stop: HAProxy takes every server out, requests through the VIP fail until the
// members are back and HAProxy has them UP again; the figures are printed and kept.
// With the stand-ins (no binaries) the phase says so in one line and runs nothing.
import * as assert from "assert";
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { backendStates, figure } from "./gateway-checks";
import { bash, clusterKind, execOk, labPhase, PLAN, run, RUN_DIR, VIP } from "./lab-helpers";

const CACHE_BIN = path.join(process.env.HOMECLOUD_CACHE ?? "/var/cache/homecloud", "bin");
const KUBECTL = path.join(CACHE_BIN, "kubectl");
const PKI = path.join(RUN_DIR, "api-pki");
const WORK = path.join(RUN_DIR, "control-plane");
const K3S_TLS = "/var/lib/rancher/k3s/server/tls";
/** Where the home network's side of the lab asks from: the uplink host's namespace. */
const UPLINK_NS = "hc-uplink";

/** kubectl with `kubeconfig`, run in the network namespace `ns` (null: the root namespace, on the LAN by the management veth). */
function kubectl(ns: string | null, kubeconfig: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
    const argv = [KUBECTL, `--kubeconfig=${kubeconfig}`, "--request-timeout=10s", ...args];
    return ns === null ? run(argv[0], argv.slice(1)) : run("ip", ["netns", "exec", ns, ...argv]);
}

function kubectlOk(ns: string | null, kubeconfig: string, ...args: string[]): string {
    const r = kubectl(ns, kubeconfig, ...args);
    assert.strictEqual(r.code, 0, `kubectl ${args.join(" ")} (${kubeconfig}) exited ${r.code}: ${r.stderr}`);
    return r.stdout;
}

/** A kubeconfig for `server` trusting the cluster's server CA, as the user in `cert`/`key`. */
function kubeconfig(name: string, server: string, cert: string, key: string): string {
    const f = path.join(WORK, `${name}.kubeconfig`);
    fs.writeFileSync(f, [
        "apiVersion: v1", "kind: Config",
        "clusters:", `- name: lab`, "  cluster:", `    server: ${server}`, `    certificate-authority: ${path.join(PKI, "server-ca.crt")}`,
        "users:", `- name: admin`, "  user:", `    client-certificate: ${cert}`, `    client-key: ${key}`,
        "contexts:", "- name: lab", "  context: { cluster: lab, user: admin }",
        "current-context: lab", "",
    ].join("\n"), { mode: 0o600 });
    return f;
}

function openssl(...args: string[]): void {
    const r = run("openssl", args);
    assert.strictEqual(r.code, 0, `openssl ${args.join(" ")}: ${r.stderr}`);
}

/** Milliseconds from `since` until HAProxy shows `n` API servers (default: every one) `state` (polled on gw every 50 ms), or fails after `limitMs`. */
function waitAll(state: "UP" | "DOWN", since: number, limitMs: number, n = PLAN.nodes.length): number {
    const loop = `for i in $(seq ${Math.ceil(limitMs / 50) + 20}); do ` +
        `[ "$(echo 'show stat' | socat stdio /run/haproxy/admin.sock | grep -c '^k3s-servers,node[0-9]*,.*,${state}')" -ge ${n} ] && exit 0; ` +
        "sleep 0.05; done; exit 1";
    const r = bash("gw", loop);
    const ms = Date.now() - since;
    assert.strictEqual(r.code, 0, `not ${n} servers ${state} after ${ms} ms: ${JSON.stringify(backendStates())}`);
    return ms;
}

/** Every etcd member as node1's member sees them: "name peerURL", sorted. */
function etcdMembers(): string[] {
    const out = execOk("node1", "curl", "-s", "--max-time", "5", "-X", "POST", "-d", "{}", "http://127.0.0.1:2379/v3/cluster/member/list");
    return (JSON.parse(out).members as { name: string; peerURLs: string[] }[]).map((m) => `${m.name} ${m.peerURLs.join(",")}`).sort();
}

labPhase("11: a real HA control plane on node1..3 (etcd members, kube-apiservers) behind the VIP", function () {
    const cm = `hc-lab-${crypto.randomBytes(3).toString("hex")}`;
    let viaVip = "";
    const direct: Record<string, string> = {};
    const stopped: string[] = [];

    before(function () {
        if (clusterKind() !== "real") {
            console.log("      phase 11 not run: this lab runs the K3s API stand-ins (no kube-apiserver built by " +
                "scripts/setup-kube-apiserver.sh in $HOMECLOUD_CACHE/bin, no Debian etcd, or HOMECLOUD_LAB_CLUSTER=standin; lab/up.sh said which)");
            this.skip();
        }
        assert.ok(fs.existsSync(KUBECTL), `${KUBECTL} (scripts/setup-kube-apiserver.sh builds it with kube-apiserver)`);
        fs.mkdirSync(WORK, { recursive: true });
        // An admin certificate signed with the client CA where K3s keeps it on node1, as K3s
        // signs the one in its kubeconfig (the program signs HAProxy's check with the same CA).
        for (const f of ["client-ca.crt", "client-ca.key"]) {
            fs.writeFileSync(path.join(WORK, f), execOk("node1", "cat", `${K3S_TLS}/${f}`), { mode: 0o600 });
        }
        const w = (f: string) => path.join(WORK, f);
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/O=system:masters/CN=homecloud-lab-admin",
            "-keyout", w("admin.key"), "-out", w("admin.csr"));
        fs.writeFileSync(w("admin.ext"), "extendedKeyUsage=clientAuth\n");
        openssl("x509", "-req", "-in", w("admin.csr"), "-CA", w("client-ca.crt"), "-CAkey", w("client-ca.key"), "-set_serial", "0x1001",
            "-days", "1", "-extfile", w("admin.ext"), "-out", w("admin.crt"));
        viaVip = kubeconfig("vip", `https://${VIP}:${PLAN.apiPort}`, w("admin.crt"), w("admin.key"));
        for (const n of PLAN.nodes) {
            direct[n.name] = kubeconfig(n.name, `https://${n.ip}:6443`, w("admin.crt"), w("admin.key"));
        }
    });

    after(() => {
        // Whatever failed: the members are started again, the ConfigMap goes.
        for (const h of stopped) {
            execOk(h, "systemctl", "start", "lab-etcd");
        }
        if (viaVip) {
            kubectl(UPLINK_NS, viaVip, "delete", "configmap", cm, "--ignore-not-found", "--wait=false");
        }
    });

    it("etcd: three members, one a node, peers on the LAN addresses; HAProxy has every server UP by the program's check certificate", () => {
        assert.deepStrictEqual(etcdMembers(), PLAN.nodes.map((n) => `${n.name} http://${n.ip}:2380`));
        const csv = execOk("gw", "bash", "-c", "echo 'show stat' | socat stdio /run/haproxy/admin.sock");
        const header = csv.split("\n")[0].replace(/^# /, "").split(",");
        const col = (f: string[], name: string) => f[header.indexOf(name)];
        const servers = csv.split("\n").filter((l) => /^k3s-servers,node/.test(l)).map((l) => l.split(","))
            .map((f) => `${f[1]} ${col(f, "status")} ${col(f, "check_status")} ${col(f, "check_code")}`);
        assert.deepStrictEqual(servers, PLAN.nodes.map((n) => `${n.name} UP L7OK 200`));
    });

    it("kubectl through the VIP from the home network: /readyz ok, the pinned release, the namespaces a new cluster has", () => {
        assert.strictEqual(kubectlOk(UPLINK_NS, viaVip, "get", "--raw", "/readyz"), "ok");
        const version = JSON.parse(kubectlOk(UPLINK_NS, viaVip, "get", "--raw", "/version"));
        assert.strictEqual(version.gitVersion, "v1.34.4");
        assert.deepStrictEqual(kubectlOk(UPLINK_NS, viaVip, "get", "namespaces", "-o", "name").trim().split("\n").sort(),
            ["namespace/default", "namespace/kube-node-lease", "namespace/kube-public", "namespace/kube-system"]);
        // Without a client certificate: 401, as K3s (anonymous auth off).
        assert.strictEqual(bash("uplink", `curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert /etc/lab-api/server-ca.crt https://${VIP}:${PLAN.apiPort}/readyz`).stdout, "401");
    });

    it("one etcd behind three apiservers: a ConfigMap created through the VIP reads the same from each server directly", () => {
        const t = Date.now();
        kubectlOk(UPLINK_NS, viaVip, "create", "configmap", cm, "-n", "default", "--from-literal=written-through=vip");
        const created = JSON.parse(kubectlOk(UPLINK_NS, viaVip, "get", "configmap", cm, "-n", "default", "-o", "json"));
        const seen = PLAN.nodes.map((n) => {
            const o = JSON.parse(kubectlOk(null, direct[n.name], "get", "configmap", cm, "-n", "default", "-o", "json"));
            return `${n.name} ${o.metadata.uid} ${o.metadata.resourceVersion} ${JSON.stringify(o.data)}`;
        });
        assert.deepStrictEqual(seen, PLAN.nodes.map((n) =>
            `${n.name} ${created.metadata.uid} ${created.metadata.resourceVersion} {"written-through":"vip"}`));
        figure(`control plane: ConfigMap created through the VIP and read from node1, node2, node3 directly in ${Date.now() - t} ms ` +
            `(resourceVersion ${created.metadata.resourceVersion} on all three)`);
    });

    it("two of three etcd members stopped: HAProxy takes every server out, API requests through the VIP fail until the members are back", () => {
        // From the home network, one request through the VIP every 200 ms (a new connection
        // each, at most 2 s): "<ms since epoch> <HTTP status>", until the stop file appears.
        const log = path.join(WORK, "requests.log");
        const stop = path.join(WORK, "requests.stop");
        const done = path.join(WORK, "requests.done");
        for (const f of [log, stop, done]) {
            fs.rmSync(f, { force: true });
        }
        const url = `https://${VIP}:${PLAN.apiPort}/api/v1/namespaces/default/configmaps/${cm}`;
        const curl = `curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert ${PKI}/server-ca.crt ` +
            `--cert ${WORK}/admin.crt --key ${WORK}/admin.key ${url}`;
        const loop = `while [ ! -e ${stop} ]; do t=$(date +%s%3N); c=$(${curl}); echo "$t $c" >>${log}; sleep 0.2; done; : >${done}`;
        const asker = spawn("ip", ["netns", "exec", UPLINK_NS, "bash", "-c", loop], { stdio: "ignore" });
        try {
            const waitFor = (f: string, ms: number) => {
                for (const end = Date.now() + ms; !fs.existsSync(f) && Date.now() < end;) {
                    run("sleep", ["0.1"]);
                }
            };
            waitFor(log, 5_000);
            const t0 = Date.now();
            for (const h of ["node2", "node3"]) {
                execOk(h, "systemctl", "stop", "lab-etcd");
                stopped.push(h);
            }
            const allDown = waitAll("DOWN", t0, 60_000);
            const readyz = kubectl(null, direct.node1, "get", "--raw", "/readyz?verbose");
            // node1 still runs its member: without a quorum its apiserver's etcd check fails.
            assert.notStrictEqual(readyz.code, 0, `node1's /readyz without an etcd quorum: ${readyz.stdout}`);
            assert.match(readyz.stdout + readyz.stderr, /\[-\]etcd failed/);
            // The outage lasts 5 s more with every server out.
            run("sleep", ["5"]);
            const t1 = Date.now();
            for (const h of ["node2", "node3"]) {
                execOk(h, "systemctl", "start", "lab-etcd");
                stopped.splice(stopped.indexOf(h), 1);
            }
            const firstUp = waitAll("UP", t1, 120_000, 1);
            const allUp = waitAll("UP", t1, 120_000);
            const t2 = Date.now();
            // Until a request started after every server was UP has finished: one that started
            // just before may still be waiting out its 2 s timeout.
            const answeredAfter = (): boolean => fs.readFileSync(log, "utf8").trim().split("\n")
                .some((l) => Number(l.split(" ")[0]) > t2 + 200);
            for (const end = Date.now() + 15_000; !answeredAfter() && Date.now() < end;) {
                run("sleep", ["0.1"]);
            }
            fs.writeFileSync(stop, "");
            waitFor(done, 10_000);
            assert.ok(fs.existsSync(done), "the request loop ended");
            const rows = fs.readFileSync(log, "utf8").trim().split("\n").map((l) => l.split(" ")).map(([t, c]) => ({ t: Number(t), c }));
            const inWindow = rows.filter((r) => r.t >= t0 && r.t <= t2);
            const failed = inWindow.filter((r) => r.c !== "200");
            const before = rows.filter((r) => r.t < t0);
            const after = rows.filter((r) => r.t > t2 + 200);
            const firstFail = failed.length ? ((failed[0].t - t0) / 1000).toFixed(1) : "-";
            const lastFail = failed.length ? ((failed[failed.length - 1].t - t0) / 1000).toFixed(1) : "-";
            figure(`control plane: 2 of 3 etcd members stopped: every server DOWN in HAProxy after ${(allDown / 1000).toFixed(1)} s; ` +
                `members started again: the first server UP after ${(firstUp / 1000).toFixed(1)} s, every one after ${(allUp / 1000).toFixed(1)} s; ` +
                `${failed.length} of ${inWindow.length} requests through the VIP failed meanwhile (the first at ${firstFail} s, the last at ${lastFail} s; ` +
                `statuses ${JSON.stringify(Object.fromEntries([...new Set(failed.map((r) => r.c))].map((c) => [c, failed.filter((r) => r.c === c).length])))})`);
            assert.ok(before.length > 0 && before.every((r) => r.c === "200"), `requests before the stop: ${JSON.stringify(before)}`);
            assert.ok(after.length > 0 && after.every((r) => r.c === "200"), `requests after every server is UP: ${JSON.stringify(after)}`);
            // While HAProxy had every server out, nothing could answer 200.
            const tDown = t0 + allDown;
            const whileDown = inWindow.filter((r) => r.t > tDown + 500 && r.t < t1);
            assert.ok(whileDown.length > 0 && whileDown.every((r) => r.c !== "200"), `requests while every server was DOWN: ${JSON.stringify(whileDown)}`);
            assert.ok(failed.length >= whileDown.length);
        } finally {
            fs.writeFileSync(stop, "");
            if (asker.pid !== undefined && asker.exitCode === null) {
                for (let i = 0; i < 30 && !fs.existsSync(done); i++) {
                    run("sleep", ["0.1"]);
                }
                if (!fs.existsSync(done)) {
                    process.kill(asker.pid, "SIGTERM");
                }
            }
        }
        // The data survived: the ConfigMap is there, written before the quorum was lost.
        const o = JSON.parse(kubectlOk(UPLINK_NS, viaVip, "get", "configmap", cm, "-n", "default", "-o", "json"));
        assert.deepStrictEqual(o.data, { "written-through": "vip" });
        assert.deepStrictEqual(etcdMembers(), PLAN.nodes.map((n) => `${n.name} http://${n.ip}:2380`));
    });
});
