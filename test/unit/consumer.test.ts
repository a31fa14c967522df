// The example consumer project (examples/consumer) under mocks: a mocked StackReference
// stands for a deployed homecloud stack; the app's objects, their provider (built from the
// stack's kubeconfig, kept secret) and the consumer's configuration errors are asserted.
import * as assert from "assert";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import * as fs from "fs";
import { find, parentName, recorded, RecordedResource, referencedStacks, resolve } from "../mocks";
import { DEFAULTS, parseSettings } from "../../examples/consumer/settings";

const CONSUMER = path.resolve(__dirname, "../../examples/consumer");
const INDEX = path.join(CONSUMER, "index.ts");
const SECRET_SIG = { key: "4dabf18193072939515e22adb298388d", value: "1b47061264138c4ac30d75fd1eb44270" };
const KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://api.home.arpa:6443\n  name: default\n";

/** A deployed dev stack as the engine would hand it to a StackReference. */
const DEV_STATE = {
    kubeconfig: KUBECONFIG,
    apiEndpoint: "https://api.home.arpa:6443",
    vip: "192.168.1.240",
    ingressIp: "10.0.0.200",
    metallbPool: "10.0.0.200-10.0.0.220",
    domain: "home.arpa",
    nodes: { "pi-server-1": { ip: "10.0.0.11", role: "server" } },
    gateway: { hostname: "gateway", lanAddress: "10.0.0.1", vip: "192.168.1.240", lanRouter: "10.0.0.1" },
    gateway2: null,
};

interface ConsumerRun {
    readonly exports: { url: pulumi.Output<string>; ingressIp: pulumi.Output<string> };
    readonly resources: readonly RecordedResource[];
}

/** Runs examples/consumer/index.ts with this configuration (keys without the project prefix). */
async function runConsumer(config: Record<string, string>): Promise<ConsumerRun> {
    pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [`homecloud-consumer:${k}`, v])));
    recorded.length = 0;
    delete require.cache[INDEX];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exports = require(INDEX) as ConsumerRun["exports"];
    await Promise.all([resolve(exports.url), resolve(exports.ingressIp)]);
    await new Promise((r) => setTimeout(r, 100));
    return { exports, resources: recorded.map((r) => ({ ...r })) };
}

describe("example consumer project (examples/consumer)", () => {
    let run: ConsumerRun;
    const one = (type: string) => {
        const rs = run.resources.filter((r) => r.type === type);
        assert.strictEqual(rs.length, 1, `${type}: ${rs.length} registrations`);
        return rs[0];
    };

    before(async () => {
        referencedStacks.set("organization/homecloud/dev", { outputs: DEV_STATE, secretOutputNames: ["kubeconfig"] });
        run = await runConsumer({ homecloudStack: "organization/homecloud/dev", app: "hello" });
    });

    it("reads the homecloud stack through one StackReference and exports the app's URL and the ingress IP", async () => {
        const ref = one("pulumi:pulumi:StackReference");
        assert.strictEqual(ref.name, "organization/homecloud/dev");
        assert.strictEqual(await resolve(run.exports.url), "http://hello.home.arpa/");
        assert.strictEqual(await resolve(run.exports.ingressIp), "10.0.0.200");
    });

    it("builds its Kubernetes provider from the stack's kubeconfig, sent to the engine as a secret", () => {
        const provider = one("pulumi:providers:kubernetes");
        assert.strictEqual(provider.name, "homecloud");
        assert.deepStrictEqual(provider.inputs.kubeconfig, { [SECRET_SIG.key]: SECRET_SIG.value, value: KUBECONFIG });
    });

    it("deploys the app (namespace, Deployment, Service, Ingress) inside one component, all through that provider", () => {
        const component = one("homecloud-consumer:app:WebApp");
        assert.strictEqual(component.name, "hello");
        const kinds = ["kubernetes:core/v1:Namespace", "kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service",
            "kubernetes:networking.k8s.io/v1:Ingress"];
        // Registration order is the SDK's business (inputs resolve asynchronously): compare as sets.
        assert.deepStrictEqual(run.resources.filter((r) => r.type.startsWith("kubernetes:")).map((r) => `${r.type} ${r.name}`).sort(),
            kinds.map((k) => `${k} hello-${k.split(":")[2].toLowerCase()}`).sort());
        for (const kind of kinds) {
            const r = one(kind);
            assert.strictEqual(parentName(r), "hello", `${r.name} is the component's child`);
            assert.match(r.provider, /^urn:pulumi:test::homecloud::pulumi:providers:kubernetes::homecloud::homecloud-id$/, r.name);
        }
    });

    it("runs the pinned image as non-root on port 8080, ready on /health", () => {
        const d = one("kubernetes:apps/v1:Deployment").inputs;
        const labels = { "app.kubernetes.io/name": "hello" };
        assert.deepStrictEqual(d.metadata, { name: "hello", namespace: "hello", labels });
        assert.strictEqual(d.spec.replicas, 2);
        assert.deepStrictEqual(d.spec.selector, { matchLabels: labels });
        assert.deepStrictEqual(d.spec.template.metadata, { labels });
        assert.deepStrictEqual(d.spec.template.spec.securityContext,
            { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } });
        assert.deepStrictEqual(d.spec.template.spec.containers, [{
            name: "web",
            image: "traefik/whoami:v1.11.0",
            args: ["--port=8080", "--name=hello"],
            ports: [{ name: "http", containerPort: 8080 }],
            readinessProbe: { httpGet: { path: "/health", port: "http" } },
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
            resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } },
        }]);
    });

    it("serves it at <app>.<domain> through Traefik's IngressClass, to the Service's port 80", () => {
        const svc = one("kubernetes:core/v1:Service").inputs;
        assert.deepStrictEqual(svc.spec, {
            selector: { "app.kubernetes.io/name": "hello" },
            ports: [{ name: "http", port: 80, targetPort: "http" }],
        });
        const ing = one("kubernetes:networking.k8s.io/v1:Ingress").inputs;
        assert.deepStrictEqual(ing.metadata, { name: "hello", namespace: "hello", labels: { "app.kubernetes.io/name": "hello" } });
        assert.deepStrictEqual(ing.spec, {
            ingressClassName: "traefik",
            rules: [{
                host: "hello.home.arpa",
                http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "hello", port: { name: "http" } } } }] },
            }],
        });
        assert.deepStrictEqual(one("kubernetes:core/v1:Namespace").inputs.metadata, { name: "hello" });
    });

    it("takes another app name, image and replica count from its configuration", async () => {
        referencedStacks.set("organization/homecloud/lab", { outputs: { ...DEV_STATE, domain: "lab.home.arpa" }, secretOutputNames: [] });
        run = await runConsumer({
            homecloudStack: "organization/homecloud/lab", app: "blog", image: "registry.lan:5000/blog@sha256:" + "a".repeat(64), replicas: "3",
        });
        assert.strictEqual(await resolve(run.exports.url), "http://blog.lab.home.arpa/");
        const d = find("kubernetes:apps/v1:Deployment", "blog-")[0].inputs;
        assert.strictEqual(d.spec.replicas, 3);
        assert.strictEqual(d.spec.template.spec.containers[0].image, `registry.lan:5000/blog@sha256:${"a".repeat(64)}`);
        assert.strictEqual(find("kubernetes:networking.k8s.io/v1:Ingress", "blog-")[0].inputs.spec.rules[0].host, "blog.lab.home.arpa");
        // Not marked secret in the referenced state, still secret on the way to the provider.
        assert.deepStrictEqual(find("pulumi:providers:kubernetes")[0].inputs.kubeconfig, { [SECRET_SIG.key]: SECRET_SIG.value, value: KUBECONFIG });
    });

    it("rejects bad configuration before registering anything, naming every key and the fix", async () => {
        await assert.rejects(runConsumer({ homecloudStack: "dev", app: "Hello_World", image: "nginx", replicas: "0" }), {
            message: "Invalid homecloud-consumer configuration:\n" +
                "  - homecloud-consumer:homecloudStack: \"dev\" is not a fully qualified stack; use <organization>/homecloud/<stack>, e.g. organization/homecloud/dev\n" +
                "  - homecloud-consumer:app: \"Hello_World\" is not a DNS label; use lower-case letters, digits and '-', e.g. hello\n" +
                "  - homecloud-consumer:image: \"nginx\" is not a pinned image; give a tag or digest, e.g. traefik/whoami:v1.11.0\n" +
                "  - homecloud-consumer:replicas: 0 is out of range; use a whole number from 1 to 10",
        });
        assert.strictEqual(recorded.length, 0);
        assert.throws(() => parseSettings({ homecloudStack: "o/homecloud/dev", image: "nginx:latest" }),
            { message: "Invalid homecloud-consumer configuration:\n  - homecloud-consumer:image: \"nginx:latest\" is not a pinned image; give a tag or digest, e.g. traefik/whoami:v1.11.0" });
        assert.deepStrictEqual(parseSettings({ homecloudStack: "o/homecloud/dev" }), { homecloudStack: "o/homecloud/dev", ...DEFAULTS });
    });

    it("declares its defaults in its Pulumi.yaml as settings.ts has them, and pins the root's versions", () => {
        const project = parse(fs.readFileSync(path.join(CONSUMER, "Pulumi.yaml"), "utf8"));
        assert.strictEqual(project.name, "homecloud-consumer");
        assert.deepStrictEqual(Object.keys(project.config), ["homecloudStack", "app", "image", "replicas"]);
        assert.strictEqual(project.config.homecloudStack.default, undefined);
        assert.deepStrictEqual({ app: project.config.app.default, image: project.config.image.default, replicas: project.config.replicas.default },
            DEFAULTS);
        const root = JSON.parse(fs.readFileSync(path.join(CONSUMER, "../../package.json"), "utf8"));
        const consumer = JSON.parse(fs.readFileSync(path.join(CONSUMER, "package.json"), "utf8"));
        for (const [dep, version] of Object.entries({ ...consumer.dependencies, ...consumer.devDependencies })) {
            assert.strictEqual(version, root.dependencies[dep] ?? root.devDependencies[dep], `${dep} pinned as in the root package.json`);
        }
    });
});
