// K3s renderers: each node's config.yaml, the kubeconfig rewrite, and the scripts the
// K3sCluster component runs on the nodes. Pure: no Pulumi import; text in, text out.
//
// Every script starts with `set -eu`, names only validated values (node names, addresses
// and versions come from the checked address plan) and quotes them with `sh`. The token
// never appears in any of them: it reaches the host through stdin (hostFile, secret) and
// K3s reads it from `token-file`.
import * as YAML from "yaml";
import { AddressPlan, apiFqdn, NodeRole, NodeSpec, servers } from "../config/plan";
import { K3S_SERVER_PORT } from "../config/ports";
import { sh, STATE_DIR } from "../host/hostScripts";

export const K3S_BIN = "/usr/local/bin/k3s";
export const K3S_CONFIG_PATH = "/etc/rancher/k3s/config.yaml";
export const K3S_TOKEN_PATH = "/etc/rancher/k3s/token";
export const K3S_KUBECONFIG_PATH = "/etc/rancher/k3s/k3s.yaml";
/** The API address in the kubeconfig K3s writes; never handed out as is. */
export const K3S_LOCAL_API = "https://127.0.0.1:6443";
/** Where the images tarball goes for an air-gapped install. */
export const K3S_IMAGES_DIR = "/var/lib/rancher/k3s/agent/images";
/** Raspberry Pi kernel command lines, newest layout (Bookworm) first. */
export const CMDLINE_PATHS: readonly string[] = Object.freeze(["/boot/firmware/cmdline.txt", "/boot/cmdline.txt"]);
/** Kernel flags K3s needs on a Pi: the memory cgroup controller is off by default there. */
export const CGROUP_FLAGS: readonly string[] = Object.freeze(["cgroup_memory=1", "cgroup_enable=memory"]);
/** What the prepare step remembers: the flags it added, and the boot it rebooted from. */
export const PREPARE_STATE_DIR = `${STATE_DIR}/k3s`;

/** How long (5 s steps) a script waits for K3s: the API, a node registering, a node Ready. */
const WAIT_STEPS = 60;
const WAIT_SECONDS = WAIT_STEPS * 5;

const HEADER = "# Managed by homecloud (Pulumi). Edits here are overwritten on the next `pulumi up`.\n";

interface NodeIdentity {
    /** K3s node name (the host name from the plan). */
    readonly nodeName: string;
    /** The node's LAN address, K3s' `node-ip`. */
    readonly nodeIp: string;
}

/** The three kinds of node a K3s HA cluster with embedded etcd has. */
export type K3sConfigArgs =
    /** The first server: initialises etcd (`cluster-init`). */
    | NodeIdentity & { readonly kind: "init-server"; readonly tlsSan: readonly string[] }
    /** Another server: joins the first one's etcd. */
    | NodeIdentity & { readonly kind: "join-server"; readonly server: string; readonly tlsSan: readonly string[] }
    /** An agent: joins through the VIP; the K3s agent load balancer learns every server afterwards. */
    | NodeIdentity & { readonly kind: "agent"; readonly server: string };

export type K3sNodeKind = K3sConfigArgs["kind"];

/** Renders `/etc/rancher/k3s/config.yaml` for one node. */
export function renderK3sConfig(a: K3sConfigArgs): string {
    const config: Record<string, unknown> = { "node-name": a.nodeName, "node-ip": a.nodeIp };
    switch (a.kind) {
        case "init-server":
            config["cluster-init"] = true;
            break;
        case "join-server":
        case "agent":
            config.server = a.server;
            break;
        default:
            return unreachable(a);
    }
    config["token-file"] = K3S_TOKEN_PATH;
    if (a.kind !== "agent") {
        config["tls-san"] = [...a.tlsSan];
        config.disable = ["servicelb", "traefik"];
        config["write-kubeconfig-mode"] = "0600";
    }
    return HEADER + YAML.stringify(config);
}

function unreachable(x: never): never {
    throw new Error(`unexpected K3s node kind ${JSON.stringify(x)}`);
}

/** `https://<first server>:6443`: where joining servers find etcd. */
export function firstServerUrl(plan: AddressPlan): string {
    return `https://${firstServer(plan).ip}:${K3S_SERVER_PORT}`;
}

/** `https://<vip>:<apiPort>`: where agents join. */
export function vipApiUrl(plan: AddressPlan): string {
    return `https://${plan.wan.vip}:${plan.ports.api}`;
}

/** `https://<apiName>.<domain>:<apiPort>`: the API as clients outside the cluster name it. */
export function apiNameUrl(plan: AddressPlan): string {
    return `https://${apiFqdn(plan)}:${plan.ports.api}`;
}

export function firstServer(plan: AddressPlan): NodeSpec {
    const s = servers(plan);
    if (s.length === 0) {
        throw new RangeError("homecloud:nodes has no node with role server; K3s needs at least one server");
    }
    return s[0];
}

/** What kind of node this is and what its config.yaml says, from the plan. */
export function k3sConfigFor(plan: AddressPlan, node: NodeSpec): K3sConfigArgs {
    if (!plan.nodes.some((n) => n.name === node.name)) {
        throw new RangeError(`node ${JSON.stringify(node.name)} is not in homecloud:nodes`);
    }
    const id = { nodeName: node.name, nodeIp: node.ip };
    const tlsSan = [plan.wan.vip, apiFqdn(plan)];
    if (node.role === "agent") {
        return { kind: "agent", ...id, server: vipApiUrl(plan) };
    }
    return node.name === firstServer(plan).name
        ? { kind: "init-server", ...id, tlsSan }
        : { kind: "join-server", ...id, server: firstServerUrl(plan), tlsSan };
}

/** The systemd unit the install script creates for a role. */
export function k3sService(role: NodeRole): string {
    return role === "server" ? "k3s" : "k3s-agent";
}

/** The uninstall script the install script leaves for a role. */
export function k3sUninstallPath(role: NodeRole): string {
    return `/usr/local/bin/${k3sService(role)}-uninstall.sh`;
}

// ---------------------------------------------------------------------------------------
// Kubeconfig

const SERVER_URL = /^https:\/\/[A-Za-z0-9.-]+:\d{1,5}$/;

/**
 * Points K3s' admin kubeconfig at the cluster's stable address: every cluster entry whose
 * server is `https://127.0.0.1:6443` gets `server` instead. Throws when there is none, so
 * a kubeconfig that still says 127.0.0.1 can never be handed out.
 */
export function rewriteKubeconfig(kubeconfig: string, server: string): string {
    if (!SERVER_URL.test(server)) {
        throw new RangeError(`kubeconfig server ${JSON.stringify(server)} must look like https://<host>:<port>`);
    }
    const doc = YAML.parse(kubeconfig) as { clusters?: { cluster?: { server?: string } }[] } | null;
    if (!doc || typeof doc !== "object" || !Array.isArray(doc.clusters)) {
        throw new Error(`${K3S_KUBECONFIG_PATH} is not a kubeconfig: it has no clusters list`);
    }
    let replaced = 0;
    for (const c of doc.clusters) {
        if (c?.cluster?.server === K3S_LOCAL_API) {
            c.cluster.server = server;
            replaced += 1;
        }
    }
    if (replaced === 0) {
        throw new Error(`${K3S_KUBECONFIG_PATH} has no cluster at ${K3S_LOCAL_API}; refusing to guess which server to rewrite`);
    }
    return YAML.stringify(doc);
}

// ---------------------------------------------------------------------------------------
// Scripts

function waitLoop(condition: string, failure: string): string {
    return `i=0
until ${condition}; do
  i=$((i + 1))
  if [ "$i" -ge ${WAIT_STEPS} ]; then
    echo ${sh(failure)} >&2
    exit 1
  fi
  sleep 5
done`;
}

function findCmdline(): string {
    return `cmdline=""
for f in ${CMDLINE_PATHS.map(sh).join(" ")}; do
  if [ -f "$f" ]; then
    cmdline=$f
    break
  fi
done`;
}

/**
 * Pi preparation: appends the memory cgroup flags to cmdline.txt when they are missing,
 * remembers which ones it added (for `unprepareScript`) and the boot it is leaving, and
 * schedules a reboot in one minute. `shutdown` creates /run/nologin at once, so no new
 * (non-root) SSH login gets in before the reboot: the next command's dial keeps retrying
 * until the host is back (see `waitForRebootScript`). No reboot when nothing changed, and
 * nothing at all on a host without a Pi boot partition.
 */
export function prepareScript(): string {
    return `set -eu
set -f
state=${sh(PREPARE_STATE_DIR)}
${findCmdline()}
if [ -z "$cmdline" ]; then
  echo "homecloud: no cmdline.txt in /boot/firmware or /boot (not a Raspberry Pi boot partition); nothing to prepare"
  exit 0
fi
line=$(head -n 1 "$cmdline")
added=""
for flag in ${CGROUP_FLAGS.join(" ")}; do
  case " $line " in
    *" $flag "*) ;;
    *)
      line="$line $flag"
      added="$added $flag"
      ;;
  esac
done
if [ -z "$added" ]; then
  echo "homecloud: $cmdline already enables memory cgroups"
  exit 0
fi
install -d -m 0755 "$state"
for flag in $added; do
  echo "$flag"
done >> "$state/cmdline-added"
tmp=$(mktemp "$cmdline.homecloud.XXXXXX")
printf '%s\\n' "$line" > "$tmp"
mv -f "$tmp" "$cmdline"
sync
cat /proc/sys/kernel/random/boot_id > "$state/reboot-from"
shutdown -r +1 "homecloud: rebooting to enable memory cgroups for K3s"
echo "homecloud: added$added to $cmdline; rebooting in one minute"
`;
}

/**
 * Undoes `prepareScript` on delete: takes out of cmdline.txt only the flags it added.
 * No reboot; the running kernel keeps them until the next one.
 */
export function unprepareScript(): string {
    return `set -eu
set -f
state=${sh(PREPARE_STATE_DIR)}
if [ ! -f "$state/cmdline-added" ]; then
  echo "homecloud: cmdline.txt was not changed by this program; nothing to undo"
  exit 0
fi
${findCmdline()}
if [ -n "$cmdline" ]; then
  added=$(cat "$state/cmdline-added")
  line=$(head -n 1 "$cmdline")
  out=""
  for word in $line; do
    keep=1
    for flag in $added; do
      if [ "$word" = "$flag" ]; then
        keep=0
      fi
    done
    if [ "$keep" = 1 ]; then
      out="\${out:+$out }$word"
    fi
  done
  tmp=$(mktemp "$cmdline.homecloud.XXXXXX")
  printf '%s\\n' "$out" > "$tmp"
  mv -f "$tmp" "$cmdline"
  echo "homecloud: removed the flags this program added to $cmdline (in effect until the next reboot)"
fi
rm -f "$state/cmdline-added" "$state/reboot-from"
`;
}

/**
 * Runs after `prepareScript`, on a connection that keeps dialling while the host reboots:
 * fails if this is still the boot the reboot was scheduled from, and checks that a Pi
 * really booted with the memory cgroup flags.
 */
export function waitForRebootScript(): string {
    return `set -eu
state=${sh(PREPARE_STATE_DIR)}
if [ -f "$state/reboot-from" ]; then
  if [ "$(cat /proc/sys/kernel/random/boot_id)" = "$(cat "$state/reboot-from")" ]; then
    echo "homecloud: this host has not rebooted yet since its cmdline.txt changed; run pulumi up again once it is back" >&2
    exit 1
  fi
  rm -f "$state/reboot-from"
fi
${findCmdline()}
if [ -n "$cmdline" ]; then
  running=" $(cat /proc/cmdline) "
  for flag in ${CGROUP_FLAGS.join(" ")}; do
    case "$running" in
      *" $flag "*) ;;
      *)
        echo "homecloud: the kernel booted without $flag; check $cmdline" >&2
        exit 1
        ;;
    esac
  done
fi
echo "homecloud: host is up (boot $(cat /proc/sys/kernel/random/boot_id))"
`;
}

/** How K3s gets onto a node: the plan's `k3s` settings plus the node's role. */
export interface InstallArgs {
    readonly role: NodeRole;
    /** Pinned release, e.g. `v1.31.4+k3s1` (validated by the plan). */
    readonly version: string;
    readonly install: "script" | "airgap";
    /** Air-gapped install: directory holding `k3s`, `k3s-airgap-images-*` and `install.sh`. */
    readonly airgapDir: string;
}

const VERSION = /^v\d+\.\d+\.\d+\+k3s\d+$/;
const ABS_PATH = /^\/[A-Za-z0-9._/-]*$/;

/** Name of the etcd snapshot taken before upgrading a server to `version`. */
export function snapshotName(version: string): string {
    if (!VERSION.test(version)) {
        throw new RangeError(`K3s version ${JSON.stringify(version)} is not a release such as v1.31.4+k3s1`);
    }
    return `homecloud-pre-${version.replace("+", "-")}`;
}

/** Saves an on-demand etcd snapshot on this server (kept under /var/lib/rancher/k3s/server/db/snapshots). */
export function etcdSnapshotScript(name: string): string {
    if (!/^[a-z0-9][a-z0-9.-]*$/.test(name)) {
        throw new RangeError(`snapshot name ${JSON.stringify(name)} must be lower-case letters, digits, dots and dashes`);
    }
    return `set -eu
${K3S_BIN} etcd-snapshot save --name ${sh(name)}
`;
}

function readyBody(role: NodeRole): string {
    return role === "server"
        ? waitLoop(`${K3S_BIN} kubectl get --raw=/readyz >/dev/null 2>&1`,
            `homecloud: the K3s API on this server was not ready within ${WAIT_SECONDS} s; see journalctl -u k3s`)
        : waitLoop("systemctl is-active --quiet k3s-agent",
            `homecloud: k3s-agent was not active within ${WAIT_SECONDS} s; see journalctl -u k3s-agent`);
}

/** Waits until K3s on this node is up: a server's API answers /readyz, an agent's unit is active. */
export function waitReadyScript(role: NodeRole): string {
    return `set -eu
${readyBody(role)}
echo "homecloud: ${k3sService(role)} is ready"
`;
}

/**
 * Installs K3s at the pinned version, or upgrades it: when K3s is already installed with
 * another version on a server, an etcd snapshot is saved first. Nothing happens when the
 * version is installed and running. Ends by waiting until the node is ready.
 *
 * `script`: the official install script from get.k3s.io with INSTALL_K3S_VERSION.
 * `airgap`: nothing is downloaded: the binary, the images tarball and install.sh must
 * already be in `airgapDir` (the script checks the binary's version against the plan).
 */
export function installScript(a: InstallArgs): string {
    if (!VERSION.test(a.version)) {
        throw new RangeError(`K3s version ${JSON.stringify(a.version)} is not a release such as v1.31.4+k3s1`);
    }
    if (!ABS_PATH.test(a.airgapDir) || a.airgapDir.includes("..")) {
        throw new RangeError(`air-gap directory ${JSON.stringify(a.airgapDir)} must be an absolute path`);
    }
    const service = k3sService(a.role);
    const env = `INSTALL_K3S_VERSION="$version" INSTALL_K3S_EXEC=${a.role} INSTALL_K3S_FORCE_RESTART=true`;
    const body = a.install === "script" ? `  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  curl -sfL https://get.k3s.io -o "$tmp/install.sh"
  ${env} sh "$tmp/install.sh"` : `  dir=${sh(a.airgapDir)}
  for f in "$dir/k3s" "$dir/install.sh"; do
    if [ ! -f "$f" ]; then
      echo "homecloud: $f is missing; an air-gapped install needs k3s, k3s-airgap-images-<arch>.tar* and install.sh for $version in $dir" >&2
      exit 1
    fi
  done
  install -d -m 0755 /usr/local/bin ${K3S_IMAGES_DIR}
  cp "$dir/k3s" ${K3S_BIN}.homecloud-new
  chmod 0755 ${K3S_BIN}.homecloud-new
  have=$(${K3S_BIN}.homecloud-new --version | sed -n 's/^k3s version \\(v[^ ]*\\).*$/\\1/p')
  if [ "$have" != "$version" ]; then
    rm -f ${K3S_BIN}.homecloud-new
    echo "homecloud: $dir/k3s is \${have:-not a k3s binary}, but homecloud:k3sVersion is $version; put the $version binary there" >&2
    exit 1
  fi
  images=0
  for f in "$dir"/k3s-airgap-images-*; do
    if [ -f "$f" ]; then
      cp -f "$f" ${K3S_IMAGES_DIR}/
      images=$((images + 1))
    fi
  done
  if [ "$images" -eq 0 ]; then
    rm -f ${K3S_BIN}.homecloud-new
    echo "homecloud: no k3s-airgap-images-* tarball in $dir" >&2
    exit 1
  fi
  mv -f ${K3S_BIN}.homecloud-new ${K3S_BIN}
  INSTALL_K3S_SKIP_DOWNLOAD=true ${env} sh "$dir/install.sh"`;
    const snapshot = a.role === "server" ? `  if [ -n "$installed" ] && [ "$installed" != "$version" ]; then
    if systemctl is-active --quiet k3s; then
      echo "homecloud: upgrading k3s $installed to $version; saving etcd snapshot ${snapshotName(a.version)} first"
      ${K3S_BIN} etcd-snapshot save --name ${sh(snapshotName(a.version))}
    else
      echo "homecloud: k3s $installed is installed but not running; no etcd snapshot before the upgrade" >&2
    fi
  fi
` : "";
    return `set -eu
version=${sh(a.version)}
installed=""
if [ -x ${K3S_BIN} ]; then
  installed=$(${K3S_BIN} --version 2>/dev/null | sed -n 's/^k3s version \\(v[^ ]*\\).*$/\\1/p')
fi
if [ "$installed" = "$version" ] && systemctl is-active --quiet ${service}; then
  echo "homecloud: k3s $version is installed and running"
else
${snapshot}${body}
fi
${readyBody(a.role)}
echo "homecloud: ${service} $version is ready"
`;
}

/** The node's delete step: K3s' own uninstall script (stops K3s, removes its data and units). */
export function uninstallScript(role: NodeRole): string {
    return `set -eu
uninstall=${sh(k3sUninstallPath(role))}
if [ -x "$uninstall" ]; then
  "$uninstall"
  echo "homecloud: k3s uninstalled"
else
  echo "homecloud: k3s is not installed; nothing to uninstall"
fi
`;
}

function checkNodeName(node: string): string {
    if (!/^(?!-)[a-z0-9-]{1,63}(?<!-)$/.test(node)) {
        throw new RangeError(`node name ${JSON.stringify(node)} is not an RFC 1123 host name`);
    }
    return node;
}

/**
 * Run on the first server: waits until the node has registered, runs `version` and is
 * Ready. The version and the hash of the node's config.yaml are part of the script's
 * text, so an upgrade or a config change (both restart K3s on the node) re-runs it as an
 * in-place update; never as a replacement, whose delete would drain and remove the node.
 */
export function nodeReadyScript(node: string, version: string, configSha256: string): string {
    if (!VERSION.test(version)) {
        throw new RangeError(`K3s version ${JSON.stringify(version)} is not a release such as v1.31.4+k3s1`);
    }
    if (!/^[0-9a-f]{64}$/.test(configSha256)) {
        throw new RangeError(`config hash ${JSON.stringify(configSha256)} is not a sha256 hex digest`);
    }
    return `set -eu
node=${sh(checkNodeName(node))}
version=${sh(version)}
# The node's config.yaml has sha256 ${configSha256}; a change restarts K3s there.
${waitLoop(`[ "$(${K3S_BIN} kubectl get node "$node" --ignore-not-found -o jsonpath='{.status.nodeInfo.kubeletVersion}' 2>/dev/null)" = "$version" ]`,
        `homecloud: ${node} did not register with the cluster running ${version} within ${WAIT_SECONDS} s; see journalctl -u k3s or -u k3s-agent on ${node}`)}
${K3S_BIN} kubectl wait --for=condition=Ready "node/$node" --timeout=${WAIT_SECONDS}s
echo "homecloud: $node is Ready with $version"
`;
}

/**
 * Run on the first server when a node leaves: drains it, then deletes its Node object.
 * For a server that also removes its etcd member: K3s' etcd controller holds a finalizer
 * on every etcd node and removes the member before the Node is gone, and `kubectl delete`
 * waits for that. The node's own delete step (`uninstallScript`) runs afterwards.
 */
export function removeNodeScript(node: string): string {
    return `set -eu
node=${sh(checkNodeName(node))}
if ! ${K3S_BIN} kubectl get --raw=/readyz >/dev/null 2>&1; then
  echo "homecloud: the K3s API on the first server is not answering; cannot drain and remove $node" >&2
  exit 1
fi
found=$(${K3S_BIN} kubectl get node "$node" --ignore-not-found -o name)
if [ -z "$found" ]; then
  echo "homecloud: $node is not a cluster node (already removed)"
  exit 0
fi
${K3S_BIN} kubectl drain "$node" --ignore-daemonsets --delete-emptydir-data --timeout=${WAIT_SECONDS}s
${K3S_BIN} kubectl delete node "$node" --timeout=${WAIT_SECONDS}s
echo "homecloud: $node drained and removed from the cluster"
`;
}

/**
 * Run on the first server: waits for the API, then prints K3s' admin kubeconfig and
 * nothing else on stdout (progress goes to stderr); the command keeps stdout secret.
 */
export function readKubeconfigScript(): string {
    return `set -eu
kubeconfig=${sh(K3S_KUBECONFIG_PATH)}
${waitLoop(`[ -s "$kubeconfig" ] && ${K3S_BIN} kubectl get --raw=/readyz >/dev/null 2>&1`,
        `homecloud: no ready K3s API and ${K3S_KUBECONFIG_PATH} on the first server within ${WAIT_SECONDS} s`)}
cat "$kubeconfig"
`;
}
