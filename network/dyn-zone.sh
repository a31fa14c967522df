#!/bin/bash
# dyn-zone.sh apply|remove: a zone that takes dynamic updates (kea-dhcp-ddns adds pool
# clients' names to it), with the records the program owns kept as the program says.
#
#   apply   the zone as the program renders it comes on stdin (serial token unfilled).
#           First time: it is checked by named-checkzone and written as the zone's file
#           (named loads it once named.conf.local names it). After that the file is never
#           written again, since named keeps the zone's changes in a journal beside it:
#           the records that differ from the last applied rendering are deleted and added
#           with one signed RFC 2136 update (nsupdate, the program's own key), so pool
#           clients' records stay, named raises the serial, and a restart replays the journal.
#   remove  deletes the file, its journal and what the program recorded, unless another
#           resource owns the zone now.
#
# Environment: HC_ZONE (name), HC_DEST (file), HC_KEY_FILE (the program's TSIG key),
# HC_RESOURCE (the URN of the resource that owns the zone).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=host/scripts/lib.sh
. "$here/host/scripts/lib.sh"
zone=${HC_ZONE:?HC_ZONE is not set}
dest=${HC_DEST:?HC_DEST is not set}
applied="$HC_STATE/zones/$zone.applied"
resource=${HC_RESOURCE:-dyn-zone}

# canonical FILE OUT: one "name ttl class type data" line per record, SOA left out, sorted,
# into OUT. Fails, saying why, when named-compilezone does or when no record is left (every
# zone the program renders has an NS record at least): an empty rendering must never read
# as "nothing changed".
canonical() {
  local err
  err=$(mktemp)
  if ! sed 's/@SERIAL@ ; serial$/1 ; serial/' "$1" |
    named-compilezone -s full -i none -o - "$zone" /dev/stdin 2>"$err" | awk '$4 != "SOA"' | LC_ALL=C sort >"$2"; then
    echo "homecloud: zone $zone: named-compilezone could not read $3; nothing was sent:" >&2
    cat "$err" >&2
    rm -f "$err"
    return 1
  fi
  rm -f "$err"
  if [ ! -s "$2" ]; then
    echo "homecloud: zone $zone: $3 has no records after named-compilezone; nothing was sent" >&2
    return 1
  fi
}

claim() { owner_claim "$dest" "$resource"; }

apply_zone() {
  local out deletes adds
  # Global, not local: the EXIT trap runs after apply_zone has returned.
  install -d -m 0755 "$HC_STATE/zones"
  candidate=$(mktemp)
  checked=$(mktemp)
  old=$(mktemp)
  new=$(mktemp)
  trap 'rm -f "$candidate" "$checked" "$old" "$new"' EXIT
  cat >"$candidate"
  sed "s/@SERIAL@ ; serial$/$(date -u +%Y%m%d00) ; serial/" "$candidate" >"$checked"
  if ! out=$(named-checkzone "$zone" "$checked" 2>&1); then
    echo "homecloud: zone $zone rejected by named-checkzone; the served zone is untouched:" >&2
    echo "$out" >&2
    return 1
  fi
  if [ ! -e "$dest" ]; then
    install -d -m 0775 -o bind -g bind "$(dirname "$dest")"
    install -m 0644 -o bind -g bind "$checked" "$dest"
    cp "$candidate" "$applied"
    claim
    if systemctl is-active -q named; then rndc reload "$zone" >/dev/null 2>&1 || true; fi
    echo "homecloud: zone $zone written to $dest"
    return 0
  fi
  if [ -f "$applied" ] && cmp -s "$candidate" "$applied"; then
    claim
    echo "homecloud: zone $zone unchanged"
    return 0
  fi
  # Without a record of what was applied, nothing is deleted: only what the program owns
  # may go, and it cannot know what that was.
  if [ -f "$applied" ]; then canonical "$applied" "$old" "the rendering applied last ($applied)" || return 1; fi
  canonical "$candidate" "$new" "the new rendering" || return 1
  deletes=$(LC_ALL=C comm -23 "$old" "$new")
  adds=$(LC_ALL=C comm -13 "$old" "$new")
  if [ -n "$deletes$adds" ]; then
    if ! systemctl is-active -q named; then
      echo "homecloud: named is not running, so zone $zone cannot be changed; start it (systemctl start named) and run again" >&2
      return 1
    fi
    {
      echo "server 127.0.0.1"
      echo "zone $zone."
      if [ -n "$deletes" ]; then printf '%s\n' "$deletes" | awk '{ $2 = ""; print "update delete", $0 }'; fi
      if [ -n "$adds" ]; then printf '%s\n' "$adds" | awk '{ print "update add", $0 }'; fi
      echo "send"
    } | nsupdate -k "${HC_KEY_FILE:?}" || {
      echo "homecloud: the update of zone $zone was refused; the served zone is unchanged" >&2
      return 1
    }
  fi
  cp "$candidate" "$applied"
  claim
  echo "homecloud: zone $zone updated: $(printf '%s' "$adds" | grep -c .) records added, $(printf '%s' "$deletes" | grep -c .) removed"
}

remove_zone() {
  local owner
  if owner=$(owner_other "$dest" "$resource"); then
    echo "homecloud: zone $zone belongs to $owner now; left as it is"
    return 0
  fi
  owner_forget "$dest"
  rm -f "$dest" "$dest.jnl" "$applied"
  rmdir --ignore-fail-on-non-empty "$(dirname "$dest")" 2>/dev/null || true
  find "$HC_STATE" -depth -type d -empty -delete 2>/dev/null || true
  echo "homecloud: zone $zone removed"
}

case "${1:-}" in
  apply) apply_zone ;;
  remove) remove_zone ;;
  *) echo "usage: dyn-zone.sh apply|remove" >&2; exit 2 ;;
esac
