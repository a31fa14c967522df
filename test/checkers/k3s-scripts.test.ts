// The cluster half's scripts: every generated script through shellcheck and bash -n, and
// the host scripts that matter most (Pi preparation, install,
// upgrade with its etcd snapshot, air-gapped install) run for real on a shell, in a private
// mount namespace with scratch directories bound over /boot, /var/lib and /usr/local/bin
// and stand-ins for k3s, systemctl, curl and shutdown. Needs root (unshare); CI runs as root.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import { AddressPlan } from "../../config/plan";
import { parseAddressPlan } from "../../config/validate";
import { sudoScript } from "../../host/hostScripts";
import {
    etcdSnapshotScript, installScript, 
    nodeReadyScript, prepareScript, readKubeconfigScript, removeNodeScript, 
    snapshotName, uninstallScript, unprepareScript, waitForRebootScript, waitReadyScript,
} from "../../cluster/k3s";
import { clusterRawPlan } from "../fixtures/k3s";


function clusterPlan(): AddressPlan {
    return parseAddressPlan(clusterRawPlan()).plan;
}


interface Run {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

function run(cmd: string, args: string[], input: string): Run {
    const r = spawnSync(cmd, args, { input, encoding: "utf8" });
    if (r.error) {
        throw r.error;
    }
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("K3s scripts", () => {
    const plan = clusterPlan();

    describe("scripts", () => {
        const version = plan.k3s.version;
        const scripts: Record<string, string> = {
            prepare: prepareScript(),
            unprepare: unprepareScript(),
            waitForReboot: waitForRebootScript(),
            "install server script": installScript({ role: "server", version, install: "script", airgapDir: "/opt/k3s-airgap" }),
            "install agent script": installScript({ role: "agent", version, install: "script", airgapDir: "/opt/k3s-airgap" }),
            "install server airgap": installScript({ role: "server", version, install: "airgap", airgapDir: "/opt/k3s-airgap" }),
            "install agent airgap": installScript({ role: "agent", version, install: "airgap", airgapDir: "/opt/k3s-airgap" }),
            "uninstall server": uninstallScript("server"),
            "uninstall agent": uninstallScript("agent"),
            "wait ready server": waitReadyScript("server"),
            "wait ready agent": waitReadyScript("agent"),
            "etcd snapshot": etcdSnapshotScript(snapshotName(version)),
            "node ready": nodeReadyScript("pi2", version, "0".repeat(64)),
            "remove node": removeNodeScript("pi2"),
            "read kubeconfig": readKubeconfigScript(),
        };

        it("all start with set -eu", () => {
            for (const [key, s] of Object.entries(scripts)) {
                assert.ok(s.startsWith("set -eu\n"), key);
            }
        });

        it("pass shellcheck -s bash", () => {
            for (const [key, s] of Object.entries(scripts)) {
                const r = run("shellcheck", ["-s", "bash", "-"], s);
                assert.strictEqual(r.status, 0, `shellcheck ${key}:\n${r.stdout}${r.stderr}`);
            }
        });

        it("pass bash -n, also as the sudo command line the hosts run", () => {
            for (const [key, s] of Object.entries(scripts)) {
                const r = run("bash", ["-n"], s);
                assert.strictEqual(r.status, 0, `bash -n ${key}: ${r.stderr}`);
                const wrapped = run("bash", ["-n"], sudoScript(s));
                assert.strictEqual(wrapped.status, 0, `bash -n sudoScript(${key}): ${wrapped.stderr}`);
            }
        });

        it("node removal drains, then deletes the Node (which removes a server's etcd member)", () => {
            assert.strictEqual(removeNodeScript("pi2"), `set -eu
node=pi2
if ! /usr/local/bin/k3s kubectl get --raw=/readyz >/dev/null 2>&1; then
  echo "homecloud: the K3s API on the first server is not answering; cannot drain and remove $node" >&2
  exit 1
fi
found=$(/usr/local/bin/k3s kubectl get node "$node" --ignore-not-found -o name)
if [ -z "$found" ]; then
  echo "homecloud: $node is not a cluster node (already removed)"
  exit 0
fi
/usr/local/bin/k3s kubectl drain "$node" --ignore-daemonsets --delete-emptydir-data --timeout=300s
/usr/local/bin/k3s kubectl delete node "$node" --timeout=300s
echo "homecloud: $node drained and removed from the cluster"
`);
            assert.strictEqual(uninstallScript("agent"), `set -eu
uninstall=/usr/local/bin/k3s-agent-uninstall.sh
if [ -x "$uninstall" ]; then
  "$uninstall"
  echo "homecloud: k3s uninstalled"
else
  echo "homecloud: k3s is not installed; nothing to uninstall"
fi
`);
        });

        it("the etcd snapshot, the kubeconfig read and the readiness wait", () => {
            assert.strictEqual(etcdSnapshotScript("homecloud-pre-v1.32.2-k3s1"),
                "set -eu\n/usr/local/bin/k3s etcd-snapshot save --name homecloud-pre-v1.32.2-k3s1\n");
            assert.match(readKubeconfigScript(), /\ncat "\$kubeconfig"\n$/);
            assert.doesNotMatch(readKubeconfigScript().replace(/\ncat "\$kubeconfig"\n$/, ""), /^\s*(echo|cat)\b(?!.*>&2)/m,
                "only the kubeconfig itself goes to stdout");
            assert.match(nodeReadyScript("pi2", version, "0".repeat(64)), /\n\/usr\/local\/bin\/k3s kubectl wait --for=condition=Ready "node\/\$node" --timeout=300s\n/);
        });

        it("only servers take a snapshot; airgap downloads nothing", () => {
            const serverScript = scripts["install server script"];
            assert.match(serverScript, /etcd-snapshot save --name homecloud-pre-v1\.32\.2-k3s1\n/);
            assert.doesNotMatch(scripts["install agent script"], /etcd-snapshot/);
            assert.match(serverScript, /INSTALL_K3S_VERSION="\$version" INSTALL_K3S_EXEC=server INSTALL_K3S_FORCE_RESTART=true sh "\$tmp\/install.sh"/);
            assert.match(scripts["install agent script"], /INSTALL_K3S_EXEC=agent/);
            for (const key of ["install server airgap", "install agent airgap"]) {
                assert.doesNotMatch(scripts[key], /curl|wget|get\.k3s\.io/, key);
                assert.match(scripts[key], /INSTALL_K3S_SKIP_DOWNLOAD=true INSTALL_K3S_VERSION="\$version"/, key);
            }
        });

        it("rejects values that are not what the plan validates", () => {
            assert.throws(() => installScript({ role: "server", version: "latest", install: "script", airgapDir: "/opt/k3s-airgap" }),
                { name: "RangeError", message: 'K3s version "latest" is not a release such as v1.31.4+k3s1' });
            assert.throws(() => installScript({ role: "server", version, install: "airgap", airgapDir: "opt/k3s" }),
                { name: "RangeError", message: 'air-gap directory "opt/k3s" must be an absolute path' });
            assert.throws(() => removeNodeScript("pi2; reboot"),
                { name: "RangeError", message: 'node name "pi2; reboot" is not an RFC 1123 host name' });
            assert.throws(() => etcdSnapshotScript("x y"),
                { name: "RangeError", message: 'snapshot name "x y" must be lower-case letters, digits, dots and dashes' });
        });
    });
});

// ---------------------------------------------------------------------------------------
// The scripts on a real shell.

const ROOT = `/tmp/hc-k3s-test-${process.pid}`;
const BOOT = `${ROOT}/boot`;
const VARLIB = `${ROOT}/varlib`;
const BIN = `${ROOT}/usrlocalbin`;
const STUBS = `${ROOT}/stubs`;
const LOG = `${ROOT}/log`;
const STATE = `${ROOT}/state`;
const AIRGAP = `${ROOT}/airgap`;
const PROC_CMDLINE = `${ROOT}/proc-cmdline`;
const CMDLINE = `${BOOT}/firmware/cmdline.txt`;
const ORIGINAL_CMDLINE = "console=serial0,115200 console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 fsck.repair=yes rootwait";

/** A k3s stand-in: logs its arguments; `--version` reports $STATE/version. */
const K3S_STUB = `#!/bin/sh
echo "k3s $*" >> ${LOG}
if [ "$1" = --version ]; then
  echo "k3s version $(cat ${STATE}/version) (0123abcd)"
  echo "go version go1.23.6"
fi
exit 0
`;

/** install.sh stand-in: logs what it was asked; "installs" the version and starts the unit. */
const INSTALL_SH_STUB = `#!/bin/sh
echo "install.sh VERSION=$INSTALL_K3S_VERSION EXEC=$INSTALL_K3S_EXEC SKIP_DOWNLOAD=\${INSTALL_K3S_SKIP_DOWNLOAD:-} FORCE_RESTART=$INSTALL_K3S_FORCE_RESTART" >> ${LOG}
if [ "\${INSTALL_K3S_SKIP_DOWNLOAD:-}" != true ]; then
  cp ${STUBS}/k3s-binary /usr/local/bin/k3s
  echo "$INSTALL_K3S_VERSION" > ${STATE}/version
fi
touch ${STATE}/active
`;

const STUB_FILES: Record<string, string> = {
    "k3s-binary": K3S_STUB,
    systemctl: `#!/bin/sh
echo "systemctl $*" >> ${LOG}
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
 * Runs `sudoScript(script)` as a host would, in a mount namespace where /boot, /var/lib,
 * /usr/local/bin and /proc/cmdline are scratch, with the stand-ins first on PATH.
 */
function runOnHost(script: string): Run {
    const wrapper = `mount --bind ${BOOT} /boot || exit 99
mount --bind ${VARLIB} /var/lib || exit 99
mount --bind ${BIN} /usr/local/bin || exit 99
mount --bind ${PROC_CMDLINE} /proc/cmdline || exit 99
sudo() { [ "$1 $2 $3" = "-n /bin/bash -c" ] || exit 98; /bin/bash -c "$4"; }
eval "$1"`;
    const r = spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", wrapper, "host", sudoScript(script)],
        { encoding: "utf8", env: { ...process.env, PATH: `${STUBS}:${process.env.PATH}` } });
    if (r.error) {
        throw r.error;
    }
    assert.ok(r.status !== 99 && r.status !== 98, `test harness failed: ${r.stderr}`);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
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
        for (const d of [`${BOOT}/firmware`, VARLIB, BIN, STUBS, STATE, AIRGAP]) {
            fs.mkdirSync(d, { recursive: true });
        }
        for (const [name, text] of Object.entries(STUB_FILES)) {
            fs.writeFileSync(`${STUBS}/${name}`, text, { mode: 0o755 });
        }
        fs.writeFileSync(PROC_CMDLINE, `${ORIGINAL_CMDLINE}\n`);
    });

    after(() => fs.rmSync(ROOT, { recursive: true, force: true }));

    describe("Pi preparation", () => {
        beforeEach(() => fs.writeFileSync(CMDLINE, `${ORIGINAL_CMDLINE}\n`));

        it("adds the memory cgroup flags once and reboots only when it changed something", () => {
            ok(runOnHost(prepareScript()),
                "homecloud: added cgroup_memory=1 cgroup_enable=memory to /boot/firmware/cmdline.txt; rebooting in one minute\n");
            assert.strictEqual(read(CMDLINE), `${ORIGINAL_CMDLINE} cgroup_memory=1 cgroup_enable=memory\n`);
            assert.deepStrictEqual(log(), ["shutdown -r +1 homecloud: rebooting to enable memory cgroups for K3s"]);
            assert.strictEqual(read(`${VARLIB}/homecloud/k3s/cmdline-added`), "cgroup_memory=1\ncgroup_enable=memory\n");
            assert.strictEqual(read(`${VARLIB}/homecloud/k3s/reboot-from`), bootId());
            assert.deepStrictEqual(fs.readdirSync(`${BOOT}/firmware`), ["cmdline.txt"], "no temporary file left");

            ok(runOnHost(prepareScript()), "homecloud: /boot/firmware/cmdline.txt already enables memory cgroups\n");
            assert.strictEqual(log().length, 1, "no second reboot");
        });

        it("adds only the missing flag; uses /boot/cmdline.txt on older Pi OS; does nothing elsewhere", () => {
            fs.writeFileSync(CMDLINE, `${ORIGINAL_CMDLINE} cgroup_enable=memory\n`);
            ok(runOnHost(prepareScript()));
            assert.strictEqual(read(CMDLINE), `${ORIGINAL_CMDLINE} cgroup_enable=memory cgroup_memory=1\n`);

            fs.rmSync(`${BOOT}/firmware`, { recursive: true });
            fs.writeFileSync(`${BOOT}/cmdline.txt`, `${ORIGINAL_CMDLINE}\n`);
            ok(runOnHost(prepareScript()));
            assert.strictEqual(read(`${BOOT}/cmdline.txt`), `${ORIGINAL_CMDLINE} cgroup_memory=1 cgroup_enable=memory\n`);

            fs.rmSync(`${BOOT}/cmdline.txt`);
            fs.rmSync(LOG);
            ok(runOnHost(prepareScript()),
                "homecloud: no cmdline.txt in /boot/firmware or /boot (not a Raspberry Pi boot partition); nothing to prepare\n");
            assert.deepStrictEqual(log(), []);
        });

        it("the wait step fails on the old boot, and passes once the kernel runs with the flags", () => {
            ok(runOnHost(prepareScript()));
            failed(runOnHost(waitForRebootScript()), /this host has not rebooted yet since its cmdline\.txt changed/);

            // "Reboot": another boot id, but the kernel came up with the old command line.
            fs.writeFileSync(`${VARLIB}/homecloud/k3s/reboot-from`, "00000000-0000-0000-0000-000000000000\n");
            failed(runOnHost(waitForRebootScript()), /the kernel booted without cgroup_memory=1; check \/boot\/firmware\/cmdline\.txt/);

            fs.writeFileSync(`${VARLIB}/homecloud/k3s/reboot-from`, "00000000-0000-0000-0000-000000000000\n");
            fs.writeFileSync(PROC_CMDLINE, read(CMDLINE));
            ok(runOnHost(waitForRebootScript()));
            assert.ok(!fs.existsSync(`${VARLIB}/homecloud/k3s/reboot-from`));
        });

        it("delete takes out exactly the flags it added", () => {
            fs.writeFileSync(CMDLINE, `${ORIGINAL_CMDLINE} cgroup_enable=memory\n`);
            ok(runOnHost(prepareScript()));
            ok(runOnHost(unprepareScript()),
                "homecloud: removed the flags this program added to /boot/firmware/cmdline.txt (in effect until the next reboot)\n");
            assert.strictEqual(read(CMDLINE), `${ORIGINAL_CMDLINE} cgroup_enable=memory\n`);
            assert.deepStrictEqual(fs.readdirSync(`${VARLIB}/homecloud/k3s`), []);
            ok(runOnHost(unprepareScript()), "homecloud: cmdline.txt was not changed by this program; nothing to undo\n");
        });
    });

    describe("install and upgrade", () => {
        const plan = clusterPlan();
        const server = (version: string) => installScript({ role: "server", version, install: "script", airgapDir: AIRGAP });

        it("installs with the official script at the pinned version, then does nothing while it runs", () => {
            ok(runOnHost(server(plan.k3s.version)));
            assert.match(log()[0], /^curl -sfL https:\/\/get\.k3s\.io -o \/tmp\/tmp\.\w+\/install\.sh$/);
            assert.deepStrictEqual(log().slice(1), [
                "install.sh VERSION=v1.32.2+k3s1 EXEC=server SKIP_DOWNLOAD= FORCE_RESTART=true",
                "k3s kubectl get --raw=/readyz",
            ]);
            fs.rmSync(LOG);
            ok(runOnHost(server(plan.k3s.version)),
                "homecloud: k3s v1.32.2+k3s1 is installed and running\nhomecloud: k3s v1.32.2+k3s1 is ready\n");
            assert.deepStrictEqual(log(), [
                "k3s --version",
                "systemctl is-active --quiet k3s",
                "k3s kubectl get --raw=/readyz",
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
            ]);
            assert.ok(lines.indexOf("k3s etcd-snapshot save --name homecloud-pre-v1.32.2-k3s1") < lines.findIndex((l) => l.startsWith("curl ")),
                "the snapshot comes before the download");
            assert.strictEqual(read(`${STATE}/version`), "v1.32.2+k3s1\n");
        });

        it("an agent upgrade takes no snapshot", () => {
            const agent = (version: string) => installScript({ role: "agent", version, install: "script", airgapDir: AIRGAP });
            ok(runOnHost(agent("v1.31.4+k3s1")));
            ok(runOnHost(agent("v1.32.2+k3s1")));
            assert.ok(!log().some((l) => l.includes("etcd-snapshot")));
            assert.ok(log().includes("install.sh VERSION=v1.32.2+k3s1 EXEC=agent SKIP_DOWNLOAD= FORCE_RESTART=true"));
        });

        describe("air-gapped", () => {
            const airgap = installScript({ role: "agent", version: "v1.32.2+k3s1", install: "airgap", airgapDir: AIRGAP });

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
});
