# shellcheck shell=bash
# Hooks for the nftables ruleset: checked by `nft -c -f` against the running kernel, loaded
# with `nft -f` (one atomic transaction) when the NAT unit runs; a stopped unit loads it at
# start. HC_UNIT: the unit that loads it.
check() { nft -c -f "$CANDIDATE"; }
activate() { if systemctl is-active -q "${HC_UNIT:?}"; then nft -f "$HC_DEST"; fi; }
revert() { rmdir --ignore-fail-on-non-empty "$(dirname "$HC_DEST")" 2>/dev/null || true; }
