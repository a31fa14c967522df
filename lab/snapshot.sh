#!/usr/bin/env bash
# lab/snapshot.sh <dir>: what `destroy` must give back on gw, one file per aspect: /etc's
# file hashes and directories (mode, owner), the nftables ruleset, enabled units, IPv4 forwarding, addresses; and every
# host's trust store.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: lab/snapshot.sh <dir>}
mkdir -p "$dir"
lab/exec gw bash -c 'find /etc -xdev -type f -print0 | sort -z | xargs -0 sha256sum' >"$dir/etc.sha256"
lab/exec gw bash -c 'find /etc -xdev -type d -printf "%p %m %u:%g\n" | LC_ALL=C sort' >"$dir/etc-dirs.txt"
lab/exec gw nft list ruleset >"$dir/nft.txt"
lab/exec gw systemctl list-unit-files --state=enabled --no-legend >"$dir/enabled.txt"
lab/exec gw /usr/sbin/sysctl net.ipv4.ip_forward >"$dir/ip_forward.txt"
lab/exec gw ip -4 -br addr show >"$dir/addr.txt"
# Each host's trust store: the CA the program adds must be gone after destroy, bundle and links alike.
for host in gw node1 node2 node3; do
  lab/exec "$host" bash -c 'find /etc/ssl/certs /usr/local/share/ca-certificates -xdev \( -type f -o -type l \) -printf "%p %l\n" | sort; sha256sum /etc/ssl/certs/ca-certificates.crt' >"$dir/trust-$host.txt"
done
