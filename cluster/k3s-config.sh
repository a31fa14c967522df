# shellcheck shell=bash
# Hooks for /etc/rancher/k3s/config.yaml and registries.yaml (K3s reads both only when it
# starts): a change restarts the node's K3s (HC_UNIT, k3s or k3s-agent) when it runs; the
# phases keep that to one node at a time. The K3s units have
# TimeoutStartSec=0, so a plain `systemctl restart` of a K3s that cannot start never returns:
# the restart is queued (--no-block) and waited for at most HC_WAIT_SECONDS (default 300).
activate() {
  local unit=${HC_UNIT:?} wait=${HC_WAIT_SECONDS:-300} poll=${HC_POLL_SECONDS:-5} file deadline
  file=$(basename "${HC_DEST:-config.yaml}")
  if ! systemctl is-active --quiet "$unit"; then
    return 0
  fi
  systemctl restart --no-block "$unit"
  deadline=$((SECONDS + wait))
  until timeout 10 systemctl is-active --quiet "$unit"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "homecloud: ${HC_NODE:-$(hostname)}: timed out after $wait s waiting for $unit to be active again after its $file changed; see journalctl -u $unit on ${HC_NODE:-$(hostname)}" >&2
      return 1
    fi
    sleep "$poll"
  done
}

# The file taken away (homecloud:registryMirrors emptied): K3s forgets it only when it
# restarts. A removed config.yaml goes after K3s itself was uninstalled: nothing runs then.
revert() { activate; }
