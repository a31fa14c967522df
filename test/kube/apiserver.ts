// A throwaway Kubernetes API server for the checker tier: Debian's etcd and the kube-apiserver
// that scripts/setup-kube-apiserver.sh built, on loopback ports picked free, in a temporary
// directory, with certificates made by openssl the way K3s lays them out (a server CA for
// the serving certificate, a client CA for the admin's). Flags as K3s passes them where it
// matters here: anonymous auth off, RBAC, privileged pods allowed. Every process started is
// stopped by its PID in stop(), and on the test process's exit as a last resort.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as tls from "tls";
import { checkerTools } from "./tools";

export interface ApiAnswer {
    readonly status: number;
    readonly body: string;
    /** The body as JSON, or undefined when it is not JSON. */
    readonly json: any;
    readonly warnings: string[];
}

export interface Credentials {
    readonly ca: string;
    readonly cert?: string;
    readonly key?: string;
}

export interface RequestOptions {
    readonly body?: unknown;
    readonly contentType?: string;
    /** Credentials other than the admin's; `{ ca }` alone is an anonymous client. */
    readonly credentials?: Credentials;
    /** The host name the serving certificate must be valid for (default 127.0.0.1). */
    readonly serverName?: string;
}

function openssl(args: string[], cwd: string): void {
    const r = spawnSync("openssl", args, { cwd, encoding: "utf8" });
    if (r.status !== 0) {
        throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
    }
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        });
    });
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
    for (const p of running) {
        if (p.pid !== undefined && p.exitCode === null) {
            process.kill(p.pid, "SIGKILL");
        }
    }
});

function startProcess(bin: string, args: string[], log: string): ChildProcess {
    const out = fs.openSync(log, "a");
    const p = spawn(bin, args, { stdio: ["ignore", out, out] });
    fs.closeSync(out);
    running.add(p);
    p.once("exit", () => running.delete(p));
    return p;
}

async function stopProcess(p: ChildProcess): Promise<void> {
    if (p.pid === undefined || p.exitCode !== null || p.signalCode !== null) {
        return;
    }
    const exited = new Promise<void>((r) => p.once("exit", () => r()));
    process.kill(p.pid, "SIGTERM");
    const timer = setTimeout(() => p.pid !== undefined && p.exitCode === null && process.kill(p.pid, "SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class KubeApiServer {
    private etcd?: ChildProcess;
    private etcdArgs: string[] = [];
    private apiserver?: ChildProcess;
    readonly dir: string;
    port = 0;
    /** PEMs: the CA that signed the serving certificate, and the admin client's certificate (then its CA, as K3s bundles it) and key. */
    serverCa = "";
    clientCa = "";
    adminCert = "";
    adminKey = "";
    /** The /readyz answers seen while the server came up, anonymous then admin ("401/500"), in order, deduplicated. */
    readonly startup: string[] = [];

    /** `sans`: the serving certificate's extra names and addresses (K3s' tls-san). */
    constructor(private readonly sans: readonly string[]) {
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "homecloud-kube-"));
    }

    get url(): string {
        return `https://127.0.0.1:${this.port}`;
    }

    private makeCertificates(): void {
        const d = this.dir;
        // Lifetimes as K3s gives them: CAs ten years, leaf certificates one year.
        const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        for (const ca of ["server-ca", "client-ca"]) {
            openssl(["req", "-x509", ...ec, "-keyout", `${ca}.key`, "-out", `${ca}.crt`, "-days", "3650",
                "-subj", `/CN=k3s-${ca}`], d);
        }
        const san = ["IP:127.0.0.1", "DNS:localhost", ...this.sans.map((s) => (net.isIPv4(s) ? `IP:${s}` : `DNS:${s}`))].join(",");
        const leaf = (name: string, subj: string, ca: string, ext: string[]) => {
            openssl(["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subj], d);
            fs.writeFileSync(path.join(d, `${name}.ext`), `${ext.join("\n")}\n`);
            openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-CAcreateserial",
                "-days", "365", "-out", `${name}.crt`, "-extfile", `${name}.ext`], d);
        };
        leaf("serving", "/CN=kube-apiserver", "server-ca", [`subjectAltName=${san}`, "extendedKeyUsage=serverAuth"]);
        leaf("admin", "/O=system:masters/CN=system:admin", "client-ca", ["extendedKeyUsage=clientAuth"]);
        openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", "sa.key"], d);
        openssl(["pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub"], d);
        const read = (f: string) => fs.readFileSync(path.join(d, f), "utf8");
        this.serverCa = read("server-ca.crt");
        this.clientCa = read("client-ca.crt");
        this.adminCert = read("admin.crt") + this.clientCa;
        this.adminKey = read("admin.key");
    }

    /** Starts etcd, then kube-apiserver, and waits until the admin's /readyz says ok. */
    async start(): Promise<void> {
        const tools = checkerTools();
        this.makeCertificates();
        const [etcdClient, etcdPeer] = [await freePort(), await freePort()];
        this.port = await freePort();
        const d = this.dir;
        this.etcdArgs = [
            "--name", "checker", "--data-dir", path.join(d, "etcd"),
            "--listen-client-urls", `http://127.0.0.1:${etcdClient}`, "--advertise-client-urls", `http://127.0.0.1:${etcdClient}`,
            "--listen-peer-urls", `http://127.0.0.1:${etcdPeer}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${etcdPeer}`,
            "--initial-cluster", `checker=http://127.0.0.1:${etcdPeer}`,
        ];
        this.etcd = startProcess(tools.etcd, this.etcdArgs, path.join(d, "etcd.log"));
        const f = (n: string) => path.join(d, n);
        this.apiserver = startProcess(tools.kubeApiserver, [
            `--etcd-servers=http://127.0.0.1:${etcdClient}`,
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", `--secure-port=${this.port}`,
            `--cert-dir=${f("apiserver-certs")}`,
            `--tls-cert-file=${f("serving.crt")}`, `--tls-private-key-file=${f("serving.key")}`,
            `--client-ca-file=${f("client-ca.crt")}`,
            `--service-account-key-file=${f("sa.pub")}`, `--service-account-signing-key-file=${f("sa.key")}`,
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--api-audiences=https://kubernetes.default.svc.cluster.local,k3s",
            "--service-cluster-ip-range=10.43.0.0/16",
            "--authorization-mode=Node,RBAC", "--anonymous-auth=false", "--allow-privileged=true",
            "--enable-admission-plugins=NodeRestriction", "--profiling=false",
        ], path.join(d, "kube-apiserver.log"));
        const deadline = Date.now() + 180_000;
        for (;;) {
            for (const p of [this.etcd, this.apiserver]) {
                if (p.exitCode !== null) {
                    throw new Error(`${p === this.etcd ? "etcd" : "kube-apiserver"} exited with ${p.exitCode}: ${this.logTail()}`);
                }
            }
            const anon = await this.request("GET", "/readyz", { credentials: { ca: this.serverCa } }).catch(() => undefined);
            const admin = anon && await this.request("GET", "/readyz").catch(() => undefined);
            const seen = `${anon?.status ?? "-"}/${admin?.status ?? "-"}`;
            if (anon && this.startup[this.startup.length - 1] !== seen) {
                this.startup.push(seen);
            }
            if (admin?.status === 200) {
                return;
            }
            if (Date.now() > deadline) {
                throw new Error(`kube-apiserver not ready after 180 s: ${this.logTail()}`);
            }
            await sleep(250);
        }
    }

    logTail(): string {
        const tail = (f: string) => {
            const p = path.join(this.dir, f);
            return fs.existsSync(p) ? fs.readFileSync(p, "utf8").split("\n").slice(-15).join("\n") : "";
        };
        return `\n--- etcd.log\n${tail("etcd.log")}\n--- kube-apiserver.log\n${tail("kube-apiserver.log")}`;
    }

    /** Stops etcd alone (by its PID): the kube-apiserver keeps running, as when etcd lost quorum. */
    async stopEtcd(): Promise<void> {
        if (this.etcd) {
            await stopProcess(this.etcd);
        }
    }

    /** Starts etcd again on its data and ports. */
    startEtcd(): void {
        this.etcd = startProcess(checkerTools().etcd, this.etcdArgs, path.join(this.dir, "etcd.log"));
    }

    /** Stops kube-apiserver, then etcd (each by its PID), and removes the directory. */
    async stop(): Promise<void> {
        for (const p of [this.apiserver, this.etcd]) {
            if (p) {
                await stopProcess(p);
            }
        }
        fs.rmSync(this.dir, { recursive: true, force: true });
    }

    /** Processes still running (none after stop). */
    pids(): number[] {
        return [this.apiserver, this.etcd].filter((p) => p && p.exitCode === null && p.signalCode === null).map((p) => p!.pid!);
    }

    /** One HTTPS request to the server on 127.0.0.1, as the admin unless other credentials are given. */
    request(method: string, urlPath: string, o: RequestOptions = {}): Promise<ApiAnswer> {
        const c = o.credentials ?? { ca: this.serverCa, cert: this.adminCert, key: this.adminKey };
        const body = o.body === undefined ? undefined : typeof o.body === "string" ? o.body : JSON.stringify(o.body);
        const serverName = o.serverName ?? "127.0.0.1";
        return new Promise((resolve, reject) => {
            const req = https.request({
                host: "127.0.0.1", port: this.port, method, path: urlPath, ca: c.ca, cert: c.cert, key: c.key,
                servername: net.isIP(serverName) ? undefined : serverName,
                checkServerIdentity: (_host, cert) => tls.checkServerIdentity(serverName, cert),
                headers: {
                    Accept: "application/json",
                    ...body === undefined ? {} : { "Content-Type": o.contentType ?? "application/json", "Content-Length": Buffer.byteLength(body) },
                },
                timeout: 30_000,
                agent: false,
            }, (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (d: Buffer) => chunks.push(d));
                res.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    let json: any;
                    try {
                        json = JSON.parse(text);
                    } catch {
                        json = undefined;
                    }
                    const w = res.headers.warning;
                    resolve({ status: res.statusCode ?? 0, body: text, json, warnings: w === undefined ? [] : [w].flat() });
                });
            });
            req.on("timeout", () => req.destroy(new Error(`${method} ${urlPath}: no answer in 30 s`)));
            req.on("error", reject);
            req.end(body);
        });
    }
}
