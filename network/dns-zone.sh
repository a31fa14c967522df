# shellcheck shell=bash
# Hooks for a zone file. HC_ZONE: the zone's name. A running named loads it with
# `rndc reload`; a stopped one reads it at start. On removal the program's zone directory
# goes too once it is empty.
check() { named-checkzone "${HC_ZONE:?}" "$CANDIDATE"; }
activate() { if systemctl is-active -q named; then rndc reload; fi; }
revert() { rmdir --ignore-fail-on-non-empty "$(dirname "$HC_DEST")" 2>/dev/null || true; }
