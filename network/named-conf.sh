# shellcheck shell=bash
# Hooks for a file the top-level named.conf includes (named.conf.options, .local).
# `named-checkconf` on the candidate alone cannot see the rest of the configuration, so the
# candidate is also checked in place: a copy of the top-level file (HC_NAMED_CONF, default
# /etc/bind/named.conf) whose include of HC_DEST points at the candidate is checked with
# -z, loading every zone, before anything is moved.
check() {
  local top=${HC_NAMED_CONF:-/etc/bind/named.conf} pattern
  named-checkconf "$CANDIDATE"
  # Global, not local: the EXIT trap runs after check() has returned.
  named_conf_copy=$(mktemp /tmp/homecloud-named.conf.XXXXXX)
  trap 'rm -f "$named_conf_copy"' EXIT
  pattern=$(printf '%s' "$HC_DEST" | sed 's/[.]/\\./g')
  sed "s|\"$pattern\"|\"$CANDIDATE\"|" "$top" >"$named_conf_copy"
  named-checkconf -z "$named_conf_copy"
}
activate() { service_activate named reload; }
revert() { service_revert named; }
