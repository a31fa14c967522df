#!/bin/bash
# k3s-node.sh STEP: the K3s steps on a node (or, for member-*, on the first server).
#
#   prepare        Pi only: append the memory cgroup flags to cmdline.txt if missing,
#                  remember which it added and the boot it leaves, reboot in one minute
#                  (`shutdown` creates /run/nologin at once, so no new login gets in
#                  before the reboot; the next step's dial keeps retrying)
#   unprepare      take out of cmdline.txt only the flags prepare added (no reboot)
#   wait-reboot    fail while this is still the boot prepare scheduled the reboot from;
#                  then check the running kernel has the cgroup controllers K3s needs
#   install        install K3s HC_VERSION as HC_ROLE (server|agent), or upgrade it (a
#                  server saves an etcd snapshot first); HC_INSTALL=script runs the official
#                  install script, HC_INSTALL=airgap installs from HC_AIRGAP_DIR; ends when
#                  the node is ready
#   uninstall      K3s' own uninstall script for HC_ROLE
#   member-ready   (first server) wait until node HC_NODE runs HC_VERSION and is Ready
#   member-remove  (first server) drain node HC_NODE and delete it (for a server, K3s
#                  removes its etcd member with it)
#   read-token     (first server) print K3s' full join token (K10<CA hash>::server:<secret>),
#                  nothing else on stdout
#   read-kubeconfig (first server) print the admin kubeconfig, nothing else on stdout; with
#                  HC_RENEWAL other than 0, first renew its client certificate (rotate it,
#                  restart k3s) so that it is valid for another full term
#
# Every wait is bounded: HC_WAIT_SECONDS (default 300) for K3s to get somewhere, polled every
# HC_POLL_SECONDS (5), each probe cut off after HC_PROBE_SECONDS (10); HC_INSTALL_SECONDS
# (900) for the install script, download and restart included. A timeout names the node,
# what it waited for and where its log is. (The K3s units have TimeoutStartSec=0: a plain
# `systemctl restart` of a K3s that cannot become ready never returns.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=host/scripts/lib.sh
. "$root/host/scripts/lib.sh"

K3S_BIN=/usr/local/bin/k3s
K3S_KUBECONFIG=/etc/rancher/k3s/k3s.yaml
K3S_IMAGES_DIR=/var/lib/rancher/k3s/agent/images
K3S_SERVER_TOKEN=/var/lib/rancher/k3s/server/token
CGROUP_FLAGS="cgroup_memory=1 cgroup_enable=memory"
CGROUP_CONTROLLERS=/sys/fs/cgroup/cgroup.controllers
state="$HC_STATE/k3s"
WAIT_SECONDS=${HC_WAIT_SECONDS:-300}
POLL_SECONDS=${HC_POLL_SECONDS:-5}
PROBE_SECONDS=${HC_PROBE_SECONDS:-10}
INSTALL_SECONDS=${HC_INSTALL_SECONDS:-900}

# The node a step is about, as the plan names it.
node_name() { printf '%s' "${HC_NODE:-$(hostname)}"; }

# Where a message says it comes from: the node, or for member-* (run on the first server
# about HC_NODE) the first server's host name.
here() { case "${1:-}" in member-*) hostname ;; *) node_name ;; esac; }
HERE=$(here "${1:-}")

timed_out() { # timed_out SECONDS WHAT WHERE-THE-LOG-IS
  echo "homecloud: $HERE: timed out after $1 s waiting for $2; see $3" >&2
  exit 1
}

# wait_for WHAT LOG COMMAND...: retries COMMAND (a quick probe) every POLL_SECONDS until it
# succeeds; after WAIT_SECONDS, fails saying what it waited for and where the log is.
wait_for() {
  local what=$1 log=$2 deadline=$((SECONDS + WAIT_SECONDS))
  shift 2
  until "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      timed_out "$WAIT_SECONDS" "$what" "$log"
    fi
    sleep "$POLL_SECONDS"
  done
}

# bounded SECONDS WHAT LOG COMMAND...: runs COMMAND for at most SECONDS; a timeout fails
# naming the node, WHAT and LOG; any other failure is COMMAND's own (its message above).
bounded() {
  local seconds=$1 what=$2 log=$3 rc=0
  shift 3
  timeout -k 10 "$seconds" "$@" || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    timed_out "$seconds" "$what" "$log"
  fi
  return "$rc"
}

# probe COMMAND...: COMMAND, cut off after PROBE_SECONDS (a hung API call is a failed probe).
probe() { timeout -k 2 "$PROBE_SECONDS" "$@"; }

find_cmdline() {
  local f
  cmdline=""
  for f in /boot/firmware/cmdline.txt /boot/cmdline.txt; do
    if [ -f "$f" ]; then
      cmdline=$f
      return 0
    fi
  done
}

service() { if [ "${HC_ROLE:?}" = server ]; then echo k3s; else echo k3s-agent; fi; }

prepare() {
  local line added="" flag tmp
  set -f
  find_cmdline
  if [ -z "$cmdline" ]; then
    echo "homecloud: no cmdline.txt in /boot/firmware or /boot (not a Raspberry Pi boot partition); nothing to prepare"
    return 0
  fi
  line=$(head -n 1 "$cmdline")
  for flag in $CGROUP_FLAGS; do
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
    return 0
  fi
  install -d -m 0755 "$state"
  for flag in $added; do
    echo "$flag"
  done >>"$state/cmdline-added"
  tmp=$(mktemp "$cmdline.homecloud.XXXXXX")
  printf '%s\n' "$line" >"$tmp"
  mv -f "$tmp" "$cmdline"
  sync
  cat /proc/sys/kernel/random/boot_id >"$state/reboot-from"
  shutdown -r +1 "homecloud: rebooting to enable memory cgroups for K3s"
  echo "homecloud: added$added to $cmdline; rebooting in one minute"
}

unprepare() {
  local added line out="" word flag keep tmp
  set -f
  if [ ! -f "$state/cmdline-added" ]; then
    echo "homecloud: cmdline.txt was not changed by this program; nothing to undo"
    return 0
  fi
  find_cmdline
  if [ -n "$cmdline" ]; then
    added=$(cat "$state/cmdline-added")
    line=$(head -n 1 "$cmdline")
    for word in $line; do
      keep=1
      for flag in $added; do
        if [ "$word" = "$flag" ]; then
          keep=0
        fi
      done
      if [ "$keep" = 1 ]; then
        out="${out:+$out }$word"
      fi
    done
    tmp=$(mktemp "$cmdline.homecloud.XXXXXX")
    printf '%s\n' "$out" >"$tmp"
    mv -f "$tmp" "$cmdline"
    echo "homecloud: removed the flags this program added to $cmdline (in effect until the next reboot)"
  fi
  rm -f "$state/cmdline-added" "$state/reboot-from"
}

wait_reboot() {
  if [ -f "$state/reboot-from" ]; then
    if [ "$(cat /proc/sys/kernel/random/boot_id)" = "$(cat "$state/reboot-from")" ]; then
      echo "homecloud: this host has not rebooted yet since its cmdline.txt changed; run pulumi up again once it is back" >&2
      exit 1
    fi
    rm -f "$state/reboot-from"
  fi
  check_cgroups
  echo "homecloud: host is up (boot $(cat /proc/sys/kernel/random/boot_id))"
}

# What K3s itself checks before it starts (pkg/cgroups, Validate): with cgroup v2 the root
# controllers must include cpu, cpuset and memory; with v1 the memory hierarchy must exist.
# A Pi can carry the cmdline.txt flags and still boot without memory (another flag turning
# it off, an edited file on the wrong partition), so look at the running kernel.
check_cgroups() {
  local have missing="" c fix
  if [ -f "$CGROUP_CONTROLLERS" ]; then
    have=$(cat "$CGROUP_CONTROLLERS")
    for c in cpu cpuset memory; do
      case " $have " in
        *" $c "*) ;;
        *) missing="${missing:+$missing }$c" ;;
      esac
    done
    have="$CGROUP_CONTROLLERS lists: ${have:-nothing}"
  else
    have="cgroup v1"
    if ! grep -qw memory /proc/self/cgroup; then
      missing=memory
    fi
  fi
  if [ -z "$missing" ]; then
    return 0
  fi
  find_cmdline
  if [ -n "$cmdline" ]; then
    fix="make sure the one line of $cmdline has $CGROUP_FLAGS and no cgroup_disable=memory, reboot $(node_name), then run pulumi up again"
  else
    fix="enable them on the kernel command line (e.g. $CGROUP_FLAGS), reboot $(node_name), then run pulumi up again"
  fi
  echo "homecloud: $(node_name): K3s needs the cpu, cpuset and memory cgroup controllers; the running kernel lacks: $missing ($have); $fix" >&2
  exit 1
}

# A binary that does not run has no version (empty), not a failed script.
k3s_version_of() { { "$1" --version 2>/dev/null || true; } | sed -n 's/^k3s version \(v[^ ]*\).*$/\1/p'; }
api_ready() { probe "$K3S_BIN" kubectl get --raw=/readyz >/dev/null 2>&1; }
unit_active() { probe systemctl is-active --quiet "$1"; }

wait_ready() {
  if [ "$(service)" = k3s ]; then
    wait_for "the K3s API on this server to be ready (/readyz)" "journalctl -u k3s on $(node_name)" api_ready
  else
    wait_for "k3s-agent to be active" "journalctl -u k3s-agent on $(node_name)" unit_active k3s-agent
  fi
}

# The install script ends with a `systemctl restart` that blocks until K3s is ready: bounded.
run_install_script() { # run_install_script SCRIPT [extra env...]
  local script=$1
  shift
  bounded "$INSTALL_SECONDS" "the K3s install script (download and restart of $(service))" "journalctl -u $(service) on $(node_name)" \
    env "$@" INSTALL_K3S_VERSION="$version" INSTALL_K3S_EXEC="$HC_ROLE" INSTALL_K3S_FORCE_RESTART=true sh "$script"
}

install_from_script() {
  local tmp
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: the trap runs after this function's scope
  trap "rm -rf '$tmp'" EXIT
  curl -sfL https://get.k3s.io -o "$tmp/install.sh"
  run_install_script "$tmp/install.sh"
}

install_airgap() {
  local dir=${HC_AIRGAP_DIR:?} f have images=0
  for f in "$dir/k3s" "$dir/install.sh"; do
    if [ ! -f "$f" ]; then
      echo "homecloud: $f is missing; an air-gapped install needs k3s, k3s-airgap-images-<arch>.tar* and install.sh for $version in $dir" >&2
      exit 1
    fi
  done
  install -d -m 0755 /usr/local/bin "$K3S_IMAGES_DIR"
  cp "$dir/k3s" "$K3S_BIN.homecloud-new"
  chmod 0755 "$K3S_BIN.homecloud-new"
  have=$(k3s_version_of "$K3S_BIN.homecloud-new")
  if [ "$have" != "$version" ]; then
    rm -f "$K3S_BIN.homecloud-new"
    echo "homecloud: $dir/k3s is ${have:-not a k3s binary}, but homecloud:k3sVersion is $version; put the $version binary there" >&2
    exit 1
  fi
  for f in "$dir"/k3s-airgap-images-*; do
    if [ -f "$f" ]; then
      cp -f "$f" "$K3S_IMAGES_DIR/"
      images=$((images + 1))
    fi
  done
  if [ "$images" -eq 0 ]; then
    rm -f "$K3S_BIN.homecloud-new"
    echo "homecloud: no k3s-airgap-images-* tarball in $dir" >&2
    exit 1
  fi
  mv -f "$K3S_BIN.homecloud-new" "$K3S_BIN"
  run_install_script "$dir/install.sh" INSTALL_K3S_SKIP_DOWNLOAD=true
}

install_k3s() {
  local installed="" snapshot
  version=${HC_VERSION:?}
  if [ -x "$K3S_BIN" ]; then
    installed=$(k3s_version_of "$K3S_BIN")
  fi
  if [ "$installed" = "$version" ] && systemctl is-active --quiet "$(service)"; then
    echo "homecloud: k3s $version is installed and running"
  else
    if [ "$HC_ROLE" = server ] && [ -n "$installed" ] && [ "$installed" != "$version" ]; then
      snapshot="homecloud-pre-$(printf '%s' "$version" | tr + -)"
      if systemctl is-active --quiet k3s; then
        echo "homecloud: upgrading k3s $installed to $version; saving etcd snapshot $snapshot first"
        bounded "$WAIT_SECONDS" "etcd snapshot $snapshot" "journalctl -u k3s on $(node_name)" \
          "$K3S_BIN" etcd-snapshot save --name "$snapshot"
      else
        echo "homecloud: k3s $installed is installed but not running; no etcd snapshot before the upgrade" >&2
      fi
    fi
    case "${HC_INSTALL:?}" in
      script) install_from_script ;;
      airgap) install_airgap ;;
      *) echo "homecloud: HC_INSTALL must be script or airgap, not '$HC_INSTALL'" >&2; exit 2 ;;
    esac
  fi
  wait_ready
  echo "homecloud: $(service) $version is ready"
}

uninstall_k3s() {
  local uninstall
  uninstall="/usr/local/bin/$(service)-uninstall.sh"
  if [ -x "$uninstall" ]; then
    "$uninstall"
    echo "homecloud: k3s uninstalled"
  else
    echo "homecloud: k3s is not installed; nothing to uninstall"
  fi
}

node_runs_version() {
  [ "$(probe "$K3S_BIN" kubectl get node "$HC_NODE" --ignore-not-found -o jsonpath='{.status.nodeInfo.kubeletVersion}' 2>/dev/null)" = "$HC_VERSION" ]
}

member_ready() {
  : "${HC_NODE:?}" "${HC_VERSION:?}"
  # HC_CONFIG_SHA256 (the node's config.yaml) is only here so that a config change re-runs
  # this step in place: it restarted K3s on the node.
  local log="journalctl -u k3s (a server) or journalctl -u k3s-agent (an agent) on $HC_NODE"
  wait_for "$HC_NODE to register with the cluster running $HC_VERSION" "$log" node_runs_version
  if ! timeout -k 10 $((WAIT_SECONDS + 10)) "$K3S_BIN" kubectl wait --for=condition=Ready "node/$HC_NODE" --timeout="${WAIT_SECONDS}s" >&2; then
    timed_out "$WAIT_SECONDS" "$HC_NODE to be Ready" "$log"
  fi
  echo "homecloud: $HC_NODE is Ready with $HC_VERSION"
}

member_remove() {
  local found
  : "${HC_NODE:?}"
  if ! api_ready; then
    echo "homecloud: the K3s API on the first server is not answering; cannot drain and remove $HC_NODE" >&2
    exit 1
  fi
  found=$("$K3S_BIN" kubectl get node "$HC_NODE" --ignore-not-found -o name)
  if [ -z "$found" ]; then
    echo "homecloud: $HC_NODE is not a cluster node (already removed)"
    return 0
  fi
  "$K3S_BIN" kubectl drain "$HC_NODE" --ignore-daemonsets --delete-emptydir-data --timeout="${WAIT_SECONDS}s"
  "$K3S_BIN" kubectl delete node "$HC_NODE" --timeout="${WAIT_SECONDS}s"
  echo "homecloud: $HC_NODE drained and removed from the cluster"
}

kubeconfig_ready() { [ -s "$K3S_KUBECONFIG" ] && api_ready; }
# kubeconfig_renewed CKSUM: k3s.yaml is no longer the one with that checksum, and the API is up.
kubeconfig_renewed() { [ -s "$K3S_KUBECONFIG" ] && [ "$(cksum <"$K3S_KUBECONFIG")" != "$1" ] && api_ready; }

# K3s renews a certificate only at start and only in its last 90 days; `certificate rotate`
# removes the admin one (backing it up) so that the restart issues a new one regardless.
renew_admin_certificate() {
  local before
  wait_for "the K3s API and $K3S_KUBECONFIG" "journalctl -u k3s on $(node_name)" kubeconfig_ready
  before=$(cksum <"$K3S_KUBECONFIG")
  bounded "$WAIT_SECONDS" "k3s certificate rotate --service admin" "journalctl -u k3s on $(node_name)" \
    "$K3S_BIN" certificate rotate --service admin >&2
  systemctl restart --no-block k3s
  wait_for "k3s to restart with a new admin certificate in $K3S_KUBECONFIG" "journalctl -u k3s on $(node_name)" \
    kubeconfig_renewed "$before"
  echo "homecloud: renewed the admin client certificate (renewal ${HC_RENEWAL})" >&2
}

read_kubeconfig() {
  if [ "${HC_RENEWAL:-0}" != 0 ]; then
    renew_admin_certificate
  fi
  wait_for "the K3s API and $K3S_KUBECONFIG" "journalctl -u k3s on $(node_name)" kubeconfig_ready
  cat "$K3S_KUBECONFIG"
}

token_written() { [ -s "$K3S_SERVER_TOKEN" ]; }

# K3s writes the full token (clientaccess.FormatToken) at every start of a server:
# K10<sha256 of the cluster CA>::server:<token>. A node joining with it checks the CA.
read_token() {
  local token
  wait_for "K3s to write $K3S_SERVER_TOKEN" "journalctl -u k3s on $(node_name)" token_written
  token=$(head -n 1 "$K3S_SERVER_TOKEN")
  case "$token" in
    K10*::server:?*) printf '%s\n' "$token" ;;
    *)
      echo "homecloud: $(node_name): $K3S_SERVER_TOKEN does not hold a full K3s token (K10<CA hash>::server:<secret>)" >&2
      exit 1
      ;;
  esac
}

case "${1:-}" in
  prepare) prepare ;;
  unprepare) unprepare ;;
  wait-reboot) wait_reboot ;;
  install) install_k3s ;;
  uninstall) uninstall_k3s ;;
  member-ready) member_ready ;;
  member-remove) member_remove ;;
  read-token) read_token ;;
  read-kubeconfig) read_kubeconfig ;;
  *) echo "usage: k3s-node.sh prepare|unprepare|wait-reboot|install|uninstall|member-ready|member-remove|read-token|read-kubeconfig" >&2; exit 2 ;;
esac
