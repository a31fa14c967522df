# shellcheck shell=bash
# Hooks for Kea's configuration (host/scripts/host-file.sh sources lib.sh, then this).
# Debian's kea-dhcp4-server unit has no ExecReload: kea-dhcp4 re-reads its file on SIGHUP
# and keeps serving the leases in its lease file, so clients see no outage. `kea-dhcp4 -t`
# also rejects an interface the gateway does not have.
check() { kea-dhcp4 -t "$CANDIDATE"; }
activate() { service_activate kea-dhcp4-server hup; }
revert() { service_revert kea-dhcp4-server; }
