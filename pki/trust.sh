# shellcheck shell=bash
# Hooks (host/scripts/host-file.sh) for the CA certificate in the system trust store,
# /usr/local/share/ca-certificates/homecloud-ca.crt: one CA certificate per file, as
# update-ca-certificates wants; activated into /etc/ssl/certs; on removal the store is
# rebuilt from scratch, so no link or bundle entry of it is left.

check() {
  [ "$(grep -c -- '-----BEGIN CERTIFICATE-----' "$CANDIDATE")" = 1 ]
  openssl x509 -in "$CANDIDATE" -noout
  # grep reads it all (no -q): under pipefail an early exit could fail openssl's write.
  openssl x509 -in "$CANDIDATE" -noout -ext basicConstraints | grep 'CA:TRUE' >/dev/null
}

activate() {
  update-ca-certificates
  # The bundle every TLS client reads now holds it.
  grep -qF -- "$(sed -n 2p "$HC_DEST")" /etc/ssl/certs/ca-certificates.crt
}

revert() {
  update-ca-certificates --fresh
}
