# shellcheck shell=bash
# Functions every homecloud host script and hook shares. Sourced, never run.

# Where the program keeps what it needs to undo itself: originals, markers, records.
HC_STATE=/var/lib/homecloud

# Which resource owns a file the program manages: a renamed resource's delete must never
# undo what its successor (the same file under a new name) installed.
# owner_claim DEST RESOURCE: RESOURCE owns DEST now (nothing is recorded without a name).
owner_claim() {
  [ -n "$2" ] || return 0
  install -d -m 0755 "$(dirname "$HC_STATE/owner$1")"
  printf '%s\n' "$2" >"$HC_STATE/owner$1"
}

# owner_other DEST RESOURCE: prints DEST's owner and succeeds when that is another resource.
owner_other() {
  [ -n "$2" ] && [ -f "$HC_STATE/owner$1" ] && [ "$(cat "$HC_STATE/owner$1")" != "$2" ] && cat "$HC_STATE/owner$1"
}

# owner_forget DEST: DEST has no owner any more.
owner_forget() { rm -f "$HC_STATE/owner$1"; }

# service_activate UNIT reload|restart|hup: enable UNIT (remembering whether it was enabled
# before, so that service_revert leaves it as found) and reload it, or start it if stopped.
service_activate() {
  local unit=$1 how=$2 marker="$HC_STATE/units/$1.was-enabled"
  install -d -m 0755 "$HC_STATE/units"
  if [ ! -e "$marker" ]; then systemctl is-enabled "$unit" >"$marker" 2>/dev/null || true; fi
  systemctl enable -q "$unit"
  if systemctl is-active -q "$unit"; then
    case "$how" in
      reload) systemctl reload "$unit" ;;
      hup) systemctl kill --kill-whom=main -s HUP "$unit" ;;
      restart) systemctl restart "$unit" ;;
      *) echo "service_activate: unknown way '$how'" >&2; return 2 ;;
    esac
  else
    systemctl start "$unit"
  fi
  systemctl is-active -q "$unit"
}

# service_revert UNIT: stop and disable UNIT if it was not enabled before service_activate
# first ran, else restart it (it reads the host's own configuration again).
service_revert() {
  local unit=$1 marker="$HC_STATE/units/$1.was-enabled"
  if [ -e "$marker" ] && [ "$(cat "$marker")" != enabled ]; then
    systemctl disable -q --now "$unit" || true
  elif systemctl is-active -q "$unit"; then
    systemctl restart "$unit"
  fi
  rm -f "$marker"
}

# service_forget UNIT: drop what service_activate remembered, for a unit the caller stops itself.
service_forget() {
  rm -f "$HC_STATE/units/$1.was-enabled"
}
