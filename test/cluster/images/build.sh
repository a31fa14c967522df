#!/usr/bin/env bash
# The cluster-node test's two images, built from this directory's Go programs with no base
# image: each is one static binary (CGO_ENABLED=0, standard library only) in one layer,
# written as an OCI image layout and packed as the tarball `ctr images import` takes.
#
#   test/cluster/images/build.sh <out-dir>
#     <out-dir>/hc-pause.tar   homecloud.invalid/hc-pause:v1  (the pod sandbox image)
#     <out-dir>/hc-app.tar     homecloud.invalid/hc-app:v1    (the test's pod)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: build.sh <out-dir>}
cache="${HOMECLOUD_CACHE:-/var/cache/homecloud}"
export PATH="/usr/local/go/bin:$PATH" GOCACHE="$cache/go/build-cache" GOTOOLCHAIN=local
export GOFLAGS="-buildvcs=false" GO111MODULE=off CGO_ENABLED=0 GOOS=linux GOARCH=amd64
mkdir -p "$out"
out=$(cd "$out" && pwd)

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
# blob <file>: moves <file> into the layout's blobs, prints its digest.
blob() {
  local d
  d=$(sha "$1")
  mv -f "$1" "$layout/blobs/sha256/$d"
  echo "$d"
}

# image <name> <ref> <program dir>: <out>/<name>.tar, the program as /<name>, its entrypoint.
image() {
  local name=$1 ref=$2 src=$3 work layout rootfs layer config manifest
  work=$(mktemp -d "$out/.$name.XXXXXX")
  layout="$work/layout" rootfs="$work/rootfs"
  mkdir -p "$layout/blobs/sha256" "$rootfs"
  go build -trimpath -ldflags "-s -w" -o "$rootfs/$name" "$src/main.go"
  # One layer, the same bytes on every build: sorted, owned by root, dated 0.
  tar -C "$rootfs" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$work/layer.tar" "$name"
  layer=$(sha "$work/layer.tar")
  local layer_size
  layer_size=$(size "$work/layer.tar")
  blob "$work/layer.tar" >/dev/null
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/%s"],"Env":["PATH=/"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$name" "$layer" > "$work/config.json"
  local config_size
  config_size=$(size "$work/config.json")
  config=$(blob "$work/config.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$config" "$config_size" "$layer" "$layer_size" > "$work/manifest.json"
  local manifest_size
  manifest_size=$(size "$work/manifest.json")
  manifest=$(blob "$work/manifest.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest" "$manifest_size" "$ref" "${ref##*:}" > "$layout/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
  tar -C "$layout" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$out/$name.tar.new" oci-layout index.json blobs
  mv -f "$out/$name.tar.new" "$out/$name.tar"
  rm -rf "$work"
  echo "images: $ref in $out/$name.tar (manifest sha256:$manifest)"
}

image hc-pause homecloud.invalid/hc-pause:v1 "$here/pause"
image hc-app homecloud.invalid/hc-app:v1 "$here/app"
