# shellcheck shell=bash disable=SC2154 # k3s-node.sh sets the variables and sources this
# The kubeconfig phase of k3s-node.sh, run on the first server: read-token, read-kubeconfig
# (with the admin certificate's renewal). Sourced, never run.

kubeconfig_ready() { [ -s "$K3S_KUBECONFIG" ] && api_ready; }
# kubeconfig_renewed CKSUM: k3s.yaml is no longer the one with that checksum, and the API is up.
kubeconfig_renewed() { [ -s "$K3S_KUBECONFIG" ] && [ "$(cksum <"$K3S_KUBECONFIG")" != "$1" ] && api_ready; }

# K3s renews a certificate only at start and only in its last 90 days; `certificate rotate`
# removes the admin one (backing it up) so that the restart issues a new one regardless.
renew_admin_certificate() {
  local before
  wait_for "the K3s API and $K3S_KUBECONFIG" "journalctl -u k3s on $(node_name)" kubeconfig_ready
  before=$(cksum <"$K3S_KUBECONFIG")
  bounded "$WAIT_SECONDS" "k3s certificate rotate --service admin" "journalctl -u k3s on $(node_name)" \
    "$K3S_BIN" certificate rotate --service admin >&2
  systemctl restart --no-block k3s
  wait_for "k3s to restart with a new admin certificate in $K3S_KUBECONFIG" "journalctl -u k3s on $(node_name)" \
    kubeconfig_renewed "$before"
  echo "homecloud: renewed the admin client certificate (renewal ${HC_RENEWAL})" >&2
}

read_kubeconfig() {
  if [ "${HC_RENEWAL:-0}" != 0 ]; then
    renew_admin_certificate
  fi
  wait_for "the K3s API and $K3S_KUBECONFIG" "journalctl -u k3s on $(node_name)" kubeconfig_ready
  cat "$K3S_KUBECONFIG"
}

token_written() { [ -s "$K3S_SERVER_TOKEN" ]; }

# K3s writes the full token (clientaccess.FormatToken) at every start of a server:
# K10<sha256 of the cluster CA>::server:<token>. A node joining with it checks the CA.
read_token() {
  local token
  wait_for "K3s to write $K3S_SERVER_TOKEN" "journalctl -u k3s on $(node_name)" token_written
  token=$(head -n 1 "$K3S_SERVER_TOKEN")
  case "$token" in
    K10*::server:?*) printf '%s\n' "$token" ;;
    *)
      echo "homecloud: $(node_name): $K3S_SERVER_TOKEN does not hold a full K3s token (K10<CA hash>::server:<secret>)" >&2
      exit 1
      ;;
  esac
}
