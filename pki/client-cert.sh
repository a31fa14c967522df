# shellcheck shell=bash
# Hooks (host/scripts/host-file.sh) for a client certificate another CA signed for one of
# this host's keys (K3s's client CA, for HAProxy's API check): the file holds the
# certificate, then its CA's. It must belong to the key HC_KEY and verify against the CA it
# carries, or the installed file stays as it is. An empty file is "no certificate yet"
# (K3s not installed): HAProxy's configuration then names none.

# shellcheck source=pki/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

check() {
  if [ ! -s "$CANDIDATE" ]; then
    return 0
  fi
  if [ "$(pubkey_of_cert "$CANDIDATE")" != "$(pubkey_of_key "${HC_KEY:?}")" ]; then
    echo "the certificate is not for $HC_KEY" >&2
    return 1
  fi
  openssl verify -purpose sslclient -CAfile "$CANDIDATE" "$CANDIDATE"
}
