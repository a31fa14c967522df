#!/usr/bin/env bash
# Deploys the lab stack into the running lab: with the Pulumi CLI when the toolchain is
# set up (scripts/lab-stack.sh up), otherwise through the lab's SSH engine, which runs the
# same program and executes each of its remote commands over SSH exactly as the command
# provider would (lab/engine/sshEngine.ts). Prints the stack outputs either way.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/toolchain-env.sh
. scripts/toolchain-env.sh
if homecloud_toolchain_ready; then
  exec bash scripts/lab-stack.sh up
fi
echo "lab-deploy: no Pulumi CLI here ($(homecloud_toolchain_missing | tr '\n' ' ')); applying the program with the lab's SSH engine"
exec npx ts-node lab/engine/sshEngine.ts up
