// The cluster-node test's files (test/cluster/render.ts), checked without root: what the
// real run (make test-cluster-node) found each setting is needed for stays in them.
import * as assert from "assert";
import { NodeLayout, appPod, cniConfList, containerdConfig, kubeletConfig } from "../cluster/render";

const layout: NodeLayout = {
    run: "/run/homecloud-kn",
    cgroupRoot: "/homecloud-kn",
    bridge: "hckn0",
    podSubnet: "10.42.0.0/24",
    nodeIp: "10.42.0.1",
    sandboxImage: "homecloud.invalid/hc-pause:v1",
    runc: "/usr/sbin/runc",
    cniBin: "/cache/cni/bin",
    restrictOomScoreAdj: true,
};

describe("cluster node files (issue 23)", () => {
    it("containerd: everything under the layout, the pinned sandbox, runc with cgroupfs, the OOM clamp", () => {
        const toml = containerdConfig(layout);
        for (const line of [
            'root = "/run/homecloud-kn/containerd/root"',
            'state = "/run/homecloud-kn/containerd/state"',
            '  address = "/run/homecloud-kn/containerd/containerd.sock"',
            '    sandbox = "homecloud.invalid/hc-pause:v1"',
            "  netns_mounts_under_state_dir = true",
            "  restrict_oom_score_adj = true",
            '    BinaryName = "/usr/sbin/runc"',
            '    Root = "/run/homecloud-kn/runc"',
            "    SystemdCgroup = false",
            '    bin_dirs = ["/cache/cni/bin"]',
            '    conf_dir = "/run/homecloud-kn/cni/net.d"',
        ]) {
            assert.ok(toml.split("\n").includes(line), `missing: ${line}`);
        }
        assert.ok(containerdConfig({ ...layout, restrictOomScoreAdj: false }).includes("  restrict_oom_score_adj = false\n"));
        // Top-level keys come before the first table, or TOML files them under it.
        const firstTable = toml.split("\n").findIndex((l) => l.startsWith("["));
        assert.ok(toml.split("\n").findIndex((l) => l.startsWith("state = ")) < firstTable);
        assert.ok(containerdConfig(layout, true).indexOf("[debug]") > containerdConfig(layout, true).indexOf("disabled_plugins"));
    });

    it("kubelet: standalone (no webhook auth), cgroupfs under the root, containerd's socket, no host DNS", () => {
        const c = JSON.parse(kubeletConfig(layout));
        assert.deepStrictEqual(
            {
                staticPodPath: c.staticPodPath, cgroupDriver: c.cgroupDriver, cgroupRoot: c.cgroupRoot,
                containerRuntimeEndpoint: c.containerRuntimeEndpoint, failSwapOn: c.failSwapOn, resolvConf: c.resolvConf,
                authentication: c.authentication, authorization: c.authorization, address: c.address,
                readOnlyPort: c.readOnlyPort, oomScoreAdj: c.oomScoreAdj, podLogsDir: c.podLogsDir, failCgroupV1: c.failCgroupV1,
            },
            {
                staticPodPath: "/run/homecloud-kn/manifests", cgroupDriver: "cgroupfs", cgroupRoot: "/homecloud-kn",
                containerRuntimeEndpoint: "unix:///run/homecloud-kn/containerd/containerd.sock", failSwapOn: false, resolvConf: "",
                authentication: { anonymous: { enabled: true }, webhook: { enabled: false } }, authorization: { mode: "AlwaysAllow" },
                address: "127.0.0.1", readOnlyPort: 10255, oomScoreAdj: 0, podLogsDir: "/run/homecloud-kn/pod-logs",
                failCgroupV1: undefined, // v1.34 defaults it to false; 1.35 would need it said
            },
        );
        assert.strictEqual(JSON.parse(kubeletConfig({ ...layout, restrictOomScoreAdj: false })).oomScoreAdj, undefined);
    });

    it("CNI: the bridge with the node's IP as the pods' gateway, host-local in the layout", () => {
        const c = JSON.parse(cniConfList(layout));
        assert.deepStrictEqual(c.plugins.map((p: { type: string }) => p.type), ["bridge", "portmap"]);
        assert.deepStrictEqual(c.plugins[0].ipam, {
            type: "host-local", ranges: [[{ subnet: "10.42.0.0/24", gateway: "10.42.0.1" }]], dataDir: "/run/homecloud-kn/cni/ipam",
        });
        assert.strictEqual(c.plugins[0].ipMasq, false);
    });

    it("the static pod: the imported image, never pulled, its name from the downward API", () => {
        const pod = JSON.parse(appPod("hc-app", "homecloud.invalid/hc-app:v1"));
        const c = pod.spec.containers[0];
        assert.deepStrictEqual([c.image, c.imagePullPolicy], ["homecloud.invalid/hc-app:v1", "Never"]);
        assert.deepStrictEqual(c.env, [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }]);
        assert.strictEqual(pod.spec.dnsPolicy, "Default");
    });
});
