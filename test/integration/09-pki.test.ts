// Phase 7f: the private CA on the lab: keys, certificates, trust and renewal.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { CA_DIR, PKI_DIR, TRUST_FILE } from "../../pki/pkiSteps";
import { bash, changes, DOMAIN, engine, exec, execOk, GW_LAN, labPhase, PLAN, run, RUN_DIR, stackWith, STATE_FILE, summaryOf } from "./lab-helpers";

labPhase("7f: the private CA: a key and certificate per host, trust where it is needed, renewal", () => {
    const HOSTS = ["gw", ...PLAN.nodes.map((n) => n.name)];
    const NODE1 = PLAN.nodes[0];
    const HOST_KEY = `${PKI_DIR}/host.key`;
    const HOST_CERT = `${PKI_DIR}/host.crt`;
    const CA_CERT = `${CA_DIR}/ca.crt`;
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
        [h, execOk(h, "sha256sum", HOST_KEY).split(" ")[0]]));
    const certOf = (host: string): string => execOk(host, "cat", HOST_CERT);
    // The certificate goes to gw on stdin into a scratch file (a pipe through nsenter has no /dev/stdin).
    const verifyOnGw = (host: string): string => {
        const r = run("lab/exec", ["gw", "bash", "-c", 'f=$(mktemp); trap \'rm -f "$f"\' EXIT; cat >"$f"; ' +
            `openssl verify -purpose sslserver -CAfile ${CA_CERT} "$f" | sed "s|^$f:|certificate:|"`], { input: certOf(host) });
        assert.strictEqual(r.code, 0, `${host}'s certificate does not verify on gw: ${r.stdout}${r.stderr}`);
        return r.stdout.trim();
    };
    const serialOf = (host: string): string => execOk(host, "openssl", "x509", "-noout", "-serial", "-in", HOST_CERT).trim();
    let keysAtFirstUp: Record<string, string> = {};

    it("every host's certificate verifies against the CA on gw, for its FQDN and LAN address", () => {
        for (const host of HOSTS) {
            assert.strictEqual(verifyOnGw(host), "certificate: OK");
            const ip = host === "gw" ? GW_LAN : PLAN.nodes.find((n) => n.name === host)!.ip;
            assert.match(execOk(host, "openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", HOST_CERT),
                new RegExp(`DNS:${host}\\.${DOMAIN.replace(/\./g, "\\.")}, IP Address:${ip.replace(/\./g, "\\.")}\\n`));
            assert.strictEqual(execOk(host, "stat", "-c", "%a %U", HOST_KEY).trim(), "600 root");
            // The host's own trust store vouches for it too.
            assert.strictEqual(execOk(host, "openssl", "verify", "-CApath", "/etc/ssl/certs", HOST_CERT).trim(),
                `${HOST_CERT}: OK`);
        }
        keysAtFirstUp = keySha();
    });

    it("each host's key is only on its host, the CA key only on gw (searched on every host), none in the engine's state or logs", () => {
        const state = fs.readFileSync(STATE_FILE, "utf8");
        const logs = run("bash", ["-c", `cat ${RUN_DIR}/*.log`]).stdout;
        const secrets: [string, string][] = [["gw", `${CA_DIR}/ca.key`], ...HOSTS.map((h): [string, string] => [h, HOST_KEY])];
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
        assert.strictEqual(execOk("gw", "stat", "-c", "%a %U", `${CA_DIR}/ca.key`).trim(), "600 root");
    });

    it("curl https://node1.<domain>:8443/ from the client: refused without the CA, verified with the system store once it trusts the stack's CA", () => {
        const responder = [
            "import http.server, ssl",
            "class H(http.server.BaseHTTPRequestHandler):",
            "    def do_GET(self):",
            "        b = b'tls@node1\\n'; self.send_response(200); self.send_header('Content-Length', str(len(b))); self.end_headers(); self.wfile.write(b)",
            "    def log_message(self, *a): pass",
            "s = http.server.HTTPServer(('0.0.0.0', 8443), H)",
            `c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain('${HOST_CERT}', '${HOST_KEY}')`,
            "s.socket = c.wrap_socket(s.socket, server_side=True); s.serve_forever()",
        ].join("\n");
        const url = `https://${NODE1.name}.${DOMAIN}:8443/`;
        const caPem = JSON.parse(fs.readFileSync(path.join(RUN_DIR, "first-up.log"), "utf8").split("\noutputs: ")[1]).caCertificate as string;
        assert.match(caPem, /^-----BEGIN CERTIFICATE-----\n/);
        assert.strictEqual(caPem, execOk("gw", "cat", CA_CERT), "the stack output is the CA on gw");
        execOk(NODE1.name, "systemd-run", "--unit=hc-tls-responder", "--collect", "python3", "-c", responder);
        try {
            assert.strictEqual(bash(NODE1.name, "for i in $(seq 50); do curl -sk https://127.0.0.1:8443/ && exit 0; sleep 0.1; done; exit 1").code, 0);
            const without = bash("client", `curl -sS --max-time 5 ${url}`);
            assert.strictEqual(without.code, 60, `without the CA: ${without.stdout}${without.stderr}`);
            assert.match(without.stderr, /unable to get local issuer certificate/);
            // The owner of the client trusts the CA the way a laptop would: the stack's output into its store.
            run("lab/exec", ["client", "bash", "-c", `cat > ${TRUST_FILE} && update-ca-certificates >/dev/null`],
                { input: caPem });
            try {
                assert.strictEqual(execOk("client", "curl", "-sS", "--max-time", "5", url), "tls@node1\n");
            } finally {
                execOk("client", "bash", "-c", `rm -f ${TRUST_FILE} && update-ca-certificates --fresh >/dev/null`);
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
        const f = stackWith("renewal", "certificateRenewal", "1");
        const serials = Object.fromEntries(HOSTS.map((h) => [h, serialOf(h)]));
        engine("up", "pki-renewal-up", { SSH_ENGINE_STACK_FILE: f });
        // HAProxy's API check certificate renews on the same schedule; HAProxy reloads to present it.
        assert.deepStrictEqual(changes("pki-renewal-up", { diff: false }), [
            "updated gateway-lb-api-check-cert", "updated gateway-lb-api-check-sign", "updated gateway-lb-config",
            ...HOSTS.flatMap((h) => [`updated pki-${h}-host-cert`, `updated pki-${h}-host-sign`]),
        ].sort());
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
});
