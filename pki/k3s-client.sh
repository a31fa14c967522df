#!/bin/bash
# k3s-client.sh sign: on the first K3s server, signs the CSR on stdin with K3s's client CA
# (what every API server of the cluster trusts for client certificates: kube-apiserver's
# --client-ca-file) for HC_DAYS days, and prints the certificate followed by that CA's.
# Any authenticated user may GET /readyz (the system:public-info-viewer role), so the
# certificate needs no group. While this host has no client CA yet (K3s not installed) it
# prints nothing: HAProxy then checks the API without a certificate.
# HC_ISSUE (the renewal epoch) is only in the command line: a new epoch re-signs.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=pki/lib.sh
. "$here/pki/lib.sh"
K3S_TLS=/var/lib/rancher/k3s/server/tls

sign() {
  pki_need_openssl
  local days=${HC_DAYS:?} ca=$K3S_TLS/client-ca.crt ca_key=$K3S_TLS/client-ca.key
  # Global: the EXIT trap runs after this function has returned.
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cat >"$tmp/request.csr"
  if [ ! -f "$ca" ] || [ ! -f "$ca_key" ]; then
    echo "homecloud: no K3s client CA in $K3S_TLS yet; HAProxy checks the API without a client certificate" >&2
    return 0
  fi
  openssl req -in "$tmp/request.csr" -noout -verify 2>/dev/null || {
    echo "homecloud: the request on stdin is not a valid CSR" >&2
    return 1
  }
  printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
    'extendedKeyUsage=clientAuth' >"$tmp/ext"
  openssl x509 -req -in "$tmp/request.csr" -CA "$ca" -CAkey "$ca_key" -set_serial "0x$(openssl rand -hex 16)" \
    -days "$days" -sha256 -extfile "$tmp/ext" -out "$tmp/client.crt" 2>/dev/null
  echo "homecloud: signed $(openssl x509 -in "$tmp/client.crt" -noout -subject -nameopt RFC2253) with $ca for $days days" >&2
  cat "$tmp/client.crt" "$ca"
}

case "${1:-}" in
  sign) sign ;;
  *) echo "usage: k3s-client.sh sign" >&2; exit 2 ;;
esac
