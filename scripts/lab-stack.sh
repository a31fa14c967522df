#!/usr/bin/env bash
# Runs the Pulumi CLI on the `lab` stack, and only on it, against the lab that lab/up.sh
# built. It works in a project directory inside the lab's runtime directory (Pulumi.yaml
# and the stack file copied, the program's files linked), because the CLI writes the
# stack's encryption salt and re-serialises Pulumi.<stack>.yaml: the repository's working
# tree stays as it was. State lives there too (file backend), born and dead with the lab;
# secrets use a lab-only passphrase; the lab's SSH key goes in as a secret.
#
#   scripts/lab-stack.sh up [args...]        pulumi up --yes, then the stack outputs
#   scripts/lab-stack.sh preview [args...]   pulumi preview (e.g. --expect-no-changes, --json)
#   scripts/lab-stack.sh destroy [args...]   pulumi destroy --yes
#   scripts/lab-stack.sh pulumi <args...>    any other pulumi command on the lab stack
# HOMECLOUD_LAB_STACK_FILE: stack file to use instead of Pulumi.lab.yaml (tests' variants).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/toolchain-env.sh
. scripts/toolchain-env.sh
if ! homecloud_pulumi_ready; then
  echo "lab-stack: no Pulumi CLI on PATH; run: make toolchain" >&2
  exit 1
fi
run=${HOMECLOUD_LAB_RUN:-/run/homecloud-lab}
key=${HOMECLOUD_CACHE:-/var/cache/homecloud}/lab-ssh/id_ed25519
if [ ! -d "$run" ] || [ ! -f "$key" ]; then
  echo "lab-stack: the lab is not up ($run, $key); run: make lab-up" >&2
  exit 1
fi
proj=$run/pulumi-project
mkdir -p "$proj" "$run/pulumi-state"
for f in index.ts outputs.ts config host network cluster node_modules package.json tsconfig.json; do
  ln -sfn "$root/$f" "$proj/$f"
done
cp Pulumi.yaml "$proj/Pulumi.yaml"
# A fresh copy of the stack file every run (so edits to it count), keeping the encryption
# salt the CLI wrote into the previous copy so earlier secrets still decrypt.
cfg=$proj/Pulumi.lab.yaml
salt=$(grep '^encryptionsalt:' "$cfg" 2>/dev/null || true)
{ if [ -n "$salt" ]; then echo "$salt"; fi; cat "${HOMECLOUD_LAB_STACK_FILE:-Pulumi.lab.yaml}"; } > "$cfg.new"
mv -f "$cfg.new" "$cfg"

cd "$proj"
export PULUMI_BACKEND_URL="file://$run/pulumi-state"
# Lab-only value: protects nothing but the lab's throwaway key. Never reuse it for a real stack.
export PULUMI_CONFIG_PASSPHRASE="${HOMECLOUD_LAB_PASSPHRASE:-homecloud-lab-only}"
pulumi stack select --create lab --non-interactive >/dev/null
pulumi config set --secret homecloud:sshPrivateKey < "$key"

cmd=${1:-up}
shift || true
case "$cmd" in
  up)
    pulumi up --yes --non-interactive --skip-preview "$@"
    pulumi stack output --json
    ;;
  preview) pulumi preview --non-interactive "$@" ;;
  destroy) pulumi destroy --yes --non-interactive "$@" ;;
  pulumi) pulumi "$@" ;;
  *) echo "lab-stack: unknown command '$cmd' (up, preview, destroy, pulumi)" >&2; exit 2 ;;
esac
