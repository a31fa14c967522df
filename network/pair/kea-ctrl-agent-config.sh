# shellcheck shell=bash
# Hooks for Kea's Control Agent with two gateways: the HA partners' channel. `kea-ctrl-agent
# -t` checks the candidate; the agent keeps no state, so a restart is how a new listening
# address takes effect.
check() { kea-ctrl-agent -t "$CANDIDATE"; }
activate() { service_activate kea-ctrl-agent restart; }
revert() { service_revert kea-ctrl-agent; }
