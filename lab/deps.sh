#!/bin/bash
# Installs what the lab needs on this machine (Debian packages only).
set -euo pipefail
[[ $(id -u) -eq 0 ]] || { echo "must run as root" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
pkgs=(debootstrap systemd-container iproute2 openssh-client nftables iptables procps
  util-linux conntrack curl openssl)
if ! apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi
