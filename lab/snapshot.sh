#!/usr/bin/env bash
# lab/snapshot.sh <dir>: what `destroy` must give back on gw, one file per aspect: /etc's
# file hashes, the nftables ruleset, enabled units, IPv4 forwarding, addresses.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: lab/snapshot.sh <dir>}
mkdir -p "$dir"
lab/exec gw bash -c 'find /etc -xdev -type f -print0 | sort -z | xargs -0 sha256sum' >"$dir/etc.sha256"
lab/exec gw nft list ruleset >"$dir/nft.txt"
lab/exec gw systemctl list-unit-files --state=enabled --no-legend >"$dir/enabled.txt"
lab/exec gw /usr/sbin/sysctl net.ipv4.ip_forward >"$dir/ip_forward.txt"
lab/exec gw ip -4 -br addr show >"$dir/addr.txt"
