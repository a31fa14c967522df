#!/usr/bin/env bash
# npm packages at the exact versions of package-lock.json. Install scripts stay off: the
# @pulumi packages' scripts would try to download plugins (scripts/setup-toolchain.sh
# provides them instead). Skipped when node_modules already matches the lock file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
stamp=node_modules/.homecloud-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "npm: node_modules matches package-lock.json"
  exit 0
fi
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
echo "npm: installed"
