#!/usr/bin/env bash
# Helm 3 (the major the Kubernetes provider embeds for helm.v3.Release) into
# $HOMECLOUD_CACHE/bin/helm, built by the Go toolchain from the Go module proxy at a
# pinned version. The checker tier renders the MetalLB and cert-manager charts with it.
# Skipped when that version is already there.
set -euo pipefail

# The version the Kubernetes provider's module requires (helm.sh/helm/v3 v3.18.6).
version=v3.18.6
cache="${HOMECLOUD_CACHE:-/var/cache/homecloud}"
bin="$cache/bin/helm"

# Read whole, then compared: no pipe for a reader that stops early to break (see setup-kube-apiserver.sh).
helm_version() { "$bin" version --template '{{.Version}}' 2>/dev/null; }
if [ -x "$bin" ] && [ "$(helm_version)" = "$version" ]; then
  echo "helm: $version present"
  exit 0
fi

export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || { echo "helm: no Go toolchain (go on PATH or /usr/local/go/bin/go) to build it with" >&2; exit 1; }
export GOPATH="$cache/go" GOCACHE="$cache/go/build-cache" GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local

mkdir -p "$cache/bin"
# Without the version ldflag Helm says it is "v3.x-dev" (what its own Makefile sets).
GOBIN="$cache/bin" go install -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$version -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
  "helm.sh/helm/v3/cmd/helm@$version"
[ "$(helm_version)" = "$version" ] || { echo "helm: the built $bin does not say $version" >&2; exit 1; }
echo "helm: installed $version in $cache/bin"
