#!/bin/bash
# cluster-issuer.sh install|remove: on the first K3s server, the Secret behind cert-manager's
# ClusterIssuer: the intermediate CA's certificate (stdin, signed by the gateway's CA) with
# the root after it, and its key, made on this server by key.sh and read here from disk.
# The key goes to the API server and nowhere else.
#
#   install  creates or updates Secret HC_SECRET (type kubernetes.io/tls) in HC_NAMESPACE,
#            server-side, so no last-applied annotation holds a copy of the key.
#   remove   deletes it (nothing to do when K3s is already gone).
# With HC_KUBECONFIG (homecloud:kubeconfig: a cluster the program did not install) it uses
# this host's kubectl with that file instead of K3s' own.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=pki/lib.sh
. "$here/pki/lib.sh"
ns=${HC_NAMESPACE:?}
secret=${HC_SECRET:?}
key=$PKI_DIR/${HC_LABEL:?}.key
if [ -n "${HC_KUBECONFIG:-}" ]; then kubectl=(kubectl --kubeconfig "$HC_KUBECONFIG"); else kubectl=(k3s kubectl); fi

install_secret() {
  pki_need_openssl
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cat >"$tmp/ca.crt"
  if [ "$(pubkey_of_cert "$tmp/ca.crt")" != "$(pubkey_of_key "$key")" ]; then
    echo "homecloud: the certificate on stdin is not for $key" >&2
    return 1
  fi
  openssl verify -CAfile "$TRUST_FILE" "$tmp/ca.crt" >/dev/null
  cat "$tmp/ca.crt" "$TRUST_FILE" >"$tmp/chain.crt"
  "${kubectl[@]}" -n "$ns" create secret tls "$secret" --cert="$tmp/chain.crt" --key="$key" --dry-run=client -o yaml |
    "${kubectl[@]}" apply --server-side --force-conflicts --field-manager=homecloud -f - >&2
  echo "homecloud: secret $ns/$secret holds the cluster issuer, $(openssl x509 -in "$tmp/ca.crt" -noout -enddate)"
}

remove_secret() {
  if ! command -v "${kubectl[0]}" >/dev/null 2>&1; then
    echo "homecloud: $(if [ -n "${HC_KUBECONFIG:-}" ]; then echo kubectl; else echo K3s; fi) is gone; no secret $ns/$secret to remove"
    return 0
  fi
  "${kubectl[@]}" -n "$ns" delete secret "$secret" --ignore-not-found
}

case "${1:-}" in
  install) install_secret ;;
  remove) remove_secret ;;
  *) echo "usage: cluster-issuer.sh install|remove" >&2; exit 2 ;;
esac
