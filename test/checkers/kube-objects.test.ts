// The cluster half's checker: a real kube-apiserver (built from the Go module proxy by
// scripts/setup-kube-apiserver.sh) on Debian's etcd, on loopback. Every Kubernetes object the
// program declares for the lab (K3s on), dev and a large plan, taken from the program run
// under the mocks, goes to it by server-side apply with strict field validation, after the
// CRDs of the pinned MetalLB, cert-manager and Traefik releases; the MetalLB and cert-manager
// charts are rendered by Helm with the program's exact values and their objects applied with
// a server-side dry run. The exported kubeconfig, made from this server's own CAs, talks to it.
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { recorded, resolve, stdoutHooks } from "../mocks";
import { runProgram, StackConfig, stackFile } from "../program";
import { clusterRawPlan, MOCK_FULL_TOKEN } from "../fixtures/k3s";
import { freePort, KubeApiServer } from "../kube/apiserver";
import { runApiCheck } from "../kube/haproxyCheck";
import { changedFields, KubeClient, KubeObject, declaredObjects, objectName, plain, ReleaseDecl } from "../kube/objects";
import { chartDefaults, chartSource, chartVersion, renderChart, valueKeysNotInChart, KUBE_VERSION } from "../kube/charts";
import { checkerTools, CheckerTools } from "../kube/tools";
import { parseAddressPlan } from "../../config/validate";
import { RawConfig } from "../../config/schema";
import { firstServer, k3sConfigFor, K3S_LOCAL_API } from "../../cluster/k3sConfig";
import { METALLB_CHART, TRAEFIK_CHART, TRAEFIK_CRDS_CHART } from "../../cluster/helm";
import { renderHaproxyConfig } from "../../network/haproxy";
import { clientCertificateValidity, renderKubeconfig } from "../../cluster/kubeconfig";
import { Run, runOnHost } from "../fixtures/emulatedHost";
import { parseKubeconfig } from "../../config/cluster";
import { EXISTING_KUBECONFIG_PATH } from "../../cluster/existingCluster";
import { admissionReadyCommand } from "../../cluster/k3sSteps";
import { fileCommand } from "../../host/hostFile";
import { PKI_TOOLKIT_DIR } from "../../host/toolkit";
import {
    API_CHECK_USER, caCreateCommand, CLUSTER_ISSUER_LABEL, issuerSecretCommand, k3sClientSignCommand, keyRequestCommand, pemSha256,
    permittedNames, signCommand, trustFile,
} from "../../pki/pkiSteps";
import { CERT_MANAGER_CHART, CERT_MANAGER_NAMESPACE, intermediateDays, ISSUER_SECRET_NAME } from "../../pki/certManager";

/** Traefik chart 37.3.0 ships Traefik Proxy v3.6.0, whose module carries the CRDs checked here. */
const TRAEFIK_PROXY_FOR_CHART: Record<string, string> = { "37.3.0": "v3.6.0" };

const STACKS: Record<string, StackConfig> = {
    lab: { ...stackFile("Pulumi.lab.yaml"), k3sEnabled: true },
    dev: stackFile("Pulumi.dev.yaml"),
    large: {
        ...clusterRawPlan(),
        reservations: [{ name: "nas", mac: "00:11:32:00:00:01", ip: "10.0.0.30" }],
        certificateLifetimeDays: 30,
    },
};

const planOf = (s: StackConfig) => parseAddressPlan(s as RawConfig).plan;

interface StackRun {
    /** The inputs of the command that makes the ClusterIssuer's Secret on the first server. */
    readonly issuerSecret: { create: string; delete: string };
    readonly objects: { resource: string; object: KubeObject }[];
    readonly releases: ReleaseDecl[];
    readonly kubeconfig: string;
    readonly kubeconfigExpires: string;
    readonly providerKubeconfig: string;
}

/** The kubeconfig K3s writes, with this server's CAs and admin certificate. */
function k3sKubeconfigOf(s: KubeApiServer): string {
    const b64 = (t: string) => Buffer.from(t).toString("base64");
    return YAML.stringify({
        apiVersion: "v1", kind: "Config",
        clusters: [{ name: "default", cluster: { "certificate-authority-data": b64(s.serverCa), server: K3S_LOCAL_API } }],
        contexts: [{ name: "default", context: { cluster: "default", user: "default" } }],
        "current-context": "default", preferences: {},
        users: [{ name: "default", user: { "client-certificate-data": b64(s.adminCert), "client-key-data": b64(s.adminKey) } }],
    });
}

describe("cluster half through a real kube-apiserver", function () {
    this.timeout(600_000);
    let tools: CheckerTools;
    let server: KubeApiServer;
    let client: KubeClient;
    let work: string;
    const runs = new Map<string, StackRun>();
    const hook = (r: { name: string }) => r.name === "k3s-join-token" ? `${MOCK_FULL_TOKEN}\n`
        : r.name === "k3s-kubeconfig" || r.name === "k3s-kubeconfig-renew" ? k3sKubeconfigOf(server) : undefined;

    before(async function () {
        tools = checkerTools();
        work = fs.mkdtempSync(path.join(os.tmpdir(), "homecloud-charts-"));
        // The serving certificate names what K3s' tls-san does for each plan's first server.
        const sans = [...new Set(Object.values(STACKS).flatMap((s) => {
            const plan = planOf(s);
            const c = k3sConfigFor(plan, firstServer(plan));
            return c.kind === "agent" ? [] : c.tlsSan;
        }))];
        server = new KubeApiServer(sans);
        const started = Date.now();
        await server.start();
        console.log(`      kube-apiserver ${KUBE_VERSION} and etcd ready on ${server.url} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        client = new KubeClient(server);
        stdoutHooks.unshift(hook);
        for (const [name, stack] of Object.entries(STACKS)) {
            const { outputs, resources } = await runProgram(stack);
            const provider = resources.find((r) => r.type === "pulumi:providers:kubernetes");
            assert.ok(provider, `${name}: the program registers a Kubernetes provider`);
            const secretStep = resources.find((r) => r.type === "command:remote:Command" && r.name === "cert-manager-issuer-secret");
            assert.ok(secretStep, `${name}: the program makes the issuer's Secret`);
            runs.set(name, {
                issuerSecret: plain(secretStep.inputs),
                ...declaredObjects(resources),
                kubeconfig: await resolve(outputs.kubeconfig!) as string,
                kubeconfigExpires: await resolve(outputs.kubeconfigExpires!) as string,
                providerKubeconfig: plain(provider.inputs.kubeconfig) as string,
            });
        }
    });

    after(async () => {
        const i = stdoutHooks.indexOf(hook);
        if (i >= 0) {
            stdoutHooks.splice(i, 1);
        }
        recorded.length = 0;
        if (server) {
            await server.stop();
            assert.deepStrictEqual(server.pids(), [], "etcd and kube-apiserver are stopped");
            assert.ok(!fs.existsSync(server.dir));
        }
        if (work) {
            fs.rmSync(work, { recursive: true, force: true });
        }
    });

    it("is the pinned Kubernetes release, and says so (Helm refuses charts with a kubeVersion on v0.0.0-master)", async () => {
        const v = await server.request("GET", "/version");
        assert.strictEqual(v.status, 200);
        assert.deepStrictEqual([v.json.gitVersion, v.json.major, v.json.minor], [KUBE_VERSION, "1", KUBE_VERSION.split(".")[1]]);
    });

    it("answers /readyz as the gateway's HAProxy https check expects: 401 anonymous, 200 with the admin certificate", async () => {
        const cfg = renderHaproxyConfig(planOf(STACKS.dev));
        const expect = /^ {4}http-check expect rstatus (.+)$/m.exec(cfg);
        assert.ok(expect, "the API backend's http-check expect line");
        assert.match(cfg, /^ {4}http-check send meth GET uri \/readyz$/m);
        const accepted = new RegExp(expect[1]);
        const anonymous = await server.request("GET", "/readyz", { credentials: { ca: server.serverCa } });
        assert.strictEqual(anonymous.status, 401);
        assert.match(String(anonymous.status), accepted);
        assert.strictEqual(anonymous.json.message, "Unauthorized");
        const admin = await server.request("GET", "/readyz");
        assert.deepStrictEqual([admin.status, admin.body], [200, "ok"]);
        assert.match(String(admin.status), accepted);
        const other = await server.request("GET", "/readyz?verbose", {
            credentials: { ca: server.serverCa, cert: server.adminCert, key: server.adminKey },
        });
        assert.match(other.body, /^\[\+\]etcd ok$/m);
        assert.match(other.body, /\nreadyz check passed\n$/);
        console.log(`      /readyz while starting, anonymous/admin: ${server.startup.join(" → ")}`);
    });

    it("passes the gateway's HAProxy API check run by Debian's haproxy (a port with nothing on it fails it)", async () => {
        const cfg = renderHaproxyConfig(planOf(STACKS.dev));
        const result = await runApiCheck(cfg, [server.port, await freePort()]);
        assert.deepStrictEqual(result.servers, { "pi-server-1": "UP L7OK 401", "pi-server-2": "DOWN L4CON" });
    });

    it("with the client certificate K3s's client CA signs (pki/k3s-client.sh): UP on 200; etcd stopped: DOWN on 500 while anonymous is still 401; UP again", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "homecloud-api-check-"));
        try {
            // The first server's K3s TLS directory, and the gateway's key and CSR.
            const tls = path.join(dir, "server1/varlib/rancher/k3s/server/tls");
            fs.mkdirSync(tls, { recursive: true });
            fs.copyFileSync(path.join(server.dir, "client-ca.crt"), path.join(tls, "client-ca.crt"));
            fs.copyFileSync(path.join(server.dir, "client-ca.key"), path.join(tls, "client-ca.key"));
            const cert = path.join(dir, "k3s-api-check");
            execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${cert}.key`]);
            const csr = execFileSync("openssl", ["req", "-new", "-key", `${cert}.key`, "-subj", `/CN=${API_CHECK_USER}`], { encoding: "utf8" });
            const pem = runOnHost(dir, "server1", k3sClientSignCommand({ days: 365, issue: "1.0", k3s: "managed" }), csr);
            assert.strictEqual(pem.status, 0, pem.stderr);
            fs.writeFileSync(cert, pem.stdout);
            const cfg = renderHaproxyConfig(planOf(STACKS.dev), { path: cert, sha256: "x" });
            const up = await runApiCheck(cfg, [server.port]);
            assert.deepStrictEqual(up.servers, { "pi-server-1": "UP L7OK 200" });
            await server.stopEtcd();
            const stopped = Date.now();
            const asHaproxy = { ca: server.serverCa, cert: pem.stdout, key: fs.readFileSync(`${cert}.key`, "utf8") };
            // The apiserver notices within seconds (its etcd probe runs in the background).
            let withCert = await server.request("GET", "/readyz?verbose", { credentials: asHaproxy });
            while (withCert.status === 200 && Date.now() - stopped < 30_000) {
                await new Promise((r) => setTimeout(r, 250));
                withCert = await server.request("GET", "/readyz?verbose", { credentials: asHaproxy });
            }
            const noticedMs = Date.now() - stopped;
            const anonymous = await server.request("GET", "/readyz", { credentials: { ca: server.serverCa } });
            assert.deepStrictEqual([anonymous.status, withCert.status], [401, 500]);
            assert.match(withCert.body, /^\[-\]etcd failed: reason withheld$/m);
            const down = await runApiCheck(cfg, [server.port]);
            assert.match(down.servers["pi-server-1"], /^DOWN L7(STS 500|TOUT)$/);
            console.log(`      etcd stopped: /readyz with HAProxy's certificate ${withCert.status} after ${noticedMs} ms, anonymous still ` +
                `${anonymous.status}; HAProxy: ${down.servers["pi-server-1"]}`);
            server.startEtcd();
            const deadline = Date.now() + 60_000;
            while ((await server.request("GET", "/readyz").catch(() => undefined))?.status !== 200) {
                assert.ok(Date.now() < deadline, `kube-apiserver not ready again after etcd restarted: ${server.logTail()}`);
                await new Promise((r) => setTimeout(r, 250));
            }
            assert.deepStrictEqual((await runApiCheck(cfg, [server.port])).servers, { "pi-server-1": "UP L7OK 200" });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("every plan declares the same kinds: Namespaces with Pod Security labels, MetalLB's pool and L2Advertisement, cert-manager's ClusterIssuer and Certificate, Traefik's TLSStore", () => {
        for (const [name, run] of runs) {
            assert.deepStrictEqual(run.objects.map((o) => `${o.resource}: ${objectName(o.object)}`).sort(), [
                "cert-manager-issuer: cert-manager.io/v1 ClusterIssuer homecloud",
                "cert-manager-namespace: v1 Namespace cert-manager",
                "cert-manager-tls-store: traefik.io/v1alpha1 TLSStore traefik/default",
                "cert-manager-wildcard: cert-manager.io/v1 Certificate traefik/homecloud-wildcard",
                "metallb-l2: metallb.io/v1beta1 L2Advertisement metallb-system/homecloud",
                "metallb-namespace: v1 Namespace metallb-system",
                "metallb-pool: metallb.io/v1beta1 IPAddressPool metallb-system/homecloud",
                "traefik-namespace: v1 Namespace traefik",
            ], name);
            assert.deepStrictEqual(run.releases.map((r) => `${r.chart} ${r.version} ${r.namespace}/${r.name}`).sort(), [
                `cert-manager ${CERT_MANAGER_CHART.version} cert-manager/cert-manager`,
                `metallb ${METALLB_CHART.version} metallb-system/metallb`,
                `traefik ${TRAEFIK_CHART.version} traefik/traefik`,
                `traefik-crds ${TRAEFIK_CRDS_CHART.version} traefik/traefik-crds`,
            ], name);
        }
    });

    describe("the charts, rendered with the program's values", () => {
        it("come from the pinned releases' own modules", () => {
            assert.strictEqual(tools.metallb.module, `go.universe.tf/metallb@v${METALLB_CHART.version}`);
            assert.strictEqual(chartVersion(tools.metallb.chart), METALLB_CHART.version);
            assert.strictEqual(tools.certManager.module, `github.com/cert-manager/cert-manager@${CERT_MANAGER_CHART.version}`);
            assert.strictEqual(chartVersion(tools.certManager.chart), "v0.0.0", "cert-manager's module chart carries the placeholder");
            assert.strictEqual(tools.traefik.module, `github.com/traefik/traefik/v3@${TRAEFIK_PROXY_FOR_CHART[TRAEFIK_CHART.version]}`,
                `the Traefik Proxy release of chart ${TRAEFIK_CHART.version}`);
        });

        it("hold only keys the charts' values.yaml know, and pass Helm's values.schema.json check", () => {
            for (const [name, run] of runs) {
                for (const r of run.releases) {
                    const src = chartSource(tools, r, work);
                    if (!src) {
                        assert.ok(r.chart === "traefik" || r.chart === "traefik-crds", `${name}: only Traefik's charts are in no Go module (${r.chart})`);
                        continue;
                    }
                    assert.strictEqual(chartVersion(src.dir), r.version, `${name}: ${r.chart} chart version`);
                    assert.deepStrictEqual(valueKeysNotInChart(r.values, chartDefaults(src.dir)), [], `${name}: ${r.chart} values keys`);
                    const out = renderChart(tools, src.dir, r, r.values);
                    assert.strictEqual(out.status, 0, `${name}: helm template ${r.chart}: ${out.stderr}`);
                    assert.ok(out.objects.length > 10, `${name}: ${r.chart} renders its objects`);
                }
            }
            console.log(`      NOT CHECKED: Traefik's charts (traefik ${TRAEFIK_CHART.version}, traefik-crds ${TRAEFIK_CRDS_CHART.version}) are ` +
                "published in no Go module and no registry these machines reach; their values are not rendered or validated here. " +
                "Traefik's TLSStore is checked against the CRDs of Traefik Proxy " +
                `${TRAEFIK_PROXY_FOR_CHART[TRAEFIK_CHART.version]}.`);
        });

        it("take effect: MetalLB's speaker runs without its FRR sidecar; cert-manager's CRDs are kept on uninstall", () => {
            const dev = runs.get("dev")!;
            const metallb = dev.releases.find((r) => r.chart === "metallb")!;
            const m = renderChart(tools, chartSource(tools, metallb, work)!.dir, metallb, metallb.values);
            const speaker = m.objects.find((o) => o.kind === "DaemonSet" && o.metadata.name === "metallb-speaker") as any;
            assert.deepStrictEqual(speaker.spec.template.spec.containers.map((c: any) => c.name), ["speaker"]);
            const full = renderChart(tools, chartSource(tools, metallb, work)!.dir, metallb, {});
            const withFrr = full.objects.find((o) => o.kind === "DaemonSet" && o.metadata.name === "metallb-speaker") as any;
            assert.ok(withFrr.spec.template.spec.containers.some((c: any) => c.name === "frr"), "the chart's default has the FRR sidecar");
            const cm = dev.releases.find((r) => r.chart === "cert-manager")!;
            const c = renderChart(tools, chartSource(tools, cm, work)!.dir, cm, cm.values);
            const crds = c.objects.filter((o) => o.kind === "CustomResourceDefinition");
            assert.strictEqual(crds.length, 6);
            for (const crd of crds) {
                assert.strictEqual((crd.metadata.annotations as any)?.["helm.sh/resource-policy"], "keep", crd.metadata.name);
            }
            const controller = c.objects.find((o) => o.kind === "Deployment" && o.metadata.name === "cert-manager") as any;
            assert.strictEqual(controller.spec.template.spec.containers[0].image, `quay.io/jetstack/cert-manager-controller:${CERT_MANAGER_CHART.version}`);
        });

        it("install on this server by Helm's own dry run (--validate): its version meets each chart's kubeVersion", () => {
            const dev = runs.get("dev")!;
            // The exported kubeconfig, pointed at this server's port on loopback.
            const kubeconfig = renderKubeconfig(k3sKubeconfigOf(server), server.url, "homecloud-checker");
            for (const r of dev.releases) {
                const src = chartSource(tools, r, work);
                if (src) {
                    const out = renderChart(tools, src.dir, r, r.values, kubeconfig);
                    assert.strictEqual(out.status, 0, `helm template --validate ${r.chart}: ${out.stderr}`);
                }
            }
        });

        it("reject a values key the chart does not know: cert-manager's schema, MetalLB's values.yaml (its schema lets it through)", () => {
            const dev = runs.get("dev")!;
            const cm = dev.releases.find((r) => r.chart === "cert-manager")!;
            const wrong = { ...cm.values, crds: { enabled: true, keeep: true } };
            const c = renderChart(tools, chartSource(tools, cm, work)!.dir, cm, wrong);
            assert.strictEqual(c.status, 1);
            assert.strictEqual(c.stderr.trim(), "Error: values don't meet the specifications of the schema(s) in the following chart(s):\n" +
                "cert-manager:\n- at '/crds': additional properties 'keeep' not allowed");
            assert.deepStrictEqual(valueKeysNotInChart(wrong, chartDefaults(chartSource(tools, cm, work)!.dir)), ["crds.keeep"]);

            const metallb = dev.releases.find((r) => r.chart === "metallb")!;
            const misspelt = { ...metallb.values, speakr: { frr: { enabled: false } } };
            const m = renderChart(tools, chartSource(tools, metallb, work)!.dir, metallb, misspelt);
            assert.strictEqual(m.status, 0, "MetalLB's schema accepts an unknown top-level key");
            assert.deepStrictEqual(valueKeysNotInChart(misspelt, chartDefaults(chartSource(tools, metallb, work)!.dir)), ["speakr"]);
        });
    });

    describe("every object, by server-side apply with strict field validation", () => {
        const crdNames: string[] = [];

        it("the program's Namespaces, Pod Security labels admitted", async () => {
            for (const [name, run] of runs) {
                for (const { resource, object } of run.objects.filter((o) => o.object.kind === "Namespace")) {
                    const a = await client.apply(object);
                    assert.ok(a.status === 200 || a.status === 201, `${name} ${resource}: ${a.status} ${a.body}`);
                    assert.deepStrictEqual(a.warnings, [], `${name} ${resource}`);
                }
            }
            const ns = await server.request("GET", "/api/v1/namespaces/metallb-system");
            assert.strictEqual(ns.json.metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");
        });

        it("the CRDs of MetalLB and cert-manager (from their charts) and of Traefik Proxy (from its module)", async () => {
            const dev = runs.get("dev")!;
            const crds: KubeObject[] = [];
            for (const r of dev.releases) {
                const src = chartSource(tools, r, work);
                if (src) {
                    crds.push(...renderChart(tools, src.dir, r, r.values).objects.filter((o) => o.kind === "CustomResourceDefinition"));
                }
            }
            crds.push(...YAML.parseAllDocuments(fs.readFileSync(tools.traefik.crds, "utf8"))
                .map((d) => d.toJS() as KubeObject | null).filter((o): o is KubeObject => o?.kind === "CustomResourceDefinition"));
            for (const crd of crds) {
                const a = await client.apply(crd);
                assert.ok(a.status === 200 || a.status === 201, `${crd.metadata.name}: ${a.status} ${a.body}`);
                crdNames.push(crd.metadata.name);
            }
            for (const n of crdNames) {
                await client.waitEstablished(n);
            }
            for (const n of ["ipaddresspools.metallb.io", "l2advertisements.metallb.io", "clusterissuers.cert-manager.io",
                "certificates.cert-manager.io", "tlsstores.traefik.io"]) {
                assert.ok(crdNames.includes(n), `CRD ${n} installed`);
            }
            console.log(`      ${crdNames.length} CRDs established`);
        });

        it("the program's own objects, for the lab, dev and large plans; the server keeps every field as sent", async () => {
            for (const [name, run] of runs) {
                for (const { resource, object } of run.objects.filter((o) => o.object.kind !== "Namespace")) {
                    const a = await client.apply(object);
                    assert.ok(a.status === 200 || a.status === 201, `${name} ${resource} ${objectName(object)}: ${a.status} ${a.json?.message ?? a.body}`);
                    assert.deepStrictEqual(a.warnings, [], `${name} ${resource}`);
                    assert.deepStrictEqual(changedFields(object.spec, a.json.spec, "spec"), [], `${name} ${resource}: every field kept as sent`);
                }
            }
        });

        it("every object the MetalLB and cert-manager charts render, with a server-side dry run", async () => {
            const done = new Set<string>();
            const counts: string[] = [];
            for (const [name, run] of runs) {
                for (const r of run.releases) {
                    const src = chartSource(tools, r, work);
                    const key = JSON.stringify([r.chart, r.version, r.namespace, r.values]);
                    if (!src || done.has(key)) {
                        continue;
                    }
                    done.add(key);
                    const objects = renderChart(tools, src.dir, r, r.values).objects.filter((o) => o.kind !== "CustomResourceDefinition");
                    const failed: string[] = [];
                    for (const o of objects) {
                        const a = await client.apply(o, { dryRun: true, defaultNamespace: r.namespace });
                        if (a.status !== 200 && a.status !== 201) {
                            failed.push(`${objectName(o, r.namespace)}: ${a.status} ${a.json?.message ?? a.body}`);
                        }
                    }
                    assert.deepStrictEqual(failed, [], `${name}: ${r.chart}`);
                    counts.push(`${r.chart} ${r.version}: ${objects.length} objects (${[...new Set(objects.map((o) => o.kind))].sort().join(", ")})`);
                }
            }
            console.log(counts.map((c) => `      ${c}`).join("\n"));
        });

        it("reject a wrong field with the server's message: unknown, wrong type, wrong apiVersion, missing required, a misspelt Pod Security level", async () => {
            const dev = runs.get("dev")!;
            const pool = dev.objects.find((o) => o.object.kind === "IPAddressPool")!.object;
            const cert = dev.objects.find((o) => o.object.kind === "Certificate")!.object as any;
            const ns = dev.objects.find((o) => o.object.kind === "Namespace")!.object;
            const store = dev.objects.find((o) => o.object.kind === "TLSStore")!.object;
            const answers = [
                await client.apply({ ...pool, spec: { adresses: (pool.spec as any).addresses } }, { dryRun: true }),
                await client.apply({ ...pool, spec: { ...(pool.spec as any), autoAssign: "yes" } }, { dryRun: true }),
                await client.apply({ ...pool, apiVersion: "metallb.io/v1" }, { dryRun: true }),
                await client.apply({ ...cert, spec: { ...cert.spec, issuerRef: undefined } }, { dryRun: true }),
                await client.apply({ ...ns, metadata: { ...ns.metadata, lables: { a: "b" } } }, { dryRun: true }),
                await client.apply({ ...ns, metadata: { ...ns.metadata, labels: { "pod-security.kubernetes.io/enforce": "priviledged" } } }, { dryRun: true }),
                await client.apply({ ...store, spec: { defaultCertificate: { secretNam: "homecloud-wildcard-tls" } } }, { dryRun: true }),
            ].map((a) => `${a.status} ${a.json?.message ?? a.body.trim()}`);
            assert.deepStrictEqual(answers, [
                "500 failed to create typed patch object (metallb-system/homecloud; metallb.io/v1beta1, Kind=IPAddressPool): .spec.adresses: field not declared in schema",
                "500 failed to create typed patch object (metallb-system/homecloud; metallb.io/v1beta1, Kind=IPAddressPool): .spec.autoAssign: expected boolean, got &{yes}",
                "404 404 page not found",
                "422 Certificate.cert-manager.io \"homecloud-wildcard\" is invalid: spec.issuerRef: Required value",
                "500 failed to create typed patch object (/metallb-system; /v1, Kind=Namespace): .metadata.lables: field not declared in schema",
                "422 Namespace \"metallb-system\" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"priviledged\": must be one of privileged, baseline, restricted",
                "500 failed to create typed patch object (traefik/default; traefik.io/v1alpha1, Kind=TLSStore): .spec.defaultCertificate.secretNam: field not declared in schema",
            ]);
            // A plain create with fieldValidation=Strict (no server-side apply) is refused too.
            const created = await client.create({ ...store, metadata: { name: "other", namespace: "traefik" }, spec: { defaultCertificat: {} } }, { dryRun: true });
            assert.strictEqual(`${created.status} ${created.json.message}`,
                '400 TLSStore in version "v1alpha1" cannot be handled as a TLSStore: strict decoding error: unknown field "spec.defaultCertificat"');
            // Fixed again, the same objects pass.
            for (const o of [pool, cert, ns, store]) {
                const a = await client.apply(o, { dryRun: true });
                assert.ok(a.status === 200 || a.status === 201, `${objectName(o)}: ${a.status} ${a.body}`);
            }
        });
    });

    describe("the ClusterIssuer's Secret, made by pki/cluster-issuer.sh with kubectl as `k3s kubectl`", () => {
        const ROOT = `/tmp/hc-kube-issuer-${process.pid}`;
        after(() => fs.rmSync(ROOT, { recursive: true, force: true }));

        const ok = (r: Run, what: string): string => {
            assert.strictEqual(r.status, 0, `${what} exited ${r.status}: ${r.stderr}`);
            return r.stdout;
        };

        it("install applies it server-side (type kubernetes.io/tls: the intermediate then the root, the key made on the server); again changes nothing; remove deletes it", async () => {
            const plan = planOf(STACKS.dev);
            const dev = runs.get("dev")!;
            assert.strictEqual(dev.issuerSecret.create, issuerSecretCommand("install", CERT_MANAGER_NAMESPACE, ISSUER_SECRET_NAME));
            // K3s' `k3s kubectl` is kubectl with the server's admin kubeconfig.
            const bin = path.join(ROOT, "bin");
            fs.mkdirSync(bin, { recursive: true });
            const kubeconfig = path.join(ROOT, "admin.kubeconfig");
            fs.writeFileSync(kubeconfig, renderKubeconfig(k3sKubeconfigOf(server), server.url, "homecloud-checker"), { mode: 0o600 });
            fs.writeFileSync(path.join(bin, "k3s"), "#!/bin/sh\n[ \"$1\" = kubectl ] || { echo \"k3s stand-in: only kubectl\" >&2; exit 97; }\n" +
                `shift\nexec ${tools.kubectl} --kubeconfig ${kubeconfig} "$@"\n`, { mode: 0o755 });
            const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, HOME: path.join(ROOT, "home") };

            const caPem = ok(runOnHost(ROOT, "gw", caCreateCommand(plan)), "ca create");
            ok(runOnHost(ROOT, "node1", fileCommand("install", trustFile(), "pki-node1-trust", PKI_TOOLKIT_DIR), caPem), "trust install");
            const csr = ok(runOnHost(ROOT, "node1", keyRequestCommand(CLUSTER_ISSUER_LABEL, `homecloud cluster issuer ${plan.domain}`)), "issuer key");
            const inter = ok(runOnHost(ROOT, "gw", signCommand({
                name: `node1-${CLUSTER_ISSUER_LABEL}`, profile: "intermediate", permitted: permittedNames(plan), days: intermediateDays(plan),
                issue: "1", caSha256: pemSha256(caPem),
            }), csr), "sign intermediate");

            const first = runOnHost(ROOT, "node1", dev.issuerSecret.create, inter, env);
            assert.strictEqual(ok(first, "secret install").split(", ")[0], `homecloud: secret ${CERT_MANAGER_NAMESPACE}/${ISSUER_SECRET_NAME} holds the cluster issuer`);
            assert.match(first.stderr, /^secret\/homecloud-issuer-ca serverside-applied\n$/);
            const url = `/api/v1/namespaces/${CERT_MANAGER_NAMESPACE}/secrets/${ISSUER_SECRET_NAME}`;
            const secret = (await server.request("GET", url)).json;
            assert.strictEqual(secret.type, "kubernetes.io/tls");
            assert.strictEqual(Buffer.from(secret.data["tls.crt"], "base64").toString(), inter + caPem);
            const key = crypto.createPrivateKey(Buffer.from(secret.data["tls.key"], "base64").toString());
            assert.strictEqual(crypto.createPublicKey(key).export({ type: "spki", format: "pem" }),
                new crypto.X509Certificate(inter).publicKey.export({ type: "spki", format: "pem" }), "the key is the intermediate's");
            assert.deepStrictEqual(secret.metadata.managedFields.map((f: any) => `${f.manager} ${f.operation}`), ["homecloud Apply"]);
            assert.strictEqual(secret.metadata.annotations, undefined, "no last-applied annotation holds a copy of the key");

            ok(runOnHost(ROOT, "node1", dev.issuerSecret.create, inter, env), "secret install again");
            const again = (await server.request("GET", url)).json;
            assert.strictEqual(again.metadata.resourceVersion, secret.metadata.resourceVersion, "an unchanged apply writes nothing");

            assert.strictEqual(dev.issuerSecret.delete, issuerSecretCommand("remove", CERT_MANAGER_NAMESPACE, ISSUER_SECRET_NAME));
            const removed = runOnHost(ROOT, "node1", dev.issuerSecret.delete, "", env);
            assert.strictEqual(ok(removed, "secret remove"), `secret "${ISSUER_SECRET_NAME}" deleted from ${CERT_MANAGER_NAMESPACE} namespace\n`);
            assert.strictEqual((await server.request("GET", url)).status, 404);
        });
    });

    describe("homecloud:kubeconfig: the first-server steps with the host's own kubectl and the user's kubeconfig", () => {
        const ROOT = `/tmp/hc-kube-existing-${process.pid}`;
        after(() => fs.rmSync(ROOT, { recursive: true, force: true }));

        it("the kubeconfig passes the program's checks; admission-ready and the issuer's Secret reach this server with the release's kubectl", async () => {
            const plan = planOf(STACKS.dev);
            // What a user gives: an admin kubeconfig for the API server's address, its files embedded.
            const given = renderKubeconfig(k3sKubeconfigOf(server), server.url, "my-cluster");
            assert.deepStrictEqual(parseKubeconfig(given), { context: "my-cluster", server: server.url });
            fs.mkdirSync(path.join(ROOT, "node1", "upper", "homecloud"), { recursive: true });
            fs.writeFileSync(path.join(ROOT, "node1", "upper", "homecloud", "kubeconfig"), given, { mode: 0o600 });
            // The node's kubectl: the release's, first on PATH; no k3s anywhere.
            const bin = path.join(ROOT, "bin");
            fs.mkdirSync(bin, { recursive: true });
            fs.symlinkSync(tools.kubectl, path.join(bin, "kubectl"));
            const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, HOME: path.join(ROOT, "home") };
            const kubectlEnv = { HC_KUBECONFIG: EXISTING_KUBECONFIG_PATH };
            // The toolkit's k3s-node.sh, from the repository standing in for it.
            const step = (cmd: string): string => cmd.replace("/usr/local/lib/homecloud/", "/usr/local/lib/homecloud-pki/");

            const ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: homecloud-existing-check\n";
            const accepted = runOnHost(ROOT, "node1", step(admissionReadyCommand("a namespace", kubectlEnv)), ns, env);
            assert.strictEqual(accepted.stdout, "homecloud: the API server accepts a namespace\n", accepted.stderr);
            assert.strictEqual((await server.request("GET", "/api/v1/namespaces/homecloud-existing-check")).status, 404, "a dry run creates nothing");
            const widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: default\n";
            const refused = runOnHost(ROOT, "node1", step(admissionReadyCommand("a widget", kubectlEnv)), widget,
                { ...env, HC_WAIT_SECONDS: "2", HC_POLL_SECONDS: "1" });
            assert.strictEqual(refused.status, 1);
            // kubectl's last line for a kind the server does not know.
            assert.strictEqual(refused.stderr, `homecloud: ${os.hostname()}: timed out after 2 s waiting for the API server to accept a widget ` +
                "(server-side dry run); last answer: ensure CRDs are installed first\n");

            const caPem = runOnHost(ROOT, "gw", caCreateCommand(plan)).stdout;
            assert.strictEqual(runOnHost(ROOT, "node1", fileCommand("install", trustFile(), "pki-node1-trust", PKI_TOOLKIT_DIR), caPem).status, 0);
            const csr = runOnHost(ROOT, "node1", keyRequestCommand(CLUSTER_ISSUER_LABEL, `homecloud cluster issuer ${plan.domain}`)).stdout;
            const inter = runOnHost(ROOT, "gw", signCommand({
                name: `node1-${CLUSTER_ISSUER_LABEL}`, profile: "intermediate", permitted: permittedNames(plan), days: intermediateDays(plan),
                issue: "1", caSha256: pemSha256(caPem),
            }), csr).stdout;
            // The namespace the program's release makes (201 here, or 409 when an earlier test made it).
            const made = await server.request("POST", "/api/v1/namespaces", { body: { apiVersion: "v1", kind: "Namespace", metadata: { name: CERT_MANAGER_NAMESPACE } } });
            assert.ok([201, 409].includes(made.status), made.body);
            const installed = runOnHost(ROOT, "node1", issuerSecretCommand("install", CERT_MANAGER_NAMESPACE, ISSUER_SECRET_NAME, kubectlEnv), inter, env);
            assert.strictEqual(installed.status, 0, installed.stderr);
            const url = `/api/v1/namespaces/${CERT_MANAGER_NAMESPACE}/secrets/${ISSUER_SECRET_NAME}`;
            const secret = (await server.request("GET", url)).json;
            assert.strictEqual(Buffer.from(secret.data["tls.crt"], "base64").toString(), inter + caPem);
            const removed = runOnHost(ROOT, "node1", issuerSecretCommand("remove", CERT_MANAGER_NAMESPACE, ISSUER_SECRET_NAME, kubectlEnv), "", env);
            assert.strictEqual(removed.stdout, `secret "${ISSUER_SECRET_NAME}" deleted from ${CERT_MANAGER_NAMESPACE} namespace\n`, removed.stderr);
            assert.strictEqual((await server.request("GET", url)).status, 404);
        });
    });

    describe("the exported kubeconfig, with this server's own CAs", () => {
        it("reaches the server as the admin through the VIP's address (its certificate valid for it) under a context named for the stack", async () => {
            const dev = runs.get("dev")!;
            for (const [label, text] of [["kubeconfig", dev.kubeconfig], ["provider kubeconfig", dev.providerKubeconfig]]) {
                const k = YAML.parse(text);
                assert.strictEqual(k["current-context"], "homecloud-test", label);
                assert.deepStrictEqual(k.contexts, [{ name: "homecloud-test", context: { cluster: "homecloud-test", user: "homecloud-test" } }]);
                const url = new URL(k.clusters[0].cluster.server);
                assert.strictEqual(url.href, "https://192.168.1.240:6443/", label);
                const creds = {
                    ca: Buffer.from(k.clusters[0].cluster["certificate-authority-data"], "base64").toString(),
                    cert: Buffer.from(k.users[0].user["client-certificate-data"], "base64").toString(),
                    key: Buffer.from(k.users[0].user["client-key-data"], "base64").toString(),
                };
                // The server's certificate is checked for the URL's host; the connection goes to 127.0.0.1.
                const who = await server.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
                    credentials: creds, serverName: url.hostname, body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
                });
                assert.strictEqual(who.status, 201, `${label}: ${who.body}`);
                assert.deepStrictEqual([who.json.status.userInfo.username, who.json.status.userInfo.groups],
                    ["system:admin", ["system:masters", "system:authenticated"]]);
            }
        });

        it("by the API name too (kubeconfigServer: name), and a name outside tls-san is refused by the client", async () => {
            const { outputs } = await runProgram({ ...STACKS.large, kubeconfigServer: "name" });
            const k = YAML.parse(await resolve(outputs.kubeconfig!) as string);
            const url = new URL(k.clusters[0].cluster.server);
            assert.strictEqual(url.href, "https://api.home.arpa:8443/");
            const creds = {
                ca: Buffer.from(k.clusters[0].cluster["certificate-authority-data"], "base64").toString(),
                cert: Buffer.from(k.users[0].user["client-certificate-data"], "base64").toString(),
                key: Buffer.from(k.users[0].user["client-key-data"], "base64").toString(),
            };
            const ok = await server.request("GET", "/api/v1/namespaces/traefik", { credentials: creds, serverName: url.hostname });
            assert.strictEqual(ok.status, 200);
            await assert.rejects(server.request("GET", "/readyz", { credentials: creds, serverName: "other.home.arpa" }),
                /Hostname\/IP does not match certificate's altnames: Host: other\.home\.arpa\. is not in the cert's altnames/);
        });

        it("says when the admin certificate the server trusts expires", () => {
            const dev = runs.get("dev")!;
            const cert = new crypto.X509Certificate(server.adminCert);
            assert.strictEqual(dev.kubeconfigExpires, new Date(cert.validTo).toISOString());
            assert.deepStrictEqual(clientCertificateValidity(k3sKubeconfigOf(server)).validTo, new Date(cert.validTo));
        });
    });
});
