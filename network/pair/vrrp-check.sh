#!/bin/bash
# vrrp-check.sh haproxy HOST:PORT | named DOMAIN: keepalived's health checks (keepalived.ts),
# run by keepalived every second. Exit 0 when the daemon answers, non-zero otherwise; keepalived
# then puts the gateway's VRRP instance in FAULT and the peer takes the addresses.
#   haproxy  HAProxy's status page on loopback answers an HTTP request with 200
#   named    BIND answers the cluster domain's SOA on loopback, authoritatively
set -euo pipefail

check_haproxy() {
  local host=${1%:*} port=${1##*:} status
  exec 3<>"/dev/tcp/$host/$port"
  printf 'GET / HTTP/1.0\r\nHost: %s\r\n\r\n' "$host" >&3
  IFS= read -r -t 1 status <&3
  exec 3<&-
  case "$status" in
    "HTTP/1."?" 200 "*) return 0 ;;
    *) echo "haproxy: status page answered '${status%$'\r'}'" >&2; return 1 ;;
  esac
}

check_named() {
  local flags
  flags=$(dig +norecurse +time=1 +tries=1 @127.0.0.1 "$1" SOA | sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p')
  case " $flags " in
    *" aa "*) return 0 ;;
    *) echo "named: no authoritative answer for $1 (flags '$flags')" >&2; return 1 ;;
  esac
}

case "${1:-}" in
  haproxy) check_haproxy "${2:?HOST:PORT}" ;;
  named) check_named "${2:?DOMAIN}" ;;
  *) echo "usage: vrrp-check.sh haproxy HOST:PORT | named DOMAIN" >&2; exit 2 ;;
esac
