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
#   scripts/lab-stack.sh pulumi <args...>    any other pulumi command (add --stack lab)
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
# A fresh copy of the stack file every run (so edits to it count), keeping from the previous
# copy what the CLI wrote into it: the encryption salt, and the SSH key as a secret as long
# as the lab's key is the same (its hash is kept beside). Each `pulumi` call costs about a
# second, so a run with nothing new makes none but the one asked for.
cfg=$proj/Pulumi.lab.yaml
salt=$(grep '^encryptionsalt:' "$cfg" 2>/dev/null || true)
secret=""
key_hash=$(sha256sum "$key" | cut -d' ' -f1)
if [ -f "$proj/key.sha256" ] && [ "$(cat "$proj/key.sha256")" = "$key_hash" ]; then
  secret=$(sed -n '/^  homecloud:sshPrivateKey:$/{N;p}' "$cfg" 2>/dev/null || true)
fi
{
  if [ -n "$salt" ]; then echo "$salt"; fi
  cat "${HOMECLOUD_LAB_STACK_FILE:-Pulumi.lab.yaml}"
  if [ -n "$secret" ]; then echo "$secret"; fi
} > "$cfg.new"
mv -f "$cfg.new" "$cfg"

cd "$proj"
export PULUMI_BACKEND_URL="file://$run/pulumi-state"
# Lab-only value: protects nothing but the lab's throwaway key. Never reuse it for a real stack.
export PULUMI_CONFIG_PASSPHRASE="${HOMECLOUD_LAB_PASSPHRASE:-homecloud-lab-only}"
if [ ! -f "$run/pulumi-state/.pulumi/stacks/homecloud/lab.json" ]; then
  pulumi stack init lab --non-interactive >/dev/null
fi
if [ -z "$secret" ]; then
  pulumi config set --stack lab --secret homecloud:sshPrivateKey < "$key"
  echo "$key_hash" > "$proj/key.sha256"
fi

cmd=${1:-up}
shift || true
case "$cmd" in
  up)
    pulumi up --stack lab --yes --non-interactive --skip-preview "$@"
    pulumi stack output --stack lab --json
    ;;
  preview) pulumi preview --stack lab --non-interactive "$@" ;;
  destroy) pulumi destroy --stack lab --yes --non-interactive "$@" ;;
  pulumi) pulumi "$@" ;;
  *) echo "lab-stack: unknown command '$cmd' (up, preview, destroy, pulumi)" >&2; exit 2 ;;
esac
