#!/usr/bin/env bash
# Runs the Pulumi CLI on the `lab` stack, and only on it, against the lab that lab/up.sh
# built. The stack's state lives in the lab's runtime directory, so it is born and dies
# with the lab; its secrets use a lab-only passphrase. The lab's SSH key goes in as a
# secret in a copy of Pulumi.lab.yaml there (--config-file), so the tracked file stays clean.
#
#   scripts/lab-stack.sh up                  pulumi up --yes, then the stack outputs
#   scripts/lab-stack.sh preview [args...]   pulumi preview (e.g. --expect-no-changes, --json)
#   scripts/lab-stack.sh destroy             pulumi destroy --yes
#   scripts/lab-stack.sh pulumi <args...>    any other pulumi command on the lab stack
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/toolchain-env.sh
. scripts/toolchain-env.sh
if ! homecloud_toolchain_ready; then
  echo "lab-stack: the Pulumi toolchain is not set up ($(homecloud_toolchain_missing | tr '\n' ' ')); run: make toolchain" >&2
  exit 1
fi
run=${HOMECLOUD_LAB_RUN:-/run/homecloud-lab}
key=${HOMECLOUD_CACHE:-/var/cache/homecloud}/lab-ssh/id_ed25519
if [ ! -d "$run" ] || [ ! -f "$key" ]; then
  echo "lab-stack: the lab is not up ($run, $key); run: make lab-up" >&2
  exit 1
fi
export PULUMI_BACKEND_URL="file://$run/pulumi-state"
# Lab-only value: protects nothing but the lab's throwaway key. Never reuse it for a real stack.
export PULUMI_CONFIG_PASSPHRASE="${HOMECLOUD_LAB_PASSPHRASE:-homecloud-lab-only}"
mkdir -p "$run/pulumi-state"
cfg="$run/Pulumi.lab.yaml"
# A fresh copy of the tracked file every run (so edits to it count), keeping the stack's
# encryption salt from the previous copy so earlier secrets still decrypt.
salt=$(grep '^encryptionsalt:' "$cfg" 2>/dev/null || true)
{ if [ -n "$salt" ]; then echo "$salt"; fi; cat Pulumi.lab.yaml; } > "$cfg.new"
mv -f "$cfg.new" "$cfg"
pulumi stack select --create lab --non-interactive >/dev/null
pulumi config set --config-file "$cfg" --secret homecloud:sshPrivateKey < "$key"

cmd=${1:-up}
shift || true
case "$cmd" in
  up)
    pulumi up --config-file "$cfg" --yes --non-interactive --skip-preview "$@"
    pulumi stack output --json
    ;;
  preview) pulumi preview --config-file "$cfg" --non-interactive "$@" ;;
  destroy) pulumi destroy --config-file "$cfg" --yes --non-interactive "$@" ;;
  pulumi) pulumi "$@" ;;
  *) echo "lab-stack: unknown command '$cmd' (up, preview, destroy, pulumi)" >&2; exit 2 ;;
esac
