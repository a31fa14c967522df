# shellcheck shell=bash
# Hooks for the forwarding drop-in in /etc/sysctl.d: every key in it must exist under
# /proc/sys; applied with `sysctl -p`. The value found before is recorded once; removal
# turns forwarding off again only if it was off then.
before() { echo "$HC_STATE/ip_forward.before"; }
check() {
  local key
  while read -r key; do
    if [ ! -e "/proc/sys/$(printf %s "$key" | tr . /)" ]; then
      echo "unknown sysctl key $key: there is no /proc/sys entry for it"
      return 1
    fi
  done < <(sed -n 's/^ *\([a-z0-9_.]*\) *=.*$/\1/p' "$CANDIDATE")
}
activate() {
  if [ ! -e "$(before)" ]; then cat /proc/sys/net/ipv4/ip_forward >"$(before)"; fi
  sysctl -q -p "$HC_DEST"
}
revert() {
  if [ -f "$(before)" ] && [ "$(cat "$(before)")" = 0 ]; then sysctl -q -w net.ipv4.ip_forward=0; fi
  rm -f "$(before)"
}
