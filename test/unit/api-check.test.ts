// HAProxy's API health check with the cluster's client certificate (issue: "the API health
// check can see etcd"): the renderer's two forms, and the LoadBalancer's signing steps under mocks.
import * as assert from "assert";
import { dependsOn, parentName, recorded, reset, resolve, stdoutHooks, testHostKey } from "../mocks";
import * as pulumi from "@pulumi/pulumi";
import { API_CHECK_TIMEOUT_MS, renderHaproxyConfig } from "../../network/haproxy";
import { clientCertFile, k3sClientForgetCommand, k3sClientSignCommand, keyForgetCommand, keyRequestCommand, pemSha256 } from "../../pki/pkiSteps";
import { fileCommand } from "../../host/hostFile";
import { PKI_TOOLKIT_DIR } from "../../host/toolkit";
import { loadPlan } from "../fixtures/network/plans";
import { unwrapSecrets } from "../../lab/engine/commandSemantics";

const CERT = "-----BEGIN CERTIFICATE-----\nY2xpZW50\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nY2E=\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n";

/** Stands in for the first server's K3s install step. */
class Installed extends pulumi.CustomResource {
    constructor(name: string) { super("test:index:Installed", name, {}); }
}

const backend = (cfg: string): string[] => {
    const lines = cfg.split("\n");
    const start = lines.indexOf("backend k3s-servers");
    return lines.slice(start, lines.findIndex((l, i) => i > start && l === ""));
};

describe("API health check with the cluster's client certificate", () => {
    const plan = loadPlan("large");

    describe("haproxy.cfg", () => {
        it("with the certificate: presents it, and only 200 passes, within 2.5 s", () => {
            assert.strictEqual(API_CHECK_TIMEOUT_MS, 2500);
            assert.deepStrictEqual(backend(renderHaproxyConfig(plan, { path: "/etc/homecloud/pki/k3s-api-check", sha256: "ab12" })), [
                "backend k3s-servers",
                "    balance roundrobin",
                "    option httpchk",
                "    http-check send meth GET uri /readyz",
                "    # With the cluster's client certificate (sha256 ab12): only 200 passes",
                "    http-check expect status 200",
                "    timeout check 2500ms",
                "    default-server check inter 1000 fastinter 500 downinter 1000 fall 2 rise 2 check-ssl verify none crt /etc/homecloud/pki/k3s-api-check",
                "    server server1 172.20.0.11:6443",
                "    server server2 172.20.0.12:6443",
                "    server server3 172.20.0.13:6443",
            ]);
        });

        it("without one (no cluster yet): anonymous 401 passes too, same timeout", () => {
            assert.deepStrictEqual(backend(renderHaproxyConfig(plan)).slice(2, 8), [
                "    option httpchk",
                "    http-check send meth GET uri /readyz",
                "    # No cluster client certificate yet: 401 (anonymous) passes too",
                "    http-check expect rstatus ^(200|401)$",
                "    timeout check 2500ms",
                "    default-server check inter 1000 fastinter 500 downinter 1000 fall 2 rise 2 check-ssl verify none",
            ]);
        });

        it("keeps the other checks' timeout at one interval, at most 1 s", () => {
            const defaults = renderHaproxyConfig(plan).split("\n");
            assert.ok(defaults.includes("    timeout check 1000ms"), "defaults keep 1 s");
        });
    });

    describe("LoadBalancer with a signer (mocks)", () => {
        let lbModule: typeof import("../../network/loadBalancer");
        let hostOps: typeof import("../../host/hostOps");
        const signed = new Map<string, string>();

        async function build(name: string, signerPrints: string): Promise<import("../../network/loadBalancer").LoadBalancer> {
            signed.set(`${name}-api-check-sign`, signerPrints);
            const conn = (host: string) => ({ host, port: 22, user: "pi", privateKey: pulumi.secret(KEY), hostKey: testHostKey(host) });
            const gwNet = hostOps.hostToolkit(`${name}-gw-net`, conn("gw"), [], {});
            const gwPki = hostOps.hostToolkit(`${name}-gw-pki`, conn("gw"), [], {}, PKI_TOOLKIT_DIR);
            const server = hostOps.hostToolkit(`${name}-server1-pki`, conn("server1"), [], {}, PKI_TOOLKIT_DIR);
            const installed = new Installed(`${name}-installed`);
            const lb = new lbModule.LoadBalancer(name, {
                plan, host: gwNet,
                apiCheckSigner: { gateway: gwPki, firstServer: server, k3s: "v1.36.4+k3s1", after: [installed], days: 90, issue: "7.0" },
            });
            await resolve(lb.status);
            await new Promise((r) => setTimeout(r, 50));
            return lb;
        }
        const one = (name: string) => {
            const rs = recorded.filter((r) => r.name === name);
            assert.strictEqual(rs.length, 1, name);
            return rs[0];
        };

        before(async () => {
            reset();
            stdoutHooks.push((r) => signed.get(r.name));
            lbModule = await import("../../network/loadBalancer");
            hostOps = await import("../../host/hostOps");
        });
        after(() => { stdoutHooks.pop(); });

        it("makes the key on the gateway, signs on the first server after K3s is installed, installs the certificate beside the key", async () => {
            await build("lb", CERT.trimEnd());
            const key = one("lb-api-check-key");
            const sign = one("lb-api-check-sign");
            const cert = one("lb-api-check-cert");
            assert.deepStrictEqual([key, sign, cert, one("lb-config")].map(parentName), ["lb", "lb", "lb", "lb"]);
            assert.strictEqual(key.inputs.create, keyRequestCommand("k3s-api-check", "homecloud:haproxy"));
            assert.strictEqual(key.inputs.delete, keyForgetCommand("k3s-api-check"));
            assert.strictEqual(sign.inputs.create, k3sClientSignCommand({ days: 90, issue: "7.0", k3s: "v1.36.4+k3s1" }));
            assert.strictEqual(sign.inputs.delete, k3sClientForgetCommand(), "the record of what was signed goes with the step");
            assert.strictEqual(unwrapSecrets(sign.inputs.connection).host, "server1");
            assert.strictEqual(unwrapSecrets(key.inputs.connection).host, "gw");
            assert.deepStrictEqual(dependsOn(sign), ["lb-api-check-key", "lb-installed", "lb-server1-pki"]);
            assert.ok(String(sign.inputs.stdin).endsWith("\n"), "the CSR goes in as a file holds it");
            assert.strictEqual(cert.inputs.stdin, CERT);
            assert.strictEqual(cert.inputs.create, fileCommand("install", clientCertFile("k3s-api-check"), cert.urn, PKI_TOOLKIT_DIR));
            assert.strictEqual(clientCertFile("k3s-api-check").path, "/etc/homecloud/pki/k3s-api-check");
            const config = one("lb-config");
            assert.deepStrictEqual(dependsOn(config), ["lb-api-check-cert", "lb-api-check-sign", "lb-gw-net"]);
            assert.deepStrictEqual(backend(String(config.inputs.stdin)).slice(4, 8), [
                `    # With the cluster's client certificate (sha256 ${pemSha256(CERT)}): only 200 passes`,
                "    http-check expect status 200",
                "    timeout check 2500ms",
                "    default-server check inter 1000 fastinter 500 downinter 1000 fall 2 rise 2 check-ssl verify none crt /etc/homecloud/pki/k3s-api-check",
            ]);
        });

        it("falls back to the check without a certificate while the first server has no client CA (empty output)", async () => {
            await build("lb2", "");
            assert.strictEqual(one("lb2-api-check-cert").inputs.stdin, "");
            assert.strictEqual(one("lb2-config").inputs.stdin, renderHaproxyConfig(plan));
        });

        it("signs nothing with apiHealthCheck tcp: there is no HTTP check to present it to", async () => {
            const before = recorded.length;
            const tcpPlan = { ...plan, loadBalancer: { ...plan.loadBalancer, apiCheck: "tcp" as const } };
            const conn = { host: "gw", port: 22, user: "pi", privateKey: pulumi.secret(KEY), hostKey: testHostKey("gw") };
            const net = hostOps.hostToolkit("tcp-gw-net", conn, [], {});
            const lb = new lbModule.LoadBalancer("tcp", {
                plan: tcpPlan, host: net,
                apiCheckSigner: { gateway: net, firstServer: net, k3s: "unmanaged", after: [], days: 90, issue: "7.0" },
            });
            await resolve(lb.status);
            await new Promise((r) => setTimeout(r, 50));
            assert.deepStrictEqual(recorded.slice(before).map((r) => r.name).sort(), ["tcp", "tcp-config", "tcp-gw-net"]);
        });
    });
});
