#!/usr/bin/env bash
# The node side of a real cluster in the lab (issue 23): kubelet, containerd and the CNI
# plugins, built by the Go toolchain from the Go module proxy at pinned releases into
# $HOMECLOUD_CACHE, linked into $HOMECLOUD_CACHE/bin; and Debian's runc, which runs the
# containers. `make cluster-node` runs it; `make test-cluster-node` uses what it built.
# Each part is skipped when its pinned version is already there.
#
# First build here (2 shared cores, nice 19, the Go build cache already warm from
# kube-apiserver's build): 8 min, 478 s (kubelet 221 s, containerd 219 s, the CNI plugins
# 22 s, installing runc 15 s); later runs take a fraction of a second. Without that warm
# cache the kubelet takes longer (kube-apiserver's own first build is about a quarter of an
# hour). Each build's seconds are kept beside its binary (<binary>.build-seconds).
#
#   kubelet    k8s.io/kubernetes/cmd/kubelet v1.34.4, as kube-apiserver
#              (scripts/lib/kube-module.sh: its staging modules replaced by v0.34.4).
#              Kubernetes 1.35 on refuses cgroup v1 unless failCgroupV1 is false; the
#              apiserver's release keeps the two in step.
#   containerd github.com/containerd/containerd/v2 v2.4.2: containerd, ctr and
#              containerd-shim-runc-v2, static (CGO_ENABLED=0, so no btrfs snapshotter).
#   CNI        github.com/containernetworking/plugins v1.10.0: bridge, host-local,
#              loopback, portmap.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib/kube-module.sh
. "$here/lib/kube-module.sh"

kube=v1.34.4
containerd=v2.4.2
cni=v1.10.0
cache="${HOMECLOUD_CACHE:-/var/cache/homecloud}"
kubelet="$cache/kube-$kube/bin/kubelet"
cdir="$cache/containerd-$containerd/bin"
ndir="$cache/cni-plugins-$cni/bin"
plugins=(bridge host-local loopback portmap)
# How long each part's build took here, kept beside it for the figures the test prints.
took() { cat "$1.build-seconds" 2>/dev/null || echo 0; }
timed() { # timed <file the build makes> <command...>
  local t0=$SECONDS
  "${@:2}"
  echo $((SECONDS - t0)) > "$1.build-seconds"
}

# Outputs are read whole before matching (`grep -q` would stop reading early: SIGPIPE).
said() { "$@" 2>&1 || true; }
kubelet_present() { [ -x "$kubelet" ] && grep -qx "Kubernetes $kube" <<<"$(said "$kubelet" --version)"; }
containerd_present() {
  [ -x "$cdir/containerd" ] && [ -x "$cdir/ctr" ] && [ -x "$cdir/containerd-shim-runc-v2" ] &&
    grep -q " $containerd\b" <<<"$(said "$cdir/containerd" --version)" &&
    grep -q " $containerd\$" <<<"$(said "$cdir/ctr" --version)" &&
    grep -q "Version: *$containerd\$" <<<"$(said "$cdir/containerd-shim-runc-v2" -v)"
}
cni_present() {
  local p
  for p in "${plugins[@]}"; do
    [ -x "$ndir/$p" ] && grep -q "$cni" <<<"$(said env -u CNI_COMMAND "$ndir/$p")" || return 1
  done
}

if ! command -v runc >/dev/null; then
  echo "cluster-node: installing Debian's runc"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q runc >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q runc >/dev/null; }
fi
echo "cluster-node: $(runc --version | head -1)"

built=""
if kubelet_present; then
  echo "cluster-node: kubelet $kube present"
else
  kube_go_env "$cache"
  echo "cluster-node: building kubelet $kube (the first build takes a while)"
  build_kubelet() {
    kube_module "$cache/kube-$kube/kubelet-module" "$kube" k8s.io/kubernetes/cmd/kubelet
    mkdir -p "$(dirname "$kubelet")"
    (cd "$cache/kube-$kube/kubelet-module" &&
      nice -n 19 go build -trimpath -ldflags "$(kube_ldflags "$kube")" -o "$kubelet.new" k8s.io/kubernetes/cmd/kubelet)
    mv -f "$kubelet.new" "$kubelet"
  }
  timed "$kubelet" build_kubelet
  kubelet_present || { echo "cluster-node: the kubelet built does not say Kubernetes $kube" >&2; exit 1; }
  built+=" kubelet"
fi

if containerd_present; then
  echo "cluster-node: containerd $containerd present (and ctr, containerd-shim-runc-v2)"
else
  kube_go_env "$cache"
  echo "cluster-node: building containerd $containerd, ctr and containerd-shim-runc-v2"
  pkg=github.com/containerd/containerd/v2
  ld="-s -w -X $pkg/version.Version=$containerd -X $pkg/version.Package=$pkg"
  mkdir -p "$cdir"
  # `go install <package>@<version>` builds with the module's own go.mod (it has no replaces).
  build_containerd() {
    (cd / && CGO_ENABLED=0 GOBIN="$cdir" nice -n 19 go install -trimpath -ldflags "$ld" \
      -tags "urfave_cli_no_docs osusergo netgo" "$pkg/cmd/containerd@$containerd" "$pkg/cmd/ctr@$containerd")
    (cd / && CGO_ENABLED=0 GOBIN="$cdir" nice -n 19 go install -trimpath -ldflags "$ld" \
      -tags "urfave_cli_no_docs osusergo netgo no_grpc" "$pkg/cmd/containerd-shim-runc-v2@$containerd")
  }
  timed "$cdir/containerd" build_containerd
  containerd_present || { echo "cluster-node: the containerd built does not say $containerd" >&2; exit 1; }
  built+=" containerd"
fi

if cni_present; then
  echo "cluster-node: CNI plugins $cni present (${plugins[*]})"
else
  kube_go_env "$cache"
  echo "cluster-node: building the CNI plugins $cni (${plugins[*]})"
  pkg=github.com/containernetworking/plugins
  mkdir -p "$ndir"
  build_cni() {
    (cd / && CGO_ENABLED=0 GOBIN="$ndir" nice -n 19 go install -trimpath \
      -ldflags "-s -w -X $pkg/pkg/utils/buildversion.BuildVersion=$cni" \
      "$pkg/plugins/main/bridge@$cni" "$pkg/plugins/ipam/host-local@$cni" \
      "$pkg/plugins/main/loopback@$cni" "$pkg/plugins/meta/portmap@$cni")
  }
  timed "$ndir/bridge" build_cni
  cni_present || { echo "cluster-node: the CNI plugins built do not say $cni" >&2; exit 1; }
  built+=" cni"
fi

mkdir -p "$cache/bin"
ln -sfn "$kubelet" "$cache/bin/kubelet"
for b in containerd ctr containerd-shim-runc-v2; do ln -sfn "$cdir/$b" "$cache/bin/$b"; done

# Where everything is, for test/cluster (written last: its presence means all of it was built).
cat > "$cache/cluster-node.json.new" <<JSON
{
  "kubelet": "$kubelet",
  "containerd": "$cdir/containerd",
  "ctr": "$cdir/ctr",
  "shim": "$cdir/containerd-shim-runc-v2",
  "cniBin": "$ndir",
  "runc": "$(command -v runc)",
  "versions": { "kubelet": "$kube", "containerd": "$containerd", "cni": "$cni" },
  "buildSeconds": { "kubelet": $(took "$kubelet"), "containerd": $(took "$cdir/containerd"), "cni": $(took "$ndir/bridge") }
}
JSON
mv -f "$cache/cluster-node.json.new" "$cache/cluster-node.json"
if [ -n "$built" ]; then
  echo "cluster-node: built${built} ($(took "$kubelet") s kubelet, $(took "$cdir/containerd") s containerd, $(took "$ndir/bridge") s CNI plugins)"
else
  echo "cluster-node: kubelet $kube, containerd $containerd, CNI plugins $cni present ($cache/cluster-node.json)"
fi
