#!/bin/bash
# ddns-keys.sh create|remove: the TSIG keys of dynamic DNS, made on the gateway and kept
# there (HC_KEY_DIR; HC_KEYS: their names). create makes each key that does not exist yet
# and keeps the ones that do, so a re-run never changes a key kea-dhcp-ddns or named holds;
# readable by root and named's group only. Nothing here prints a secret. remove deletes them.
set -euo pipefail
dir=${HC_KEY_DIR:?HC_KEY_DIR is not set}

create_keys() {
  local k f
  install -d -m 0750 -o root -g bind "$dir"
  for k in ${HC_KEYS:?}; do
    f="$dir/$k.key"
    if [ -s "$f" ]; then
      echo "homecloud: TSIG key $k kept"
      continue
    fi
    (umask 077 && tsig-keygen -a hmac-sha256 "$k" >"$f.new")
    chown root:bind "$f.new"
    chmod 0640 "$f.new"
    mv -f "$f.new" "$f"
    echo "homecloud: TSIG key $k made in $f"
  done
}

remove_keys() {
  local k
  for k in ${HC_KEYS:?}; do rm -f "$dir/$k.key" "$dir/$k.key.new"; done
  rmdir --ignore-fail-on-non-empty "$dir" 2>/dev/null || true
  echo "homecloud: TSIG keys removed"
}

case "${1:-}" in
  create) create_keys ;;
  remove) remove_keys ;;
  *) echo "usage: ddns-keys.sh create|remove" >&2; exit 2 ;;
esac
