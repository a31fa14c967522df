#!/bin/bash
# host-file.sh install|remove: one file the program owns on this host.
#
#   install  the content comes on stdin. It is staged next to the destination, checked by
#            the hooks' `check` (the daemon's own checker, on "$CANDIDATE"; an optional
#            `prepare` first fills in what only the host knows, e.g. a secret it made), the host's
#            original is kept once, the candidate moved into place atomically and the hooks'
#            `activate` run; if that fails the previous file comes back and is activated
#            again. An unchanged file (content, mode and owner) changes and activates
#            nothing; a new mode or owner alone is installed like new content.
#   remove   puts the host's original back (or removes ours) and runs the hooks' `revert`.
#
# Environment (set on the command line by the program; never the content):
#   HC_DEST        absolute destination path
#   HC_MODE        octal mode of the installed file (default 0644)
#   HC_OWNER       user:group (default root:root)
#   HC_HOOKS       hooks file in this toolkit defining check / activate / revert (optional)
#   HC_ZONE_SERIAL 1 for a DNS zone: the content's `@SERIAL@ ; serial` line gets a serial
#                  greater than the installed one (at least YYYYMMDD00), only when
#                  something else in the zone changed
#   HC_RESOURCE    the URN of the resource that owns the file. install records it; remove
#                  leaves the file alone when another resource owns it now, so the delete
#                  of a renamed or moved resource can never undo its successor's install
# Each hook runs in its own bash with `set -euo pipefail`: a failing step of a check, or of
# any pipeline in it, rejects the file.
set -euo pipefail
# The toolkit's root: hooks files are named relative to it.
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=host/scripts/lib.sh
. "$root/host/scripts/lib.sh"
dest=${HC_DEST:?HC_DEST is not set}
case "$dest" in
  /*) ;;
  *) echo "homecloud: HC_DEST must be an absolute path, not '$dest'" >&2; exit 2 ;;
esac
saved="$HC_STATE/original$dest"

# claim: this resource owns the file now.
claim() { owner_claim "$dest" "${HC_RESOURCE:-}"; }

# hook NAME: runs the hooks file's function NAME, if it defines one.
hook() {
  [ -n "${HC_HOOKS:-}" ] || return 0
  bash -euo pipefail -c '. "$1"; . "$2"; if declare -F "$3" >/dev/null; then "$3"; fi' hook "$root/host/scripts/lib.sh" "$root/$HC_HOOKS" "$1"
}

# zone_serial: fills in the candidate's serial: the installed one when no record changed
# (so it reads as unchanged), else one greater than it, at least today's YYYYMMDD00.
zone_serial() {
  local old=0 serial
  if [ -f "$dest" ]; then
    old=$(sed -n '/^ *[0-9][0-9]* *; serial$/{s/^ *\([0-9][0-9]*\) *; serial$/\1/p;q}' "$dest")
    if sed 's/^\( *\)[0-9][0-9]* *; serial$/\1@SERIAL@ ; serial/' "$dest" | cmp -s - "$CANDIDATE"; then
      sed -i "s/@SERIAL@ ; serial$/$old ; serial/" "$CANDIDATE"
      return 0
    fi
  fi
  serial=$(date -u +%Y%m%d00)
  if [ "${old:-0}" -ge "$serial" ]; then serial=$((old + 1)); fi
  sed -i "s/@SERIAL@ ; serial$/$serial ; serial/" "$CANDIDATE"
}

install_file() {
  install -d -m 0755 "$(dirname "$dest")" "$(dirname "$saved")"
  CANDIDATE=$(mktemp "$dest.homecloud.XXXXXX")
  export CANDIDATE
  trap 'rm -f "$CANDIDATE" "$dest.homecloud-previous"' EXIT
  cat >"$CANDIDATE"
  chmod "${HC_MODE:-0644}" "$CANDIDATE"
  chown "${HC_OWNER:-root:root}" "$CANDIDATE"
  local out
  if ! out=$(hook prepare 2>&1); then
    echo "homecloud: $dest could not be prepared on this host; the running configuration is untouched:" >&2
    echo "$out" >&2
    return 1
  fi
  if [ "${HC_ZONE_SERIAL:-0}" = 1 ]; then zone_serial; fi
  # Unchanged means the same content, mode and owner: a new HC_MODE or HC_OWNER is applied.
  if [ -f "$dest" ] && cmp -s "$CANDIDATE" "$dest" &&
    [ "$(stat -c '%a %U:%G' "$dest")" = "$(stat -c '%a %U:%G' "$CANDIDATE")" ]; then
    claim
    echo "homecloud: $dest unchanged"
    return 0
  fi
  if ! out=$(hook check 2>&1); then
    echo "homecloud: $dest rejected by its checker; the running configuration is untouched:" >&2
    echo "$out" >&2
    return 1
  fi
  if [ ! -e "$saved" ] && [ ! -e "$saved.absent" ]; then
    if [ -e "$dest" ]; then cp -a "$dest" "$saved"; else touch "$saved.absent"; fi
  fi
  if [ -e "$dest" ]; then cp -a "$dest" "$dest.homecloud-previous"; fi
  mv -f "$CANDIDATE" "$dest"
  if ! out=$(hook activate 2>&1); then
    echo "homecloud: activating $dest failed; putting the previous file back:" >&2
    echo "$out" >&2
    if [ -e "$dest.homecloud-previous" ]; then mv -f "$dest.homecloud-previous" "$dest"; else rm -f "$dest"; fi
    hook activate >/dev/null 2>&1 || true
    return 1
  fi
  claim
  echo "homecloud: $dest installed"
}

remove_file() {
  local owner
  if owner=$(owner_other "$dest" "${HC_RESOURCE:-}"); then
    echo "homecloud: $dest belongs to $owner now; left as it is"
    return 0
  fi
  owner_forget "$dest"
  if [ -e "$saved" ]; then
    mv -f "$saved" "$dest"
  elif [ -e "$saved.absent" ]; then
    rm -f "$dest" "$saved.absent"
  fi
  hook revert
  # Leave no empty bookkeeping directories behind.
  find "$HC_STATE" -depth -type d -empty -delete 2>/dev/null || true
  echo "homecloud: $dest restored"
}

case "${1:-}" in
  install) install_file ;;
  remove) remove_file ;;
  *) echo "usage: host-file.sh install|remove" >&2; exit 2 ;;
esac
