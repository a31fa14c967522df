#!/usr/bin/env bash
# A real kube-apiserver for the cluster half's checker tier, and kubectl (what K3s' `k3s
# kubectl` is, for the host scripts that use it), built by the Go toolchain from the Go
# module proxy at a pinned Kubernetes release into $HOMECLOUD_CACHE/kube-<version>/bin,
# linked into $HOMECLOUD_CACHE/bin. Skipped when that build is already there (the first
# build is long: about a quarter of an hour on two idle cores; later runs take a second).
#
# k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/apiserver, ...) at
# v0.0.0 and replaces them with its own staging/ directories, which a module that requires
# it does not see; so a throwaway module requires k8s.io/kubernetes and replaces each of
# those staging modules by its published v0.<minor>.<patch> release. Without the version
# ldflags the binary says v0.0.0-master and Helm refuses charts with a kubeVersion.
set -euo pipefail

# The default K3s is v1.31; the proxy serves k8s.io/kubernetes from v1.34 on, so the
# nearest served release.
version=v1.34.4
staging=v0.${version#v1.}
minor=${version#v1.}; minor=${minor%%.*}
cache="${HOMECLOUD_CACHE:-/var/cache/homecloud}"
root="$cache/kube-$version"
bin="$root/bin/kube-apiserver"
kubectl="$root/bin/kubectl"

# The outputs are read whole before matching: `grep -q` stops reading at its first match, and
# kubectl, still writing its second line, would die of SIGPIPE (141 under pipefail).
present() {
  [ -x "$bin" ] && [ -x "$kubectl" ] || return 1
  local said
  said=$("$bin" --version 2>/dev/null) && grep -qx "Kubernetes $version" <<<"$said" &&
    said=$("$kubectl" version --client 2>/dev/null) && grep -qx "Client Version: $version" <<<"$said"
}
if present; then
  mkdir -p "$cache/bin"
  ln -sfn "$bin" "$cache/bin/kube-apiserver"
  ln -sfn "$kubectl" "$cache/bin/kubectl"
  echo "kube-apiserver: $version present (and kubectl)"
  exit 0
fi

export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || { echo "kube-apiserver: no Go toolchain (go on PATH or /usr/local/go/bin/go) to build it with" >&2; exit 1; }
# The module and build caches in the project's cache, not in $HOME.
export GOPATH="$cache/go" GOCACHE="$cache/go/build-cache" GOFLAGS="-modcacherw -buildvcs=false"
export GOTOOLCHAIN=local

echo "kube-apiserver: building $version (staging modules at $staging); the first build takes a while"
work="$root/module"
rm -rf "$work"
mkdir -p "$work" "$root/bin"
cd "$work"
cat > go.mod <<EOF
module homecloud.invalid/kube-apiserver-build

go 1.24
EOF
gomod=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
[ -f "$gomod" ] || { echo "kube-apiserver: no go.mod for k8s.io/kubernetes@$version" >&2; exit 1; }
# Every module k8s.io/kubernetes requires at v0.0.0 is one of its staging modules.
mapfile -t stage < <(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" { print $1 }' "$gomod" | sort -u)
[ "${#stage[@]}" -gt 10 ] || { echo "kube-apiserver: found only ${#stage[@]} staging modules in $gomod" >&2; exit 1; }
for m in "${stage[@]}"; do
  go mod edit -replace "$m=$m@$staging"
done
go get "k8s.io/kubernetes/cmd/kube-apiserver@$version" "k8s.io/kubernetes/cmd/kubectl@$version"

date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
done
go build -trimpath -ldflags "$ldflags" -o "$bin.new" k8s.io/kubernetes/cmd/kube-apiserver
go build -trimpath -ldflags "$ldflags" -o "$kubectl.new" k8s.io/kubernetes/cmd/kubectl
mv -f "$bin.new" "$bin"
mv -f "$kubectl.new" "$kubectl"
present
ln -sfn "$bin" "$cache/bin/kube-apiserver"
ln -sfn "$kubectl" "$cache/bin/kubectl"
echo "kube-apiserver: built $version and kubectl in $root/bin"
