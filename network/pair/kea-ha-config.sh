# shellcheck shell=bash
# Hooks for Kea's configuration with two gateways (keaHa.ts). `prepare` puts the directory
# this host's Kea keeps its hook libraries in (Debian's multiarch path: x86_64-linux-gnu,
# aarch64-linux-gnu on a 64-bit Pi, arm-linux-gnueabihf on a 32-bit one), as the package
# lists it, in place of the token the program sent; `kea-dhcp4 -t` then loads both hook
# libraries and checks the HA parameters. kea-dhcp4 re-reads its file on SIGHUP and keeps
# its leases.
prepare() {
  local lib dir text
  lib=$(dpkg-query -L kea-common 2>/dev/null | grep -m1 '/kea/hooks/libdhcp_ha\.so$' || true)
  if [ -z "$lib" ] || [ ! -f "$lib" ]; then
    echo "libdhcp_ha.so is not installed (Debian package kea-common)"
    return 1
  fi
  dir=$(dirname "$lib")
  text=$(<"$CANDIDATE")
  printf '%s\n' "${text//@KEA_HOOKS_DIR@/$dir}" >"$CANDIDATE"
}
check() { kea-dhcp4 -t "$CANDIDATE"; }
activate() { service_activate kea-dhcp4-server hup; }
revert() { service_revert kea-dhcp4-server; }
