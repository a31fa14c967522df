# shellcheck shell=bash
# Hooks for the Kea Control Agent's password (keaHa.ts), which the HA partners send each
# other: both Kea configurations name this file, neither holds the password. Kea reads every
# byte of the file as the password, so `prepare` leaves the password alone in it, without a
# newline. Nothing here ever prints it: `check` says only whether it has the right form,
# then lets `kea-ctrl-agent -t` read it as the password file of a configuration of its own.
# A new password (a new SSH key) restarts the agent and reloads kea-dhcp4, where their
# installed configuration (HC_CTRL_AGENT_CONFIG, HC_KEA_CONFIG) names this file.
prepare() {
  local password
  password=$(<"$CANDIDATE")
  printf '%s' "$password" >"$CANDIDATE"
}
check() {
  local password
  password=$(<"$CANDIDATE")
  if ! [[ $password =~ ^[A-Za-z0-9]{16,128}$ ]]; then
    echo "the Control Agent's password must be 16 to 128 letters or digits"
    return 1
  fi
  # Global, not local: the EXIT trap runs after check() has returned.
  check_conf=$(mktemp)
  trap 'rm -f "$check_conf"' EXIT
  printf '{"Control-agent": {"http-host": "127.0.0.1", "http-port": 8000, "authentication": {"type": "basic", "realm": "check", "clients": [{"user": "check", "password-file": "%s"}]}}}\n' \
    "$CANDIDATE" >"$check_conf"
  kea-ctrl-agent -t "$check_conf"
}
activate() {
  if grep -qF "$HC_DEST" "${HC_CTRL_AGENT_CONFIG:?}" 2>/dev/null && systemctl is-active -q kea-ctrl-agent; then
    systemctl restart kea-ctrl-agent
  fi
  if grep -qF "$HC_DEST" "${HC_KEA_CONFIG:?}" 2>/dev/null && systemctl is-active -q kea-dhcp4-server; then
    systemctl kill --kill-whom=main -s HUP kea-dhcp4-server
  fi
}
