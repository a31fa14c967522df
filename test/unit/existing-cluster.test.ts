// Existing-cluster mode (homecloud:kubeconfig) and the air-gap settings (chartRepository,
// registryMirrors): the config's checks with their exact messages, the registries.yaml
// renderer, and the whole program under the mocks in each mode.
import * as assert from "assert";
import { parse } from "yaml";
import { parseKubeconfig } from "../../config/cluster";
import { plainKubeconfigProblem } from "../../config/load";
import { parseAddressPlan } from "../../config/validate";
import { RawConfig } from "../../config/schema";
import { registriesFile, renderRegistries } from "../../cluster/registries";
import { clusterRawPlan, k3sStdout } from "../fixtures/k3s";
import { EXISTING_KUBECONFIG } from "../fixtures/existingCluster";
import { dependsOn, find, isSecret, parentName, resolve, stdoutHooks } from "../mocks";
import { runProgram } from "../program";
import { unwrapSecrets } from "../../lab/engine/commandSemantics";

/** The problems parseAddressPlan reports for `raw`, one per line. */
function problems(raw: RawConfig): string[] {
    try {
        parseAddressPlan(raw);
    } catch (e) {
        return (e as { problems: string[] }).problems;
    }
    return [];
}

const FIX = "give the file kubectl uses, with its files embedded: " +
    "`kubectl config view --minify --flatten --raw | pulumi config set --secret homecloud:kubeconfig`";
const withUser = (user: string): string => EXISTING_KUBECONFIG.replace(
    "    client-certificate-data: Q0xJRU5UIENFUlQ=\n    client-key-data: Q0xJRU5UIEtFWQ==\n", user);

describe("homecloud:kubeconfig: a cluster the user already runs", () => {
    describe("the kubeconfig's checks", () => {
        it("takes the current context's cluster server; a token is credentials too", () => {
            assert.deepStrictEqual(parseKubeconfig(EXISTING_KUBECONFIG), { context: "kubernetes-admin@kubernetes", server: "https://10.0.0.11:6443" });
            assert.deepStrictEqual(parseKubeconfig(withUser("    token: abc.def\n")), { context: "kubernetes-admin@kubernetes", server: "https://10.0.0.11:6443" });
        });

        it("refuses what kubectl on the first server could not use, each with the fix, never quoting a credential", () => {
            const problem = (text: string): string => (parseKubeconfig(text) as { problem: string }).problem;
            assert.strictEqual(problem("clusters: [\n"), `is not YAML (Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1:); ${FIX}`);
            assert.strictEqual(problem("just: text\n"), `is not a kubeconfig (no clusters, users and contexts lists); ${FIX}`);
            assert.strictEqual(problem(EXISTING_KUBECONFIG.replace("current-context: kubernetes-admin@kubernetes\n", "")),
                `has no current-context; choose one with \`kubectl config use-context <name>\`, then ${FIX}`);
            assert.strictEqual(problem(EXISTING_KUBECONFIG.replace("current-context: kubernetes-admin@kubernetes", "current-context: other")),
                `names current-context "other", which is not a context with a cluster and a user; ${FIX}`);
            assert.strictEqual(problem(EXISTING_KUBECONFIG.replace("https://10.0.0.11:6443", "http://10.0.0.11:8080")),
                "context \"kubernetes-admin@kubernetes\"'s cluster \"kubernetes\" has server \"http://10.0.0.11:8080\"; it needs the API server's URL, " +
                "https://<host>:<port>, reachable from the first server in homecloud:nodes");
            assert.strictEqual(problem(EXISTING_KUBECONFIG.replace("certificate-authority-data: Q0EgQ0VSVA==", "certificate-authority: /home/me/ca.crt")),
                `context "kubernetes-admin@kubernetes"'s cluster names a CA file, which the first server does not have; ${FIX}`);
            assert.strictEqual(problem(withUser("    client-certificate: /home/me/admin.crt\n    client-key: /home/me/admin.key\n")),
                `user "kubernetes-admin" reads client-certificate and client-key from files, which the first server does not have; use a client certificate or a token inside the file: ${FIX}`);
            assert.strictEqual(problem(withUser("    exec:\n      command: kubelogin\n")),
                `user "kubernetes-admin" runs a credential plugin, which the first server does not have; use a client certificate or a token inside the file: ${FIX}`);
            assert.strictEqual(problem(withUser("    client-key-data: Q0xJRU5UIEtFWQ==\n")),
                "user \"kubernetes-admin\" has no credentials (client-certificate-data with client-key-data, or token); " +
                "use a cluster-admin kubeconfig, e.g. the k3s.yaml a K3s server writes or kubeadm's admin.conf");
        });

        it("with K3s on (its default), without a server in nodes, or unusable: one problem naming homecloud:kubeconfig", () => {
            assert.deepStrictEqual(problems({ ...clusterRawPlan(), kubeconfig: EXISTING_KUBECONFIG }), [
                "homecloud:kubeconfig: is set and so is homecloud:k3sEnabled (its default is true): the program would install K3s on the nodes " +
                "besides your cluster; to use your cluster, set homecloud:k3sEnabled to false, or remove homecloud:kubeconfig to let the program install K3s",
            ]);
            const agentsOnly = { ...clusterRawPlan(), k3sEnabled: false, kubeconfig: EXISTING_KUBECONFIG,
                nodes: [{ name: "pi4", mac: "dc:a6:32:00:00:04", ip: "10.0.0.14", role: "agent" }] };
            assert.ok(problems(agentsOnly).includes("homecloud:kubeconfig: is set but homecloud:nodes has no server: the cluster steps (kubectl with this " +
                "kubeconfig) and cert-manager's intermediate key need a control-plane node of your cluster; list it first in homecloud:nodes with role server"));
            assert.deepStrictEqual(problems({ ...clusterRawPlan(), k3sEnabled: false, kubeconfig: "just: text\n" }),
                [`homecloud:kubeconfig: is not a kubeconfig (no clusters, users and contexts lists); ${FIX}`]);
        });

        it("with K3s off: the plan says existing, with the context and server, never the text", () => {
            const { plan } = parseAddressPlan({ ...clusterRawPlan(), k3sEnabled: false, kubeconfig: EXISTING_KUBECONFIG });
            assert.deepStrictEqual(plan.cluster, {
                source: "existing", existing: { context: "kubernetes-admin@kubernetes", server: "https://10.0.0.11:6443" }, registryMirrors: [],
            });
            assert.ok(!JSON.stringify(plan).includes("Q0xJRU5UIEtFWQ=="), "the plan holds no credential");
            assert.deepStrictEqual(parseAddressPlan({ ...clusterRawPlan(), k3sEnabled: false }).plan.cluster, { source: "none", registryMirrors: [] });
            assert.deepStrictEqual(parseAddressPlan(clusterRawPlan()).plan.cluster, { source: "k3s", registryMirrors: [] });
        });

        it("a kubeconfig in plain text in the stack file is refused, saying how to set it as a secret", () => {
            assert.strictEqual(plainKubeconfigProblem(EXISTING_KUBECONFIG, true), undefined);
            assert.strictEqual(plainKubeconfigProblem(undefined, false), undefined);
            assert.strictEqual(plainKubeconfigProblem("", false), undefined);
            assert.strictEqual(plainKubeconfigProblem(EXISTING_KUBECONFIG, false),
                "homecloud:kubeconfig: is stored in plain text in the stack file, and it holds your cluster's admin credentials; " +
                "remove it (`pulumi config rm homecloud:kubeconfig`) and set it as a secret: " +
                "`kubectl config view --minify --flatten --raw | pulumi config set --secret homecloud:kubeconfig`");
        });
    });

    describe("air-gap settings", () => {
        it("chartRepository: an http(s) URL, trailing slash dropped", () => {
            assert.strictEqual(parseAddressPlan({ ...clusterRawPlan(), chartRepository: "https://charts.home.arpa/mirror/" }).plan.cluster.chartRepository,
                "https://charts.home.arpa/mirror");
            assert.deepStrictEqual(problems({ ...clusterRawPlan(), chartRepository: "oci://charts.home.arpa" }),
                ["homecloud:chartRepository: \"oci://charts.home.arpa\" is not an http or https URL of a host; write e.g. https://charts.home.arpa"]);
        });

        it("registryMirrors: registry names as images name them, one entry each, http(s) endpoints, K3s only", () => {
            const mirrors = [
                { registry: "docker.io", endpoints: ["https://registry.home.arpa:5000", "http://10.0.0.5:5000"] },
                { registry: "*", endpoints: ["https://registry.home.arpa:5000/v2/all"] },
            ];
            assert.deepStrictEqual(parseAddressPlan({ ...clusterRawPlan(), registryMirrors: mirrors }).plan.cluster.registryMirrors, mirrors);
            assert.deepStrictEqual(problems({ ...clusterRawPlan(), registryMirrors: [
                { registry: "Docker.io", endpoints: ["https://registry.home.arpa:5000"] },
                { registry: "ghcr.io", endpoints: [] },
                { registry: "ghcr.io", endpoints: ["ftp://registry.home.arpa", "https://user:pw@registry.home.arpa"], insecure: true },
            ] }), [
                "homecloud:registryMirrors[0].registry: \"Docker.io\" is not a registry name; write it as image names start, lower case, e.g. docker.io, registry.k8s.io, ghcr.io or * for every registry",
                "homecloud:registryMirrors[1].endpoints: must be a list of one or more mirror URLs, e.g. [https://registry.home.arpa:5000]",
                "homecloud:registryMirrors[2]: has insecure; an entry has only registry and endpoints",
                "homecloud:registryMirrors[2].registry: \"ghcr.io\" is listed twice; give each registry one entry with all its endpoints",
                "homecloud:registryMirrors[2].endpoints[0]: \"ftp://registry.home.arpa\" is not an http or https URL of a host; write e.g. https://registry.home.arpa:5000",
                "homecloud:registryMirrors[2].endpoints[1]: \"https://user:pw@registry.home.arpa\" is not an http or https URL of a host; write e.g. https://registry.home.arpa:5000",
            ]);
            assert.deepStrictEqual(problems({ ...clusterRawPlan(), k3sEnabled: false, registryMirrors: [mirrors[0]] }), [
                "homecloud:registryMirrors: is set but homecloud:k3sEnabled is false: registries.yaml is written on the nodes of the program's K3s only; " +
                "configure your own cluster's container runtime (K3s: /etc/rancher/k3s/registries.yaml on each node), then remove homecloud:registryMirrors",
            ]);
        });

        it("registries.yaml: mirrors by registry, endpoints in order, restarting K3s on a change", () => {
            assert.strictEqual(renderRegistries([
                { registry: "docker.io", endpoints: ["https://registry.home.arpa:5000", "http://10.0.0.5:5000"] },
                { registry: "*", endpoints: ["https://registry.home.arpa:5000"] },
            ]), `# Written by homecloud (homecloud:registryMirrors); K3s reads it when it starts.
mirrors:
  docker.io:
    endpoint:
      - https://registry.home.arpa:5000
      - http://10.0.0.5:5000
  "*":
    endpoint:
      - https://registry.home.arpa:5000
`);
            assert.throws(() => renderRegistries([]), /registries\.yaml needs at least one mirror/);
            assert.deepStrictEqual(registriesFile("pi4", "agent"), {
                path: "/etc/rancher/k3s/registries.yaml", mode: "0600", hooks: "cluster/k3s-config.sh", env: { HC_UNIT: "k3s-agent", HC_NODE: "pi4" },
            });
        });
    });
});

/** The mark the SDK puts on a secret input value. */
const SECRET_SIG = { key: "4dabf18193072939515e22adb298388d", value: "1b47061264138c4ac30d75fd1eb44270" };
const secretValue = (v: Record<string, unknown>): unknown => {
    assert.strictEqual(v[SECRET_SIG.key], SECRET_SIG.value, "a secret input");
    return v.value;
};

describe("the program with homecloud:kubeconfig (K3s off)", () => {
    const stack = { ...clusterRawPlan(), k3sEnabled: false, chartRepository: "https://charts.home.arpa" };
    let run: Awaited<ReturnType<typeof runProgram>>;
    before(async () => {
        run = await runProgram(stack, { kubeconfig: EXISTING_KUBECONFIG });
    });
    const commands = () => find("command:remote:Command").map((c) => c.name);

    it("registers no K3sCluster and none of its steps; an ExistingCluster holds the first server's steps", () => {
        assert.deepStrictEqual(find("homecloud:k8s:K3sCluster"), []);
        assert.deepStrictEqual(find("random:index/randomPassword:RandomPassword"), []);
        assert.deepStrictEqual(commands().filter((n) => n.startsWith("k3s-")), []);
        assert.deepStrictEqual(find("homecloud:k8s:ExistingCluster").map((r) => r.name), ["cluster"]);
        assert.deepStrictEqual(commands().filter((n) => n.startsWith("cluster-")).sort(),
            ["cluster-accepts-metallb-pool", "cluster-adopt-traefik-crds", "cluster-pi1-kubeconfig", "cluster-pi1-toolkit"]);
        for (const name of ["cluster-pi1-toolkit", "cluster-pi1-kubeconfig", "cluster-accepts-metallb-pool", "cluster-adopt-traefik-crds"]) {
            const c = find("command:remote:Command", name)[0];
            assert.strictEqual(parentName(c), "cluster", `${name} is the ExistingCluster's`);
            assert.strictEqual((unwrapSecrets(c.inputs.connection) as { host: string }).host, "10.0.0.11", `${name} runs on pi1, the first server`);
        }
    });

    it("puts the kubeconfig on the first server root-only, as a secret never logged", () => {
        const file = find("command:remote:Command", "cluster-pi1-kubeconfig")[0];
        assert.strictEqual(secretValue(file.inputs.stdin), EXISTING_KUBECONFIG);
        assert.strictEqual(file.inputs.logging, "none");
        assert.match(file.inputs.create, /^sudo -n \/usr\/bin\/env HC_DEST=\/etc\/homecloud\/kubeconfig HC_RESOURCE='urn:pulumi:test::homecloud::homecloud:k8s:ExistingCluster\$command:remote:Command::cluster-pi1-kubeconfig' HC_MODE=0600 \/bin\/bash \/usr\/local\/lib\/homecloud\/host\/scripts\/host-file\.sh install$/);
        assert.ok(!file.inputs.create.includes("Q0xJRU5UIEtFWQ=="), "no credential in the command line");
        assert.deepStrictEqual(dependsOn(file), ["cluster-pi1-toolkit", "hostkeys-pi1"]);
    });

    it("the Kubernetes provider is built from the given kubeconfig, and every Kubernetes object uses it", () => {
        const [p] = find("pulumi:providers:kubernetes");
        assert.strictEqual(p.name, "k3s");
        assert.strictEqual(secretValue(p.inputs.kubeconfig), EXISTING_KUBECONFIG);
        assert.strictEqual(p.inputs.clusterIdentifier, "homecloud-test");
        const objects = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
        assert.deepStrictEqual(objects.map((r) => r.name).sort(), [
            "cert-manager-issuer", "cert-manager-namespace", "cert-manager-release", "cert-manager-tls-store", "cert-manager-wildcard",
            "metallb-l2", "metallb-namespace", "metallb-pool", "metallb-release", "traefik-crds", "traefik-namespace", "traefik-release",
        ]);
        for (const o of objects) {
            assert.strictEqual(o.provider, `${p.urn}::${p.name}-id`, `${o.name} uses the provider`);
        }
    });

    it("the first-server steps reach the API with the host's kubectl and that file, after it is there", () => {
        const accepts = find("command:remote:Command", "cluster-accepts-metallb-pool")[0];
        assert.strictEqual(accepts.inputs.create, "sudo -n /usr/bin/env HC_WHAT='MetalLB'\\''s address pool and L2 advertisement' " +
            "HC_KUBECONFIG=/etc/homecloud/kubeconfig /bin/bash /usr/local/lib/homecloud/cluster/k3s-node.sh admission-ready");
        assert.deepStrictEqual(dependsOn(accepts), ["cluster-pi1-kubeconfig", "cluster-pi1-toolkit", "hostkeys-pi1", "metallb-release"]);
        const adopt = find("command:remote:Command", "cluster-adopt-traefik-crds")[0];
        assert.strictEqual(adopt.inputs.create, "sudo -n /usr/bin/env HC_RELEASE=traefik-crds HC_NAMESPACE=traefik HC_GROUP=traefik.io HC_EXCEPT=hub " +
            "HC_KUBECONFIG=/etc/homecloud/kubeconfig /bin/bash /usr/local/lib/homecloud/cluster/k3s-node.sh adopt-crds");
        const secret = find("command:remote:Command", "cert-manager-issuer-secret")[0];
        assert.strictEqual(secret.inputs.create, "sudo -n /usr/bin/env HC_NAMESPACE=cert-manager HC_SECRET=homecloud-issuer-ca HC_LABEL=cluster-issuer " +
            "HC_KUBECONFIG=/etc/homecloud/kubeconfig /bin/bash /usr/local/lib/homecloud-pki/pki/cluster-issuer.sh install");
        assert.strictEqual(secret.inputs.delete, "sudo -n /usr/bin/env HC_NAMESPACE=cert-manager HC_SECRET=homecloud-issuer-ca HC_LABEL=cluster-issuer " +
            "HC_KUBECONFIG=/etc/homecloud/kubeconfig /bin/bash /usr/local/lib/homecloud-pki/pki/cluster-issuer.sh remove");
        assert.ok(dependsOn(secret).includes("cluster-pi1-kubeconfig"), "the Secret step waits for the kubeconfig on the server");
    });

    it("every chart comes from homecloud:chartRepository", () => {
        const repos = Object.fromEntries(find("kubernetes:helm.sh/v3:Release").map((r) => [r.inputs.name, r.inputs.repositoryOpts.repo]));
        assert.deepStrictEqual(repos, {
            "metallb": "https://charts.home.arpa", "traefik-crds": "https://charts.home.arpa", "traefik": "https://charts.home.arpa",
            "cert-manager": "https://charts.home.arpa",
        });
    });

    it("exports the given kubeconfig (secret) and its server as apiEndpoint; no expiry it cannot know", async () => {
        assert.strictEqual(await resolve(run.outputs.kubeconfig!), EXISTING_KUBECONFIG);
        assert.strictEqual(await isSecret(run.outputs.kubeconfig!), true);
        assert.strictEqual(run.outputs.apiEndpoint, "https://10.0.0.11:6443");
        assert.strictEqual(run.outputs.kubeconfigExpires, undefined);
    });

    it("refuses the kubeconfig in plain text before registering anything", async () => {
        await assert.rejects(runProgram({ ...stack, kubeconfig: EXISTING_KUBECONFIG }),
            /homecloud:kubeconfig: is stored in plain text in the stack file/);
        assert.deepStrictEqual(find("command:remote:Command"), []);
    });
});

describe("the program with K3s and homecloud:registryMirrors", () => {
    const mirrors = [{ registry: "docker.io", endpoints: ["https://registry.home.arpa:5000"] }];
    before(async () => {
        stdoutHooks.push(k3sStdout("k3s"));
        await runProgram({ ...clusterRawPlan(), registryMirrors: mirrors });
    });
    after(() => stdoutHooks.pop());

    it("writes registries.yaml on every node before K3s is installed there, and the charts keep their own repositories", () => {
        for (const node of ["pi1", "pi2", "pi3", "pi4", "pi5"]) {
            const [file] = find("command:remote:Command", `k3s-${node}-registries`);
            assert.ok(file, `${node} gets registries.yaml`);
            assert.strictEqual(parentName(file), "k3s");
            assert.strictEqual(file.inputs.stdin, renderRegistries(mirrors));
            assert.match(file.inputs.create, new RegExp(`HC_DEST=/etc/rancher/k3s/registries\\.yaml .*HC_MODE=0600 HC_HOOKS=cluster/k3s-config\\.sh HC_UNIT=${node === "pi4" || node === "pi5" ? "k3s-agent" : "k3s"} HC_NODE=${node} `));
            const [install] = find("command:remote:Command", `k3s-${node}-install`);
            assert.ok(dependsOn(install).includes(`k3s-${node}-registries`), `${node}'s install waits for it`);
        }
        const repos = find("kubernetes:helm.sh/v3:Release").map((r) => r.inputs.repositoryOpts.repo).sort();
        assert.deepStrictEqual(repos, ["https://charts.jetstack.io", "https://metallb.github.io/metallb", "https://traefik.github.io/charts", "https://traefik.github.io/charts"]);
    });

    it("without mirrors: no registries.yaml step at all", async () => {
        await runProgram(clusterRawPlan());
        assert.deepStrictEqual(find("command:remote:Command").filter((c) => c.name.endsWith("-registries")), []);
        assert.deepStrictEqual(parse(renderRegistries(mirrors)), { mirrors: { "docker.io": { endpoint: ["https://registry.home.arpa:5000"] } } });
    });
});
