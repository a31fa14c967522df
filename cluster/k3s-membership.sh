# shellcheck shell=bash disable=SC2154 # k3s-node.sh sets the variables and sources this
# The membership phase of k3s-node.sh, run on the first server: member-ready, member-remove,
# and the waits the add-ons need (admission-ready, adopt-crds). Sourced, never run.

node_runs_version() {
  [ "$(probe "$K3S_BIN" kubectl get node "$HC_NODE" --ignore-not-found -o jsonpath='{.status.nodeInfo.kubeletVersion}' 2>/dev/null)" = "$HC_VERSION" ]
}

# Waits until node HC_NODE reports kubelet HC_VERSION and is Ready.
wait_node_ready() {
  : "${HC_NODE:?}" "${HC_VERSION:?}"
  local log="journalctl -u k3s (a server) or journalctl -u k3s-agent (an agent) on $HC_NODE"
  wait_for "$HC_NODE to register with the cluster running $HC_VERSION" "$log" node_runs_version
  if ! timeout -k 10 $((WAIT_SECONDS + 10)) "$K3S_BIN" kubectl wait --for=condition=Ready "node/$HC_NODE" --timeout="${WAIT_SECONDS}s" >&2; then
    timed_out "$WAIT_SECONDS" "$HC_NODE to be Ready" "$log"
  fi
}

member_ready() {
  # HC_CONFIG_SHA256 (the node's config.yaml) is only here so that a config change re-runs
  # this step in place: it restarted K3s on the node.
  wait_node_ready
  echo "homecloud: $HC_NODE is Ready with $HC_VERSION"
}

node_ready() {
  [ "$(probe "$K3S_BIN" kubectl get node "$HC_NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

# A Ready node is drained as usual (evictions honour disruption budgets; a failure stops
# here, with the Node still there). A node that is not Ready has no kubelet to confirm that a
# pod is gone, so its pods would stay Terminating and a plain drain waits out its timeout:
# delete them instead of evicting (--force, --disable-eviction) and stop waiting for any
# whose deletion is more than a second old (--skip-wait-for-delete-timeout: kubectl's
# drain skips such pods when it waits, staging/src/k8s.io/kubectl/pkg/drain/drain.go,
# waitForDelete/shouldSkipPod). Whatever that drain leaves, the Node is deleted: that is
# what makes K3s remove a server's etcd member (pkg/etcd/member_controller.go, onRemove).
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
  if node_ready; then
    timeout -k 10 $((WAIT_SECONDS + 10)) "$K3S_BIN" kubectl drain "$HC_NODE" --ignore-daemonsets --delete-emptydir-data --timeout="${WAIT_SECONDS}s"
    "$K3S_BIN" kubectl delete node "$HC_NODE" --timeout="${WAIT_SECONDS}s"
    echo "homecloud: $HC_NODE drained and removed from the cluster"
    return 0
  fi
  echo "homecloud: $HC_NODE is not Ready; deleting its pods without waiting for its kubelet" >&2
  if ! timeout -k 10 $((WAIT_SECONDS + 10)) "$K3S_BIN" kubectl drain "$HC_NODE" --ignore-daemonsets --delete-emptydir-data \
    --force --disable-eviction --skip-wait-for-delete-timeout=1 --timeout="${WAIT_SECONDS}s" >&2; then
    echo "homecloud: the drain of $HC_NODE did not finish within ${WAIT_SECONDS} s; deleting its Node anyway" >&2
  fi
  "$K3S_BIN" kubectl delete node "$HC_NODE" --timeout="${WAIT_SECONDS}s"
  echo "homecloud: $HC_NODE (not Ready) removed from the cluster; its pods were deleted without its kubelet"
}

# A validating webhook's Deployment can be Ready before the webhook serves (MetalLB's
# controller is Ready on its own /readyz, port 17472, not the webhook server's 9443), and the
# Kubernetes provider does not retry a webhook's refusal. So before objects that go through
# one are created, wait until the API server accepts them in a server-side dry run: that
# calls every admission webhook they match.
admission_ready() {
  local tmp deadline=$((SECONDS + WAIT_SECONDS))
  : "${HC_WHAT:?}"
  need_kubectl
  tmp=$(mktemp)
  # shellcheck disable=SC2064 # expand now: the trap runs after this function's scope
  trap "rm -f '$tmp' '$tmp.err'" EXIT
  cat >"$tmp"
  until probe "${KUBECTL[@]}" apply --dry-run=server -f "$tmp" >/dev/null 2>"$tmp.err"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "homecloud: $HERE: timed out after $WAIT_SECONDS s waiting for the API server to accept $HC_WHAT (server-side dry run); last answer: $(tail -n 1 "$tmp.err")" >&2
      exit 1
    fi
    sleep "$POLL_SECONDS"
  done
  echo "homecloud: the API server accepts $HC_WHAT"
}

# Hands CRDs an earlier chart installed (from its crds/, so without Helm ownership) to the
# Helm release HC_RELEASE in HC_NAMESPACE, as the Traefik chart's README does before its
# CRDs chart is installed: Helm adopts an existing object only when it carries the
# managed-by label and the release's name and namespace annotations. CRDs are those whose
# name ends in .HC_GROUP, not .HC_EXCEPT; already owned ones are left alone.
adopt_crds() {
  local crd owned n=0 what
  : "${HC_RELEASE:?}" "${HC_NAMESPACE:?}" "${HC_GROUP:?}"
  need_kubectl
  what=$(cluster_api_what)
  wait_for "${what%%|*}" "${what#*|}" cluster_api_ready
  for crd in $("${KUBECTL[@]}" get crd -o name | sed -n "s|^customresourcedefinition.apiextensions.k8s.io/||p"); do
    if [ -n "${HC_EXCEPT:-}" ]; then
      case "$crd" in *."$HC_EXCEPT"."$HC_GROUP") continue ;; esac
    fi
    case "$crd" in
      *."$HC_GROUP") ;;
      *) continue ;;
    esac
    owned=$("${KUBECTL[@]}" get crd "$crd" -o "jsonpath={.metadata.annotations.meta\.helm\.sh/release-name}")
    if [ "$owned" = "$HC_RELEASE" ]; then
      continue
    fi
    "${KUBECTL[@]}" label --overwrite crd "$crd" app.kubernetes.io/managed-by=Helm >/dev/null
    "${KUBECTL[@]}" annotate --overwrite crd "$crd" "meta.helm.sh/release-name=$HC_RELEASE" "meta.helm.sh/release-namespace=$HC_NAMESPACE" >/dev/null
    n=$((n + 1))
  done
  echo "homecloud: $n CRDs of $HC_GROUP handed to the Helm release $HC_NAMESPACE/$HC_RELEASE"
}
