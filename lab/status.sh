#!/bin/bash
# lab/status.sh: one line per lab host (wrapper, container init, boots, sshd).
set -euo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
[[ -d $LAB_RUN ]] || { echo "lab is down"; exit 1; }
rc=0
for h in "${LAB_HOSTS[@]}"; do
  hdir=$(lab_hdir "$h")
  wpid=$(lab_read_pid "$hdir/wrapper.pid")
  lab_pid_matches "${wpid:-x}" host-run.sh || wpid=-
  ipid=$(lab_init_pid "$h" || echo -)
  if lab_ssh_ok "$h"; then ssh=ok; else ssh=DOWN; rc=1; fi
  printf '%-7s wrapper=%-7s init=%-7s boots=%-3s ssh=%s\n' "$h" "$wpid" "$ipid" \
    "$(cat "$hdir/boots" 2>/dev/null || echo 0)" "$ssh"
done
exit $rc
