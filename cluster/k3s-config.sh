# shellcheck shell=bash
# Hooks for /etc/rancher/k3s/config.yaml: a change restarts the node's K3s (HC_UNIT, k3s or
# k3s-agent) when it runs; the phases keep that to one node at a time.
activate() { if systemctl is-active --quiet "${HC_UNIT:?}"; then systemctl restart "$HC_UNIT"; fi; }
