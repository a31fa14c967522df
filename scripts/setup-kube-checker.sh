#!/usr/bin/env bash
# The cluster half's checker: a real kube-apiserver and kubectl
# (scripts/setup-kube-apiserver.sh), Helm (scripts/setup-helm.sh), etcd from Debian
# (scripts/setup-checkers.sh), and what the pinned MetalLB, cert-manager and Traefik
# releases publish in their own Go modules (charts and CRDs), downloaded by the Go
# toolchain from the Go module proxy. Writes where each one is to
# $HOMECLOUD_CACHE/kube-checker.json, which test/kube/tools.ts reads.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache="${HOMECLOUD_CACHE:-/var/cache/homecloud}"

# The modules of the releases the program installs (cluster/helm.ts, pki/certManager.ts):
# MetalLB chart 0.15.3 is MetalLB v0.15.3; cert-manager chart v1.21.2 is cert-manager
# v1.21.2; Traefik's chart 37.3.0 ships Traefik Proxy v3.6.0 (its chart is in no Go module).
metallb=go.universe.tf/metallb@v0.15.3
certmanager=github.com/cert-manager/cert-manager@v1.21.2
traefik=github.com/traefik/traefik/v3@v3.6.0

bash "$here/setup-kube-apiserver.sh"
bash "$here/setup-helm.sh"

export PATH="/usr/local/go/bin:$PATH"
export GOPATH="$cache/go" GOCACHE="$cache/go/build-cache" GOFLAGS="-modcacherw" GOTOOLCHAIN=local
dir_of() {
  local d
  d=$(cd / && go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$d" ] || { echo "kube-checker: go mod download $1 gave no directory" >&2; exit 1; }
  echo "$d"
}
m=$(dir_of "$metallb")
c=$(dir_of "$certmanager")
t=$(dir_of "$traefik")

apiserver=$(readlink -f "$cache/bin/kube-apiserver")
kubectl=$(readlink -f "$cache/bin/kubectl")
for f in "$m/charts/metallb/Chart.yaml" "$c/deploy/charts/cert-manager/Chart.yaml" \
  "$t/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml" /usr/bin/etcd "$apiserver" "$kubectl" "$cache/bin/helm"; do
  [ -e "$f" ] || { echo "kube-checker: $f is missing" >&2; exit 1; }
done

cat > "$cache/kube-checker.json.new" <<EOF
{
  "kubeApiserver": "$apiserver",
  "kubectl": "$kubectl",
  "etcd": "/usr/bin/etcd",
  "helm": "$cache/bin/helm",
  "metallb": { "module": "$metallb", "chart": "$m/charts/metallb" },
  "certManager": { "module": "$certmanager", "chart": "$c/deploy/charts/cert-manager" },
  "traefik": { "module": "$traefik", "crds": "$t/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml" }
}
EOF
mv -f "$cache/kube-checker.json.new" "$cache/kube-checker.json"
echo "kube-checker: ready ($cache/kube-checker.json)"
