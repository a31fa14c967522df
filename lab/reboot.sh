#!/bin/bash
# lab/reboot.sh <host> [timeout-seconds]: `systemctl reboot` inside the host, then wait
# until it has booted again (its namespace reset by the lab) and sshd lets pi in.
set -euo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"

[[ $# -ge 1 ]] || lab_die "usage: lab/reboot.sh <host> [timeout-seconds]"
host=$1
timeout=${2:-90}
lab_is_host "$host" || lab_die "unknown host '$host' (hosts: ${LAB_HOSTS[*]})"
lab_require_root
hdir=$(lab_hdir "$host")
before=$(cat "$hdir/boots" 2>/dev/null || echo 0)
t0=$(lab_now)
"$LAB_DIR/exec" "$host" systemctl reboot
deadline=$(($(date +%s) + timeout))
until [[ $(cat "$hdir/boots" 2>/dev/null || echo 0) -gt $before ]]; do
  (($(date +%s) < deadline)) || lab_die "$host did not come back within $timeout s"
  if [[ ! -e $hdir/wrapper.pid ]]; then lab_die "$host: its wrapper ended (see $hdir/wrapper.log)"; fi
  sleep 0.2
done
until lab_ssh_ok "$host"; do
  (($(date +%s) < deadline)) || lab_die "$host: sshd not answering within $timeout s"
  sleep 0.3
done
lab_log "$host rebooted: boot #$(cat "$hdir/boots"), sshd answers after $(lab_since "$t0") s"
