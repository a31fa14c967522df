# shellcheck shell=bash
# Hooks for kea-dhcp-ddns's configuration. Kea 2.2 reads a TSIG secret only from the file
# itself, so `prepare` puts the gateway's own key (HC_KEY_FILE, made by ddns-keys.sh) in
# place of the token the program sent: the secret never travels and never reaches the
# program's state; the file is root:_kea 0640. `kea-dhcp-ddns -t` checks the result;
# kea-dhcp-ddns re-reads its file on SIGHUP.
prepare() {
  local secret
  secret=$(sed -n 's/^[[:space:]]*secret "\([A-Za-z0-9+/=]*\)";.*/\1/p' "${HC_KEY_FILE:?}")
  if [ -z "$secret" ]; then
    echo "no TSIG secret in $HC_KEY_FILE"
    return 1
  fi
  sed -i "s|@TSIG_SECRET@|$secret|" "$CANDIDATE"
}
check() { kea-dhcp-ddns -t "$CANDIDATE"; }
activate() { service_activate kea-dhcp-ddns-server hup; }
revert() { service_revert kea-dhcp-ddns-server; }
