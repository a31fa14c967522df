// A standalone cluster node on this machine, for the cluster-node test: a network namespace
// of its own (hc-kn), containerd and a kubelet (no API server) inside it, their processes and
// the pods' in cgroups of their own (homecloud-kn in every hierarchy), everything they write
// under /run/homecloud-kn. cleanup() takes all of it away again, by the PIDs found in those
// cgroups, and says what it could not remove.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { paths } from "./render";

export const NETNS = "hc-kn";
export const RUN = "/run/homecloud-kn";
export const CGROUP = "homecloud-kn";
/**
 * containerd 2 keeps its shims' sockets in /run/containerd/s, not in its state directory
 * (pkg/shim: defaults.DefaultStateDir): the node's mount namespace has a tmpfs there, on a
 * mount point that cleanup() removes again when it is an empty directory.
 */
export const RUN_CONTAINERD = "/run/containerd";

/** What scripts/setup-cluster-node.sh built, from $HOMECLOUD_CACHE/cluster-node.json. */
export interface NodeTools {
    readonly kubelet: string;
    readonly containerd: string;
    readonly ctr: string;
    readonly shim: string;
    readonly cniBin: string;
    readonly runc: string;
    readonly versions: { readonly kubelet: string; readonly containerd: string; readonly cni: string };
    /** How long each part's build took when it was built here (seconds). */
    readonly buildSeconds: { readonly kubelet: number; readonly containerd: number; readonly cni: number };
}

export function nodeTools(): NodeTools {
    const file = path.join(process.env.HOMECLOUD_CACHE ?? "/var/cache/homecloud", "cluster-node.json");
    if (!fs.existsSync(file)) {
        throw new Error(`${file} is missing: run \`make cluster-node\``);
    }
    return JSON.parse(fs.readFileSync(file, "utf8")) as NodeTools;
}

export interface Run {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

export function run(cmd: string, args: string[], input?: string): Run {
    const r = spawnSync(cmd, args, { encoding: "utf8", input, timeout: 60_000 });
    return { status: r.status, stdout: r.stdout ?? "", stderr: `${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

export function must(cmd: string, args: string[]): string {
    const r = run(cmd, args);
    if (r.status !== 0) {
        throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr.trim()}`);
    }
    return r.stdout;
}

/** A command inside the node's network namespace (nothing else of the host changes). */
export function inNetns(cmd: string, args: string[]): Run {
    return run("nsenter", [`--net=/run/netns/${NETNS}`, "--", cmd, ...args]);
}

/** An HTTP GET from inside the node's network namespace: status 0 when nothing answered. */
export function httpGet(url: string, timeoutSeconds = 3): { status: number; body: string } {
    const r = inNetns("curl", ["-s", "-m", String(timeoutSeconds), "-o", "-", "-w", "\n%{http_code}", url]);
    const at = r.stdout.lastIndexOf("\n");
    const status = Number(r.stdout.slice(at + 1)) || 0;
    return { status: r.status === 0 ? status : 0, body: r.stdout.slice(0, Math.max(at, 0)) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every `everyMs` until it returns a value, or throws `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined, everyMs = 200): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const v = probe();
        if (v !== undefined) {
            return v;
        }
        if (Date.now() > deadline) {
            throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
        }
        await sleep(everyMs);
    }
}

// ---- cgroups: homecloud-kn in every hierarchy (v1 controllers, name=systemd, unified) ----

/** The mount points of the machine's cgroup hierarchies (v1 and v2). */
export function cgroupMounts(): string[] {
    return fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")
        .map((l) => l.split(" "))
        .filter((f) => {
            const sep = f.indexOf("-");
            return sep > 0 && (f[sep + 1] === "cgroup" || f[sep + 1] === "cgroup2");
        })
        .map((f) => f[4]);
}

/** <hierarchy>/homecloud-kn and its `daemons` child (containerd, its shims, the kubelet). */
export function makeCgroups(): void {
    for (const m of cgroupMounts()) {
        for (const dir of [path.join(m, CGROUP), path.join(m, CGROUP, "daemons")]) {
            fs.mkdirSync(dir, { recursive: true });
            // A new v1 cpuset has no CPUs or memory nodes: a process cannot join it until they are set.
            if (fs.existsSync(path.join(dir, "cpuset.cpus"))) {
                for (const f of ["cpuset.cpus", "cpuset.mems"]) {
                    fs.writeFileSync(path.join(dir, f), fs.readFileSync(path.join(m, f), "utf8"));
                }
            }
        }
    }
}

/** The cgroup.procs files a process writes its PID to, to join `daemons` everywhere. */
export function daemonProcsFiles(): string[] {
    return cgroupMounts().map((m) => path.join(m, CGROUP, "daemons", "cgroup.procs"));
}

/** Every directory of the homecloud-kn cgroups, deepest first. */
function cgroupDirs(): string[] {
    const dirs: string[] = [];
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            if (e.isDirectory()) {
                walk(path.join(d, e.name));
            }
        }
        dirs.push(d);
    };
    for (const m of cgroupMounts()) {
        const top = path.join(m, CGROUP);
        if (fs.existsSync(top)) {
            walk(top);
        }
    }
    return dirs;
}

/** The PIDs in the homecloud-kn cgroups: the node's daemons, shims, containers. */
export function cgroupPids(): number[] {
    const pids = new Set<number>();
    for (const d of cgroupDirs()) {
        const f = path.join(d, "cgroup.procs");
        if (fs.existsSync(f)) {
            for (const l of fs.readFileSync(f, "utf8").split("\n")) {
                if (/^\d+$/.test(l)) {
                    pids.add(Number(l));
                }
            }
        }
    }
    return [...pids];
}

/** The cgroup of `pid` in the hierarchy that has `controller` (v1), e.g. "/homecloud-kn/...". */
export function cgroupOf(pid: number, controller: string): string | undefined {
    for (const l of fs.readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n")) {
        const [, ctrls, p] = l.split(":");
        if (ctrls !== undefined && ctrls.split(",").includes(controller)) {
            return p;
        }
    }
    return undefined;
}

// ---- processes ----

const started = new Set<ChildProcess>();
process.on("exit", () => {
    for (const p of started) {
        if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) {
            process.kill(p.pid, "SIGKILL");
        }
    }
});

/** `bash -c script` with stdout and stderr to `log`; the script execs the daemon (one PID). */
export function startDaemon(script: string, log: string): ChildProcess {
    const out = fs.openSync(log, "a");
    const p = spawn("bash", ["-c", script], { stdio: ["ignore", out, out] });
    fs.closeSync(out);
    started.add(p);
    p.once("exit", () => started.delete(p));
    return p;
}

export async function stopDaemon(p: ChildProcess | undefined, graceMs = 10_000): Promise<void> {
    if (!p || p.pid === undefined || p.exitCode !== null || p.signalCode !== null) {
        return;
    }
    const exited = new Promise<void>((r) => p.once("exit", () => r()));
    process.kill(p.pid, "SIGTERM");
    const timer = setTimeout(() => p.exitCode === null && p.signalCode === null && p.pid !== undefined && process.kill(p.pid, "SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
}

export function logTail(file: string, lines = 25): string {
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n") : "(no log)";
}

// ---- the kubelet's host-wide sysctls ----

/**
 * The kernel settings the kubelet (pkg/kubelet/cm/container_manager_linux.go,
 * setupKernelTunables) sets on the whole machine when they differ, and fails without
 * (protectKernelDefaults only turns the write into an error): overcommit always, panic 10 s
 * after a kernel panic, panic on an oops. This machine is shared, so the node's mount
 * namespace gets files with these values bound over the /proc/sys entries that differ: the
 * kubelet reads what it wants and writes nothing; the host's settings never change.
 */
export const KUBELET_SYSCTLS: Readonly<Record<string, number>> = {
    "vm/overcommit_memory": 1,
    "vm/panic_on_oom": 0,
    "kernel/panic": 10,
    "kernel/panic_on_oops": 1,
    "kernel/keys/root_maxkeys": 1000000,
    "kernel/keys/root_maxbytes": 25000000,
};

/** The sysctls whose host value differs from the kubelet's, with the host's value. */
export function differingSysctls(): Array<{ name: string; host: number; kubelet: number }> {
    return Object.entries(KUBELET_SYSCTLS)
        .map(([name, kubelet]) => ({ name, kubelet, host: Number(fs.readFileSync(`/proc/sys/${name}`, "utf8").trim()) }))
        .filter((s) => s.host !== s.kubelet);
}

/** Whether this process's capabilities hold CAP_SYS_RESOURCE (bit 24), which a negative oom_score_adj needs. */
export function canLowerOomScore(): boolean {
    const line = fs.readFileSync("/proc/self/status", "utf8").split("\n").find((l) => l.startsWith("CapEff:"));
    return line !== undefined && (BigInt(`0x${line.split(/\s+/)[1]}`) & (1n << 24n)) !== 0n;
}

// ---- mounts and cleanup ----

/** Mount points under `dir` in this (the host's) mount namespace, deepest first. */
export function mountsUnder(dir: string): string[] {
    return fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")
        .map((l) => l.split(" ")[4])
        .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(`${dir}/`)))
        .map((m) => m.replace(/\\040/g, " "))
        .sort((a, b) => b.split("/").length - a.split("/").length);
}

export function netnsExists(): boolean {
    return fs.existsSync(`/run/netns/${NETNS}`);
}

/**
 * Takes the node away: every process in its cgroups killed by PID (the daemons, shims and
 * containers are all there), mounts under /run/homecloud-kn unmounted, the network
 * namespace deleted, the cgroups removed, /run/homecloud-kn deleted. Returns what is left
 * (empty when clean).
 */
export async function cleanup(): Promise<string[]> {
    for (let i = 0; i < 50; i++) {
        const pids = cgroupPids();
        if (pids.length === 0) {
            break;
        }
        for (const pid of pids) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                // gone already
            }
        }
        await sleep(100);
    }
    for (const m of mountsUnder(RUN)) {
        run("umount", ["-l", m]);
    }
    for (let i = 0; i < 20 && netnsExists(); i++) {
        run("ip", ["netns", "del", NETNS]);
        if (netnsExists()) {
            await sleep(250);
        }
    }
    for (let i = 0; i < 20; i++) {
        const dirs = cgroupDirs();
        if (dirs.length === 0) {
            break;
        }
        for (const d of dirs) {
            try {
                fs.rmdirSync(d);
            } catch {
                // busy until its last process is reaped: next round
            }
        }
        if (cgroupDirs().length > 0) {
            await sleep(250);
        }
    }
    try {
        fs.rmdirSync(RUN_CONTAINERD); // only when empty: nothing of another containerd is touched
    } catch {
        // absent, or not ours
    }
    if (fs.existsSync(RUN) && mountsUnder(RUN).length === 0) {
        fs.rmSync(RUN, { recursive: true, force: true });
    }
    const left: string[] = [];
    const pids = cgroupPids();
    if (pids.length) left.push(`processes ${pids.join(" ")}`);
    const dirs = cgroupDirs();
    if (dirs.length) left.push(`cgroups ${dirs.join(" ")}`);
    const mounts = mountsUnder(RUN);
    if (mounts.length) left.push(`mounts ${mounts.join(" ")}`);
    if (netnsExists()) left.push(`network namespace ${NETNS}`);
    if (fs.existsSync(RUN)) left.push(RUN);
    return left;
}

export { paths };
