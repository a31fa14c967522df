#!/bin/bash
# Runs one lab host: a loop around systemd-nspawn that boots it again when it exits
# with 133 (`systemctl reboot` inside), after putting its network namespace back to the
# lab's power-on state. Started (detached) by up.sh; stopped by down.sh.
#   host-run.sh <host> <rootfs-merged-dir>
set -euo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"

HOST=$1
MERGED=$2
HDIR=$(lab_hdir "$HOST")
NS=$(lab_ns "$HOST")
echo $$ >"$HDIR/wrapper.pid" # recorded by the process itself

npid=
on_term() {
  : >"$HDIR/stop"
  if [[ -n $npid ]]; then kill -TERM "$npid" 2>/dev/null || true; fi
}
trap on_term TERM INT HUP
trap 'lab_log "$HOST: wrapper failed (line $LINENO: $BASH_COMMAND)"' ERR

# More systemd-nspawn arguments, one a line (lab/cluster.sh: read-only binaries for a server).
extra=()
if [[ -s $HDIR/nspawn.args ]]; then mapfile -t extra <"$HDIR/nspawn.args"; fi

boots=0
while [[ ! -e $HDIR/stop ]]; do
  t0=$(lab_now)
  lab_cg_prune "$HOST"
  if ((boots == 0)); then lab_reset_ns "$HOST" first; else lab_reset_ns "$HOST"; fi
  boots=$((boots + 1))
  lab_log "$HOST: boot #$boots (namespace $NS reset in $(lab_since "$t0") s)"
  (
    lab_cg_enter "$HOST" "$BASHPID"
    echo "$BASHPID" >"$HDIR/nspawn.pid" # recorded by the process itself
    exec env SYSTEMD_NSPAWN_API_VFS_WRITABLE=network systemd-nspawn -b -D "$MERGED" -M "$HOST" \
      --register=no --keep-unit --network-namespace-path="/run/netns/$NS" \
      --capability=CAP_NET_ADMIN --console=read-only --resolv-conf=off --link-journal=no "${extra[@]}"
  ) </dev/null >>"$HDIR/console.log" 2>&1 &
  npid=$!
  echo "$boots" >"$HDIR/boots"
  rc=0
  while :; do
    wait "$npid" && rc=0 || rc=$?
    kill -0 "$npid" 2>/dev/null || break # else: a trap interrupted wait
  done
  npid=
  rm -f "$HDIR/nspawn.pid"
  lab_log "$HOST: container exited with $rc"
  [[ $rc -eq 133 ]] || break
done
lab_log "$HOST: wrapper done"
rm -f "$HDIR/wrapper.pid"
