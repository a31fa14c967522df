// The cluster components under Pulumi mocks: which resources, their parents, the phase
// order through the dependencies each registration sent the engine, the scripts and
// connections, secrets, providers and Helm release arguments. Mocks first, then the code.
import * as assert from "assert";
import { byUrn, dependsOn, find, isSecret, parentName, recorded, RecordedResource, reset, resolve, stdoutHooks, testHostKey, testHostKeys } from "../mocks";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import type * as K3sModule from "../../cluster/k3sCluster";
import type * as MetalLBModule from "../../cluster/metallb";
import type * as TraefikModule from "../../cluster/traefik";
import { sha256 } from "../../host/hostOps";
import { fileCommand } from "../../host/hostFile";
import { TOOLKIT_INSTALL, TOOLKIT_REMOVE, toolkitInstaller } from "../../host/toolkit";
import { k3sConfigFor, renderK3sConfig } from "../../cluster/k3sConfig";
import {
    configFile, installCommand, memberReadyCommand, memberRemoveCommand, prepareCommand, readJoinTokenCommand,
    readKubeconfigCommand, renewKubeconfigCommand, tokenFile, uninstallCommand, unprepareCommand, waitForRebootCommand,
} from "../../cluster/k3sSteps";
import { renderKubeconfig } from "../../cluster/kubeconfig";
import { parseAddressPlan } from "../../config/validate";
import { ADMIN_CERT_2025, ADMIN_CERT_2026, clusterRawPlan, k3sKubeconfig, k3sStdout, MOCK_FULL_TOKEN } from "../fixtures/k3s";

const COMMAND = "command:remote:Command";
/** The URN the engine gives a K3sCluster command: what host files record as their owner. */
const k3sUrn = (name: string): string => `urn:pulumi:test::homecloud::homecloud:k8s:K3sCluster$command:remote:Command::${name}`;

/** Three servers and two agents, a non-default API port. */
function clusterPlan() {
    return parseAddressPlan(clusterRawPlan()).plan;
}

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n";

function one(type: string, name: string): RecordedResource {
    const rs = recorded.filter((r) => r.type === type && r.name === name);
    assert.strictEqual(rs.length, 1, `one ${type} named ${name}, got ${rs.length}`);
    return rs[0];
}

/** The mark the SDK puts on a secret input value (rpc.specialSigKey / specialSecretSig). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function isSecretInput(v: any): boolean {
    return typeof v === "object" && v !== null && v[SIG_KEY] === SECRET_SIG;
}

/** An input with every secret mark taken off, to compare values. */
function plain(v: any): any {
    if (isSecretInput(v)) {
        return plain(v.value);
    }
    if (Array.isArray(v)) {
        return v.map(plain);
    }
    if (typeof v === "object" && v !== null) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    }
    return v;
}

/** A recorded command with its inputs' secret marks taken off. */
const cmd = (name: string) => one(COMMAND, name);
const inputs = (name: string) => plain(cmd(name).inputs);



/** Whether `r` waits for `name`, directly or through other dependencies. */
function waitsFor(r: RecordedResource, name: string, seen = new Set<string>()): boolean {
    return r.dependencies.some((u) => {
        const d = byUrn(u)!;
        if (d.name === name) {
            return true;
        }
        if (seen.has(d.name)) {
            return false;
        }
        seen.add(d.name);
        return waitsFor(d, name, seen);
    });
}

/** Lets registrations still in flight (registerOutputs, dependents) finish. */
const settle = () => new Promise((r) => setTimeout(r, 100));

describe("cluster components (mocks)", () => {
    const plan = clusterPlan();
    let m: typeof K3sModule;

    before(async () => {
        m = await import("../../cluster/k3sCluster");
        stdoutHooks.push(k3sStdout("hc"));
    });

    describe("K3sCluster", () => {
        let cluster: K3sModule.K3sCluster;

        before(async () => {
            reset();
            const gateway = new random.RandomId("gw-stand-in", { byteLength: 4 });
            cluster = new m.K3sCluster("hc", {
                plan, sshPrivateKey: KEY, hostKeys: testHostKeys(plan.nodes.map((n) => n.name)), sshHosts: { pi5: "192.168.1.55" },
                waitFor: [gateway], now: new Date("2025-06-01T00:00:00Z"),
            });
            await Promise.all([resolve(cluster.kubeconfig), resolve(cluster.apiEndpoint), resolve(cluster.joinToken)]);
            await settle();
        });

        const NODES = ["pi1", "pi2", "pi3", "pi4", "pi5"];
        const STEPS = ["toolkit", "prepare", "booted", "token", "config", "install"];

        it("registers the token, every node's steps, a member step for all but the first server, and the kubeconfig read", () => {
            const expected = [
                "homecloud:k8s:K3sCluster hc",
                "random:index/randomPassword:RandomPassword hc-token",
                `${COMMAND} hc-kubeconfig`,
                `${COMMAND} hc-kubeconfig-renew`,
                `${COMMAND} hc-join-token`,
                ...NODES.flatMap((n) => STEPS.map((s) => `${COMMAND} hc-${n}-${s}`)),
                ...["pi2", "pi3", "pi4", "pi5"].map((n) => `${COMMAND} hc-${n}-member`),
            ].sort();
            assert.deepStrictEqual(recorded.filter((r) => r.name !== "gw-stand-in").map((r) => `${r.type} ${r.name}`).sort(), expected);
            for (const r of recorded.filter((x) => x.name.startsWith("hc-"))) {
                assert.strictEqual(parentName(r), "hc", `${r.name} is a child of the cluster`);
            }
        });

        /** What a command depends on besides its host's toolkit (which every command waits for). */
        const deps = (name: string): string[] => {
            const host = ["hc-kubeconfig", "hc-kubeconfig-renew", "hc-join-token"].includes(name) || name.endsWith("-member")
                ? "pi1" : name.split("-")[1];
            const d = dependsOn(cmd(name));
            assert.ok(d.includes(`hc-${host}-toolkit`), `${name} waits for hc-${host}-toolkit: ${d.join(", ")}`);
            return d.filter((x) => x !== `hc-${host}-toolkit`);
        };

        it("phase 0: every node gets the toolkit (host and cluster scripts) after what the cluster waits for", () => {
            for (const n of NODES) {
                assert.deepStrictEqual(dependsOn(cmd(`hc-${n}-toolkit`)), ["gw-stand-in"]);
                const t = inputs(`hc-${n}-toolkit`);
                assert.strictEqual(t.create, TOOLKIT_INSTALL);
                assert.strictEqual(t.delete, TOOLKIT_REMOVE);
                assert.strictEqual(t.stdin, toolkitInstaller(["cluster/k3s-config.sh", "cluster/k3s-install.sh", "cluster/k3s-kubeconfig.sh", "cluster/k3s-membership.sh", "cluster/k3s-node.sh", "cluster/k3s-snapshots.sh"]));
            }
        });

        it("phase 1: every node is prepared after what it waits for, then waits for its reboot", () => {
            for (const n of NODES) {
                assert.deepStrictEqual(deps(`hc-${n}-prepare`), ["gw-stand-in"]);
                assert.deepStrictEqual(deps(`hc-${n}-booted`), [`hc-${n}-prepare`]);
            }
        });

        it("phase 2: the first server starts once every node is prepared", () => {
            const booted = NODES.map((n) => `hc-${n}-booted`);
            assert.deepStrictEqual(deps("hc-pi1-token"), [...booted, "hc-token"].sort());
            assert.deepStrictEqual(deps("hc-pi1-config"), booted);
            assert.deepStrictEqual(deps("hc-pi1-install"), ["hc-pi1-config", "hc-pi1-token"]);
            assert.deepStrictEqual(deps("hc-join-token"), ["hc-pi1-install"], "the full token is read once the first server is up");
        });

        it("phase 3: the other servers join one at a time, each after the previous one is Ready", () => {
            assert.deepStrictEqual(deps("hc-pi2-config"), ["hc-pi1-install", "hc-pi2-booted"]);
            assert.deepStrictEqual(deps("hc-pi2-token"), ["hc-join-token", "hc-pi1-install", "hc-pi2-booted", "hc-token"]);
            assert.deepStrictEqual(deps("hc-pi2-install"), ["hc-pi2-config", "hc-pi2-token"]);
            assert.deepStrictEqual(deps("hc-pi2-member"), ["hc-pi1-install", "hc-pi2-install"]);
            assert.deepStrictEqual(deps("hc-pi3-config"), ["hc-pi1-install", "hc-pi2-member", "hc-pi3-booted"]);
            assert.deepStrictEqual(deps("hc-pi3-install"), ["hc-pi3-config", "hc-pi3-token"]);
            assert.deepStrictEqual(deps("hc-pi3-member"), ["hc-pi1-install", "hc-pi2-member", "hc-pi3-install"]);
            assert.ok(waitsFor(cmd("hc-pi3-install"), "hc-pi2-member"));
            assert.ok(!waitsFor(cmd("hc-pi2-install"), "hc-pi3-install"));
        });

        it("phase 4: agents join after the last server, in parallel with each other", () => {
            for (const a of ["pi4", "pi5"]) {
                assert.deepStrictEqual(deps(`hc-${a}-config`), ["hc-pi1-install", "hc-pi3-member", `hc-${a}-booted`]);
                assert.deepStrictEqual(deps(`hc-${a}-member`), ["hc-pi1-install", "hc-pi3-member", `hc-${a}-install`]);
            }
            assert.ok(!waitsFor(cmd("hc-pi5-install"), "hc-pi4-install"));
            assert.ok(!waitsFor(cmd("hc-pi4-install"), "hc-pi5-install"));
        });

        it("phase 5: the kubeconfig is read once every node is Ready", () => {
            assert.deepStrictEqual(deps("hc-kubeconfig"),
                ["hc-pi1-install", "hc-pi2-member", "hc-pi3-member", "hc-pi4-member", "hc-pi5-member"]);
            assert.deepStrictEqual(deps("hc-kubeconfig-renew"), ["hc-kubeconfig"]);
        });

        it("runs k3s-node.sh from the toolkit with its data in HC_* variables, on the right hosts", () => {
            for (const n of plan.nodes) {
                const host = n.name === "pi5" ? "192.168.1.55" : n.ip;
                const raw = cmd(`hc-${n.name}-prepare`).inputs;
                assert.ok(isSecretInput(raw.connection) || isSecretInput(raw.connection.privateKey), "the SSH key is secret");
                const prepare = inputs(`hc-${n.name}-prepare`);
                assert.strictEqual(prepare.create, prepareCommand());
                assert.strictEqual(prepare.create, "sudo -n /usr/bin/env /bin/bash /usr/local/lib/homecloud/cluster/k3s-node.sh prepare");
                assert.strictEqual(prepare.delete, unprepareCommand());
                assert.deepStrictEqual(prepare.connection, {
                    host, port: 22, user: "pi", privateKey: KEY, dialErrorLimit: 60, perDialTimeout: 5, hostKey: testHostKey(n.name),
                });
                const booted = inputs(`hc-${n.name}-booted`);
                assert.strictEqual(booted.create, waitForRebootCommand(n.name));
                assert.strictEqual(booted.create, `sudo -n /usr/bin/env HC_NODE=${n.name} /bin/bash /usr/local/lib/homecloud/cluster/k3s-node.sh wait-reboot`);
                assert.strictEqual(booted.connection.dialErrorLimit, 120, "keeps dialling through a reboot");
                assert.strictEqual(booted.connection.host, host);
                const install = inputs(`hc-${n.name}-install`);
                assert.strictEqual(install.create, installCommand(n.name, { role: n.role, ...plan.k3s }));
                assert.strictEqual(install.create, `sudo -n /usr/bin/env HC_NODE=${n.name} HC_ROLE=${n.role} HC_VERSION=v1.32.2+k3s1 HC_INSTALL=script ` +
                    "/bin/bash /usr/local/lib/homecloud/cluster/k3s-node.sh install");
                assert.strictEqual(install.update, install.create, "a version change re-runs the install in place");
                assert.strictEqual(install.delete, uninstallCommand(n.role));
                assert.strictEqual(install.connection.host, host);
            }
            assert.strictEqual(inputs("hc-kubeconfig").connection.host, "10.0.0.11");
            assert.strictEqual(cmd("hc-kubeconfig").inputs.create, readKubeconfigCommand());
            assert.strictEqual(installCommand("pi4", { role: "agent", version: "v1.32.2+k3s1", install: "airgap", airgapDir: "/opt/k3s-airgap" }),
                "sudo -n /usr/bin/env HC_NODE=pi4 HC_ROLE=agent HC_VERSION=v1.32.2+k3s1 HC_INSTALL=airgap HC_AIRGAP_DIR=/opt/k3s-airgap " +
                "/bin/bash /usr/local/lib/homecloud/cluster/k3s-node.sh install");
        });

        it("installs each node's config.yaml, restarting its K3s on a change", () => {
            for (const n of plan.nodes) {
                const text = renderK3sConfig(k3sConfigFor(plan, n));
                const config = cmd(`hc-${n.name}-config`).inputs;
                const unit = n.role === "server" ? "k3s" : "k3s-agent";
                assert.deepStrictEqual(configFile(n.name, n.role), {
                    path: "/etc/rancher/k3s/config.yaml", mode: "0600", hooks: "cluster/k3s-config.sh", env: { HC_UNIT: unit, HC_NODE: n.name },
                });
                assert.strictEqual(config.stdin, text);
                assert.strictEqual(config.create, fileCommand("install", configFile(n.name, n.role), k3sUrn(`hc-${n.name}-config`)));
                assert.strictEqual(config.delete, fileCommand("remove", configFile(n.name, n.role), k3sUrn(`hc-${n.name}-config`)));
                assert.strictEqual(config.triggers, undefined, "a content change is an update, never a replacement");
            }
            assert.match(cmd("hc-pi1-config").inputs.stdin, /^cluster-init: true$/m);
            assert.match(cmd("hc-pi2-config").inputs.stdin, /^server: https:\/\/10\.0\.0\.11:6443$/m);
            assert.match(cmd("hc-pi4-config").inputs.stdin, /^server: https:\/\/192\.168\.1\.10:8443$/m);
        });

        it("node removal: the member step on the first server drains and deletes the node; the node's own step uninstalls", () => {
            for (const n of ["pi2", "pi3", "pi4", "pi5"]) {
                const member = inputs(`hc-${n}-member`);
                assert.strictEqual(member.connection.host, "10.0.0.11", "runs on the first server");
                const text = renderK3sConfig(k3sConfigFor(plan, plan.nodes.find((x) => x.name === n)!));
                assert.strictEqual(member.create, memberReadyCommand(n, "v1.32.2+k3s1", sha256(text)));
                assert.strictEqual(member.create, `sudo -n /usr/bin/env HC_NODE=${n} HC_VERSION=v1.32.2+k3s1 HC_CONFIG_SHA256=${sha256(text)} ` +
                    "/bin/bash /usr/local/lib/homecloud/cluster/k3s-node.sh member-ready");
                assert.strictEqual(member.delete, memberRemoveCommand(n));
                assert.strictEqual(member.delete, `sudo -n /usr/bin/env HC_NODE=${n} /bin/bash /usr/local/lib/homecloud/cluster/k3s-node.sh member-remove`);
                // Its delete drains the node: a version or config change must update it in place.
                assert.strictEqual(member.triggers, undefined);
                // Deleted before the node's uninstall: it depends on the install.
                assert.ok(dependsOn(cmd(`hc-${n}-member`)).includes(`hc-${n}-install`));
            }
            assert.strictEqual(cmd("hc-pi4-install").inputs.delete, "sudo -n /usr/bin/env HC_ROLE=agent /bin/bash /usr/local/lib/homecloud/cluster/k3s-node.sh uninstall");
            assert.strictEqual(cmd("hc-pi2-install").inputs.delete, "sudo -n /usr/bin/env HC_ROLE=server /bin/bash /usr/local/lib/homecloud/cluster/k3s-node.sh uninstall");
        });

        it("the first server gets the cluster token; every other node K3s' full token; secret, stdin only, never logged", async () => {
            assert.ok(await isSecret(cluster.token));
            assert.strictEqual(await resolve(cluster.token), "mock-random-password");
            assert.ok(await isSecret(cluster.joinToken));
            assert.strictEqual(await resolve(cluster.joinToken), MOCK_FULL_TOKEN);
            const password = one("random:index/randomPassword:RandomPassword", "hc-token").inputs;
            assert.strictEqual(password.length, 48);
            assert.strictEqual(password.special, false);
            assert.deepStrictEqual(tokenFile(), { path: "/etc/rancher/k3s/token", mode: "0600" });
            for (const n of NODES) {
                assert.ok(isSecretInput(cmd(`hc-${n}-token`).inputs.stdin), "stdin is secret");
                const token = inputs(`hc-${n}-token`);
                assert.strictEqual(token.stdin, n === "pi1" ? "mock-random-password" : MOCK_FULL_TOKEN, n);
                assert.strictEqual(token.logging, "none");
                assert.strictEqual(token.create, fileCommand("install", tokenFile(), k3sUrn(`hc-${n}-token`)));
            }
            for (const r of recorded.filter((x) => x.type === COMMAND)) {
                const line = JSON.stringify([plain(r.inputs.create), plain(r.inputs.update), plain(r.inputs.delete), plain(r.inputs.triggers)]);
                assert.doesNotMatch(line, /mock-random-password|K10[0-9a-f]{64}/, r.name);
            }
        });

        it("the full token is read on the first server once, secret, and nothing on a no-op up can re-run it", () => {
            const read = cmd("hc-join-token");
            assert.strictEqual(read.inputs.create, readJoinTokenCommand("pi1"));
            assert.strictEqual(read.inputs.create, "sudo -n /usr/bin/env HC_NODE=pi1 /bin/bash /usr/local/lib/homecloud/cluster/k3s-node.sh read-token");
            assert.strictEqual(read.inputs.update, read.inputs.create);
            assert.strictEqual(read.inputs.delete, undefined);
            assert.strictEqual(read.inputs.triggers, undefined, "no trigger: it runs on create only");
            assert.strictEqual(read.inputs.stdin, undefined);
            assert.strictEqual(read.inputs.logging, "none");
            assert.ok(read.additionalSecretOutputs.includes("stdout"), "stdout is a secret output");
            assert.strictEqual(inputs("hc-join-token").connection.host, "10.0.0.11");
        });

        it("the kubeconfig is read without logging, kept secret, on the VIP by default, named after project and stack", async () => {
            const read = cmd("hc-kubeconfig");
            assert.strictEqual(read.inputs.logging, "none");
            assert.ok(read.additionalSecretOutputs.includes("stdout"), "stdout is a secret output");
            assert.ok(!cmd("hc-pi1-install").additionalSecretOutputs.includes("stdout"), "only the reads hide stdout");
            assert.strictEqual(cmd("hc-pi1-install").inputs.logging, "stdoutAndStderr");
            assert.strictEqual(read.inputs.create, readKubeconfigCommand());
            assert.deepStrictEqual(read.inputs.triggers, ["v1.32.2+k3s1"]);
            assert.strictEqual(cluster.clusterName, "homecloud-test");
            assert.ok(await isSecret(cluster.kubeconfig));
            assert.strictEqual(await resolve(cluster.kubeconfig),
                renderKubeconfig(k3sKubeconfig(ADMIN_CERT_2025), "https://192.168.1.10:8443", "homecloud-test"));
            assert.ok(await isSecret(cluster.providerKubeconfig));
            assert.strictEqual(await resolve(cluster.providerKubeconfig),
                renderKubeconfig(k3sKubeconfig(ADMIN_CERT_2025), "https://192.168.1.10:8443", "homecloud-test"));
            assert.strictEqual(await resolve(cluster.apiEndpoint), "https://192.168.1.10:8443");
        });

        it("exports the client certificate's expiry (not secret); no renewal is due, so the renew step only reads", async () => {
            assert.strictEqual(await resolve(cluster.kubeconfigExpires), "2026-03-01T00:00:00.000Z");
            assert.strictEqual(await isSecret(cluster.kubeconfigExpires), false);
            const renew = cmd("hc-kubeconfig-renew");
            assert.strictEqual(renew.inputs.create, renewKubeconfigCommand("pi1", 0));
            assert.strictEqual(renew.inputs.create,
                "sudo -n /usr/bin/env HC_NODE=pi1 HC_RENEWAL=0 /bin/bash /usr/local/lib/homecloud/cluster/k3s-node.sh read-kubeconfig");
            assert.strictEqual(renew.inputs.delete, undefined);
            assert.strictEqual(renew.inputs.triggers, undefined, "a due renewal changes the command line: an update");
            assert.strictEqual(renew.inputs.logging, "none");
            assert.ok(renew.additionalSecretOutputs.includes("stdout"));
        });

        it("rejects sshHosts for nodes that do not exist", () => {
            assert.throws(() => new m.K3sCluster("bad", { plan, sshPrivateKey: KEY, hostKeys: {}, sshHosts: { pi9: "10.0.0.99" } }),
                /sshHosts names pi9, which is not in homecloud:nodes; use node names/);
        });
    });

    describe("K3sCluster with kubeconfigServer name, in a certificate's renewal window", () => {
        it("renews once (HC_RENEWAL=1), exports the renewed kubeconfig on the API name and its new expiry", async () => {
            reset();
            const renewed = k3sKubeconfig(ADMIN_CERT_2026);
            stdoutHooks.unshift(k3sStdout("nm", renewed));
            const named = parseAddressPlan({ ...clusterRawPlan(), kubeconfigServer: "name", kubeconfigRenewDays: 30 }).plan;
            const c = new m.K3sCluster("nm", {
                plan: named, sshPrivateKey: KEY, hostKeys: testHostKeys(named.nodes.map((n) => n.name)), now: new Date("2026-02-05T00:00:00Z"), clusterName: "homecloud-prod",
            });
            assert.strictEqual(await resolve(c.kubeconfig), renderKubeconfig(renewed, "https://api.home.arpa:8443", "homecloud-prod"));
            assert.strictEqual(await resolve(c.providerKubeconfig), renderKubeconfig(renewed, "https://192.168.1.10:8443", "homecloud-prod"));
            assert.strictEqual(await resolve(c.kubeconfigExpires), "2027-02-10T00:00:00.000Z");
            assert.strictEqual(await resolve(c.apiEndpoint), "https://api.home.arpa:8443");
            await settle();
            assert.strictEqual(cmd("nm-kubeconfig-renew").inputs.create, renewKubeconfigCommand("pi1", 1));
            // No waitFor: the toolkit and the prepare steps wait for nothing else.
            assert.deepStrictEqual(dependsOn(cmd("nm-pi1-toolkit")), []);
            assert.deepStrictEqual(dependsOn(cmd("nm-pi1-prepare")), ["nm-pi1-toolkit"]);
        });
    });

    describe("MetalLB and Traefik", () => {
        let metallb: MetalLBModule.MetalLB;
        let traefik: TraefikModule.Traefik;
        let providerRef: string;
        const RELEASE = "kubernetes:helm.sh/v3:Release";
        const CR_POOL = "kubernetes:metallb.io/v1beta1:IPAddressPool";
        const CR_L2 = "kubernetes:metallb.io/v1beta1:L2Advertisement";
        const NAMESPACE = "kubernetes:core/v1:Namespace";

        before(async () => {
            reset();
            const { MetalLB } = await import("../../cluster/metallb");
            const { Traefik } = await import("../../cluster/traefik");
            const provider = new k8s.Provider("home", { kubeconfig: "stand-in" });
            const providers = { kubernetes: provider };
            metallb = new MetalLB("metallb", { pool: plan.metallbPool }, { providers });
            traefik = new Traefik("traefik", {
                loadBalancerIp: plan.ingressIp,
                values: { deployment: { replicas: 2 }, ingressRoute: { dashboard: { enabled: false, matchRule: "x" } } },
                waitFor: metallb.ready,
            }, { providers });
            await Promise.all([resolve(metallb.poolRange), resolve(traefik.loadBalancerIp)]);
            await settle();
            const p = one("pulumi:providers:kubernetes", "home");
            providerRef = `${p.registeredUrn}::home-id`;
        });

        it("registers namespaces, releases and MetalLB's pool and advertisement under their components", () => {
            assert.deepStrictEqual(recorded.filter((r) => r.name !== "home").map((r) => `${r.type} ${r.name}`).sort(), [
                `${CR_L2} metallb-l2`,
                `${CR_POOL} metallb-pool`,
                `${RELEASE} metallb-release`,
                `${RELEASE} traefik-crds`,
                `${RELEASE} traefik-release`,
                "homecloud:k8s:MetalLB metallb",
                "homecloud:k8s:Traefik traefik",
                `${NAMESPACE} metallb-namespace`,
                `${NAMESPACE} traefik-namespace`,
            ].sort());
            for (const n of ["metallb-namespace", "metallb-release", "metallb-pool", "metallb-l2"]) {
                assert.strictEqual(parentName(recorded.find((r) => r.name === n)!), "metallb");
            }
            for (const n of ["traefik-namespace", "traefik-crds", "traefik-release"]) {
                assert.strictEqual(parentName(recorded.find((r) => r.name === n)!), "traefik");
            }
        });

        it("every Kubernetes resource uses the provider passed in", () => {
            for (const r of recorded.filter((x) => x.type.startsWith("kubernetes:"))) {
                assert.strictEqual(r.provider, providerRef, r.name);
            }
            assert.strictEqual(find("pulumi:providers:kubernetes").length, 1, "no provider created inside");
        });

        it("metallb-system is labelled privileged for Pod Security", () => {
            assert.deepStrictEqual(one(NAMESPACE, "metallb-namespace").inputs.metadata, {
                name: "metallb-system",
                labels: {
                    "pod-security.kubernetes.io/enforce": "privileged",
                    "pod-security.kubernetes.io/audit": "privileged",
                    "pod-security.kubernetes.io/warn": "privileged",
                },
            });
            assert.deepStrictEqual(one(NAMESPACE, "traefik-namespace").inputs.metadata, { name: "traefik" });
        });

        it("MetalLB's release: pinned chart, repo, values, waits for readiness and rolls back on failure", () => {
            const r = one(RELEASE, "metallb-release");
            assert.strictEqual(r.inputs.name, "metallb");
            assert.strictEqual(r.inputs.chart, "metallb");
            assert.strictEqual(r.inputs.version, "0.15.3");
            assert.deepStrictEqual(r.inputs.repositoryOpts, { repo: "https://metallb.github.io/metallb" });
            assert.strictEqual(r.inputs.namespace, "metallb-system");
            assert.deepStrictEqual(r.inputs.values, { crds: { enabled: true }, speaker: { frr: { enabled: false } } });
            assert.strictEqual(r.inputs.atomic, true);
            assert.strictEqual(r.inputs.cleanupOnFail, true);
            assert.strictEqual(r.inputs.waitForJobs, true);
            assert.strictEqual(r.inputs.timeout, 600);
            assert.notStrictEqual(r.inputs.skipAwait, true);
            assert.deepStrictEqual(dependsOn(r), ["metallb-namespace"]);
        });

        it("the pool and the advertisement wait for the release (its webhook validates them)", () => {
            const pool = one(CR_POOL, "metallb-pool");
            assert.deepStrictEqual(pool.inputs, {
                apiVersion: "metallb.io/v1beta1",
                kind: "IPAddressPool",
                metadata: { name: "homecloud", namespace: "metallb-system" },
                spec: { addresses: ["10.0.0.200-10.0.0.220"] },
            });
            assert.deepStrictEqual(dependsOn(pool), ["metallb-namespace", "metallb-release"]);
            const l2 = one(CR_L2, "metallb-l2");
            assert.deepStrictEqual(l2.inputs, {
                apiVersion: "metallb.io/v1beta1",
                kind: "L2Advertisement",
                metadata: { name: "homecloud", namespace: "metallb-system" },
                spec: { ipAddressPools: ["homecloud"] },
            });
            assert.deepStrictEqual(dependsOn(l2), ["metallb-namespace", "metallb-pool", "metallb-release"]);
        });

        it("Traefik's release: pinned chart, typed values with the escape hatch merged in, after MetalLB's pool", async () => {
            const r = one(RELEASE, "traefik-release");
            assert.strictEqual(r.inputs.name, "traefik");
            assert.strictEqual(r.inputs.chart, "traefik");
            assert.strictEqual(r.inputs.version, "37.3.0");
            assert.deepStrictEqual(r.inputs.repositoryOpts, { repo: "https://traefik.github.io/charts" });
            assert.strictEqual(r.inputs.namespace, "traefik");
            assert.deepStrictEqual(r.inputs.values, {
                service: { type: "LoadBalancer", annotations: { "metallb.io/loadBalancerIPs": "10.0.0.200" } },
                ports: {
                    web: { exposedPort: 80, expose: { default: true } },
                    websecure: { exposedPort: 443, expose: { default: true } },
                    traefik: { expose: { default: false } },
                },
                ingressRoute: { dashboard: { enabled: false, matchRule: "x" } },
                deployment: { replicas: 2 },
            });
            assert.strictEqual(r.inputs.atomic, true);
            assert.strictEqual(r.inputs.waitForJobs, true);
            assert.deepStrictEqual(dependsOn(r), ["metallb-l2", "metallb-pool", "traefik-crds", "traefik-namespace"]);
            assert.strictEqual(r.inputs.skipCrds, true, "the CRDs come from the CRDs chart");
            assert.strictEqual(await resolve(traefik.loadBalancerIp), "10.0.0.200");
            assert.strictEqual(await resolve(metallb.poolRange), "10.0.0.200-10.0.0.220");
        });

        it("Traefik's CRDs: their own chart, released with the main one, upgraded as Helm upgrades a chart's templates", () => {
            const c = one(RELEASE, "traefik-crds");
            assert.strictEqual(c.inputs.name, "traefik-crds");
            assert.strictEqual(c.inputs.chart, "traefik-crds");
            assert.strictEqual(c.inputs.version, "1.12.0", "published with traefik 37.3.0");
            assert.deepStrictEqual(c.inputs.repositoryOpts, { repo: "https://traefik.github.io/charts" });
            assert.strictEqual(c.inputs.namespace, "traefik");
            assert.strictEqual(c.inputs.skipCrds, undefined);
            assert.strictEqual(c.inputs.values, undefined, "chart defaults: Traefik's CRDs, no Gateway API or Hub ones, kept on uninstall");
            assert.strictEqual(c.inputs.atomic, true);
            assert.deepStrictEqual(dependsOn(c), ["traefik-namespace"]);
        });

        it("rejects an ingress address that is not IPv4", () => {
            return import("../../cluster/traefik").then(({ Traefik }) => {
                assert.throws(() => new Traefik("bad", { loadBalancerIp: "ingress" }),
                    /loadBalancerIp "ingress" is not an IPv4 address; use homecloud:ingressIp/);
            });
        });
    });

    after(() => {
        stdoutHooks.length = 0;
    });
});
