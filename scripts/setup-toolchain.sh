#!/usr/bin/env bash
# The Pulumi CLI for the real engine. Where it is installed already (the official install
# puts it in ~/.pulumi/bin), nothing to do. With HOMECLOUD_INSTALL_PULUMI=1 it runs the
# official install for the version of @pulumi/pulumi in package-lock.json (that needs the
# internet; the engine then fetches the command, random and kubernetes plugins itself).
# Otherwise it says in one line how to get it and exits 3: `make lab` then deploys with
# the lab's SSH engine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/toolchain-env.sh
. scripts/toolchain-env.sh
if homecloud_pulumi_ready; then
  echo "toolchain: $(pulumi version) at $(command -v pulumi)"
  exit 0
fi
version=$(node -p 'require("./package-lock.json").packages["node_modules/@pulumi/pulumi"].version')
if [ "${HOMECLOUD_INSTALL_PULUMI:-0}" != 1 ]; then
  echo "toolchain: no Pulumi CLI; install it (https://www.pulumi.com/docs/install/, or HOMECLOUD_INSTALL_PULUMI=1 make toolchain for v$version)"
  exit 3
fi
curl -fsSL https://get.pulumi.com | sh -s -- --version "$version" --install-root "$HOMECLOUD_PULUMI_ROOT" --no-edit-path
homecloud_pulumi_ready
echo "toolchain: $(pulumi version) installed in $HOMECLOUD_PULUMI_ROOT"
