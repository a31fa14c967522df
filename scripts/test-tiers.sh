#!/usr/bin/env bash
# `make test`: every tier in order (unit, checkers, the cluster node where `make cluster-node`
# built it, lab, then the real-engine gates where the Pulumi CLI is installed), each one's output shown as it runs, then one line per tier: its
# count, or SKIPPED and why, or FAILED, or NOT RUN after an earlier failure. A failing tier
# stops the run (the later ones need what it checks) and fails `make test`.
#
#   scripts/test-tiers.sh [tier...]   default: unit checkers cluster lab e2e
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
tiers=("$@")
[ ${#tiers[@]} -gt 0 ] || tiers=(unit checkers cluster lab e2e)
declare -A line
failed=""

# passing <log>: the sum of mocha's "N passing" lines in the log.
passing() { grep -Eo '^ *[0-9]+ passing' "$1" | awk '{ n += $1 } END { print n + 0 }'; }

run_tier() { # run_tier <tier> <command...>
  local tier=$1 log=$logs/$1.log
  shift
  if [ -n "$failed" ]; then
    line[$tier]="NOT RUN ($failed failed)"
    return
  fi
  echo "== tier: $tier =="
  if "$@" 2>&1 | tee "$log"; then
    case "$tier" in
      e2e)
        if grep -q '^e2e: SKIPPED' "$log"; then
          line[$tier]="SKIPPED: $(sed -n 's/^e2e: SKIPPED, //p' "$log" | head -1)"
        else
          line[$tier]="$(grep -Eo '^e2e: all [0-9]+ gates passed' "$log" | sed 's/^e2e: all //')"
        fi
        ;;
      cluster)
        if grep -q '^cluster-node: SKIPPED' "$log"; then
          line[$tier]="SKIPPED: $(sed -n 's/^cluster-node: SKIPPED, //p' "$log" | head -1)"
        else
          line[$tier]="$(passing "$log") passing"
        fi
        ;;
      *) line[$tier]="$(passing "$log") passing" ;;
    esac
  else
    line[$tier]="FAILED ($(passing "$log") passing before the failure; its output is above)"
    failed=$tier
  fi
}

for tier in "${tiers[@]}"; do
  case "$tier" in
    unit) run_tier unit make --no-print-directory test-unit ;;
    checkers) run_tier checkers make --no-print-directory test-checkers ;;
    cluster) run_tier cluster make --no-print-directory test-cluster-node ;;
    lab) run_tier lab make --no-print-directory test-lab ;;
    e2e) run_tier e2e make --no-print-directory e2e-if-present ;;
    *) echo "test-tiers: unknown tier '$tier' (unit, checkers, cluster, lab, e2e)" >&2; exit 2 ;;
  esac
done

echo
echo "== tiers =="
for tier in "${tiers[@]}"; do
  printf '%-9s %s\n' "$tier:" "${line[$tier]}"
done
[ -z "$failed" ]
