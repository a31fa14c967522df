# shellcheck shell=bash
# Building Kubernetes commands from the Go module proxy: sourced by the setup scripts.
#
# k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/apiserver, ...) at
# v0.0.0 and replaces them with its own staging/ directories, which a module that requires
# it does not see; so a throwaway module requires k8s.io/kubernetes and replaces each of
# those staging modules by its published v0.<minor>.<patch> release. Without the version
# ldflags a binary says v0.0.0-master. (scripts/setup-kube-apiserver.sh does the same
# inline; it can source this file instead.)

# kube_go_env <cache>: the Go toolchain on PATH, the module and build caches in the
# project's cache (not in $HOME), this machine's Go and no other.
kube_go_env() {
  export PATH="/usr/local/go/bin:$PATH"
  command -v go >/dev/null || { echo "kube-module: no Go toolchain (go on PATH or /usr/local/go/bin/go)" >&2; return 1; }
  export GOPATH="$1/go" GOCACHE="$1/go/build-cache" GOFLAGS="-modcacherw -buildvcs=false"
  export GOTOOLCHAIN=local
}

# kube_module <dir> <version> <package...>: a fresh throwaway module in <dir> that requires
# k8s.io/kubernetes at <version> (v1.x.y) with its staging modules replaced by their
# v0.x.y releases, and has what the packages (k8s.io/kubernetes/cmd/...) need.
kube_module() {
  local dir=$1 version=$2
  shift 2
  local staging=v0.${version#v1.} gomod m
  rm -rf "$dir"
  mkdir -p "$dir"
  (
    cd "$dir" || exit 1
    printf 'module homecloud.invalid/kube-build\n\ngo 1.24\n' > go.mod
    gomod=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
    [ -f "$gomod" ] || { echo "kube-module: no go.mod for k8s.io/kubernetes@$version" >&2; exit 1; }
    # Every module k8s.io/kubernetes requires at v0.0.0 is one of its staging modules.
    local stage
    mapfile -t stage < <(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" { print $1 }' "$gomod" | sort -u)
    [ "${#stage[@]}" -gt 10 ] || { echo "kube-module: found only ${#stage[@]} staging modules in $gomod" >&2; exit 1; }
    for m in "${stage[@]}"; do
      go mod edit -replace "$m=$m@$staging"
    done
    local pkgs=()
    for m in "$@"; do pkgs+=("$m@$version"); done
    go get "${pkgs[@]}"
  )
}

# kube_ldflags <version>: -s -w and the version variables `--version` reports.
kube_ldflags() {
  local version=$1 minor pkg date flags="-s -w"
  minor=${version#v1.}; minor=${minor%%.*}
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  echo "$flags"
}
