#!/bin/bash
# test/integration/run.sh: the lab integration tier. Fresh lab, snapshot of the gateway,
# the SSH engine's first `up` (timed), the phases of the lab run (which also time the no-op
# up and the destroy), then the lab always comes down. Needs root.
#
# The phases are the files NN-<topic>.test.ts, run in one mocha process in their number's
# order, each building on the one before; 90-destroy.test.ts destroys what the first `up`
# made. A phase that needs the deployed lab takes a number below 90; any other *.test.ts
# here runs after the numbered phases, on the destroyed lab.
set -euo pipefail

cd "$(dirname "$0")/../.."
RUN_DIR=${HOMECLOUD_LAB_RUN:-/run/homecloud-lab}
export HOMECLOUD_LAB_RUN=$RUN_DIR
export SSH_ENGINE_STATE=${SSH_ENGINE_STATE:-$RUN_DIR/ssh-engine-state.json}
export TS_NODE_TRANSPILE_ONLY=1

if [[ $(id -u) -ne 0 ]]; then
  echo "test/integration/run.sh: must run as root (the lab uses namespaces and systemd-nspawn); try: sudo make test-lab" >&2
  exit 1
fi

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

t_all=$(now)
trap 'bash lab/down.sh' EXIT

t=$(now)
bash lab/up.sh --recreate
lab_up=$(since "$t")

rm -f "$SSH_ENGINE_STATE"
rm -rf "$RUN_DIR/before" "$RUN_DIR/after"
bash lab/snapshot.sh "$RUN_DIR/before"

t=$(now)
npx ts-node lab/engine/sshEngine.ts up | tee "$RUN_DIR/first-up.log"
first_up=$(since "$t")

# Globs expand sorted (byte order here): 01 < 02 < ... < 90.
LC_COLLATE=C
phases=() others=()
for f in test/integration/*.test.ts; do
  if [[ $(basename "$f") =~ ^[0-9][0-9]- ]]; then phases+=("$f"); else others+=("$f"); fi
done
echo "lab phases: ${phases[*]##*/}${others[*]:+; then ${others[*]##*/}}"
rc=0
npx mocha --timeout 600000 "${phases[@]}" "${others[@]}" || rc=$?

echo
echo "== measured times =="
echo "lab up (--recreate):  ${lab_up} s"
echo "first engine up:      ${first_up} s ($(grep '^summary' "$RUN_DIR/first-up.log" || true))"
for f in noop-up force-up reservation-up destroy lost-base-up lost-without-list lost-up hostkeys-first-up hostkeys-refused-up hostkeys-pinned-up; do
  if [[ -f $RUN_DIR/$f.log ]]; then
    printf '%-21s %s s (%s)\n' "$f:" "$(cat "$RUN_DIR/$f.time" 2>/dev/null || echo '?')" "$(grep '^summary' "$RUN_DIR/$f.log" || true)"
  fi
done
echo "whole run.sh:         $(since "$t_all") s (before lab down)"
if [[ -f $RUN_DIR/balancer-figures.txt ]]; then
  echo
  echo "== the VIP's health-checked balancing (HAProxy), measured =="
  cat "$RUN_DIR/balancer-figures.txt"
fi
exit "$rc"
