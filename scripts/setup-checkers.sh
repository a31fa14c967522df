#!/usr/bin/env bash
# Installs, from Debian, the daemons' own checkers the tests run on every rendered file
# (kea-dhcp4 -t, kea-dhcp-ddns -t, kea-ctrl-agent -t, keepalived -t, named-checkconf/-checkzone, haproxy -c, nft -c,
# systemd-analyze verify), shellcheck, Graphviz (`dot`, which draws the network
# diagram), and etcd with openssl for the throwaway kube-apiserver the cluster half's
# objects are checked against (scripts/setup-kube-apiserver.sh builds that one). Daemons
# are installed for their checkers only: a policy-rc.d that exits 101 keeps every package
# from starting a service on this machine.
set -euo pipefail

packages=(kea-dhcp4-server kea-dhcp-ddns-server kea-ctrl-agent keepalived bind9 bind9-utils haproxy nftables iptables iputils-arping systemd shellcheck iproute2 openssh-client graphviz etcd-server openssl)
missing=()
for p in "${packages[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && { echo "checkers: all present"; exit 0; }

echo "checkers: installing ${missing[*]}"
policy=/usr/sbin/policy-rc.d
saved=""
if [ -e "$policy" ]; then saved=$(mktemp); cp -a "$policy" "$saved"; fi
restore() { if [ -n "$saved" ]; then mv -f "$saved" "$policy"; else rm -f "$policy"; fi; }
trap restore EXIT
printf '#!/bin/sh\nexit 101\n' > "$policy"
chmod 0755 "$policy"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "checkers: installed"
