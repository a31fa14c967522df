# shellcheck shell=bash
# Hooks for HAProxy's configuration (host/scripts/host-file.sh sources lib.sh, then this).
# `haproxy -c` parses the candidate completely (it binds nothing), so a file it rejects
# never replaces the running one. Debian's unit reloads by checking the file again and
# sending USR2 to the master: new workers take the listeners, old ones keep serving their
# established connections until those close, so a reload drops none.
check() { haproxy -c -f "$CANDIDATE"; }
activate() { service_activate haproxy reload; }
revert() { service_revert haproxy; }
