#!/bin/bash
# packages.sh install|remove: the Debian packages the gateway needs (HC_PACKAGES, one word
# each). install: apt installs the missing ones, and only those; their names are recorded
# before apt runs, so even an interrupted install is undone. remove: dpkg (not apt) purges
# what was recorded, so nothing installed later that depends on one of them is taken along.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=host/scripts/lib.sh
. "$here/host/scripts/lib.sh"
record="$HC_STATE/packages-installed"

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

install_packages() {
  local p missing=""
  for p in ${HC_PACKAGES:?}; do
    case "$p" in
      [a-z0-9]*) ;;
      *) echo "homecloud: '$p' is not a Debian package name" >&2; return 2 ;;
    esac
    if ! installed "$p"; then missing="$missing $p"; fi
  done
  if [ -z "$missing" ]; then
    echo "homecloud: packages already installed: $HC_PACKAGES"
    return 0
  fi
  install -d -m 0755 "$HC_STATE"
  # shellcheck disable=SC2086 # one word per package
  { if [ -f "$record" ]; then cat "$record"; fi; printf '%s\n' $missing; } | sort -u >"$record.new"
  mv -f "$record.new" "$record"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  apt-get install -y -qq --no-install-recommends $missing
  echo "homecloud: installed$missing"
}

remove_packages() {
  local p present=""
  [ -f "$record" ] || return 0
  while read -r p; do
    if installed "$p"; then present="$present $p"; fi
  done <"$record"
  if [ -n "$present" ]; then
    # shellcheck disable=SC2086 # one word per package
    if DEBIAN_FRONTEND=noninteractive dpkg --purge $present; then
      echo "homecloud: removed$present"
    else
      echo "homecloud: left installed what other packages still need:$present" >&2
    fi
  fi
  rm -f "$record"
}

case "${1:-}" in
  install) install_packages ;;
  remove) remove_packages ;;
  *) echo "usage: packages.sh install|remove" >&2; exit 2 ;;
esac
