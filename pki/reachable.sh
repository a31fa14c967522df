#!/bin/bash
# reachable.sh: run on the gateway; succeeds when node HC_NODE answers on HC_ADDRESS:HC_PORT
# (its SSH port), else fails saying what to do. It is the create and the delete of a node's
# guard step, which depends on every step on that node: taking a node out of homecloud:nodes
# deletes the guard first, so a node that no longer answers fails the run at once, naming
# homecloud:lostNodes, before any of its own steps dials it for minutes.
set -euo pipefail
node=${HC_NODE:?} address=${HC_ADDRESS:?} port=${HC_PORT:?}
tries=${HC_TRIES:-3}
for _ in $(seq "$tries"); do
  # shellcheck disable=SC2016 # expanded by the inner bash, from its arguments
  if timeout 5 bash -c ': <"/dev/tcp/$1/$2"' _ "$address" "$port" 2>/dev/null; then
    echo "homecloud: $node answers at $address:$port"
    exit 0
  fi
  sleep 2
done
echo "homecloud: $node ($address) does not answer on port $port from the gateway; if it is gone for good, add $node to homecloud:lostNodes: its steps on the node are then dropped without running (README: A node that is gone); if it is only down, bring it back and run pulumi up again" >&2
exit 1
