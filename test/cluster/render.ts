// The files a standalone cluster node runs on, rendered as text: containerd's config, the
// kubelet's, the CNI network and a static pod. Pure functions, no I/O: the test writes them.

/** Where the node keeps everything (all under one directory), and its network. */
export interface NodeLayout {
    /** Everything the node writes: containerd's root and state, the kubelet's root, logs. */
    readonly run: string;
    /** The kubelet's --cgroup-root (cgroupfs driver): pods go to <cgroupRoot>/kubepods/... */
    readonly cgroupRoot: string;
    /** The Linux bridge the CNI bridge plugin puts pods on, in the node's network namespace. */
    readonly bridge: string;
    /** The pods' subnet (host-local IPAM) and the bridge's address in it, the node's IP. */
    readonly podSubnet: string;
    readonly nodeIp: string;
    /** The pod sandbox image containerd pins (what registry.k8s.io/pause is elsewhere). */
    readonly sandboxImage: string;
    /** containerd's runc shim runs this runc. */
    readonly runc: string;
    /** Where the CNI plugins (bridge, host-local, loopback, portmap) are. */
    readonly cniBin: string;
    /**
     * No process of this machine may lower an oom_score_adj (CAP_SYS_RESOURCE is not in any
     * bounding set here), while containerd gives a pod's sandbox -998 and the kubelet itself
     * -999: runc then fails ("nsexec: failed to update /proc/self/oom_score_adj: Permission
     * denied", reported as "can't get final child's PID from pipe: EOF"). True: containerd
     * clamps every container's score at its own (0), and the kubelet keeps 0 for itself.
     */
    readonly restrictOomScoreAdj: boolean;
}

export const paths = (l: NodeLayout) => ({
    containerdRoot: `${l.run}/containerd/root`,
    containerdState: `${l.run}/containerd/state`,
    containerdSocket: `${l.run}/containerd/containerd.sock`,
    containerdConfig: `${l.run}/containerd.toml`,
    runcRoot: `${l.run}/runc`,
    cniConfDir: `${l.run}/cni/net.d`,
    cniIpamDir: `${l.run}/cni/ipam`,
    kubeletRoot: `${l.run}/kubelet`,
    kubeletConfig: `${l.run}/kubelet.json`,
    manifests: `${l.run}/manifests`,
    podLogs: `${l.run}/pod-logs`,
    images: `${l.run}/images`,
    sysctls: `${l.run}/sysctl`,
    logs: `${l.run}/logs`,
});

const q = (s: string) => JSON.stringify(s); // a TOML basic string is a JSON string

/**
 * containerd 2.x (config version 3): its own root, state and sockets, the CRI plugin with
 * runc (cgroupfs, its own state root), the CNI config and plugins of the layout, pod network
 * namespaces under the state dir (not /var/run/netns), and the plugins that would reach
 * outside the layout (/opt, NRI's socket, tracing) disabled.
 */
export function containerdConfig(l: NodeLayout, debug = false): string {
    const p = paths(l);
    return `version = 3
root = ${q(p.containerdRoot)}
state = ${q(p.containerdState)}
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.nri.v1.nri", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
${debug ? "\n[debug]\n  level = 'debug'\n" : ""}
[grpc]
  address = ${q(p.containerdSocket)}

[ttrpc]
  address = ${q(`${p.containerdSocket}.ttrpc`)}

[plugins.'io.containerd.cri.v1.images']
  snapshotter = 'overlayfs'

  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = ${q(l.sandboxImage)}

[plugins.'io.containerd.cri.v1.runtime']
  netns_mounts_under_state_dir = true
  restrict_oom_score_adj = ${l.restrictOomScoreAdj}
  cdi_spec_dirs = []

  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
    BinaryName = ${q(l.runc)}
    Root = ${q(p.runcRoot)}
    SystemdCgroup = false

  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = [${q(l.cniBin)}]
    conf_dir = ${q(p.cniConfDir)}
    max_conf_num = 1

[plugins.'io.containerd.grpc.v1.cri']
  stream_server_address = '127.0.0.1'
  stream_server_port = '0'
`;
}

/** The CNI network: the bridge (the node's IP as the pods' gateway), host-local IPAM. */
export function cniConfList(l: NodeLayout): string {
    const p = paths(l);
    return `${JSON.stringify({
        cniVersion: "1.0.0",
        name: "hc-kn",
        plugins: [
            {
                type: "bridge", bridge: l.bridge, isGateway: true, ipMasq: false, hairpinMode: true,
                ipam: { type: "host-local", ranges: [[{ subnet: l.podSubnet, gateway: l.nodeIp }]], dataDir: p.cniIpamDir },
            },
            { type: "portmap", capabilities: { portMappings: true } },
        ],
    }, null, 2)}\n`;
}

/** The kubelet's read-only port (plain HTTP: /pods, /healthz) and its healthz port, on loopback. */
export const READ_ONLY_PORT = 10255;
export const HEALTHZ_PORT = 10248;

/**
 * A standalone kubelet (no API server: static pods from a directory), cgroupfs under the
 * layout's cgroup root, containerd's socket, serving on loopback only, with no webhook
 * authentication or authorization (they need an API server), no swap check, no host DNS
 * for pods, no iptables chains of its own, and every directory it writes in the layout.
 */
export function kubeletConfig(l: NodeLayout): string {
    const p = paths(l);
    return `${JSON.stringify({
        kind: "KubeletConfiguration",
        apiVersion: "kubelet.config.k8s.io/v1beta1",
        staticPodPath: p.manifests,
        fileCheckFrequency: "1s",
        address: "127.0.0.1",
        readOnlyPort: READ_ONLY_PORT,
        healthzBindAddress: "127.0.0.1",
        healthzPort: HEALTHZ_PORT,
        authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
        authorization: { mode: "AlwaysAllow" },
        cgroupDriver: "cgroupfs",
        cgroupRoot: l.cgroupRoot,
        cgroupsPerQOS: true,
        containerRuntimeEndpoint: `unix://${p.containerdSocket}`,
        failSwapOn: false,
        ...(l.restrictOomScoreAdj ? { oomScoreAdj: 0 } : {}),
        resolvConf: "",
        makeIPTablesUtilChains: false,
        podLogsDir: p.podLogs,
        volumePluginDir: `${p.kubeletRoot}/volume-plugins`,
        evictionHard: { "memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%" },
    }, null, 2)}\n`;
}

/**
 * The test's static pod: the app image (never pulled: it is imported), its pod name through
 * the downward API, a readiness probe the kubelet runs against the pod's IP.
 */
export function appPod(name: string, image: string): string {
    return `${JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: "default", labels: { app: name } },
        spec: {
            dnsPolicy: "Default",
            enableServiceLinks: false,
            terminationGracePeriodSeconds: 5,
            containers: [{
                name: "app",
                image,
                imagePullPolicy: "Never",
                env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
                ports: [{ name: "http", containerPort: 8080 }],
                readinessProbe: { httpGet: { path: "/", port: 8080 }, periodSeconds: 1 },
            }],
        },
    }, null, 2)}\n`;
}
