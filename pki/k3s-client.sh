#!/bin/bash
# k3s-client.sh sign|forget: on the first K3s server, signs the CSR on stdin with K3s's client CA
# (what every API server of the cluster trusts for client certificates: kube-apiserver's
# --client-ca-file) for HC_DAYS days, and prints the certificate followed by that CA's.
# Any authenticated user may GET /readyz (the system:public-info-viewer role), so the
# certificate needs no group. While this host has no client CA yet (K3s not installed) it
# prints nothing: HAProxy then checks the API without a certificate.
# HC_ISSUE (the renewal epoch) is only in the command line: a new epoch re-signs. The same
# request, days, epoch and CA again (a re-run) prints the certificate signed before, kept in
# $PKI_DIR/k3s-api-check-issued.crt: a re-run must not hand HAProxy a new certificate.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=pki/lib.sh
. "$here/pki/lib.sh"
K3S_TLS=/var/lib/rancher/k3s/server/tls

sign() {
  pki_need_openssl
  local days=${HC_DAYS:?} ca=$K3S_TLS/client-ca.crt ca_key=$K3S_TLS/client-ca.key fp rec=$PKI_DIR/k3s-api-check-issued
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
  fp=$({ cat "$tmp/request.csr"; printf '%s\n' "$days" "${HC_ISSUE:-}"; cat "$ca"; } | sha256sum | cut -d ' ' -f 1)
  if [ -f "$rec.crt" ] && [ "$(cat "$rec.request" 2>/dev/null)" = "$fp" ] &&
    openssl verify -CAfile "$ca" "$rec.crt" >/dev/null 2>&1; then
    echo "homecloud: already signed for this request, $(openssl x509 -in "$rec.crt" -noout -enddate)" >&2
    cat "$rec.crt" "$ca"
    return 0
  fi
  printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
    'extendedKeyUsage=clientAuth' >"$tmp/ext"
  openssl x509 -req -in "$tmp/request.csr" -CA "$ca" -CAkey "$ca_key" -set_serial "0x$(openssl rand -hex 16)" \
    -days "$days" -sha256 -extfile "$tmp/ext" -out "$tmp/client.crt" 2>/dev/null
  install -d -m 0755 "$PKI_DIR"
  install -m 0600 "$tmp/client.crt" "$rec.crt.new"
  mv -f "$rec.crt.new" "$rec.crt"
  printf '%s\n' "$fp" >"$rec.request"
  echo "homecloud: signed $(openssl x509 -in "$rec.crt" -noout -subject -nameopt RFC2253) with $ca for $days days" >&2
  cat "$rec.crt" "$ca"
}

# forget: the record of what was signed goes (the certificate stays valid until it expires).
forget() {
  rm -f "$PKI_DIR/k3s-api-check-issued.crt" "$PKI_DIR/k3s-api-check-issued.request"
  pki_remove_empty "$PKI_DIR"
  echo "homecloud: record of the API check's certificate removed"
}

case "${1:-}" in
  sign) sign ;;
  forget) forget ;;
  *) echo "usage: k3s-client.sh sign|forget" >&2; exit 2 ;;
esac
