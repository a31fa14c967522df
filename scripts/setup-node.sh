#!/usr/bin/env bash
# Node.js 22 (the npm registry's node-linux-<arch> package, which ships bin/node) into
# $HOMECLOUD_CACHE, then the npm packages at the exact versions of package-lock.json.
# Install scripts stay off: the @pulumi packages' scripts would try to download plugins.
# Each step is skipped when already done.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/toolchain-env.sh
. scripts/toolchain-env.sh

if [ "$(node --version 2>/dev/null)" != "v$HOMECLOUD_NODE_VERSION" ]; then
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "node: unsupported architecture $(uname -m)" >&2; exit 1 ;;
  esac
  dest=$(dirname "$HOMECLOUD_NODE_BIN")
  mkdir -p "$(dirname "$dest")"
  tmp=$(mktemp -d "$dest.tmp.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$HOMECLOUD_NODE_VERSION" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  [ "$("$tmp/package/bin/node" --version)" = "v$HOMECLOUD_NODE_VERSION" ]
  rm -rf "$dest"
  mv "$tmp/package" "$dest"
  echo "node: installed v$HOMECLOUD_NODE_VERSION in $dest"
fi

stamp=node_modules/.homecloud-lock.sha256
want=$( (sha256sum package-lock.json; node --version) | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "npm: node_modules matches package-lock.json"
  exit 0
fi
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
echo "npm: installed"
