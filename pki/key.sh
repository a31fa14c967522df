#!/bin/bash
# key.sh request|forget: a key of this host and its certificate signing request.
#
#   request  makes the key HC_LABEL once (EC P-256, root only, 0600, never printed) and
#            prints a CSR for it with subject CN=HC_CN. The CSR is kept: while the key and
#            the name stay the same, a re-run prints the very same CSR, so nothing
#            downstream changes; renewals re-sign it with the same key.
#   forget   removes the key and its CSR.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=pki/lib.sh
. "$here/pki/lib.sh"
label=${HC_LABEL:?}
pki_label "$label"
key=$PKI_DIR/$label.key
csr=$PKI_DIR/$label.csr

request() {
  pki_need_openssl
  local cn=${HC_CN:?}
  install -d -m 0755 "$PKI_DIR"
  if [ ! -f "$key" ]; then
    rm -f "$key.new"
    (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$key.new")
    mv "$key.new" "$key"
    echo "homecloud: new key $key" >&2
  fi
  chmod 0600 "$key"
  if [ -f "$csr" ] && [ "$(openssl req -in "$csr" -noout -subject -nameopt RFC2253)" = "subject=CN=$cn" ] &&
    [ "$(pubkey_of_csr "$csr")" = "$(pubkey_of_key "$key")" ]; then
    echo "homecloud: $csr kept (same key, same name)" >&2
  else
    openssl req -new -key "$key" -subj "/CN=$cn" -sha256 -out "$csr.new"
    chmod 0644 "$csr.new"
    mv -f "$csr.new" "$csr"
    echo "homecloud: new request $csr for CN=$cn" >&2
  fi
  cat "$csr"
}

forget() {
  rm -f "$key" "$csr"
  pki_remove_empty "$PKI_DIR"
  echo "homecloud: $key removed"
}

case "${1:-}" in
  request) request ;;
  forget) forget ;;
  *) echo "usage: key.sh request|forget" >&2; exit 2 ;;
esac
