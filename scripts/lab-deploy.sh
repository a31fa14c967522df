#!/usr/bin/env bash
# Deploys the lab stack into the running lab: with the Pulumi CLI when it is installed
# (scripts/lab-stack.sh up), otherwise with the lab's SSH engine, which runs the same
# program and executes its remote commands over SSH the way the engine and the command
# provider would (lab/engine/sshEngine.ts). Prints the stack outputs either way.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/toolchain-env.sh
. scripts/toolchain-env.sh
if homecloud_pulumi_ready; then
  exec bash scripts/lab-stack.sh up
fi
echo "lab-deploy: no Pulumi CLI here; deploying with the lab's SSH engine (for the real engine: https://www.pulumi.com/docs/install/, then make lab)"
exec npx ts-node lab/engine/sshEngine.ts up
