#!/usr/bin/env bash
# `make test-cluster-node`: the node side of issue 23 (test/cluster/cluster-node.test.ts), as
# root, on what `make cluster-node` built. Where it has not been built, one SKIPPED line and
# a clean exit: the build is long, so nothing else builds it on the way.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cache="${HOMECLOUD_CACHE:-/var/cache/homecloud}"
tools="$cache/cluster-node.json"

# Every path the setup script wrote down must still be there.
# shellcheck disable=SC2016 # JavaScript, not shell
built() {
  [ -f "$tools" ] && node -e '
    const fs = require("fs");
    const t = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const files = [t.kubelet, t.containerd, t.ctr, t.shim, t.runc, ...["bridge", "host-local", "loopback", "portmap"].map((p) => `${t.cniBin}/${p}`)];
    for (const f of files) fs.accessSync(f, fs.constants.X_OK);
  ' "$tools" 2>/dev/null
}
if ! built; then
  echo "cluster-node: SKIPPED, run make cluster-node to build kubelet, containerd and the CNI plugins (about 8 min)"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "cluster-node: needs root (network namespace, cgroups, mounts)" >&2; exit 1; }
exec npx mocha 'test/cluster/**/*.test.ts'
