#!/bin/bash
# ca.sh create|remove|sign|unsign: the home cloud's private CA, on the gateway only. Data
# goes to stdout (certificates, public), what happened to stderr.
#
#   create  makes the CA once: an EC P-256 key (root only, 0600, never printed) and a
#           self-signed certificate for HC_CA_CN, valid HC_CA_DAYS days, its names
#           constrained to HC_PERMITTED (the domain and the LAN). An existing CA is kept as
#           it is, whatever the line says, so a re-run or a changed line never replaces it.
#           Prints the CA certificate.
#   remove  removes the CA only when HC_CA_DESTROY=1 (homecloud:caDestroy); otherwise keeps
#           it and says how to remove it.
#   sign    signs the CSR on stdin as HC_NAME: HC_PROFILE server (HC_SANS, server and client
#           use) or intermediate (a CA for the cluster, path length 0, HC_PERMITTED), valid
#           HC_DAYS days. The gateway decides every extension; the CSR gives only its key and
#           subject. The same request (CSR, profile, names, lifetime, HC_ISSUE, the CA) prints
#           the certificate signed for it before, so a re-run changes nothing. Prints the
#           certificate.
#   unsign  forgets the record of HC_NAME.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=pki/lib.sh
. "$here/pki/lib.sh"
key=$CA_DIR/ca.key
crt=$CA_DIR/ca.crt

create() {
  pki_need_openssl
  if [ -e "$key" ] && [ -e "$crt" ]; then
    if [ "$(pubkey_of_key "$key")" != "$(pubkey_of_cert "$crt")" ]; then
      echo "homecloud: $crt does not belong to $key; put the pair back or rotate the CA on purpose (README: rotating the CA)" >&2
      return 1
    fi
    echo "homecloud: CA kept: $(openssl x509 -in "$crt" -noout -subject -enddate | tr '\n' ' ')" >&2
    cat "$crt"
    return 0
  fi
  if [ -e "$key" ] || [ -e "$crt" ]; then
    echo "homecloud: $CA_DIR holds only half a CA; refusing to make a new one over it (README: rotating the CA)" >&2
    return 1
  fi
  install -d -m 0700 "$CA_DIR" "$CA_DIR/issued"
  tmp=$(mktemp -d "$CA_DIR/.new.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  printf '%s\n' '[req]' 'distinguished_name = dn' 'x509_extensions = ca' 'prompt = no' \
    '[dn]' "CN = ${HC_CA_CN:?}" \
    '[ca]' 'basicConstraints = critical,CA:TRUE' 'keyUsage = critical,keyCertSign,cRLSign' \
    'subjectKeyIdentifier = hash' "nameConstraints = critical,${HC_PERMITTED:?}" >"$tmp/ca.cnf"
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ca.key")
  openssl req -x509 -new -config "$tmp/ca.cnf" -key "$tmp/ca.key" -sha256 -days "${HC_CA_DAYS:?}" \
    -set_serial "0x$(openssl rand -hex 16)" -out "$tmp/ca.crt"
  chmod 0600 "$tmp/ca.key"
  chmod 0644 "$tmp/ca.crt"
  # The key first: a crash in between leaves half a CA, which create refuses to overwrite.
  mv "$tmp/ca.key" "$key"
  mv "$tmp/ca.crt" "$crt"
  echo "homecloud: CA created: $(openssl x509 -in "$crt" -noout -subject -enddate | tr '\n' ' ')" >&2
  cat "$crt"
}

remove() {
  if [ "${HC_CA_DESTROY:-0}" != 1 ]; then
    if [ -d "$CA_DIR" ]; then
      echo "homecloud: CA kept in $CA_DIR (every certificate it signed depends on it); to remove it set homecloud:caDestroy true, run up, then destroy"
    fi
    return 0
  fi
  rm -rf "$CA_DIR"
  pki_remove_empty "$CA_DIR"
  echo "homecloud: CA removed from $CA_DIR"
}

sign() {
  pki_need_openssl
  local name=${HC_NAME:?} profile=${HC_PROFILE:-server} fp
  pki_label "$name"
  local rec=$CA_DIR/issued/$name
  if [ ! -f "$key" ] || [ ! -f "$crt" ]; then
    echo "homecloud: no CA in $CA_DIR; the CA's step (ca.sh create) makes it first" >&2
    return 1
  fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cat >"$tmp/req.csr"
  if ! openssl req -in "$tmp/req.csr" -noout -verify >/dev/null 2>&1; then
    echo "homecloud: $name: stdin is not a valid certificate signing request" >&2
    return 1
  fi
  fp=$({ cat "$tmp/req.csr"; printf '%s\n' "$profile" "${HC_SANS:-}" "${HC_DAYS:?}" "${HC_ISSUE:-}" "${HC_PERMITTED:-}"; cat "$crt"; } |
    sha256sum | cut -d ' ' -f 1)
  if [ -f "$rec.crt" ] && [ "$(cat "$rec.request" 2>/dev/null)" = "$fp" ] &&
    openssl verify -CAfile "$crt" "$rec.crt" >/dev/null 2>&1; then
    echo "homecloud: $name: already signed for this request, $(openssl x509 -in "$rec.crt" -noout -enddate)" >&2
    cat "$rec.crt"
    return 0
  fi
  case "$profile" in
    server)
      printf '%s\n' 'basicConstraints = critical,CA:FALSE' 'keyUsage = critical,digitalSignature,keyEncipherment' \
        'extendedKeyUsage = serverAuth,clientAuth' "subjectAltName = ${HC_SANS:?}" \
        'subjectKeyIdentifier = hash' 'authorityKeyIdentifier = keyid' >"$tmp/ext.cnf" ;;
    intermediate)
      printf '%s\n' 'basicConstraints = critical,CA:TRUE,pathlen:0' 'keyUsage = critical,keyCertSign,cRLSign,digitalSignature' \
        "nameConstraints = critical,${HC_PERMITTED:?}" \
        'subjectKeyIdentifier = hash' 'authorityKeyIdentifier = keyid' >"$tmp/ext.cnf" ;;
    *) echo "homecloud: unknown profile '$profile' (server or intermediate)" >&2; return 2 ;;
  esac
  openssl x509 -req -in "$tmp/req.csr" -CA "$crt" -CAkey "$key" -set_serial "0x$(openssl rand -hex 16)" \
    -days "$HC_DAYS" -sha256 -extfile "$tmp/ext.cnf" -out "$tmp/new.crt" 2>"$tmp/err" ||
    { cat "$tmp/err" >&2; return 1; }
  if ! openssl verify -CAfile "$crt" "$tmp/new.crt" >"$tmp/err" 2>&1; then
    echo "homecloud: $name: the new certificate does not verify against the CA (a name outside the CA's constraints? README: rotating the CA):" >&2
    cat "$tmp/err" >&2
    return 1
  fi
  install -d -m 0700 "$CA_DIR/issued"
  install -m 0644 "$tmp/new.crt" "$rec.crt.new"
  mv -f "$rec.crt.new" "$rec.crt"
  printf '%s\n' "$fp" >"$rec.request"
  echo "homecloud: $name: signed, serial $(openssl x509 -in "$rec.crt" -noout -serial | cut -d = -f 2), $(openssl x509 -in "$rec.crt" -noout -enddate)" >&2
  cat "$rec.crt"
}

unsign() {
  local name=${HC_NAME:?}
  pki_label "$name"
  rm -f "$CA_DIR/issued/$name.crt" "$CA_DIR/issued/$name.request"
  echo "homecloud: $name: record removed"
}

case "${1:-}" in
  create) create ;;
  remove) remove ;;
  sign) sign ;;
  unsign) unsign ;;
  *) echo "usage: ca.sh create|remove|sign|unsign" >&2; exit 2 ;;
esac
