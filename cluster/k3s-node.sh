#!/bin/bash
# k3s-node.sh STEP: the K3s steps on a node (or, for member-*, on the first server). The
# steps live in one file per phase: k3s-install.sh, k3s-membership.sh, k3s-kubeconfig.sh;
# this file holds what they share (bounded waits, probes) and picks the step.
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
#   admission-ready (first server) wait until the API server accepts the manifest on stdin
#                  in a server-side dry run (the webhooks it goes through serve); HC_WHAT names it
#   adopt-crds     (first server) give CRDs of HC_GROUP (not HC_EXCEPT) Helm ownership by the
#                  release HC_NAMESPACE/HC_RELEASE, so that its chart can take them over
#   snapshot-access (server) let the gateway's key HC_SNAPSHOT_KEY fetch pre-upgrade etcd
#                  snapshots as HC_SNAPSHOT_USER (install does it too, given the same variables)
#   snapshot-revoke take that key out again (uninstall does it too)
#   snapshot-send NAME (server) that key's forced command: the newest snapshot NAME-* as a tar
#                  stream, nothing when there is none
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

service() { if [ "${HC_ROLE:?}" = server ]; then echo k3s; else echo k3s-agent; fi; }

api_ready() { probe "$K3S_BIN" kubectl get --raw=/readyz >/dev/null 2>&1; }

# kubectl as the cluster's admin, for the steps any cluster has (admission-ready,
# adopt-crds): K3s' own; with HC_KUBECONFIG (homecloud:kubeconfig: a cluster the program did
# not install) this host's kubectl with that file, which need_kubectl checks is here.
if [ -n "${HC_KUBECONFIG:-}" ]; then KUBECTL=(kubectl --kubeconfig "$HC_KUBECONFIG"); else KUBECTL=("$K3S_BIN" kubectl); fi
need_kubectl() {
  if [ -n "${HC_KUBECONFIG:-}" ] && ! command -v kubectl >/dev/null 2>&1; then
    echo "homecloud: $(hostname): no kubectl here; with homecloud:kubeconfig the cluster steps run on the first server in homecloud:nodes with its kubectl: install kubectl there (kubeadm's nodes have it; K3s links it)" >&2
    exit 1
  fi
}
# The cluster's API answers: on K3s this server's own, else the one HC_KUBECONFIG names.
cluster_api_ready() { probe "${KUBECTL[@]}" get --raw=/readyz >/dev/null 2>&1; }
cluster_api_what() {
  if [ -z "${HC_KUBECONFIG:-}" ]; then
    echo "the K3s API on this server to be ready (/readyz)|journalctl -u k3s on $(node_name)"
  else
    echo "the cluster's API (homecloud:kubeconfig) to be ready (/readyz)|kubectl --kubeconfig $HC_KUBECONFIG get --raw=/readyz on $(hostname)"
  fi
}
unit_active() { probe systemctl is-active --quiet "$1"; }

# The phases, one file each.
# shellcheck source=cluster/k3s-install.sh
. "$root/cluster/k3s-install.sh"
# shellcheck source=cluster/k3s-membership.sh
. "$root/cluster/k3s-membership.sh"
# shellcheck source=cluster/k3s-kubeconfig.sh
. "$root/cluster/k3s-kubeconfig.sh"
# shellcheck source=cluster/k3s-snapshots.sh
. "$root/cluster/k3s-snapshots.sh"

case "${1:-}" in
  prepare) prepare ;;
  unprepare) unprepare ;;
  wait-reboot) wait_reboot ;;
  install)
    install_k3s
    if [ -n "${HC_SNAPSHOT_KEY:-}" ]; then snapshot_access; fi
    ;;
  uninstall)
    uninstall_k3s
    snapshot_revoke
    ;;
  member-ready) member_ready ;;
  member-remove) member_remove ;;
  read-token) read_token ;;
  read-kubeconfig) read_kubeconfig ;;
  admission-ready) admission_ready ;;
  adopt-crds) adopt_crds ;;
  snapshot-access) snapshot_access ;;
  snapshot-revoke) snapshot_revoke ;;
  snapshot-send) snapshot_send "${2:-}" ;;
  *) echo "usage: k3s-node.sh prepare|unprepare|wait-reboot|install|uninstall|member-ready|member-remove|read-token|read-kubeconfig|admission-ready|adopt-crds|snapshot-access|snapshot-revoke|snapshot-send" >&2; exit 2 ;;
esac
