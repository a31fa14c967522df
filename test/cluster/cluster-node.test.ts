// Issue 23, the node side: real pods on this machine. containerd and a standalone kubelet
// (static pods, no API server), both built from the Go module proxy by `make cluster-node`,
// run in a network namespace of their own (hc-kn) and cgroups of their own; the pod's image
// is the project's own Go program with no base image. The pod must run, answer HTTP from
// inside hc-kn on its own IP, and stop when its manifest goes. Root. Everything is taken
// away again in `after`, also when a test fails, and the test fails if anything is left.
import { strict as assert } from "assert";
import { ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
    CGROUP, KUBELET_SYSCTLS, NETNS, RUN, RUN_CONTAINERD, canLowerOomScore, cgroupOf, cleanup, daemonProcsFiles, differingSysctls, httpGet, inNetns,
    logTail, makeCgroups, must, nodeTools, paths, run, startDaemon, stopDaemon, waitFor,
} from "./node";
import { HEALTHZ_PORT, NodeLayout, READ_ONLY_PORT, appPod, cniConfList, containerdConfig, kubeletConfig } from "./render";

const NODE = "hc-kn"; // the kubelet's node name: a static pod "hc-app" is "hc-app-hc-kn"
const APP = "hc-app";
const APP_IMAGE = "homecloud.invalid/hc-app:v1";
const PAUSE_IMAGE = "homecloud.invalid/hc-pause:v1";

const tools = nodeTools();
const layout: NodeLayout = {
    run: RUN,
    cgroupRoot: `/${CGROUP}`,
    bridge: "hckn0",
    podSubnet: "10.42.0.0/24",
    nodeIp: "10.42.0.1",
    sandboxImage: PAUSE_IMAGE,
    runc: tools.runc,
    cniBin: tools.cniBin,
    restrictOomScoreAdj: !canLowerOomScore(),
};
const p = paths(layout);
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const seconds = (ms: number) => (ms / 1000).toFixed(1);

interface PodView {
    metadata: { name: string; uid: string };
    status?: {
        phase?: string;
        podIP?: string;
        containerStatuses?: Array<{ name: string; ready: boolean; containerID?: string; state?: { running?: unknown } }>;
    };
}

/** The kubelet's own view of its pods: its read-only /pods, from inside hc-kn. */
function kubeletPods(): PodView[] {
    const r = httpGet(`http://127.0.0.1:${READ_ONLY_PORT}/pods`);
    if (r.status !== 200) {
        throw new Error(`kubelet /pods answered ${r.status}`);
    }
    return (JSON.parse(r.body) as { items: PodView[] | null }).items ?? [];
}

/** containerd's tasks in the CRI namespace: container ID -> { pid, status }. */
function tasks(): Map<string, { pid: number; status: string }> {
    const out = must(tools.ctr, ["--address", p.containerdSocket, "-n", "k8s.io", "tasks", "ls"]);
    const m = new Map<string, { pid: number; status: string }>();
    for (const l of out.trim().split("\n").slice(1)) {
        const [id, pid, status] = l.trim().split(/\s+/);
        if (id) {
            m.set(id, { pid: Number(pid), status });
        }
    }
    return m;
}

describe("cluster node: containerd and a standalone kubelet run the project's pod (issue 23)", function () {
    this.timeout(600_000);
    let containerd: ChildProcess | undefined;
    let kubelet: ChildProcess | undefined;
    const figures: string[] = [];
    let podIp = "";
    let appContainer = "";
    const manifest = path.join(p.manifests, `${APP}.json`);
    let failed = true; // until `before` has finished; then whether a test failed

    const hostSysctls = () => Object.keys(KUBELET_SYSCTLS).map((k) => `${k}=${fs.readFileSync(`/proc/sys/${k}`, "utf8").trim()}`);
    const sysctlsBefore = hostSysctls();

    before(async function () {
        assert.equal(process.getuid?.(), 0, "the cluster-node test needs root (namespaces, cgroups, mounts)");
        const left = await cleanup(); // a run killed before its `after` left these
        assert.deepEqual(left, [], "leftovers of an earlier run that cleanup could not remove");

        for (const d of [p.containerdRoot, p.containerdState, p.runcRoot, p.cniConfDir, p.cniIpamDir, p.kubeletRoot,
            p.manifests, p.podLogs, p.images, p.sysctls, p.logs]) {
            fs.mkdirSync(d, { recursive: true });
        }
        fs.writeFileSync(p.containerdConfig, containerdConfig(layout, process.env.HOMECLOUD_KN_DEBUG === "1"));
        fs.writeFileSync(path.join(p.cniConfDir, "10-hc-kn.conflist"), cniConfList(layout));
        fs.writeFileSync(p.kubeletConfig, kubeletConfig(layout));

        // The node's network: loopback, and the pods' bridge holding the node's IP. No other
        // link, no route out: nothing the node or a pod sends can leave hc-kn.
        must("ip", ["netns", "add", NETNS]);
        must("ip", ["-n", NETNS, "link", "set", "lo", "up"]);
        must("ip", ["-n", NETNS, "link", "add", layout.bridge, "type", "bridge"]);
        must("ip", ["-n", NETNS, "addr", "add", `${layout.nodeIp}/24`, "dev", layout.bridge]);
        must("ip", ["-n", NETNS, "link", "set", layout.bridge, "up"]);
        makeCgroups();

        const t0 = Date.now();
        must("bash", [path.join(__dirname, "images", "build.sh"), p.images]);
        figures.push(`images built (hc-pause, hc-app, no base image) in ${seconds(Date.now() - t0)} s`);

        // containerd creates the node's mount namespace: its private /var/lib and /var/log
        // (the CNI library's result cache, the kubelet's /var/log/containers links), its own
        // /run/containerd (RUN_CONTAINERD: the mount point is removed again when empty) and
        // the kubelet's sysctls (KUBELET_SYSCTLS). It joins the node's cgroups first.
        fs.mkdirSync(RUN_CONTAINERD, { recursive: true });
        const binds = differingSysctls().map((s) => {
            const f = path.join(p.sysctls, s.name.replace(/\//g, "."));
            fs.writeFileSync(f, `${s.kubelet}\n`);
            return `mount --bind ${sh(f)} /proc/sys/${s.name}`;
        });
        const join = daemonProcsFiles().map((f) => `echo $$ > ${sh(f)}`).join("; ");
        const inner = [
            "set -e",
            "mount -t tmpfs hc-kn-var-lib /var/lib",
            "mount -t tmpfs hc-kn-var-log /var/log",
            `mount -t tmpfs hc-kn-run-containerd ${RUN_CONTAINERD}`,
            ...binds,
            `export PATH=${sh(path.dirname(tools.shim))}:$PATH`,
            `exec nsenter --net=/run/netns/${NETNS} -- ${sh(tools.containerd)} --config ${sh(p.containerdConfig)}`,
        ].join("\n");
        const t1 = Date.now();
        containerd = startDaemon(`set -e; ${join}; exec unshare --mount --propagation slave -- bash -c ${sh(inner)}`, path.join(p.logs, "containerd.log"));
        await waitFor("containerd answering on its socket", 60_000, () => {
            if (containerd?.exitCode !== null) {
                throw new Error(`containerd exited ${containerd?.exitCode}:\n${logTail(path.join(p.logs, "containerd.log"))}`);
            }
            return run(tools.ctr, ["--address", p.containerdSocket, "version"]).status === 0 ? true : undefined;
        });
        const containerdUp = Date.now() - t1;
        for (const image of ["hc-pause", "hc-app"]) {
            must(tools.ctr, ["--address", p.containerdSocket, "-n", "k8s.io", "images", "import", "--platform", "linux/amd64",
                path.join(p.images, `${image}.tar`)]);
        }

        // The kubelet joins the node's cgroups, mount namespace and network namespace.
        const t2 = Date.now();
        kubelet = startDaemon([
            "set -e", join,
            `exec nsenter --mount=/proc/${containerd.pid}/ns/mnt --net=/run/netns/${NETNS} -- ${sh(tools.kubelet)}` +
            ` --config=${sh(p.kubeletConfig)} --root-dir=${sh(p.kubeletRoot)} --hostname-override=${NODE}` +
            ` --node-ip=${layout.nodeIp} --v=2`,
        ].join("\n"), path.join(p.logs, "kubelet.log"));
        await waitFor("the kubelet's /healthz saying ok", 120_000, () => {
            if (kubelet?.exitCode !== null) {
                throw new Error(`kubelet exited ${kubelet?.exitCode}:\n${logTail(path.join(p.logs, "kubelet.log"), 40)}`);
            }
            const h = httpGet(`http://127.0.0.1:${HEALTHZ_PORT}/healthz`, 1);
            return h.status === 200 && h.body === "ok" ? true : undefined;
        });
        const kubeletUp = Date.now() - t2;
        failed = false;
        figures.push(`containerd answering in ${seconds(containerdUp)} s, kubelet healthy ${seconds(kubeletUp)} s later ` +
            `(both: ${seconds(containerdUp + kubeletUp)} s)`);
    });

    afterEach(function () {
        failed ||= this.currentTest?.state === "failed";
    });

    after(async function () {
        for (const f of ["containerd.log", "kubelet.log"]) {
            if (failed || process.env.HOMECLOUD_KN_LOGS) {
                console.log(`--- ${f}\n${logTail(path.join(p.logs, f), 60)}`);
            }
        }
        await stopDaemon(kubelet);
        await stopDaemon(containerd);
        const left = await cleanup();
        const b = tools.buildSeconds;
        const min = (s: number) => `${(s / 60).toFixed(1)} min`;
        console.log(`\n  cluster-node figures:\n    first build here: kubelet ${min(b.kubelet)}, containerd ` +
            `${min(b.containerd)}, CNI plugins ${min(b.cni)} ` +
            `(${tools.versions.kubelet}, containerd ${tools.versions.containerd}, CNI ${tools.versions.cni})`);
        for (const f of figures) {
            console.log(`    ${f}`);
        }
        assert.deepEqual(left, [], "the node was not taken away completely");
        assert.deepEqual(hostSysctls(), sysctlsBefore, "the host's kernel settings the kubelet wants are as they were");
    });

    it("has both images, built here, in containerd's CRI namespace", function () {
        const names = must(tools.ctr, ["--address", p.containerdSocket, "-n", "k8s.io", "images", "ls", "-q"]).trim().split("\n");
        assert.ok(names.includes(APP_IMAGE), `images: ${names.join(", ")}`);
        assert.ok(names.includes(PAUSE_IMAGE), `images: ${names.join(", ")}`);
    });

    it("runs the static pod: running, ready, in the node's cgroups, answering HTTP on its pod IP", async function () {
        const t0 = Date.now();
        // Written beside it as a dot file (which the kubelet ignores), then renamed: the
        // kubelet's inotify watch would otherwise see the file empty first.
        const hidden = path.join(p.manifests, `.${APP}.json`);
        fs.writeFileSync(hidden, appPod(APP, APP_IMAGE));
        fs.renameSync(hidden, manifest);
        const pod = await waitFor(`pod ${APP}-${NODE} running and ready in the kubelet's /pods`, 180_000, () => {
            if (kubelet?.exitCode !== null) {
                throw new Error(`kubelet exited ${kubelet?.exitCode}`);
            }
            const found = kubeletPods().find((x) => x.metadata.name === `${APP}-${NODE}`);
            const c = found?.status?.containerStatuses?.find((s) => s.name === "app");
            return found?.status?.phase === "Running" && found.status.podIP && c?.ready && c.state?.running ? found : undefined;
        }, 250);
        const readyMs = Date.now() - t0;
        podIp = pod.status!.podIP!;
        assert.match(podIp, /^10\.42\.0\.(\d+)$/, "the pod's IP is in the bridge's subnet");
        assert.notEqual(podIp, layout.nodeIp);
        const id = pod.status!.containerStatuses![0].containerID!;
        assert.match(id, /^containerd:\/\/[0-9a-f]{64}$/);
        appContainer = id.slice("containerd://".length);

        // containerd runs it (runc), in the pod's cgroup under the kubelet's cgroup root.
        const task = tasks().get(appContainer);
        assert.equal(task?.status, "RUNNING", `containerd's task for ${appContainer}`);
        const cg = cgroupOf(task.pid, "memory");
        assert.equal(cg, `/${CGROUP}/kubepods/besteffort/pod${pod.metadata.uid}/${appContainer}`);
        assert.equal(fs.readlinkSync(`/proc/${task.pid}/exe`).split("/").pop(), "hc-app");

        // HTTP from inside hc-kn (the node's own namespace) to the pod's IP.
        const answer = await waitFor(`a 200 from http://${podIp}:8080/`, 60_000, () => {
            const r = httpGet(`http://${podIp}:8080/`);
            return r.status === 200 ? r : undefined;
        });
        const okMs = Date.now() - t0;
        assert.equal(answer.body, `hc-app ${APP}-${NODE} ${APP}-${NODE}\n`);
        // Nothing the node or the pod sends can leave hc-kn: its one route is the pods' subnet.
        const routes = JSON.parse(inNetns("ip", ["-4", "-j", "route", "show"]).stdout) as Array<{ dst: string }>;
        assert.deepEqual(routes.map((r) => r.dst), [layout.podSubnet], "hc-kn's routes");
        figures.push(`manifest to running and ready: ${seconds(readyMs)} s; manifest to an HTTP 200 from the pod: ${seconds(okMs)} s`);
    });

    it("stops the pod when its manifest is deleted: gone from the kubelet and containerd, its IP silent", async function () {
        assert.ok(appContainer, "the previous test started the pod");
        const t0 = Date.now();
        fs.unlinkSync(manifest);
        await waitFor("the pod gone from the kubelet's /pods and its task from containerd", 120_000, () =>
            !kubeletPods().some((x) => x.metadata.name === `${APP}-${NODE}`) && !tasks().has(appContainer) ? true : undefined, 250);
        figures.push(`manifest deleted to pod and container gone: ${seconds(Date.now() - t0)} s`);
        assert.equal(httpGet(`http://${podIp}:8080/`, 2).status, 0, "nothing answers on the pod's IP any more");
        // The sandbox (hc-pause) goes too: no task of the CRI namespace is left running.
        await waitFor("no task left in containerd", 60_000, () => (tasks().size === 0 ? true : undefined), 250);
    });
});
