// The cluster half's scripts (cluster/k3s-node.sh, cluster/k3s-config.sh): shellcheck and
// bash -n as files, and the steps that matter most (Pi preparation, install, upgrade with
// its etcd snapshot, air-gapped install) run for real through the very command lines the
// nodes get, in a private mount namespace with scratch directories bound over /boot,
// /var/lib and /usr/local/bin, the repository standing in for the toolkit under
// /usr/local/lib/homecloud, and stand-ins for k3s, systemctl, curl and shutdown.
// Needs root (unshare); CI runs as root.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AddressPlan } from "../../config/plan";
import { parseAddressPlan } from "../../config/validate";
import { scriptsIn } from "../../host/toolkit";
import {
    admissionReadyCommand, adoptCrdsCommand, installCommand, readKubeconfigCommand, renewKubeconfigCommand, memberReadyCommand, memberRemoveCommand, prepareCommand, readJoinTokenCommand, uninstallCommand,
    unprepareCommand, waitForRebootCommand,
} from "../../cluster/k3sSteps";
import { clusterRawPlan } from "../fixtures/k3s";
import { assertScriptsPass } from "../assertions";
import { issuerSecretCommand } from "../../pki/pkiSteps";
import { EXISTING_KUBECONFIG_PATH } from "../../cluster/existingCluster";
import { registriesFile, renderRegistries, K3S_REGISTRIES_PATH } from "../../cluster/registries";
import { fileCommand } from "../../host/hostFile";
import { EXISTING_KUBECONFIG } from "../fixtures/existingCluster";
import { parse as parseYaml } from "yaml";

/** With homecloud:kubeconfig: the file the first-server steps' kubectl reads. */
const KUBECTL_ENV = { HC_KUBECONFIG: EXISTING_KUBECONFIG_PATH };

const REPO = path.resolve(__dirname, "..", "..");

function clusterPlan(): AddressPlan {
    return parseAddressPlan(clusterRawPlan()).plan;
}

interface Run {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

describe("K3s scripts as files", () => {
    it("pass shellcheck and bash -n", () => {
        const files = scriptsIn("cluster");
        assert.deepStrictEqual(files, ["cluster/k3s-config.sh", "cluster/k3s-install.sh", "cluster/k3s-kubeconfig.sh", "cluster/k3s-membership.sh", "cluster/k3s-node.sh", "cluster/k3s-snapshots.sh"]);
        for (const f of files) {
            assert.ok(fs.readFileSync(path.join(REPO, f), "utf8").split("\n").length <= 300, `${f} is over 300 lines`);
        }
        assertScriptsPass(files);
    });

    it("says how to use it, and refuses an unknown install mode", () => {
        const usage = spawnSync("bash", [path.join(REPO, "cluster/k3s-node.sh"), "nonsense"], { encoding: "utf8" });
        assert.strictEqual(usage.status, 2);
        assert.match(usage.stderr, /^usage: k3s-node\.sh prepare\|unprepare\|wait-reboot\|install\|uninstall\|member-ready\|member-remove\|read-token\|read-kubeconfig\|admission-ready\|adopt-crds\|snapshot-access\|snapshot-revoke\|snapshot-send\n$/);
        const missing = spawnSync("bash", [path.join(REPO, "cluster/k3s-node.sh"), "member-remove"], { encoding: "utf8", env: { PATH: process.env.PATH } });
        assert.notStrictEqual(missing.status, 0);
        assert.match(missing.stderr, /HC_NODE: parameter null or not set/);
    });
});

// ---------------------------------------------------------------------------------------
// The scripts on a real shell.

const ROOT = `/tmp/hc-k3s-test-${process.pid}`;
const BOOT = `${ROOT}/boot`;
const VARLIB = `${ROOT}/varlib`;
const BIN = `${ROOT}/usrlocalbin`;
const USRLOCALLIB = `${ROOT}/usrlocallib`;
const STUBS = `${ROOT}/stubs`;
const LOG = `${ROOT}/log`;
const STATE = `${ROOT}/state`;
const AIRGAP = `${ROOT}/airgap`;
const CGROUP = `${ROOT}/sys-fs-cgroup`;
const ETC_UP = `${ROOT}/etc-upper`;
const ETC_WORK = `${ROOT}/etc-work`;
const SHARE = `${ROOT}/usrlocalshare`;
const CMDLINE = `${BOOT}/firmware/cmdline.txt`;
const ORIGINAL_CMDLINE = "console=serial0,115200 console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 fsck.repair=yes rootwait";

/**
 * A k3s stand-in: logs its arguments; `--version` reports $STATE/version; a node exists when
 * $STATE/node-<name> does, and reports the kubelet version written in it.
 */
const K3S_STUB = `#!/bin/sh
[ -n "\${HC_STUB_QUIET:-}" ] || echo "k3s $*" >> ${LOG}
# A K3s that never becomes ready: every API call hangs.
if [ -f ${STATE}/hang ] && [ "$1" = kubectl ]; then exec sleep 1000; fi
if [ "$1" = --version ]; then
  echo "k3s version $(cat ${STATE}/version) (0123abcd)"
  echo "go version go1.23.6"
fi
if [ "$1 $2 $3" = "kubectl get node" ] && [ -f "${STATE}/node-$4" ]; then
  case "$*" in
    *conditions*) cat "${STATE}/ready-$4" 2>/dev/null || echo True ;;
    *jsonpath*) cat "${STATE}/node-$4" ;;
    *) echo "node/$4" ;;
  esac
fi
# A node whose kubelet is gone (ready-<node> says False), as kubectl drain meets it: evicted
# pods stay Terminating (only a kubelet confirms their deletion), so a drain without the
# flags for that waits out its --timeout; with --force --disable-eviction it deletes them and
# --skip-wait-for-delete-timeout stops waiting for those whose deletion is older than that.
if [ "$1 $2" = "kubectl drain" ] && [ "$(cat "${STATE}/ready-$3" 2>/dev/null)" = False ]; then
  case "$*" in
    *" --force --disable-eviction --skip-wait-for-delete-timeout="*)
      if [ ! -f ${STATE}/drain-fails ]; then
        echo 'pod "web-1" has DeletionTimestamp older than 1 seconds, skipping'
        exit 0
      fi ;;
  esac
  t=$(printf '%s\\n' "$@" | sed -n 's/^--timeout=\\([0-9]*\\)s$/\\1/p')
  sleep "$t"
  echo "error: unable to drain node $3 due to error: global timeout reached: \${t}s" >&2
  exit 1
fi
if [ "$1 $2 $3" = "kubectl delete node" ]; then rm -f "${STATE}/node-$4"; fi
# The admin certificate: "certificate rotate" moves it aside (K3s backs it up), and the next
# start (a restart, in the systemctl stand-in) issues a new one into k3s.yaml.
if [ "$1 $2 $3 $4" = "certificate rotate --service admin" ]; then touch ${STATE}/admin-rotated; fi
# The cluster issuer's Secret: a client-side dry run prints it (cert and key as given),
# a server-side apply keeps what it was sent, a delete forgets it.
if [ "$1 $4 $5" = "kubectl create secret" ]; then
  for a in "$@"; do
    case "$a" in
      --cert=*) printf 'cert: %s\n' "$(base64 -w0 "\${a#--cert=}")" ;;
      --key=*) printf 'key: %s\n' "$(base64 -w0 "\${a#--key=}")" ;;
    esac
  done
fi
if [ "$1 $2 $3" = "kubectl apply --server-side" ]; then cat > ${STATE}/applied-secret; fi
if [ "$1 $4 $5" = "kubectl delete secret" ]; then rm -f ${STATE}/applied-secret; fi
# CRDs: $STATE/crds lists them; $STATE/owner-<crd> holds the Helm release that owns one.
if [ "$1 $2 $3 $4" = "kubectl get crd -o" ]; then
  sed 's|^|customresourcedefinition.apiextensions.k8s.io/|' ${STATE}/crds 2>/dev/null
fi
if [ "$1 $2 $3" = "kubectl get crd" ] && [ "$5" = -o ]; then cat "${STATE}/owner-$4" 2>/dev/null; fi
if [ "$1 $2 $3 $4" = "kubectl annotate --overwrite crd" ]; then echo "\${6#*=}" > "${STATE}/owner-$5"; fi
# A validating webhook whose pods are Ready but which does not serve yet: a server-side dry
# run is refused while $STATE/webhook-down holds a count above 0 (one less each call).
if [ "$1 $2 $3" = "kubectl apply --dry-run=server" ]; then
  cp "$5" ${STATE}/dry-run-manifest
  n=$(cat ${STATE}/webhook-down 2>/dev/null || echo 0)
  if [ "$n" -gt 0 ]; then
    echo $((n - 1)) > ${STATE}/webhook-down
    echo 'Error from server (InternalError): error when creating "manifest": Internal error occurred: failed calling webhook "ipaddresspoolvalidationwebhook.metallb.io": failed to call webhook: connect: connection refused' >&2
    exit 1
  fi
fi
exit 0
`;

/** install.sh stand-in: logs what it was asked; "installs" the version and starts the unit. */
const INSTALL_SH_STUB = `#!/bin/sh
echo "install.sh VERSION=$INSTALL_K3S_VERSION EXEC=$INSTALL_K3S_EXEC SKIP_DOWNLOAD=\${INSTALL_K3S_SKIP_DOWNLOAD:-} FORCE_RESTART=$INSTALL_K3S_FORCE_RESTART" >> ${LOG}
if [ -f ${STATE}/hang-install ]; then exec sleep 1000; fi
if [ "\${INSTALL_K3S_SKIP_DOWNLOAD:-}" != true ]; then
  cp ${STUBS}/k3s-binary /usr/local/bin/k3s
  echo "$INSTALL_K3S_VERSION" > ${STATE}/version
fi
# The node registers running the installed version.
cp ${STATE}/version "${STATE}/node-\${HC_NODE:?}"
touch ${STATE}/active
`;

const STUB_FILES: Record<string, string> = {
    "k3s-binary": K3S_STUB,
    // A host's own kubectl (homecloud:kubeconfig): logged, then answered as K3s' kubectl would.
    kubectl: `#!/bin/sh
echo "kubectl $*" >> ${LOG}
if [ "$1" != --kubeconfig ] || [ ! -f "$2" ]; then echo "kubectl stand-in: no --kubeconfig file" >&2; exit 1; fi
shift 2
HC_STUB_QUIET=1 exec ${STUBS}/k3s-binary kubectl "$@"
`,
    systemctl: `#!/bin/sh
echo "systemctl $*" >> ${LOG}
# A restart of a K3s that cannot start: queued, and the unit never becomes active again.
if [ "$1" = restart ] && [ -f ${STATE}/never-starts ]; then rm -f ${STATE}/active; fi
# A K3s start after \`certificate rotate\` writes a kubeconfig with a new admin certificate.
if [ "$1 $2 $3" = "restart --no-block k3s" ] && [ -f ${STATE}/admin-rotated ] && [ ! -f ${STATE}/never-starts ]; then
  rm ${STATE}/admin-rotated
  echo "kubeconfig with the renewed admin certificate" > /etc/rancher/k3s/k3s.yaml
fi
[ "$1" = is-active ] || exit 0
[ -f ${STATE}/active ]
`,
    curl: `#!/bin/sh
echo "curl $*" >> ${LOG}
while [ $# -gt 0 ]; do
  if [ "$1" = -o ]; then cp ${STUBS}/install.sh.fetched "$2"; fi
  shift
done
`,
    "install.sh.fetched": INSTALL_SH_STUB,
    shutdown: `#!/bin/sh
echo "shutdown $*" >> ${LOG}
`,
};

/**
 * Runs a command line as a node would, in a mount namespace where /boot, /var/lib,
 * /usr/local/bin and /sys/fs/cgroup are scratch and /usr/local/lib/homecloud is the
 * repository, with the stand-ins first on PATH and `env` added to the environment.
 */
function runOnHost(commandLine: string, env: Record<string, string> = {}): Run {
    fs.mkdirSync(USRLOCALLIB, { recursive: true });
    for (const dir of ["homecloud", "homecloud-pki"]) {
        if (!fs.existsSync(`${USRLOCALLIB}/${dir}`)) {
            fs.symlinkSync(REPO, `${USRLOCALLIB}/${dir}`);
        }
    }
    const wrapper = `mount --bind ${BOOT} /boot || exit 99
mount --bind ${VARLIB} /var/lib || exit 99
mount --bind ${BIN} /usr/local/bin || exit 99
mount --bind ${USRLOCALLIB} /usr/local/lib || exit 99
mount --bind ${CGROUP} /sys/fs/cgroup || exit 99
mount -t overlay overlay -o lowerdir=/etc,upperdir=${ETC_UP},workdir=${ETC_WORK} /etc || exit 99
mount --bind ${SHARE} /usr/local/share || exit 99
sudo() { [ "$1" = -n ] || exit 98; shift; "$@"; }
eval "$1"`;
    const r = spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", wrapper, "host", commandLine],
        { encoding: "utf8", env: { ...process.env, ...env, PATH: `${STUBS}:${process.env.PATH}` } });
    if (r.error) {
        throw r.error;
    }
    assert.ok(r.status !== 99 && r.status !== 98, `test harness failed: ${r.stderr}`);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What a step asks the API about a node's Ready condition. */
const READY_QUERY = (node: string): string => `k3s kubectl get node ${node} -o jsonpath={.status.conditions[?(@.type=="Ready")].status}`;
/** A server's install waiting for its Node: the new version, then Ready. */
const NODE_READY = (node: string): string[] => [
    `k3s kubectl get node ${node} --ignore-not-found -o jsonpath={.status.nodeInfo.kubeletVersion}`,
    `k3s kubectl wait --for=condition=Ready node/${node} --timeout=300s`,
];
/** runOnHost with `input` on the command's stdin. */
function runOnHostWithStdin(commandLine: string, input: string, env: Record<string, string> = {}): Run {
    const f = `${ROOT}/stdin`;
    fs.writeFileSync(f, input);
    return runOnHost(`${commandLine} < ${f}`, env);
}

const log = (): string[] => fs.existsSync(LOG) ? fs.readFileSync(LOG, "utf8").trim().split("\n") : [];
const read = (p: string): string => fs.readFileSync(p, "utf8");
const bootId = (): string => read("/proc/sys/kernel/random/boot_id");

function ok(r: Run, stdout?: string): void {
    assert.strictEqual(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
    if (stdout !== undefined) {
        assert.strictEqual(r.stdout, stdout);
    }
}

function failed(r: Run, stderr: RegExp): void {
    assert.notStrictEqual(r.status, 0, "the script succeeded");
    assert.match(r.stderr, stderr);
}

describe("K3s host scripts on a real shell", () => {
    beforeEach(() => {
        fs.rmSync(ROOT, { recursive: true, force: true });
        for (const d of [`${BOOT}/firmware`, VARLIB, BIN, STUBS, STATE, AIRGAP, CGROUP, ETC_UP, ETC_WORK, SHARE]) {
            fs.mkdirSync(d, { recursive: true });
        }
        for (const [name, text] of Object.entries(STUB_FILES)) {
            fs.writeFileSync(`${STUBS}/${name}`, text, { mode: 0o755 });
        }
        // A Pi booted with memory cgroups (cgroup v2), as K3s needs.
        fs.writeFileSync(`${CGROUP}/cgroup.controllers`, "cpuset cpu io memory pids\n");
    });

    after(() => fs.rmSync(ROOT, { recursive: true, force: true }));

    describe("Pi preparation", () => {
        beforeEach(() => fs.writeFileSync(CMDLINE, `${ORIGINAL_CMDLINE}\n`));

        it("adds the memory cgroup flags once and reboots only when it changed something", () => {
            ok(runOnHost(prepareCommand()),
                "homecloud: added cgroup_memory=1 cgroup_enable=memory to /boot/firmware/cmdline.txt; rebooting in one minute\n");
            assert.strictEqual(read(CMDLINE), `${ORIGINAL_CMDLINE} cgroup_memory=1 cgroup_enable=memory\n`);
            assert.deepStrictEqual(log(), ["shutdown -r +1 homecloud: rebooting to enable memory cgroups for K3s"]);
            assert.strictEqual(read(`${VARLIB}/homecloud/k3s/cmdline-added`), "cgroup_memory=1\ncgroup_enable=memory\n");
            assert.strictEqual(read(`${VARLIB}/homecloud/k3s/reboot-from`), bootId());
            assert.deepStrictEqual(fs.readdirSync(`${BOOT}/firmware`), ["cmdline.txt"], "no temporary file left");

            ok(runOnHost(prepareCommand()), "homecloud: /boot/firmware/cmdline.txt already enables memory cgroups\n");
            assert.strictEqual(log().length, 1, "no second reboot");
        });

        it("adds only the missing flag; uses /boot/cmdline.txt on older Pi OS; does nothing elsewhere", () => {
            fs.writeFileSync(CMDLINE, `${ORIGINAL_CMDLINE} cgroup_enable=memory\n`);
            ok(runOnHost(prepareCommand()));
            assert.strictEqual(read(CMDLINE), `${ORIGINAL_CMDLINE} cgroup_enable=memory cgroup_memory=1\n`);

            fs.rmSync(`${BOOT}/firmware`, { recursive: true });
            fs.writeFileSync(`${BOOT}/cmdline.txt`, `${ORIGINAL_CMDLINE}\n`);
            ok(runOnHost(prepareCommand()));
            assert.strictEqual(read(`${BOOT}/cmdline.txt`), `${ORIGINAL_CMDLINE} cgroup_memory=1 cgroup_enable=memory\n`);

            fs.rmSync(`${BOOT}/cmdline.txt`);
            fs.rmSync(LOG);
            ok(runOnHost(prepareCommand()),
                "homecloud: no cmdline.txt in /boot/firmware or /boot (not a Raspberry Pi boot partition); nothing to prepare\n");
            assert.deepStrictEqual(log(), []);
        });

        it("the wait step fails on the old boot, then checks the running kernel's cgroup controllers, not cmdline.txt", () => {
            ok(runOnHost(prepareCommand()));
            failed(runOnHost(waitForRebootCommand("pi1")), /this host has not rebooted yet since its cmdline\.txt changed/);

            // "Reboot": another boot id, the flags in cmdline.txt, but no memory controller.
            fs.writeFileSync(`${VARLIB}/homecloud/k3s/reboot-from`, "00000000-0000-0000-0000-000000000000\n");
            fs.writeFileSync(`${CGROUP}/cgroup.controllers`, "cpuset cpu io pids\n");
            const r = runOnHost(waitForRebootCommand("pi1"));
            assert.strictEqual(r.status, 1);
            assert.strictEqual(r.stderr, "homecloud: pi1: K3s needs the cpu, cpuset and memory cgroup controllers; the running kernel lacks: memory " +
                "(/sys/fs/cgroup/cgroup.controllers lists: cpuset cpu io pids); make sure the one line of /boot/firmware/cmdline.txt has " +
                "cgroup_memory=1 cgroup_enable=memory and no cgroup_disable=memory, reboot pi1, then run pulumi up again\n");

            // cpuset counts too (K3s' own check wants cpu, cpuset and memory).
            fs.writeFileSync(`${CGROUP}/cgroup.controllers`, "cpu io memory pids\n");
            failed(runOnHost(waitForRebootCommand("pi1")), /the running kernel lacks: cpuset \(/);

            fs.writeFileSync(`${CGROUP}/cgroup.controllers`, "cpuset cpu io memory pids\n");
            ok(runOnHost(waitForRebootCommand("pi1")), `homecloud: host is up (boot ${bootId().trim()})\n`);
            assert.ok(!fs.existsSync(`${VARLIB}/homecloud/k3s/reboot-from`));
        });

        it("a host that is not a Pi gets the same check and a fix that fits it", () => {
            fs.rmSync(CMDLINE);
            fs.writeFileSync(`${CGROUP}/cgroup.controllers`, "\n");
            const r = runOnHost(waitForRebootCommand("pi4"));
            assert.strictEqual(r.stderr, "homecloud: pi4: K3s needs the cpu, cpuset and memory cgroup controllers; the running kernel lacks: " +
                "cpu cpuset memory (/sys/fs/cgroup/cgroup.controllers lists: nothing); enable them on the kernel command line " +
                "(e.g. cgroup_memory=1 cgroup_enable=memory), reboot pi4, then run pulumi up again\n");
            // cgroup v1 (no cgroup.controllers): the memory hierarchy this test host has.
            fs.rmSync(`${CGROUP}/cgroup.controllers`);
            ok(runOnHost(waitForRebootCommand("pi4")));
        });

        it("delete takes out exactly the flags it added", () => {
            fs.writeFileSync(CMDLINE, `${ORIGINAL_CMDLINE} cgroup_enable=memory\n`);
            ok(runOnHost(prepareCommand()));
            ok(runOnHost(unprepareCommand()),
                "homecloud: removed the flags this program added to /boot/firmware/cmdline.txt (in effect until the next reboot)\n");
            assert.strictEqual(read(CMDLINE), `${ORIGINAL_CMDLINE} cgroup_enable=memory\n`);
            assert.deepStrictEqual(fs.readdirSync(`${VARLIB}/homecloud/k3s`), []);
            ok(runOnHost(unprepareCommand()), "homecloud: cmdline.txt was not changed by this program; nothing to undo\n");
        });
    });

    describe("install and upgrade", () => {
        const plan = clusterPlan();
        const server = (version: string) => installCommand("pi1", { role: "server", version, install: "script", airgapDir: AIRGAP });

        it("installs with the official script at the pinned version, then does nothing while it runs", () => {
            ok(runOnHost(server(plan.k3s.version)));
            assert.match(log()[0], /^curl -sfL https:\/\/get\.k3s\.io -o \/tmp\/tmp\.\w+\/install\.sh$/);
            assert.deepStrictEqual(log().slice(1), [
                "install.sh VERSION=v1.32.2+k3s1 EXEC=server SKIP_DOWNLOAD= FORCE_RESTART=true",
                "k3s kubectl get --raw=/readyz",
                ...NODE_READY("pi1"),
            ]);
            fs.rmSync(LOG);
            ok(runOnHost(server(plan.k3s.version)),
                "homecloud: k3s v1.32.2+k3s1 is installed and running\nhomecloud: k3s v1.32.2+k3s1 is ready\n");
            assert.deepStrictEqual(log(), [
                "k3s --version",
                "systemctl is-active --quiet k3s",
                "k3s kubectl get --raw=/readyz",
                ...NODE_READY("pi1"),
            ]);
        });

        it("an upgrade saves an etcd snapshot with the old k3s before installing the new one", () => {
            ok(runOnHost(server("v1.31.4+k3s1")));
            fs.rmSync(LOG);
            ok(runOnHost(server("v1.32.2+k3s1")));
            const lines = log();
            assert.deepStrictEqual(lines.filter((l) => !l.startsWith("curl ")), [
                "k3s --version",
                "systemctl is-active --quiet k3s",
                "k3s etcd-snapshot save --name homecloud-pre-v1.32.2-k3s1",
                "install.sh VERSION=v1.32.2+k3s1 EXEC=server SKIP_DOWNLOAD= FORCE_RESTART=true",
                "k3s kubectl get --raw=/readyz",
                ...NODE_READY("pi1"),
            ]);
            assert.ok(lines.indexOf("k3s etcd-snapshot save --name homecloud-pre-v1.32.2-k3s1") < lines.findIndex((l) => l.startsWith("curl ")),
                "the snapshot comes before the download");
            assert.strictEqual(read(`${STATE}/version`), "v1.32.2+k3s1\n");
        });

        it("a server's install ends only when its Node runs the new version and is Ready", () => {
            ok(runOnHost(server("v1.31.4+k3s1")));
            fs.rmSync(LOG);
            // The local API answers at once, but the Node still reports the old kubelet.
            fs.writeFileSync(`${STUBS}/install.sh.fetched`, `#!/bin/sh\necho "$INSTALL_K3S_VERSION" > ${STATE}/version\n`);
            const r = runOnHost(server("v1.32.2+k3s1"), { HC_WAIT_SECONDS: "2", HC_POLL_SECONDS: "1" });
            assert.strictEqual(r.status, 1);
            assert.strictEqual(r.stderr, "homecloud: pi1: timed out after 2 s waiting for pi1 to register with the cluster running v1.32.2+k3s1; " +
                "see journalctl -u k3s (a server) or journalctl -u k3s-agent (an agent) on pi1\n");
            fs.writeFileSync(`${STATE}/node-pi1`, "v1.32.2+k3s1");
            ok(runOnHost(server("v1.32.2+k3s1")), "homecloud: k3s v1.32.2+k3s1 is installed and running\nhomecloud: k3s v1.32.2+k3s1 is ready\n");
        });

        it("refuses a downgrade and a skipped minor before touching anything, naming what is allowed", () => {
            ok(runOnHost(server("v1.32.2+k3s1")));
            fs.rmSync(LOG);
            const down = runOnHost(server("v1.32.1+k3s1"));
            assert.strictEqual(down.status, 1);
            assert.strictEqual(down.stderr, "homecloud: pi1: k3s v1.32.2+k3s1 is installed and homecloud:k3sVersion v1.32.1+k3s1 is older; " +
                "K3s cannot be downgraded in place: set homecloud:k3sVersion to v1.32.2+k3s1 or a newer v1.32 or v1.33 release\n");
            failed(runOnHost(server("v1.32.2+k3s0")), /homecloud:k3sVersion v1\.32\.2\+k3s0 is older/);
            failed(runOnHost(server("v1.31.9+k3s2")), /homecloud:k3sVersion v1\.31\.9\+k3s2 is older/);
            const skip = runOnHost(server("v1.34.1+k3s1"));
            assert.strictEqual(skip.status, 1);
            assert.strictEqual(skip.stderr, "homecloud: pi1: k3s v1.32.2+k3s1 is installed and homecloud:k3sVersion v1.34.1+k3s1 skips a minor version; " +
                "upgrade one minor at a time: set homecloud:k3sVersion to a v1.33.x+k3sN release, run pulumi up, then go on to v1.34.1+k3s1\n");
            failed(runOnHost(server("v2.0.0+k3s1")), /skips a minor version; upgrade one minor at a time: set homecloud:k3sVersion to a v1\.33\.x\+k3sN release/);
            assert.deepStrictEqual(log().filter((l) => l !== "k3s --version"), [], "no snapshot, no download, no restart");
            assert.strictEqual(read(`${STATE}/version`), "v1.32.2+k3s1\n");
            // The next minor, a newer patch and a newer K3s build of the same patch are allowed.
            ok(runOnHost(server("v1.32.2+k3s2")));
            ok(runOnHost(server("v1.33.0+k3s1")));
            assert.strictEqual(read(`${STATE}/version`), "v1.33.0+k3s1\n");
        });

        it("an agent upgrade takes no snapshot", () => {
            const agent = (version: string) => installCommand("pi4", { role: "agent", version, install: "script", airgapDir: AIRGAP });
            ok(runOnHost(agent("v1.31.4+k3s1")));
            ok(runOnHost(agent("v1.32.2+k3s1")));
            assert.ok(!log().some((l) => l.includes("etcd-snapshot")));
            assert.ok(log().includes("install.sh VERSION=v1.32.2+k3s1 EXEC=agent SKIP_DOWNLOAD= FORCE_RESTART=true"));
        });

        describe("air-gapped", () => {
            const airgap = installCommand("pi4", { role: "agent", version: "v1.32.2+k3s1", install: "airgap", airgapDir: AIRGAP });

            function stage(version: string, images = true): void {
                fs.writeFileSync(`${AIRGAP}/k3s`, K3S_STUB);
                fs.writeFileSync(`${STATE}/version`, `${version}\n`);
                fs.writeFileSync(`${AIRGAP}/install.sh`, INSTALL_SH_STUB);
                if (images) {
                    fs.writeFileSync(`${AIRGAP}/k3s-airgap-images-arm64.tar.zst`, "images");
                } else {
                    fs.rmSync(`${AIRGAP}/k3s-airgap-images-arm64.tar.zst`, { force: true });
                }
            }

            it("installs the binary and images from the directory and runs its install.sh without downloading", () => {
                stage("v1.32.2+k3s1");
                ok(runOnHost(airgap));
                assert.strictEqual(read(`${BIN}/k3s`), K3S_STUB);
                assert.strictEqual((fs.statSync(`${BIN}/k3s`).mode & 0o777).toString(8), "755");
                assert.strictEqual(read(`${VARLIB}/rancher/k3s/agent/images/k3s-airgap-images-arm64.tar.zst`), "images");
                assert.ok(log().includes("install.sh VERSION=v1.32.2+k3s1 EXEC=agent SKIP_DOWNLOAD=true FORCE_RESTART=true"));
                assert.ok(!log().some((l) => l.startsWith("curl")));
            });

            it("refuses a binary of another version, a missing install.sh and a missing images tarball", () => {
                stage("v1.31.4+k3s1");
                failed(runOnHost(airgap), /airgap\/k3s is v1\.31\.4\+k3s1, but homecloud:k3sVersion is v1\.32\.2\+k3s1; put the v1\.32\.2\+k3s1 binary there/);
                assert.deepStrictEqual(fs.readdirSync(BIN), [], "nothing installed");

                stage("v1.32.2+k3s1", false);
                failed(runOnHost(airgap), /no k3s-airgap-images-\* tarball in/);
                assert.deepStrictEqual(fs.readdirSync(BIN), [], "nothing installed");

                fs.rmSync(`${AIRGAP}/install.sh`);
                failed(runOnHost(airgap), /airgap\/install\.sh is missing; an air-gapped install needs k3s, k3s-airgap-images-<arch>\.tar\* and install\.sh/);
            });
        });
    });

    describe("membership and removal (run on the first server)", () => {
        const hash = "0".repeat(64);
        beforeEach(() => fs.copyFileSync(`${STUBS}/k3s-binary`, `${BIN}/k3s`));

        it("member-ready waits until the node runs the version, then for Ready", () => {
            fs.writeFileSync(`${STATE}/node-pi2`, "v1.32.2+k3s1");
            ok(runOnHost(memberReadyCommand("pi2", "v1.32.2+k3s1", hash)), "homecloud: pi2 is Ready with v1.32.2+k3s1\n");
            assert.deepStrictEqual(log(), [
                "k3s kubectl get node pi2 --ignore-not-found -o jsonpath={.status.nodeInfo.kubeletVersion}",
                "k3s kubectl wait --for=condition=Ready node/pi2 --timeout=300s",
            ]);
        });

        it("member-remove drains, then deletes the Node; a node already gone is left alone", () => {
            fs.writeFileSync(`${STATE}/node-pi2`, "v1.32.2+k3s1");
            ok(runOnHost(memberRemoveCommand("pi2")), "homecloud: pi2 drained and removed from the cluster\n");
            assert.deepStrictEqual(log(), [
                "k3s kubectl get --raw=/readyz",
                "k3s kubectl get node pi2 --ignore-not-found -o name",
                READY_QUERY("pi2"),
                "k3s kubectl drain pi2 --ignore-daemonsets --delete-emptydir-data --timeout=300s",
                "k3s kubectl delete node pi2 --timeout=300s",
            ]);
            assert.ok(!fs.existsSync(`${STATE}/node-pi2`), "the Node is gone");
            fs.rmSync(LOG);
            ok(runOnHost(memberRemoveCommand("pi2")), "homecloud: pi2 is not a cluster node (already removed)\n");
            assert.ok(!log().some((l) => l.includes("drain")));
        });

        it("a node that is not Ready: its pods are deleted without its kubelet, bounded, and its Node always goes", () => {
            fs.writeFileSync(`${STATE}/node-pi3`, "v1.32.2+k3s1");
            fs.writeFileSync(`${STATE}/ready-pi3`, "False");
            const start = Date.now();
            const r = runOnHost(memberRemoveCommand("pi3"), { HC_WAIT_SECONDS: "3" });
            ok(r, "homecloud: pi3 (not Ready) removed from the cluster; its pods were deleted without its kubelet\n");
            assert.ok(Date.now() - start < 2500, `took ${Date.now() - start} ms`);
            assert.strictEqual(r.stderr, "homecloud: pi3 is not Ready; deleting its pods without waiting for its kubelet\n" +
                'pod "web-1" has DeletionTimestamp older than 1 seconds, skipping\n');
            assert.deepStrictEqual(log(), [
                "k3s kubectl get --raw=/readyz",
                "k3s kubectl get node pi3 --ignore-not-found -o name",
                READY_QUERY("pi3"),
                "k3s kubectl drain pi3 --ignore-daemonsets --delete-emptydir-data --force --disable-eviction --skip-wait-for-delete-timeout=1 --timeout=3s",
                "k3s kubectl delete node pi3 --timeout=3s",
            ]);
            assert.ok(!fs.existsSync(`${STATE}/node-pi3`), "the Node is gone");
        });

        it("the drain that today's flags would wait out, and a forced drain that fails, still end with the Node deleted", () => {
            // What the old step ran, against the stand-in: it waits out its timeout and fails.
            fs.writeFileSync(`${STATE}/node-pi3`, "v1.32.2+k3s1");
            fs.writeFileSync(`${STATE}/ready-pi3`, "False");
            const plain = runOnHost("k3s kubectl drain pi3 --ignore-daemonsets --delete-emptydir-data --timeout=1s");
            assert.strictEqual(plain.status, 1);
            assert.strictEqual(plain.stderr, "error: unable to drain node pi3 due to error: global timeout reached: 1s\n");

            fs.writeFileSync(`${STATE}/drain-fails`, "");
            fs.rmSync(LOG);
            const start = Date.now();
            const r = runOnHost(memberRemoveCommand("pi3"), { HC_WAIT_SECONDS: "2" });
            ok(r, "homecloud: pi3 (not Ready) removed from the cluster; its pods were deleted without its kubelet\n");
            assert.ok(Date.now() - start < 2000 + 2500, `took ${Date.now() - start} ms`);
            assert.strictEqual(r.stderr, "homecloud: pi3 is not Ready; deleting its pods without waiting for its kubelet\n" +
                "error: unable to drain node pi3 due to error: global timeout reached: 2s\n" +
                "homecloud: the drain of pi3 did not finish within 2 s; deleting its Node anyway\n");
            assert.strictEqual(log().at(-1), "k3s kubectl delete node pi3 --timeout=2s");
            assert.ok(!fs.existsSync(`${STATE}/node-pi3`), "the Node is gone");
        });

        it("admission-ready waits until a server-side dry run of the manifest is accepted, bounded, with the last refusal", () => {
            const manifest = "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: homecloud\n";
            fs.writeFileSync(`${STATE}/webhook-down`, "2");
            const r = runOnHostWithStdin(admissionReadyCommand("the pool"), manifest, { HC_POLL_SECONDS: "1" });
            ok(r, "homecloud: the API server accepts the pool\n");
            assert.deepStrictEqual(log().map((l) => l.replace(/\/tmp\/tmp\.\w+/, "TMP")),
                Array(3).fill("k3s kubectl apply --dry-run=server -f TMP"));
            assert.strictEqual(read(`${STATE}/dry-run-manifest`), manifest);
            const tmp = log()[0].split(" ").pop()!;
            assert.ok(!fs.existsSync(tmp) && !fs.existsSync(`${tmp}.err`), "no temporary file left");

            fs.writeFileSync(`${STATE}/webhook-down`, "99");
            const start = Date.now();
            const t = runOnHostWithStdin(admissionReadyCommand("the pool"), manifest, { HC_WAIT_SECONDS: "2", HC_POLL_SECONDS: "1" });
            assert.strictEqual(t.status, 1);
            assert.strictEqual(t.stderr, `homecloud: ${os.hostname()}: timed out after 2 s waiting for the API server to accept the pool (server-side dry run); ` +
                'last answer: Error from server (InternalError): error when creating "manifest": Internal error occurred: failed calling webhook ' +
                '"ipaddresspoolvalidationwebhook.metallb.io": failed to call webhook: connect: connection refused\n');
            assert.ok(Date.now() - start < 5000, `took ${Date.now() - start} ms`);
        });

        it("adopt-crds gives the chart-installed traefik.io CRDs (not hub's) to the CRDs release, once", () => {
            fs.writeFileSync(`${STATE}/crds`, ["ingressroutes.traefik.io", "middlewares.traefik.io", "apiplans.hub.traefik.io",
                "ipaddresspools.metallb.io", "certificates.cert-manager.io", "tlsstores.traefik.io"].join("\n") + "\n");
            fs.writeFileSync(`${STATE}/owner-tlsstores.traefik.io`, "traefik-crds");
            const cmd = adoptCrdsCommand("traefik-crds", "traefik", "traefik.io", "hub");
            assert.strictEqual(cmd, "sudo -n /usr/bin/env HC_RELEASE=traefik-crds HC_NAMESPACE=traefik HC_GROUP=traefik.io HC_EXCEPT=hub " +
                "/bin/bash /usr/local/lib/homecloud/cluster/k3s-node.sh adopt-crds");
            ok(runOnHost(cmd), "homecloud: 2 CRDs of traefik.io handed to the Helm release traefik/traefik-crds\n");
            const owner = "k3s kubectl get crd %s -o jsonpath={.metadata.annotations.meta\\.helm\\.sh/release-name}";
            assert.deepStrictEqual(log(), [
                "k3s kubectl get --raw=/readyz",
                "k3s kubectl get crd -o name",
                owner.replace("%s", "ingressroutes.traefik.io"),
                "k3s kubectl label --overwrite crd ingressroutes.traefik.io app.kubernetes.io/managed-by=Helm",
                "k3s kubectl annotate --overwrite crd ingressroutes.traefik.io meta.helm.sh/release-name=traefik-crds meta.helm.sh/release-namespace=traefik",
                owner.replace("%s", "middlewares.traefik.io"),
                "k3s kubectl label --overwrite crd middlewares.traefik.io app.kubernetes.io/managed-by=Helm",
                "k3s kubectl annotate --overwrite crd middlewares.traefik.io meta.helm.sh/release-name=traefik-crds meta.helm.sh/release-namespace=traefik",
                owner.replace("%s", "tlsstores.traefik.io"),
            ]);
            fs.rmSync(LOG);
            ok(runOnHost(cmd), "homecloud: 0 CRDs of traefik.io handed to the Helm release traefik/traefik-crds\n");
            fs.rmSync(`${STATE}/crds`);
            ok(runOnHost(cmd), "homecloud: 0 CRDs of traefik.io handed to the Helm release traefik/traefik-crds\n");
        });

        it("with homecloud:kubeconfig, admission-ready and adopt-crds use this host's kubectl with that file, not K3s", () => {
            fs.mkdirSync(`${ETC_UP}/homecloud`, { recursive: true });
            fs.writeFileSync(`${ETC_UP}/homecloud/kubeconfig`, EXISTING_KUBECONFIG, { mode: 0o600 });
            const manifest = "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: homecloud\n";
            fs.writeFileSync(`${STATE}/webhook-down`, "1");
            const r = runOnHostWithStdin(admissionReadyCommand("the pool", KUBECTL_ENV), manifest, { HC_POLL_SECONDS: "1" });
            ok(r, "homecloud: the API server accepts the pool\n");
            assert.deepStrictEqual(log().map((l) => l.replace(/\/tmp\/tmp\.\w+/, "TMP")),
                Array(2).fill("kubectl --kubeconfig /etc/homecloud/kubeconfig apply --dry-run=server -f TMP"));
            assert.strictEqual(read(`${STATE}/dry-run-manifest`), manifest);

            fs.rmSync(LOG);
            fs.writeFileSync(`${STATE}/crds`, "ingressroutes.traefik.io\n");
            ok(runOnHost(adoptCrdsCommand("traefik-crds", "traefik", "traefik.io", "hub", KUBECTL_ENV)),
                "homecloud: 1 CRDs of traefik.io handed to the Helm release traefik/traefik-crds\n");
            assert.deepStrictEqual(log(), [
                "kubectl --kubeconfig /etc/homecloud/kubeconfig get --raw=/readyz",
                "kubectl --kubeconfig /etc/homecloud/kubeconfig get crd -o name",
                "kubectl --kubeconfig /etc/homecloud/kubeconfig get crd ingressroutes.traefik.io -o jsonpath={.metadata.annotations.meta\\.helm\\.sh/release-name}",
                "kubectl --kubeconfig /etc/homecloud/kubeconfig label --overwrite crd ingressroutes.traefik.io app.kubernetes.io/managed-by=Helm",
                "kubectl --kubeconfig /etc/homecloud/kubeconfig annotate --overwrite crd ingressroutes.traefik.io meta.helm.sh/release-name=traefik-crds meta.helm.sh/release-namespace=traefik",
            ]);

            // An API that never answers: bounded, naming the kubeconfig's API, not K3s.
            fs.writeFileSync(`${STATE}/hang`, "");
            const t = runOnHost(adoptCrdsCommand("traefik-crds", "traefik", "traefik.io", "hub", KUBECTL_ENV),
                { HC_WAIT_SECONDS: "2", HC_POLL_SECONDS: "1", HC_PROBE_SECONDS: "1" });
            assert.strictEqual(t.status, 1);
            assert.strictEqual(t.stderr, `homecloud: ${os.hostname()}: timed out after 2 s waiting for the cluster's API (homecloud:kubeconfig) to be ready (/readyz); ` +
                `see kubectl --kubeconfig /etc/homecloud/kubeconfig get --raw=/readyz on ${os.hostname()}\n`);
        });

        it("uninstall runs K3s' own uninstall script for the role, or says there is none", () => {
            // Then the gateway's snapshot key leaves every authorized_keys that has it (here: none).
            const noKey = `homecloud: ${os.hostname()}: no authorized_keys holds the gateway's snapshot key; nothing to remove\n`;
            ok(runOnHost(uninstallCommand("agent")), "homecloud: k3s is not installed; nothing to uninstall\n" + noKey);
            fs.writeFileSync(`${BIN}/k3s-agent-uninstall.sh`, `#!/bin/sh\necho "k3s-agent-uninstall" >> ${LOG}\n`, { mode: 0o755 });
            ok(runOnHost(uninstallCommand("agent")), "homecloud: k3s uninstalled\n" + noKey);
            ok(runOnHost(uninstallCommand("server")), "homecloud: k3s is not installed; nothing to uninstall\n" + noKey);
            assert.deepStrictEqual(log(), ["k3s-agent-uninstall"]);
        });
    });
    describe("bounded waits: a K3s that never becomes ready", () => {
        const FAST = { HC_WAIT_SECONDS: "2", HC_POLL_SECONDS: "1", HC_PROBE_SECONDS: "1", HC_INSTALL_SECONDS: "2" };

        /** Runs, and asserts it returned within the wait plus a probe and a poll (and a second of slack). */
        function bounded(commandLine: string, env: Record<string, string> = {}): Run {
            const start = Date.now();
            const r = runOnHost(commandLine, { ...FAST, ...env });
            const took = (Date.now() - start) / 1000;
            assert.ok(took < 2 + 1 + 1 + 1.5, `returned after ${took} s`);
            return r;
        }

        it("the API wait after an install times out naming the node, what it waited for and the log", () => {
            fs.copyFileSync(`${STUBS}/k3s-binary`, `${BIN}/k3s`);
            fs.writeFileSync(`${STATE}/version`, "v1.32.2+k3s1\n");
            fs.writeFileSync(`${STATE}/active`, "");
            fs.writeFileSync(`${STATE}/hang`, "");
            const r = bounded(installCommand("pi1", { role: "server", version: "v1.32.2+k3s1", install: "script", airgapDir: AIRGAP }));
            assert.strictEqual(r.status, 1);
            assert.strictEqual(r.stderr, "homecloud: pi1: timed out after 2 s waiting for the K3s API on this server to be ready (/readyz); " +
                "see journalctl -u k3s on pi1\n");
        });

        it("an agent that never becomes active times out the same way", () => {
            fs.copyFileSync(`${STUBS}/k3s-binary`, `${BIN}/k3s`);
            fs.writeFileSync(`${STATE}/version`, "v1.32.2+k3s1\n");
            fs.writeFileSync(`${STUBS}/install.sh.fetched`, "#!/bin/sh\nexit 0\n");
            const r = bounded(installCommand("pi4", { role: "agent", version: "v1.32.2+k3s1", install: "script", airgapDir: AIRGAP }));
            assert.strictEqual(r.status, 1);
            assert.strictEqual(r.stderr, "homecloud: pi4: timed out after 2 s waiting for k3s-agent to be active; see journalctl -u k3s-agent on pi4\n");
        });

        it("an install script whose restart never returns is cut off", () => {
            fs.writeFileSync(`${STATE}/hang-install`, "");
            const r = bounded(installCommand("pi2", { role: "server", version: "v1.32.2+k3s1", install: "script", airgapDir: AIRGAP }));
            assert.strictEqual(r.status, 1);
            assert.strictEqual(r.stderr, "homecloud: pi2: timed out after 2 s waiting for the K3s install script (download and restart of k3s); " +
                "see journalctl -u k3s on pi2\n");
        });

        it("member-ready gives up on a node that never registers, naming it and where its log is", () => {
            fs.copyFileSync(`${STUBS}/k3s-binary`, `${BIN}/k3s`);
            const r = bounded(memberReadyCommand("pi3", "v1.32.2+k3s1", "0".repeat(64)));
            assert.strictEqual(r.status, 1);
            // Run on the first server (here: this test host) about pi3.
            assert.strictEqual(r.stderr, `homecloud: ${os.hostname()}: timed out after 2 s waiting for pi3 to register with the cluster running v1.32.2+k3s1; ` +
                "see journalctl -u k3s (a server) or journalctl -u k3s-agent (an agent) on pi3\n");
        });

        it("a config.yaml change restarts K3s without blocking, and gives up on a unit that never comes back", () => {
            fs.writeFileSync(`${STATE}/active`, "");
            fs.writeFileSync(`${STATE}/never-starts`, "");
            const hook = "/bin/bash -c '. /usr/local/lib/homecloud/cluster/k3s-config.sh; activate'";
            const r = bounded(hook, { HC_UNIT: "k3s-agent", HC_NODE: "pi5" });
            assert.strictEqual(r.status, 1);
            assert.strictEqual(r.stderr, "homecloud: pi5: timed out after 2 s waiting for k3s-agent to be active again after its config.yaml changed; " +
                "see journalctl -u k3s-agent on pi5\n");
            assert.deepStrictEqual(log().slice(0, 2), ["systemctl is-active --quiet k3s-agent", "systemctl restart --no-block k3s-agent"]);

            fs.rmSync(`${STATE}/never-starts`);
            fs.writeFileSync(`${STATE}/active`, "");
            fs.rmSync(LOG);
            ok(bounded(hook, { HC_UNIT: "k3s", HC_NODE: "pi1" }), "");
            assert.deepStrictEqual(log(), ["systemctl is-active --quiet k3s", "systemctl restart --no-block k3s", "systemctl is-active --quiet k3s"]);
        });
    });

    describe("the admin kubeconfig and its renewal (run on the first server)", () => {
        const kubeconfig = `${ETC_UP}/rancher/k3s/k3s.yaml`;
        beforeEach(() => {
            fs.copyFileSync(`${STUBS}/k3s-binary`, `${BIN}/k3s`);
            fs.mkdirSync(path.dirname(kubeconfig), { recursive: true });
            fs.writeFileSync(kubeconfig, "kubeconfig with the first admin certificate\n");
        });

        it("read-kubeconfig prints k3s.yaml and nothing else; renewal 0 rotates nothing", () => {
            ok(runOnHost(readKubeconfigCommand()), "kubeconfig with the first admin certificate\n");
            ok(runOnHost(renewKubeconfigCommand("pi1", 0)), "kubeconfig with the first admin certificate\n");
            assert.ok(!log().some((l) => /rotate|restart/.test(l)), log().join("\n"));
        });

        it("a renewal rotates the admin certificate, restarts K3s without blocking, waits for the new k3s.yaml and prints it", () => {
            const r = runOnHost(renewKubeconfigCommand("pi1", 2), { HC_POLL_SECONDS: "1" });
            ok(r, "kubeconfig with the renewed admin certificate\n");
            assert.strictEqual(r.stderr, "homecloud: renewed the admin client certificate (renewal 2)\n");
            assert.deepStrictEqual(log().filter((l) => !l.endsWith("get --raw=/readyz")), [
                "k3s certificate rotate --service admin",
                "systemctl restart --no-block k3s",
            ]);
            assert.strictEqual(read(kubeconfig), "kubeconfig with the renewed admin certificate\n");
        });

        it("a K3s that does not come back with a new certificate: bounded, naming what it waited for", () => {
            fs.writeFileSync(`${STATE}/never-starts`, "");
            const start = Date.now();
            const r = runOnHost(renewKubeconfigCommand("pi1", 1), { HC_WAIT_SECONDS: "2", HC_POLL_SECONDS: "1" });
            assert.strictEqual(r.status, 1);
            assert.strictEqual(r.stdout, "", "no kubeconfig printed");
            assert.strictEqual(r.stderr, "homecloud: pi1: timed out after 2 s waiting for k3s to restart with a new admin certificate in " +
                "/etc/rancher/k3s/k3s.yaml; see journalctl -u k3s on pi1\n");
            assert.ok(Date.now() - start < 5000, `took ${Date.now() - start} ms`);
        });
    });

    describe("the cluster issuer's Secret, pki/cluster-issuer.sh (run on the first server)", () => {
        const openssl = (...args: string[]) => {
            const r = spawnSync("openssl", args, { encoding: "utf8" });
            assert.strictEqual(r.status, 0, r.stderr);
            return r.stdout;
        };
        let intermediate = "";
        beforeEach(() => {
            fs.copyFileSync(`${STUBS}/k3s-binary`, `${BIN}/k3s`);
            // A root in the trust store, the intermediate's key made on this server, its certificate from the root.
            const d = `${ROOT}/ca`;
            fs.mkdirSync(d, { recursive: true });
            openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${d}/root.key`,
                "-out", `${d}/root.crt`, "-subj", "/CN=homecloud test root", "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE");
            fs.mkdirSync(`${SHARE}/ca-certificates`, { recursive: true });
            fs.copyFileSync(`${d}/root.crt`, `${SHARE}/ca-certificates/homecloud-ca.crt`);
            fs.mkdirSync(`${ETC_UP}/homecloud/pki`, { recursive: true });
            openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${ETC_UP}/homecloud/pki/cluster-issuer.key`,
                "-out", `${d}/int.csr`, "-subj", "/CN=homecloud cluster issuer");
            fs.writeFileSync(`${d}/ext`, "basicConstraints=critical,CA:TRUE,pathlen:0\n");
            openssl("x509", "-req", "-in", `${d}/int.csr`, "-CA", `${d}/root.crt`, "-CAkey", `${d}/root.key`, "-CAcreateserial",
                "-out", `${d}/int.crt`, "-days", "30", "-extfile", `${d}/ext`);
            intermediate = read(`${d}/int.crt`);
        });

        it("install: the intermediate and the root as the chain, the key read on this server, applied server-side; remove deletes it", () => {
            const install = issuerSecretCommand("install", "cert-manager", "homecloud-issuer-ca");
            const r = runOnHostWithStdin(install, intermediate);
            ok(r);
            assert.match(r.stdout, /^homecloud: secret cert-manager\/homecloud-issuer-ca holds the cluster issuer, notAfter=.+ GMT\n$/);
            // The two ends of a pipe: they start together, so their log lines come in either order.
            assert.deepStrictEqual(log().map((l) => l.replace(/\/tmp\/tmp\.\w+/g, "TMP")).sort(), [
                "k3s kubectl -n cert-manager create secret tls homecloud-issuer-ca --cert=TMP/chain.crt " +
                    "--key=/etc/homecloud/pki/cluster-issuer.key --dry-run=client -o yaml",
                "k3s kubectl apply --server-side --force-conflicts --field-manager=homecloud -f -",
            ]);
            const applied = read(`${STATE}/applied-secret`);
            const field = (k: string) => Buffer.from(new RegExp(`^${k}: (.*)$`, "m").exec(applied)![1], "base64").toString();
            assert.strictEqual(field("cert"), intermediate + read(`${SHARE}/ca-certificates/homecloud-ca.crt`), "intermediate, then the root");
            assert.strictEqual(field("key"), read(`${ETC_UP}/homecloud/pki/cluster-issuer.key`));
            assert.ok(!r.stdout.includes("PRIVATE KEY") && !r.stderr.includes("PRIVATE KEY"), "the key is not printed");

            fs.rmSync(LOG);
            ok(runOnHost(issuerSecretCommand("remove", "cert-manager", "homecloud-issuer-ca")), "");
            assert.deepStrictEqual(log(), ["k3s kubectl -n cert-manager delete secret homecloud-issuer-ca --ignore-not-found"]);
            assert.ok(!fs.existsSync(`${STATE}/applied-secret`));
        });

        it("install refuses a certificate for another key or not from the trusted CA, applying nothing; remove without K3s does nothing", () => {
            const other = `${ROOT}/ca/other.crt`;
            openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${ROOT}/ca/other.key`,
                "-out", other, "-subj", "/CN=other", "-days", "1");
            const install = issuerSecretCommand("install", "cert-manager", "homecloud-issuer-ca");
            const r = runOnHostWithStdin(install, read(other));
            assert.strictEqual(r.status, 1);
            assert.strictEqual(r.stderr, "homecloud: the certificate on stdin is not for /etc/homecloud/pki/cluster-issuer.key\n");
            assert.ok(!fs.existsSync(`${STATE}/applied-secret`));
            // The right key, but the trust store holds another root.
            fs.copyFileSync(other, `${SHARE}/ca-certificates/homecloud-ca.crt`);
            const v = runOnHostWithStdin(install, intermediate);
            assert.strictEqual(v.status, 2, v.stderr);
            assert.match(v.stderr, /unable to get local issuer certificate/);
            assert.ok(!fs.existsSync(`${STATE}/applied-secret`));
            fs.rmSync(`${BIN}/k3s`);
            ok(runOnHost(issuerSecretCommand("remove", "cert-manager", "homecloud-issuer-ca")),
                "homecloud: K3s is gone; no secret cert-manager/homecloud-issuer-ca to remove\n");
        });

        it("with homecloud:kubeconfig: the same Secret through this host's kubectl with that file", () => {
            fs.writeFileSync(`${ETC_UP}/homecloud/kubeconfig`, EXISTING_KUBECONFIG, { mode: 0o600 });
            const r = runOnHostWithStdin(issuerSecretCommand("install", "cert-manager", "homecloud-issuer-ca", KUBECTL_ENV), intermediate);
            ok(r);
            assert.deepStrictEqual(log().map((l) => l.replace(/\/tmp\/tmp\.\w+/g, "TMP")).sort(), [
                "kubectl --kubeconfig /etc/homecloud/kubeconfig -n cert-manager create secret tls homecloud-issuer-ca --cert=TMP/chain.crt " +
                    "--key=/etc/homecloud/pki/cluster-issuer.key --dry-run=client -o yaml",
                "kubectl --kubeconfig /etc/homecloud/kubeconfig apply --server-side --force-conflicts --field-manager=homecloud -f -",
            ]);
            const applied = read(`${STATE}/applied-secret`);
            assert.strictEqual(Buffer.from(/^key: (.*)$/m.exec(applied)![1], "base64").toString(), read(`${ETC_UP}/homecloud/pki/cluster-issuer.key`));
            fs.rmSync(LOG);
            ok(runOnHost(issuerSecretCommand("remove", "cert-manager", "homecloud-issuer-ca", KUBECTL_ENV)), "");
            assert.deepStrictEqual(log(), ["kubectl --kubeconfig /etc/homecloud/kubeconfig -n cert-manager delete secret homecloud-issuer-ca --ignore-not-found"]);
        });
    });

    describe("registries.yaml (homecloud:registryMirrors), through host-file.sh as a node gets it", () => {
        const mirrors = [
            { registry: "docker.io", endpoints: ["https://registry.home.arpa:5000", "http://10.0.0.5:5000"] },
            { registry: "*", endpoints: ["https://registry.home.arpa:5000"] },
        ];
        const owner = "urn:pulumi:lab::homecloud::homecloud:k8s:K3sCluster$command:remote:Command::k3s-pi1-registries";
        const install = fileCommand("install", registriesFile("pi1", "server"), owner);

        it("is what K3s' Registry type reads: mirrors by registry, each an endpoint list of URLs; nothing else", () => {
            // K3s reads it with sigs.k8s.io/yaml into wharfie's registries.Registry (json tags
            // mirrors, configs, auths; a Mirror has endpoint and rewrite): a YAML parse plus that schema.
            const doc = parseYaml(renderRegistries(mirrors)) as Record<string, unknown>;
            assert.deepStrictEqual(Object.keys(doc), ["mirrors"]);
            const byRegistry = doc.mirrors as Record<string, Record<string, unknown>>;
            assert.deepStrictEqual(Object.keys(byRegistry), ["docker.io", "*"]);
            for (const m of Object.values(byRegistry)) {
                assert.deepStrictEqual(Object.keys(m), ["endpoint"]);
                assert.ok(Array.isArray(m.endpoint) && m.endpoint.every((e) => typeof e === "string" && new URL(e).host !== ""));
            }
            assert.deepStrictEqual(byRegistry["docker.io"].endpoint, mirrors[0].endpoints);
        });

        it("installed root-only with its owner; a change restarts a running K3s, the same content restarts nothing", () => {
            fs.writeFileSync(`${STATE}/active`, "");
            ok(runOnHostWithStdin(install, renderRegistries(mirrors)));
            assert.strictEqual(read(`${ETC_UP}${K3S_REGISTRIES_PATH.replace(/^\/etc/, "")}`), renderRegistries(mirrors));
            assert.strictEqual(fs.statSync(`${ETC_UP}${K3S_REGISTRIES_PATH.replace(/^\/etc/, "")}`).mode & 0o777, 0o600);
            assert.strictEqual(read(`${VARLIB}/homecloud/owner${K3S_REGISTRIES_PATH}`), `${owner}\n`);
            assert.deepStrictEqual(log().filter((l) => l.startsWith("systemctl") && l.includes("restart")), ["systemctl restart --no-block k3s"]);

            fs.rmSync(LOG);
            ok(runOnHostWithStdin(install, renderRegistries(mirrors)));
            assert.deepStrictEqual(log().filter((l) => l.includes("restart")), [], "unchanged: no restart");

            ok(runOnHostWithStdin(install, renderRegistries([mirrors[0]])));
            assert.deepStrictEqual(log().filter((l) => l.includes("restart")), ["systemctl restart --no-block k3s"]);

            // Before K3s is installed (first up): in place, nothing to restart.
            fs.rmSync(`${STATE}/active`);
            fs.rmSync(LOG);
            ok(runOnHostWithStdin(install, renderRegistries(mirrors)));
            assert.deepStrictEqual(log().filter((l) => l.includes("restart")), []);
        });

        it("removed (mirrors emptied): the file goes and a running K3s restarts to forget it; after an uninstall nothing runs", () => {
            ok(runOnHostWithStdin(install, renderRegistries(mirrors)));
            fs.writeFileSync(`${STATE}/active`, "");
            fs.rmSync(LOG, { force: true });
            ok(runOnHost(fileCommand("remove", registriesFile("pi1", "server"), owner)));
            assert.ok(!fs.existsSync(`${ETC_UP}${K3S_REGISTRIES_PATH.replace(/^\/etc/, "")}`), "the file is gone");
            assert.deepStrictEqual(log().filter((l) => l.includes("restart")), ["systemctl restart --no-block k3s"]);
            ok(runOnHostWithStdin(install, renderRegistries(mirrors)));
            fs.rmSync(`${STATE}/active`);
            fs.rmSync(LOG, { force: true });
            ok(runOnHost(fileCommand("remove", registriesFile("pi1", "server"), owner)));
            assert.deepStrictEqual(log().filter((l) => l.includes("restart")), []);
        });
    });

    describe("the full join token (run on the first server)", () => {
        const hash = "0123456789abcdef".repeat(4);
        const tokenPath = `${VARLIB}/rancher/k3s/server/token`;

        it("prints K3s' full token from /var/lib/rancher/k3s/server/token, and nothing else", () => {
            fs.mkdirSync(path.dirname(tokenPath), { recursive: true });
            fs.writeFileSync(tokenPath, `K10${hash}::server:s3cret\n`);
            ok(runOnHost(readJoinTokenCommand("pi1")), `K10${hash}::server:s3cret\n`);
        });

        it("refuses a short token without printing it, and waits a bounded time for one to appear", () => {
            fs.mkdirSync(path.dirname(tokenPath), { recursive: true });
            fs.writeFileSync(tokenPath, "s3cret\n");
            const r = runOnHost(readJoinTokenCommand("pi1"));
            assert.strictEqual(r.status, 1);
            assert.strictEqual(r.stdout, "");
            assert.strictEqual(r.stderr, "homecloud: pi1: /var/lib/rancher/k3s/server/token does not hold a full K3s token (K10<CA hash>::server:<secret>)\n");
            fs.rmSync(tokenPath);
            const t = runOnHost(readJoinTokenCommand("pi1"), { HC_WAIT_SECONDS: "1", HC_POLL_SECONDS: "1" });
            assert.strictEqual(t.stderr, "homecloud: pi1: timed out after 1 s waiting for K3s to write /var/lib/rancher/k3s/server/token; " +
                "see journalctl -u k3s on pi1\n");
        });
    });
});
