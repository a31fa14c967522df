#!/usr/bin/env bash
# actionlint (the GitHub Actions workflow linter, a Go module) into $HOMECLOUD_CACHE/bin,
# built by the Go toolchain from the Go module proxy at a pinned version. The checker tier
# lints .github/workflows/ with it. Skipped when that version is already there.
set -euo pipefail

version=v1.7.12
cache="${HOMECLOUD_CACHE:-/var/cache/homecloud}"
bin="$cache/bin/actionlint"

if [ -x "$bin" ] && [ "$("$bin" -version | head -n1)" = "$version" ]; then
  echo "actionlint: $version present"
  exit 0
fi

go=$(command -v go || true)
[ -n "$go" ] || go=/usr/local/go/bin/go
[ -x "$go" ] || { echo "actionlint: no Go toolchain (go on PATH or /usr/local/go/bin/go) to build it with" >&2; exit 1; }

mkdir -p "$cache/bin"
# The module and build caches beside the binary, not in $HOME.
GOBIN="$cache/bin" GOPATH="$cache/go" GOCACHE="$cache/go/build-cache" GOFLAGS=-modcacherw \
  "$go" install "github.com/rhysd/actionlint/cmd/actionlint@$version"
[ "$("$bin" -version | head -n1)" = "$version" ]
echo "actionlint: installed $version in $cache/bin"
