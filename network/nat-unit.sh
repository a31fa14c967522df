# shellcheck shell=bash
# Hooks for the unit that loads the ruleset and puts up the VIP at boot. The running unit
# is stopped with its OLD definition first, so a changed VIP or interface is taken down by
# the stop steps that put it up; then systemd reloads and the unit is enabled and started.
# Removal stops and disables it and, in case it was not running, deletes the table
# (HC_NFT_FAMILY HC_NFT_TABLE) and the VIP (HC_VIP on HC_WAN_IF) itself.
unit() { basename "$HC_DEST"; }
check() {
  # Global, not local: the EXIT trap runs after check() has returned.
  unit_dir=$(mktemp -d)
  trap 'rm -rf "$unit_dir"' EXIT
  cp "$CANDIDATE" "$unit_dir/$(unit)"
  systemd-analyze verify "$unit_dir/$(unit)"
}
activate() {
  systemctl stop "$(unit)" >/dev/null 2>&1 || true
  systemctl daemon-reload
  service_activate "$(unit)" restart
}
revert() {
  systemctl stop "$(unit)" >/dev/null 2>&1 || true
  systemctl disable -q "$(unit)" >/dev/null 2>&1 || true
  service_forget "$(unit)"
  systemctl daemon-reload
  nft delete table "${HC_NFT_FAMILY:?}" "${HC_NFT_TABLE:?}" >/dev/null 2>&1 || true
  ip addr del "${HC_VIP:?}/32" dev "${HC_WAN_IF:?}" >/dev/null 2>&1 || true
}
