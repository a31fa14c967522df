#!/bin/bash
# etcd-snapshots.sh STEP: the gateway keeps copies of the etcd snapshot each K3s server
# saves before an upgrade, off the server's own disk (the one most likely to be lost).
#
#   key     make the gateway's snapshot key (ed25519, root only) if it has none; print
#           its public key (each server lets it fetch snapshots, nothing else)
#   forget  remove that key; the copies stay
#   pull    fetch the newest snapshot HC_SNAPSHOT-* of server HC_NODE (at HC_ADDRESS,
#           port HC_PORT, user HC_USER), its host key pinned by the known_hosts line on
#           stdin; keep the newest HC_KEEP of that server; nothing to copy is not an error
#
# Copies: $STORE/<node>/<K3s' snapshot name>, root only. A fetch is bounded
# (HC_PULL_SECONDS, default 600); a failed one leaves the copies as they were.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=host/scripts/lib.sh
. "$root/host/scripts/lib.sh"

KEY_DIR=/etc/homecloud/etcd-snapshots
KEY="$KEY_DIR/id_ed25519"
STORE=$HC_STATE/etcd-snapshots
PULL_SECONDS=${HC_PULL_SECONDS:-600}
NAME='^homecloud-pre-v[0-9]+\.[0-9]+\.[0-9]+-k3s[0-9]+$'
NODE='^[a-z0-9]([a-z0-9-]*[a-z0-9])?$'

fail() { echo "homecloud: $(hostname): $*" >&2; exit 1; }

make_key() {
  if [ ! -s "$KEY" ]; then
    install -d -m 0700 "$KEY_DIR"
    ssh-keygen -q -t ed25519 -N "" -C "homecloud-etcd-snapshots@$(hostname)" -f "$KEY" >/dev/null
  fi
  cut -d' ' -f1,2 "$KEY.pub"
}

forget_key() {
  rm -rf "$KEY_DIR"
  echo "homecloud: $(hostname): snapshot key removed; the copies in $STORE stay"
}

pull() {
  local node=${HC_NODE:?} address=${HC_ADDRESS:?} port=${HC_PORT:?} user=${HC_USER:?} name=${HC_SNAPSHOT:?} keep=${HC_KEEP:?}
  [[ "$name" =~ $NAME ]] || fail "HC_SNAPSHOT must be homecloud-pre-<K3s version>, not '$name'"
  [[ "$node" =~ $NODE ]] || fail "HC_NODE must be a host name, not '$node'"
  [[ "$keep" =~ ^[1-9][0-9]*$ ]] || fail "HC_KEEP must be a whole number from 1, not '$keep'"
  [ -s "$KEY" ] || fail "no snapshot key $KEY (the key step makes it)"
  command -v ssh >/dev/null || fail "no ssh client (Debian's openssh-client)"
  local work rc=0 dest file
  install -d -m 0700 "$STORE"
  work=$(mktemp -d "$STORE/.incoming.XXXXXX")
  # shellcheck disable=SC2064 # the path is fixed now
  trap "rm -rf '$work'" EXIT
  cat >"$work/known_hosts"
  [ -s "$work/known_hosts" ] || fail "no known_hosts line for $node on stdin: its host key must be pinned"
  timeout -k 10 "$PULL_SECONDS" ssh -n -i "$KEY" -p "$port" \
    -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="$work/known_hosts" -o GlobalKnownHostsFile=/dev/null -o CheckHostIP=no \
    -o ConnectTimeout=10 -o ServerAliveInterval=10 -o ServerAliveCountMax=3 -o LogLevel=ERROR \
    "$user@$address" "$name" >"$work/stream" 2>"$work/err" || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    fail "fetching $name from $node ($address) took longer than $PULL_SECONDS s; the copies in $STORE/$node are as they were"
  elif [ "$rc" -ne 0 ] && grep -q '^Host key verification failed' "$work/err"; then
    fail "could not fetch $name from $node ($user@$address:$port): $node's SSH host key is not the pinned one (the stack output hostKeys); nothing was fetched"
  elif [ "$rc" -ne 0 ]; then
    fail "could not fetch $name from $node ($user@$address:$port): $(tr -d '\r' <"$work/err" | tr '\n' ' ' | sed 's/ $//')"
  fi
  if [ ! -s "$work/stream" ]; then
    echo "homecloud: $node has no etcd snapshot $name-* (K3s was installed there, not upgraded, or was not running): nothing to copy"
    return 0
  fi
  mkdir "$work/x"
  tar -C "$work/x" -xf "$work/stream" --no-same-owner --no-same-permissions ||
    fail "what $node sent for $name is not a tar stream of one snapshot"
  file=$(find "$work/x" -mindepth 1 -maxdepth 1 -printf '%f\n')
  if [ "$(find "$work/x" -mindepth 1 | wc -l)" -ne 1 ] || [ ! -f "$work/x/$file" ] || [ -L "$work/x/$file" ] ||
    ! [[ "$file" =~ ^${name//./\\.}-[a-z0-9.-]+-[0-9]+(\.zip)?$ ]]; then
    fail "what $node sent for $name is not one snapshot file named $name-<node>-<time>"
  fi
  dest="$STORE/$node"
  install -d -m 0700 "$dest"
  chmod 0600 "$work/x/$file"
  mv -f "$work/x/$file" "$dest/$file"
  echo "homecloud: copied $file from $node to $dest ($(stat -c %s "$dest/$file") bytes, sha256 $(sha256sum "$dest/$file" | cut -d' ' -f1))"
  # The newest HC_KEEP by K3s' time in the name (seconds since 1970, its last field).
  local old
  old=$(find "$dest" -maxdepth 1 -type f -name 'homecloud-pre-*' -printf '%f\n' |
    sed -n 's/^\(.*-\([0-9][0-9]*\)\(\.zip\)\{0,1\}\)$/\2 \1/p' | sort -rn | sed -n "$((keep + 1)),\$s/^[0-9]* //p")
  if [ -n "$old" ]; then
    while IFS= read -r file; do
      rm -f "${dest:?}/$file"
      echo "homecloud: removed the older copy $file (keeping the newest $keep of $node)"
    done <<<"$old"
  fi
}

case "${1:-}" in
  key) make_key ;;
  forget) forget_key ;;
  pull) pull ;;
  *) echo "usage: etcd-snapshots.sh key|forget|pull" >&2; exit 2 ;;
esac
