#!/bin/bash
# Tears the homecloud lab down: hosts, overlays, cgroups, namespaces, runtime dir.
# Safe to run twice, or on a half-up lab. Signals only PIDs the lab recorded itself (and
# the processes inside the lab's own cgroups, which descend from them).
set -euo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
T0=$(lab_now)
if [[ -z ${LAB_LOCK_HELD:-} ]]; then
  mkdir -p "$LAB_CACHE"
  exec 8>"$LAB_LOCK"
  flock -w 120 8 || lab_log "warning: could not take $LAB_LOCK, going on anyway"
fi
GRACE=${HOMECLOUD_LAB_STOP_GRACE:-10}

# 1. hosts: no more restarts; ask each container to power off (SIGTERM to nspawn)
for h in "${LAB_HOSTS[@]}"; do
  hdir=$(lab_hdir "$h")
  [[ -d $hdir ]] || continue
  : >"$hdir/stop"
  npid=$(lab_read_pid "$hdir/nspawn.pid")
  if [[ -n $npid ]] && lab_pid_matches "$npid" systemd-nspawn; then
    kill -TERM "$npid" 2>/dev/null || true
  fi
  true
done

# 2. wait for wrappers and containers to end, then kill what is left (recorded PIDs,
#    and whatever still sits in the hosts' cgroups)
# kill_recorded HOST SIGNAL: wrapper, nspawn and everything in the host's cgroups
kill_recorded() {
  local hdir pid
  hdir=$(lab_hdir "$1")
  pid=$(lab_read_pid "$hdir/wrapper.pid")
  if lab_pid_matches "${pid:-x}" host-run.sh; then kill "-$2" "$pid" 2>/dev/null || true; fi
  pid=$(lab_read_pid "$hdir/nspawn.pid")
  if lab_pid_matches "${pid:-x}" systemd-nspawn; then kill "-$2" "$pid" 2>/dev/null || true; fi
  for pid in $(lab_cg_pids "$1"); do kill "-$2" "$pid" 2>/dev/null || true; done
}
lab_alive() {
  local h pid
  for h in "${LAB_HOSTS[@]}"; do
    pid=$(lab_read_pid "$(lab_hdir "$h")/wrapper.pid")
    if lab_pid_matches "${pid:-x}" host-run.sh; then return 0; fi
    pid=$(lab_read_pid "$(lab_hdir "$h")/nspawn.pid")
    if lab_pid_matches "${pid:-x}" systemd-nspawn; then return 0; fi
    if [[ -n $(lab_cg_pids "$h") ]]; then return 0; fi
  done
  return 1
}
deadline=$(($(date +%s) + GRACE))
while lab_alive && (($(date +%s) < deadline)); do sleep 0.2; done
if lab_alive; then
  lab_log "some hosts did not stop within ${GRACE} s: killing them"
  for round in 1 2 3 4 5; do
    for h in "${LAB_HOSTS[@]}"; do kill_recorded "$h" KILL; done
    sleep 0.3
    if ! lab_alive; then break; fi
    if [[ $round -eq 5 ]]; then lab_log "warning: processes still alive after kill"; fi
  done
fi

# 3. overlays (and anything else mounted below the runtime dir)
while IFS= read -r m; do
  for try in 1 2 3 4 5; do
    if umount "$m" 2>/dev/null; then break; fi
    if [[ $try -eq 5 ]]; then
      lab_log "warning: $m busy, detaching it lazily"
      umount -l "$m" || lab_log "warning: could not unmount $m"
    fi
    sleep 0.3
  done
done < <(awk -v r="$LAB_RUN/" 'index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r)

# 4. cgroups
for h in "${LAB_HOSTS[@]}"; do lab_cg_prune "$h" all; done
for root in $(lab_cg_roots); do
  if [[ -d $root/$LAB_CG ]]; then
    rmdir "$root/$LAB_CG" 2>/dev/null || lab_log "warning: $root/$LAB_CG not empty"
  fi
done

# 5. network: namespaces (retrying "Device or resource busy"), the management veth
ip link del "$LAB_MGMT_IF" 2>/dev/null || true
for ns in "$LAB_SW_NS" $(for h in "${LAB_HOSTS[@]}"; do lab_ns "$h"; done); do
  for try in 1 2 3 4 5 6 7 8 9 10; do
    if [[ ! -e /run/netns/$ns ]] || ip netns del "$ns" 2>/dev/null; then break; fi
    if [[ $try -eq 10 ]]; then lab_log "warning: could not delete namespace $ns"; fi
    sleep 0.3
  done
done

# 6. runtime dir (upper dirs, pid files, logs)
if ! awk -v r="$LAB_RUN/" 'index($2, r) == 1 { f = 1 } END { exit !f }' /proc/self/mounts; then
  rm -rf "$LAB_RUN"
else
  lab_log "warning: something is still mounted below $LAB_RUN; leaving it"
fi

# report what is left, if anything
left=$(ip netns list 2>/dev/null | grep -E '^hc-' || true)
if [[ -n $left ]]; then lab_log "warning: namespaces left: $left"; fi
lab_log "lab down in $(lab_since "$T0") s"
