# shellcheck shell=bash disable=SC2034 # the paths are for the scripts that source this
# Paths and helpers the PKI scripts share. Sourced, never run.

# Every host: its own keys (root only), their CSRs and the certificates signed for them.
PKI_DIR=/etc/homecloud/pki
# The gateway only: the CA's key and certificate, and a record of what it signed.
CA_DIR=/etc/homecloud/ca
# The CA certificate in the system trust store (update-ca-certificates reads this directory).
TRUST_FILE=/usr/local/share/ca-certificates/homecloud-ca.crt

pki_need_openssl() {
  if ! command -v openssl >/dev/null 2>&1; then
    echo "homecloud: openssl is missing on this host; install the openssl and ca-certificates packages" >&2
    exit 1
  fi
}

# pki_label NAME: NAME is a file name the program made (lower case, digits, hyphens).
pki_label() {
  case "$1" in
    '' | *[!a-z0-9-]*) echo "homecloud: '$1' is not a certificate name (a-z, 0-9, -)" >&2; exit 2 ;;
  esac
}

pubkey_of_key() { openssl pkey -in "$1" -pubout; }
pubkey_of_csr() { openssl req -in "$1" -noout -pubkey; }
pubkey_of_cert() { openssl x509 -in "$1" -noout -pubkey; }

# pki_remove_empty DIR...: removes each directory that is empty, then /etc/homecloud if it is.
pki_remove_empty() {
  local d
  for d in "$@" /etc/homecloud; do
    if [ -d "$d" ]; then rmdir --ignore-fail-on-non-empty "$d"; fi
  done
}
