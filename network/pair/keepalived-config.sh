# shellcheck shell=bash
# Hooks for keepalived's configuration (host/scripts/host-file.sh sources lib.sh, then this).
# `keepalived -t` parses the candidate completely and fails on every warning too (an unknown
# interface, a health-check script it could not run), so a file it rejects never replaces
# the running one. Debian's unit reloads on SIGHUP: the VRRP instance keeps its state, so a
# reload does not move the addresses. The file holds the VRRP password: root only (0600).
check() { keepalived -t -f "$CANDIDATE"; }
activate() { service_activate keepalived reload; }
# A keepalived in charge takes the VIP and the floating address with it when it stops; with
# one gateway again the NAT unit (already in its one-gateway form) puts the VIP back.
revert() {
  service_revert keepalived
  systemctl try-restart "${HC_NAT_UNIT:?}"
}
