# shellcheck shell=bash
# Hooks for kea-dhcp-ddns's configuration. Kea 2.2 reads a TSIG secret only from the file
# itself, so `prepare` puts the gateway's own key (HC_KEY_FILE, made by ddns-keys.sh) in
# place of the token the program sent: the secret never travels and never reaches the
# program's state; the file is root:_kea 0640. The secret is substituted by bash itself,
# never in a command's arguments (which any local user can read in /proc/<pid>/cmdline),
# and it is never printed: the checker's output comes back with the token in its place.
# `kea-dhcp-ddns -t` checks the result; kea-dhcp-ddns re-reads its file on SIGHUP.

# tsig_secret: prints the secret of HC_KEY_FILE (to a variable of the caller).
tsig_secret() {
  sed -n 's/^[[:space:]]*secret "\([A-Za-z0-9+/=]*\)";.*/\1/p' "${HC_KEY_FILE:?}"
}

prepare() {
  local secret text
  secret=$(tsig_secret)
  if [ -z "$secret" ]; then
    echo "no TSIG secret in $HC_KEY_FILE"
    return 1
  fi
  text=$(<"$CANDIDATE")
  # Written in place: the candidate keeps the mode and owner host-file.sh gave it.
  printf '%s\n' "${text//@TSIG_SECRET@/$secret}" >"$CANDIDATE"
}

check() {
  local secret out
  secret=$(tsig_secret)
  if ! out=$(kea-dhcp-ddns -t "$CANDIDATE" 2>&1); then
    printf '%s\n' "${out//"$secret"/@TSIG_SECRET@}"
    return 1
  fi
}
activate() { service_activate kea-dhcp-ddns-server hup; }
revert() { service_revert kea-dhcp-ddns-server; }
