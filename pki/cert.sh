# shellcheck shell=bash
# Hooks (host/scripts/host-file.sh) for a certificate signed for one of this host's keys:
# it must belong to the key HC_KEY and verify against the CA in the system trust store, or
# the installed certificate stays as it is.

# TRUST_FILE, from the PKI scripts' shared paths beside this file.
# shellcheck source=pki/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

check() {
  openssl x509 -in "$CANDIDATE" -noout
  if [ "$(openssl x509 -in "$CANDIDATE" -noout -pubkey)" != "$(openssl pkey -in "${HC_KEY:?}" -pubout)" ]; then
    echo "the certificate is not for $HC_KEY" >&2
    return 1
  fi
  openssl verify -CAfile "$TRUST_FILE" "$CANDIDATE"
}
