# shellcheck shell=bash
# Hooks for the nftables ruleset: checked by `nft -c -f` against the running kernel, loaded
# with `nft -f` (one atomic transaction) when the NAT unit runs; a stopped unit loads it at
# start. HC_UNIT: the unit that loads it. HC_IFACES: the interfaces its rules name; nft
# matches `iifname` as a plain string and accepts any name, so the check makes sure each
# one exists (a typo would otherwise cut the LAN's NAT).
check() {
  local iface
  nft -c -f "$CANDIDATE"
  for iface in ${HC_IFACES:?}; do
    if ! ip link show dev "$iface" >/dev/null 2>&1; then
      echo "interface $iface does not exist on this host; check homecloud:lanInterface and homecloud:wanInterface (ip link)"
      return 1
    fi
  done
}
activate() { if systemctl is-active -q "${HC_UNIT:?}"; then nft -f "$HC_DEST"; fi; }
revert() { rmdir --ignore-fail-on-non-empty "$(dirname "$HC_DEST")" 2>/dev/null || true; }
