#!/bin/bash
# k3s-node.sh STEP: the K3s steps on a node (or, for member-*, on the first server).
#
#   prepare        Pi only: append the memory cgroup flags to cmdline.txt if missing,
#                  remember which it added and the boot it leaves, reboot in one minute
#                  (`shutdown` creates /run/nologin at once, so no new login gets in
#                  before the reboot; the next step's dial keeps retrying)
#   unprepare      take out of cmdline.txt only the flags prepare added (no reboot)
#   wait-reboot    fail while this is still the boot prepare scheduled the reboot from;
#                  on a Pi, check the kernel booted with the memory cgroup flags
#   install        install K3s HC_VERSION as HC_ROLE (server|agent), or upgrade it (a
#                  server saves an etcd snapshot first); HC_INSTALL=script runs the official
#                  install script, HC_INSTALL=airgap installs from HC_AIRGAP_DIR; ends when
#                  the node is ready
#   uninstall      K3s' own uninstall script for HC_ROLE
#   member-ready   (first server) wait until node HC_NODE runs HC_VERSION and is Ready
#   member-remove  (first server) drain node HC_NODE and delete it (for a server, K3s
#                  removes its etcd member with it)
#   read-kubeconfig (first server) print the admin kubeconfig, nothing else on stdout
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=host/scripts/lib.sh
. "$root/host/scripts/lib.sh"

K3S_BIN=/usr/local/bin/k3s
K3S_KUBECONFIG=/etc/rancher/k3s/k3s.yaml
K3S_IMAGES_DIR=/var/lib/rancher/k3s/agent/images
CGROUP_FLAGS="cgroup_memory=1 cgroup_enable=memory"
state="$HC_STATE/k3s"
# How long (5 s steps) to wait for K3s: the API, a node registering, a node Ready.
WAIT_STEPS=60
WAIT_SECONDS=$((WAIT_STEPS * 5))

# wait_for FAILURE-MESSAGE COMMAND...: retries COMMAND every 5 s, WAIT_STEPS times.
wait_for() {
  local failure=$1 i=0
  shift
  until "$@"; do
    i=$((i + 1))
    if [ "$i" -ge "$WAIT_STEPS" ]; then
      echo "$failure" >&2
      exit 1
    fi
    sleep 5
  done
}

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
  local running flag
  if [ -f "$state/reboot-from" ]; then
    if [ "$(cat /proc/sys/kernel/random/boot_id)" = "$(cat "$state/reboot-from")" ]; then
      echo "homecloud: this host has not rebooted yet since its cmdline.txt changed; run pulumi up again once it is back" >&2
      exit 1
    fi
    rm -f "$state/reboot-from"
  fi
  find_cmdline
  if [ -n "$cmdline" ]; then
    running=" $(cat /proc/cmdline) "
    for flag in $CGROUP_FLAGS; do
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
}

k3s_version_of() { "$1" --version 2>/dev/null | sed -n 's/^k3s version \(v[^ ]*\).*$/\1/p'; }
api_ready() { "$K3S_BIN" kubectl get --raw=/readyz >/dev/null 2>&1; }

wait_ready() {
  if [ "$(service)" = k3s ]; then
    wait_for "homecloud: the K3s API on this server was not ready within $WAIT_SECONDS s; see journalctl -u k3s" api_ready
  else
    wait_for "homecloud: k3s-agent was not active within $WAIT_SECONDS s; see journalctl -u k3s-agent" \
      systemctl is-active --quiet k3s-agent
  fi
}

run_install_script() { # run_install_script SCRIPT [extra env...]
  local script=$1
  shift
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
  [ "$("$K3S_BIN" kubectl get node "$HC_NODE" --ignore-not-found -o jsonpath='{.status.nodeInfo.kubeletVersion}' 2>/dev/null)" = "$HC_VERSION" ]
}

member_ready() {
  : "${HC_NODE:?}" "${HC_VERSION:?}"
  # HC_CONFIG_SHA256 (the node's config.yaml) is only here so that a config change re-runs
  # this step in place: it restarted K3s on the node.
  wait_for "homecloud: $HC_NODE did not register with the cluster running $HC_VERSION within $WAIT_SECONDS s; see journalctl -u k3s or -u k3s-agent on $HC_NODE" \
    node_runs_version
  "$K3S_BIN" kubectl wait --for=condition=Ready "node/$HC_NODE" --timeout="${WAIT_SECONDS}s"
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

read_kubeconfig() {
  wait_for "homecloud: no ready K3s API and $K3S_KUBECONFIG on the first server within $WAIT_SECONDS s" kubeconfig_ready
  cat "$K3S_KUBECONFIG"
}

case "${1:-}" in
  prepare) prepare ;;
  unprepare) unprepare ;;
  wait-reboot) wait_reboot ;;
  install) install_k3s ;;
  uninstall) uninstall_k3s ;;
  member-ready) member_ready ;;
  member-remove) member_remove ;;
  read-kubeconfig) read_kubeconfig ;;
  *) echo "usage: k3s-node.sh prepare|unprepare|wait-reboot|install|uninstall|member-ready|member-remove|read-kubeconfig" >&2; exit 2 ;;
esac
