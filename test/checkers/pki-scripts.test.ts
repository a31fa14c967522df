// The private CA's scripts (pki/*.sh) on a real shell, through the very command lines the
// hosts get (sudo replaced by a function that runs the rest as is). Each emulated host
// (gw, node1) runs in its own private mount namespace (test/fixtures/emulatedHost.ts).
// Real openssl, real update-ca-certificates. Needs root (unshare, mount).
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as net from "net";
import * as fs from "fs";
import * as path from "path";
import { parseAddressPlan } from "../../config/validate";
import { fileCommand } from "../../host/hostFile";
import { PKI_TOOLKIT_DIR, scriptsIn } from "../../host/toolkit";
import {
    API_CHECK_LABEL, API_CHECK_USER, caCreateCommand, caRemoveCommand, certFile, clientCertFile, k3sClientForgetCommand, k3sClientSignCommand, keyForgetCommand,
    keyRequestCommand, permittedNames, signCommand, trustFile, unsignCommand,
} from "../../pki/pkiSteps";
import { renderHaproxyConfig } from "../../network/haproxy";
import { stackFile } from "../program";
import { assertScriptsPass } from "../assertions";
import { hostDir, Run, runOnHost } from "../fixtures/emulatedHost";

const REPO = path.resolve(__dirname, "..", "..");
const ROOT = `/tmp/hc-pki-test-${process.pid}`;
const PLAN = parseAddressPlan(stackFile("Pulumi.lab.yaml")).plan;
const NODE1_SANS = ["DNS:node1.lab.home.arpa", "IP:10.77.0.11"];

const dir = (host: string, what: string): string => hostDir(ROOT, host, what);

/** Runs a command line on emulated host `host`, with `stdin`. */
const onHost = (host: string, commandLine: string, stdin = ""): Run => runOnHost(ROOT, host, commandLine, stdin);

function ok(r: Run, what: string): string {
    assert.strictEqual(r.status, 0, `${what} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
}

/** A file as the host sees it under /etc (the overlay's upper layer holds what the host wrote). */
const etc = (host: string, p: string): string => path.join(dir(host, "upper"), p.replace(/^\/etc\//, ""));
const mode = (p: string): string => (fs.statSync(p).mode & 0o7777).toString(8);

function openssl(args: string[], input = ""): Run {
    const r = spawnSync("openssl", args, { input, encoding: "utf8" });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmpFile(name: string, text: string): string {
    const p = `${ROOT}/${name}`;
    fs.writeFileSync(p, text);
    return p;
}

const serial = (pem: string): string => ok(openssl(["x509", "-noout", "-serial"], pem), "serial").trim();
const sha = (p: string): string => ok({ ...spawnSync("sha256sum", [p], { encoding: "utf8" }) } as Run, "sha256sum").split(" ")[0];
/** How many certificates of the host's system bundle are the CA's. */
const inBundle = (host: string, ca: string): boolean =>
    onHost(host, `grep -qF -- ${JSON.stringify(ca.split("\n")[1])} /etc/ssl/certs/ca-certificates.crt`).status === 0;

const sign = (csr: string, issue: string, caPem: string, sans = NODE1_SANS): Run => onHost("gw", signCommand({
    name: "node1-host", profile: "server", sans, days: 90, issue, caSha256: caPem.length.toString(16),
}), csr);

describe("PKI scripts as files", () => {
    it("pass shellcheck and bash -n", () => {
        const files = scriptsIn("pki");
        assert.deepStrictEqual(files, ["pki/ca.sh", "pki/cert.sh", "pki/client-cert.sh", "pki/cluster-issuer.sh", "pki/k3s-client.sh", "pki/key.sh", "pki/lib.sh", "pki/reachable.sh", "pki/trust.sh"]);
        assertScriptsPass(files);
    });

    it("reachable.sh: a node that answers passes; one that does not fails fast naming homecloud:lostNodes", async () => {
        const server = net.createServer((c) => c.end());
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const port = String((server.address() as { port: number }).port);
        const script = path.join(REPO, "pki/reachable.sh");
        const env = (p: string) => ({ PATH: process.env.PATH, HC_NODE: "node3", HC_ADDRESS: "127.0.0.1", HC_PORT: p, HC_TRIES: "2" });
        const up = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
            const p = spawn("bash", [script], { env: env(port) });
            let stdout = "", stderr = "";
            p.stdout.on("data", (d: Buffer) => stdout += d);
            p.stderr.on("data", (d: Buffer) => stderr += d);
            p.on("close", (status: number | null) => resolve({ status, stdout, stderr }));
        });
        assert.deepStrictEqual(up, { status: 0, stdout: `homecloud: node3 answers at 127.0.0.1:${port}\n`, stderr: "" });
        server.close();
        await new Promise((r) => setTimeout(r, 100));
        const start = Date.now();
        const down = spawnSync("bash", [script], { encoding: "utf8", env: env(port) });
        assert.strictEqual(down.status, 1);
        assert.strictEqual(down.stdout, "");
        assert.strictEqual(down.stderr, "homecloud: node3 (127.0.0.1) does not answer on port " + port + " from the gateway; if it is gone for good, " +
            "add node3 to homecloud:lostNodes: its steps on the node are then dropped without running (README: A node that is gone); " +
            "if it is only down, bring it back and run pulumi up again\n");
        assert.ok(Date.now() - start < 2 * 2000 + 1500, `took ${Date.now() - start} ms`);
    });

    it("say how to use them", () => {
        for (const [f, usage] of [["ca.sh", "create|remove|sign|unsign"], ["cluster-issuer.sh", "install|remove"], ["k3s-client.sh", "sign|forget"]]) {
            const r = spawnSync("bash", [path.join(REPO, "pki", f), "nonsense"], {
                encoding: "utf8", env: { PATH: process.env.PATH, HC_NAMESPACE: "x", HC_SECRET: "x", HC_LABEL: "x" },
            });
            assert.strictEqual(r.status, 2);
            assert.strictEqual(r.stderr, `usage: ${f} ${usage}\n`);
        }
    });
});

describe("PKI scripts on a real shell: CA on gw, a key and certificate on node1", function () {
    this.timeout(60_000);
    let caPem = "";
    let csr = "";
    let cert = "";

    before(() => {
        fs.rmSync(ROOT, { recursive: true, force: true });
        fs.mkdirSync(ROOT, { recursive: true });
    });
    after(() => {
        fs.rmSync(ROOT, { recursive: true, force: true });
    });

    it("gw: creates the CA once, root-only key, prints only its certificate; a re-run keeps it", () => {
        const first = onHost("gw", caCreateCommand(PLAN));
        caPem = ok(first, "ca create");
        assert.match(caPem, /^-----BEGIN CERTIFICATE-----\n[^]*\n-----END CERTIFICATE-----\n$/);
        assert.doesNotMatch(first.stdout + first.stderr, /PRIVATE KEY/);
        assert.match(first.stderr, /^homecloud: CA created: subject=CN = homecloud CA lab\.home\.arpa notAfter=/);
        assert.strictEqual(mode(etc("gw", "/etc/homecloud/ca/ca.key")), "600");
        assert.strictEqual(mode(etc("gw", "/etc/homecloud/ca")), "700");
        const text = ok(openssl(["x509", "-noout", "-text"], caPem), "x509 -text");
        assert.match(text, /CA:TRUE/);
        assert.match(text, /Permitted:\n\s+DNS:lab\.home\.arpa\n\s+IP:10\.77\.0\.0\/255\.255\.255\.0/);
        assert.match(text, /Not After : .* 20(3[5-9])/);
        assert.strictEqual(permittedNames(PLAN), "permitted;DNS:lab.home.arpa,permitted;IP:10.77.0.0/255.255.255.0");

        const again = onHost("gw", caCreateCommand({ ...PLAN, domain: "other.home.arpa" }));
        assert.strictEqual(ok(again, "ca create again"), caPem, "an existing CA is kept, whatever the line says");
        assert.match(again.stderr, /^homecloud: CA kept: /);
    });

    it("node1: trusts the CA through update-ca-certificates", () => {
        assert.ok(!inBundle("node1", caPem));
        ok(onHost("node1", fileCommand("install", trustFile(), "pki-node1-trust", PKI_TOOLKIT_DIR), caPem), "trust install");
        assert.strictEqual(fs.readFileSync(dir("node1", "lcc/homecloud-ca.crt"), "utf8"), caPem);
        assert.ok(inBundle("node1", caPem), "the system bundle holds the CA");
        // A file with two certificates (update-ca-certificates reads one) is refused.
        const twice = onHost("node1", fileCommand("install", trustFile(), "pki-node1-trust", PKI_TOOLKIT_DIR), caPem + caPem);
        assert.strictEqual(twice.status, 1);
        assert.match(twice.stderr, /rejected by its checker/);
    });

    it("node1: makes its key once (0600, never printed) and prints the same CSR on every run", () => {
        const r = onHost("node1", keyRequestCommand("host", "node1.lab.home.arpa"));
        csr = ok(r, "key request");
        assert.match(csr, /^-----BEGIN CERTIFICATE REQUEST-----\n/);
        assert.doesNotMatch(r.stdout + r.stderr, /PRIVATE KEY-----/);
        assert.strictEqual(mode(etc("node1", "/etc/homecloud/pki/host.key")), "600");
        assert.strictEqual(ok(onHost("node1", keyRequestCommand("host", "node1.lab.home.arpa")), "again"), csr);
        assert.match(ok(openssl(["req", "-noout", "-subject", "-nameopt", "RFC2253"], csr), "subject"), /^subject=CN=node1\.lab\.home\.arpa$/m);
    });

    it("gw: signs the CSR for node1's names; the same request prints the same certificate", () => {
        cert = ok(sign(csr, "346.0", caPem), "sign");
        assert.strictEqual(ok(sign(csr, "346.0", caPem), "sign again"), cert, "a re-run changes nothing downstream");
        const caFile = tmpFile("ca.pem", caPem);
        assert.strictEqual(ok(openssl(["verify", "-CAfile", caFile, "-purpose", "sslserver", tmpFile("node1.pem", cert)]), "verify").trim(),
            `${ROOT}/node1.pem: OK`);
        const text = ok(openssl(["x509", "-noout", "-text"], cert), "x509 -text");
        assert.match(text, /DNS:node1\.lab\.home\.arpa, IP Address:10\.77\.0\.11/);
        assert.match(text, /CA:FALSE/);
        // The CSR's public key is the one certified: the key never left node1.
        assert.strictEqual(ok(openssl(["x509", "-noout", "-pubkey"], cert), "pubkey"), ok(openssl(["req", "-noout", "-pubkey"], csr), "csr pubkey"));
    });

    it("gw: refuses a name outside the CA's constraints, and anything but a CSR", () => {
        const outside = sign(csr, "346.0", caPem, ["DNS:node1.example.com"]);
        assert.strictEqual(outside.status, 1);
        assert.match(outside.stderr, /node1-host: the new certificate does not verify against the CA \(a name outside the CA's constraints\?/);
        assert.match(outside.stderr, /permitted subtree violation/);
        const junk = sign("not a csr\n", "346.0", caPem);
        assert.strictEqual(junk.status, 1);
        assert.strictEqual(junk.stderr, "homecloud: node1-host: stdin is not a valid certificate signing request\n");
    });

    it("node1: installs the certificate next to its key; TLS clients there verify it with the system store", () => {
        ok(onHost("node1", fileCommand("install", certFile("host"), "pki-node1-host-cert", PKI_TOOLKIT_DIR), cert), "cert install");
        assert.strictEqual(fs.readFileSync(etc("node1", "/etc/homecloud/pki/host.crt"), "utf8"), cert);
        assert.strictEqual(ok(onHost("node1", "openssl verify -CApath /etc/ssl/certs /etc/homecloud/pki/host.crt"), "verify").trim(),
            "/etc/homecloud/pki/host.crt: OK");
        // A certificate for another key is refused, and the installed one stays.
        const gwCsr = ok(onHost("gw", keyRequestCommand("host", "gw.lab.home.arpa")), "gw key");
        const gwCert = ok(onHost("gw", signCommand({
            name: "gw-host", profile: "server", sans: ["DNS:gw.lab.home.arpa", "IP:10.77.0.1"], days: 90, issue: "346.0", caSha256: "x",
        }), gwCsr), "gw sign");
        const wrong = onHost("node1", fileCommand("install", certFile("host"), "pki-node1-host-cert", PKI_TOOLKIT_DIR), gwCert);
        assert.strictEqual(wrong.status, 1);
        assert.match(wrong.stderr, /the certificate is not for \/etc\/homecloud\/pki\/host\.key/);
        assert.strictEqual(fs.readFileSync(etc("node1", "/etc/homecloud/pki/host.crt"), "utf8"), cert);
    });

    it("a forced renewal (new issue token) re-signs with the same key: new serial, same public key, still verifies", () => {
        const keyBefore = sha(etc("node1", "/etc/homecloud/pki/host.key"));
        // The key step re-runs as the engine would force it: same CSR.
        assert.strictEqual(ok(onHost("node1", keyRequestCommand("host", "node1.lab.home.arpa")), "key again"), csr);
        const renewed = ok(sign(csr, "346.1", caPem), "renew");
        assert.notStrictEqual(serial(renewed), serial(cert));
        ok(onHost("node1", fileCommand("install", certFile("host"), "pki-node1-host-cert", PKI_TOOLKIT_DIR), renewed), "install renewed");
        assert.strictEqual(sha(etc("node1", "/etc/homecloud/pki/host.key")), keyBefore, "the key did not change");
        assert.strictEqual(ok(onHost("node1", "openssl verify -CApath /etc/ssl/certs /etc/homecloud/pki/host.crt"), "verify").trim(),
            "/etc/homecloud/pki/host.crt: OK");
        cert = renewed;
    });

    it("an intermediate for the cluster: a CA with path length 0, constrained like the root", () => {
        const icsr = ok(onHost("node1", keyRequestCommand("cluster-issuer", "homecloud cluster issuer lab.home.arpa")), "issuer key");
        const inter = ok(onHost("gw", signCommand({
            name: "node1-cluster-issuer", profile: "intermediate", permitted: permittedNames(PLAN), days: 180, issue: "346.0", caSha256: "x",
        }), icsr), "sign intermediate");
        const text = ok(openssl(["x509", "-noout", "-text"], inter), "x509 -text");
        assert.match(text, /CA:TRUE, pathlen:0/);
        assert.match(text, /Permitted:\n\s+DNS:lab\.home\.arpa/);
        assert.strictEqual(ok(openssl(["verify", "-CAfile", tmpFile("ca2.pem", caPem), tmpFile("inter.pem", inter)]), "verify").trim(),
            `${ROOT}/inter.pem: OK`);
    });

    it("removal: certificate, key, trust and records go; the CA stays unless caDestroy", () => {
        ok(onHost("node1", fileCommand("remove", certFile("host"), "pki-node1-host-cert", PKI_TOOLKIT_DIR)), "cert remove");
        ok(onHost("node1", keyForgetCommand("cluster-issuer")), "forget issuer key");
        ok(onHost("node1", keyForgetCommand("host")), "forget key");
        assert.ok(!fs.existsSync(etc("node1", "/etc/homecloud")), "node1's /etc/homecloud is gone");
        ok(onHost("node1", fileCommand("remove", trustFile(), "pki-node1-trust", PKI_TOOLKIT_DIR)), "trust remove");
        assert.ok(!fs.existsSync(dir("node1", "lcc/homecloud-ca.crt")));
        assert.ok(!inBundle("node1", caPem), "the system bundle no longer holds the CA");
        assert.strictEqual(onHost("node1", "ls /etc/ssl/certs | grep -c homecloud || true").stdout.trim(), "0", "no link left");

        ok(onHost("gw", unsignCommand("node1-host")), "unsign");
        assert.ok(!fs.existsSync(etc("gw", "/etc/homecloud/ca/issued/node1-host.crt")));
        const kept = onHost("gw", caRemoveCommand(false));
        assert.strictEqual(ok(kept, "ca remove"), "homecloud: CA kept in /etc/homecloud/ca (every certificate it signed depends on it); " +
            "to remove it set homecloud:caDestroy true, run up, then destroy\n");
        assert.ok(fs.existsSync(etc("gw", "/etc/homecloud/ca/ca.key")));
        assert.strictEqual(ok(onHost("gw", caRemoveCommand(true)), "ca destroy"), "homecloud: CA removed from /etc/homecloud/ca\n");
        assert.ok(!fs.existsSync(etc("gw", "/etc/homecloud/ca")));
        const noCa = sign(csr, "346.0", caPem);
        assert.strictEqual(noCa.status, 1);
        assert.strictEqual(noCa.stderr, "homecloud: no CA in /etc/homecloud/ca; the CA's step (ca.sh create) makes it first\n");
    });

    it("half a CA (a key without its certificate) is never overwritten", () => {
        ok(onHost("gw", "install -d -m 0700 /etc/homecloud/ca && echo precious > /etc/homecloud/ca/ca.key"), "plant");
        const r = onHost("gw", caCreateCommand(PLAN));
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, /holds only half a CA; refusing to make a new one over it/);
        assert.strictEqual(fs.readFileSync(etc("gw", "/etc/homecloud/ca/ca.key"), "utf8"), "precious\n");
    });
});

describe("HAProxy's API check certificate on a real shell: key on gw, signed by K3s's client CA on node1", function () {
    this.timeout(60_000);
    const TLS = "rancher/k3s/server/tls";
    const signLine = k3sClientSignCommand({ days: 90, issue: "7.0", k3s: "managed" });
    const install = (content: string): Run =>
        onHost("gw", fileCommand("install", clientCertFile(API_CHECK_LABEL), "gateway-lb-api-check-cert", PKI_TOOLKIT_DIR), content);
    const installed = (): string => fs.readFileSync(etc("gw", clientCertFile(API_CHECK_LABEL).path), "utf8");
    let csr = "";
    let pem = "";

    before(() => {
        fs.rmSync(ROOT, { recursive: true, force: true });
        fs.mkdirSync(ROOT, { recursive: true });
    });
    after(() => {
        fs.rmSync(ROOT, { recursive: true, force: true });
    });

    it("node1 without K3s: signs nothing, says why, succeeds (HAProxy keeps its check without a certificate)", () => {
        csr = ok(onHost("gw", keyRequestCommand(API_CHECK_LABEL, API_CHECK_USER)), "key request");
        assert.match(csr, /^-----BEGIN CERTIFICATE REQUEST-----\n/);
        const r = onHost("node1", signLine, csr);
        assert.deepStrictEqual(r, {
            status: 0, stdout: "",
            stderr: "homecloud: no K3s client CA in /var/lib/rancher/k3s/server/tls yet; HAProxy checks the API without a client certificate\n",
        });
        ok(install(""), "an empty certificate installs: no certificate yet");
        assert.strictEqual(installed(), "");
    });

    it("node1 with K3s's client CA: a client certificate for the gateway's key, then the CA's; the hook installs it", () => {
        const tls = path.join(dir("node1", "varlib"), TLS);
        fs.mkdirSync(tls, { recursive: true });
        ok(openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${tls}/client-ca.key`,
            "-out", `${tls}/client-ca.crt`, "-subj", "/CN=k3s-client-ca@1733300000", "-days", "3650"]), "client CA");
        const r = onHost("node1", signLine, csr);
        pem = ok(r, "sign");
        assert.match(r.stderr, /^homecloud: signed subject=CN=homecloud:haproxy with \/var\/lib\/rancher\/k3s\/server\/tls\/client-ca\.crt for 90 days\n$/);
        const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g) ?? [];
        assert.strictEqual(blocks.length, 2, pem);
        assert.strictEqual(blocks[1], fs.readFileSync(`${tls}/client-ca.crt`, "utf8"));
        const text = ok(openssl(["x509", "-noout", "-text"], blocks[0]), "x509 -text");
        assert.match(text, /Subject: CN = homecloud:haproxy\n/);
        assert.match(text, /Issuer: CN = k3s-client-ca@1733300000\n/);
        assert.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication\n/);
        assert.match(text, /CA:FALSE/);
        assert.doesNotMatch(pem, /PRIVATE KEY/);
        ok(install(pem), "install");
        assert.strictEqual(installed(), pem);
        assert.strictEqual(mode(etc("gw", clientCertFile(API_CHECK_LABEL).path)), "644");
    });

    it("a re-run of the same signing prints the same certificate; a new renewal epoch signs a new one", () => {
        const again = onHost("node1", signLine, csr);
        assert.strictEqual(ok(again, "sign again"), pem, "a re-run must not hand HAProxy a new certificate");
        assert.match(again.stderr, /^homecloud: already signed for this request, notAfter=.+\n$/);
        const renewal = ok(onHost("node1", k3sClientSignCommand({ days: 90, issue: "renewal-1", k3s: "managed" }), csr), "sign for a new epoch");
        assert.notStrictEqual(renewal, pem);
        assert.strictEqual(ok(onHost("node1", signLine, csr), "the first epoch again"), ok(onHost("node1", signLine, csr), "and again"));
        const record = etc("node1", "/etc/homecloud/pki/k3s-api-check-issued.crt");
        assert.strictEqual(mode(record), "600");
        assert.strictEqual(ok(onHost("node1", k3sClientForgetCommand()), "forget"), "homecloud: record of the API check's certificate removed\n");
        assert.ok(!fs.existsSync(record), "the record is gone");
        assert.notStrictEqual(ok(onHost("node1", signLine, csr), "sign after forget"), pem, "without the record it signs anew");
    });

    it("haproxy -c loads the certificate with its key beside it (<crt>.key), as the gateway's configuration names it", () => {
        const cfg = tmpFile("haproxy.cfg", renderHaproxyConfig(PLAN, { path: clientCertFile(API_CHECK_LABEL).path, sha256: "x" }));
        const r = onHost("gw", `haproxy -c -f ${cfg}`);
        assert.strictEqual(r.status, 0, r.stderr + r.stdout);
        ok(onHost("gw", keyForgetCommand(API_CHECK_LABEL)), "forget the key");
        const noKey = onHost("gw", `haproxy -c -f ${cfg}`);
        assert.notStrictEqual(noKey.status, 0);
        assert.match(noKey.stdout + noKey.stderr, /No Private Key found in '\/etc\/homecloud\/pki\/k3s-api-check\.key'/);
    });

    it("the hook refuses a certificate for another key, or one its CA did not sign, and keeps the installed one", () => {
        csr = ok(onHost("gw", keyRequestCommand(API_CHECK_LABEL, API_CHECK_USER)), "a new key");
        ok(openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${ROOT}/stranger.key`]), "a stranger's key");
        const strangerCsr = ok(openssl(["req", "-new", "-key", `${ROOT}/stranger.key`, "-subj", "/CN=homecloud:haproxy"]), "its CSR");
        const forStranger = onHost("gw", fileCommand("install", clientCertFile(API_CHECK_LABEL), "gateway-lb-api-check-cert", PKI_TOOLKIT_DIR),
            ok(onHost("node1", signLine, strangerCsr), "sign the stranger's"));
        assert.notStrictEqual(forStranger.status, 0);
        assert.match(forStranger.stderr, /the certificate is not for \/etc\/homecloud\/pki\/k3s-api-check\.key/);
        assert.strictEqual(installed(), pem, "the installed file stays");
        const fresh = ok(onHost("node1", signLine, csr), "sign the new key");
        const otherCa = tmpFile("other-ca.crt", ok(openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", `${ROOT}/other-ca.key`, "-subj", "/CN=other", "-days", "1"]), "other CA"));
        const leaf = fresh.split("-----END CERTIFICATE-----\n")[0] + "-----END CERTIFICATE-----\n";
        const wrongChain = onHost("gw", fileCommand("install", clientCertFile(API_CHECK_LABEL), "gateway-lb-api-check-cert", PKI_TOOLKIT_DIR),
            leaf + fs.readFileSync(otherCa, "utf8"));
        assert.notStrictEqual(wrongChain.status, 0);
        assert.match(wrongChain.stdout + wrongChain.stderr, /unable to get local issuer certificate/);
        ok(install(fresh), "the right one installs");
        assert.strictEqual(installed(), fresh);
    });
});
