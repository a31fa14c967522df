# shellcheck shell=bash disable=SC2034
# Shared definitions for the homecloud lab scripts. Sourced, never run.
#
# Address plan (fixed; Pulumi.lab.yaml uses exactly this):
#   switch  : bridge br0 in namespace hc-sw, LAN 10.77.0.0/24
#   gw      : lan0 10.77.0.1/24, wan0 192.168.77.2/24, no default route
#   gw2     : lan0 10.77.0.2/24, wan0 192.168.77.3/24, no default route (the second gateway
#             of a two-gateway stack; idle while the lab stack has one gateway)
#   node1..3: eth0 10.77.0.11-13/24, default via 10.77.0.1 (node1 also 10.77.0.200/24)
#   client  : eth0 MAC 02:77:00:00:00:50, no address (DHCP when a test asks)
#   uplink  : eth0 192.168.77.1/24 (the home network's router), no default route
#   home    : bridge br1 in namespace hc-sw, the home network: gw, gw2 and uplink
#   mgmt    : veth hc-mgmt 10.77.0.250/24 in the root namespace, on the bridge

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_CACHE=${HOMECLOUD_CACHE:-/var/cache/homecloud}
LAB_RUN=${HOMECLOUD_LAB_RUN:-/run/homecloud-lab}
LAB_KEY=$LAB_CACHE/lab-ssh/id_ed25519
LAB_LOCK=$LAB_CACHE/lab.lock
LAB_CG=homecloud-lab          # cgroup directory name under each hierarchy root
LAB_SW_NS=hc-sw               # namespace holding the "switch" bridge
LAB_MGMT_IF=hc-mgmt           # root-namespace end of the management veth
LAB_MGMT_ADDR=10.77.0.250/24

LAB_HOSTS=(gw gw2 node1 node2 node3 client uplink)

# host iface mac segment   (segment lan = port on the LAN switch br0, wan = port on the home network's br1)
LAB_LINKS=(
  "gw lan0 02:77:00:00:00:01 lan"
  "gw wan0 02:77:01:00:00:02 wan"
  "gw2 lan0 02:77:00:00:00:02 lan"
  "gw2 wan0 02:77:01:00:00:03 wan"
  "node1 eth0 02:77:00:00:00:11 lan"
  "node2 eth0 02:77:00:00:00:12 lan"
  "node3 eth0 02:77:00:00:00:13 lan"
  "client eth0 02:77:00:00:00:50 lan"
  "uplink eth0 02:77:01:00:00:01 wan"
)

# host iface address  (set by the lab before every boot of the host)
LAB_ADDRS=(
  "gw lan0 10.77.0.1/24"
  "gw wan0 192.168.77.2/24"
  "gw2 lan0 10.77.0.2/24"
  "gw2 wan0 192.168.77.3/24"
  "node1 eth0 10.77.0.11/24"
  "node1 eth0 10.77.0.200/24"
  "node2 eth0 10.77.0.12/24"
  "node3 eth0 10.77.0.13/24"
  "uplink eth0 192.168.77.1/24"
)

# host gateway (default route)
LAB_ROUTES=(
  "node1 10.77.0.1"
  "node2 10.77.0.1"
  "node3 10.77.0.1"
)

# host port body|@peer [bind-address]   (small HTTP responders run inside the hosts)
LAB_HTTP=(
  "node1 80 ingress@node1 10.77.0.200"
  "node1 443 ingress@node1 10.77.0.200"
  "uplink 80 @peer"
)

# The K3s servers (lab/cluster.sh): an etcd member and a real kube-apiserver on 6443 when
# the binaries are on this machine, else lab/api-standin.py (TLS and /readyz like a K3s
# server: 401 without a client certificate, 200 with one, 503 while /etc/lab-api/notready exists).
LAB_API=(node1 node2 node3)
# The API's VIP on the home network (Pulumi.lab.yaml's vip; the gateway's HAProxy holds it):
# the servers' certificates name it, as K3s's tls-san does.
LAB_VIP=192.168.77.10
# Hosts given the lab's API client certificate (/etc/lab-api/client.{crt,key}) to ask with.
LAB_API_CLIENTS=(uplink client)

# Addresses reachable over SSH from the management veth in the root namespace.
declare -A LAB_MGMT_IP=([gw]=10.77.0.1 [gw2]=10.77.0.2 [node1]=10.77.0.11 [node2]=10.77.0.12 [node3]=10.77.0.13)

LAB_SSH_OPTS=(-F /dev/null -i "$LAB_KEY" -o IdentitiesOnly=yes -o BatchMode=yes
  -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
  -o ConnectTimeout=3)

lab_log() { printf '[lab %s] %s\n' "$(date +%T)" "$*" >&2; }
lab_die() { lab_log "ERROR: $*"; exit 1; }
lab_now() { date +%s.%N; }
lab_since() { awk -v a="$1" -v b="$(lab_now)" 'BEGIN { printf "%.1f", b - a }'; }

lab_ns() { printf 'hc-%s\n' "$1"; }
lab_hdir() { printf '%s/hosts/%s\n' "$LAB_RUN" "$1"; }

lab_in() { # word list...: is the word one of the list?
  local w=$1 x
  shift
  for x in "$@"; do [[ $x == "$w" ]] && return 0; done
  return 1
}

lab_is_host() {
  local h
  for h in "${LAB_HOSTS[@]}"; do [[ $h == "$1" ]] && return 0; done
  return 1
}

lab_require_root() { [[ $(id -u) -eq 0 ]] || lab_die "must run as root"; }

# Fields of the table rows that belong to host $1.
lab_rows() { # table-name host
  local -n _tbl=$1
  local row
  for row in "${_tbl[@]}"; do [[ ${row%% *} == "$2" ]] && printf '%s\n' "${row#* }"; done
  return 0
}

# ---------------------------------------------------------------- processes

# pid_alive PID WORD: PID exists and its command line contains WORD (guards against
# a recycled PID: we only ever signal processes the lab recorded itself).
lab_pid_matches() {
  local pid=$1 word=$2 cmd
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ $cmd == *"$word"* ]]
}

lab_read_pid() { [[ -s $1 ]] && tr -dc '0-9' <"$1"; return 0; }

# PID (in the root pid namespace) of the host's systemd (PID 1 inside the container).
lab_init_pid() {
  local host=$1 npid kids k
  npid=$(lab_read_pid "$(lab_hdir "$host")/nspawn.pid")
  [[ -n $npid ]] && lab_pid_matches "$npid" systemd-nspawn || return 1
  kids=$(cat "/proc/$npid/task/$npid/children" 2>/dev/null) || return 1
  for k in $kids; do
    if awk '/^NSpid:/ { exit !($NF == 1) }' "/proc/$k/status" 2>/dev/null; then
      printf '%s\n' "$k"
      return 0
    fi
  done
  return 1
}

# ---------------------------------------------------------------- cgroups

# Mount points of the hierarchies a launcher must be moved in: the v1 "name=systemd"
# one (if mounted) and the unified (cgroup2) one.
lab_cg_roots() {
  awk '$3 == "cgroup2" { print $2 }
       $3 == "cgroup" && $4 ~ /(^|,)name=systemd(,|$)/ { print $2 }' /proc/self/mounts | sort -u
}

lab_cg_enter() { # host pid
  local root d
  for root in $(lab_cg_roots); do
    d=$root/$LAB_CG/$1
    mkdir -p "$d"
    echo "$2" >"$d/cgroup.procs"
  done
}

# All PIDs in the host's cgroups (every hierarchy, every sub-cgroup).
lab_cg_pids() { # host
  local root f
  for root in $(lab_cg_roots); do
    [[ -d $root/$LAB_CG/$1 ]] || continue
    while IFS= read -r f; do cat "$f" 2>/dev/null || true; done \
      < <(find "$root/$LAB_CG/$1" -name cgroup.procs 2>/dev/null)
  done | sort -un
}

# Remove empty cgroups below (and with $2=all, including) the host's cgroup.
lab_cg_prune() { # host [all]
  local root d
  for root in $(lab_cg_roots); do
    d=$root/$LAB_CG/$1
    [[ -d $d ]] || continue
    if [[ ${2:-} == all ]]; then
      find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
    else
      find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
    fi
  done
}

# ---------------------------------------------------------------- network

# Put a host's namespace back into the state the lab gives it at power-on: only the lab's
# links, only the lab's addresses and routes, no firewall rules, no conntrack entries,
# sysctls as they were when the namespace was created. Run before every boot.
lab_reset_ns() { # host [first]   (first: the namespace is fresh, sysctls untouched)
  local host=$1 ns keep=" lo " row ifname mac seg addr gw link t pref fam tables
  ns=$(lab_ns "$host")
  [[ -e /run/netns/$ns ]] || lab_die "namespace $ns missing"

  # firewall: nftables (covers iptables-nft) and, if the legacy tables exist, those too
  ip netns exec "$ns" nft flush ruleset
  # shellcheck disable=SC2016
  ip netns exec "$ns" sh -c '
    for t in $(cat /proc/net/ip_tables_names 2>/dev/null); do
      iptables-legacy -t "$t" -F; iptables-legacy -t "$t" -X; done
    for t in $(cat /proc/net/ip6_tables_names 2>/dev/null); do
      ip6tables-legacy -t "$t" -F; ip6tables-legacy -t "$t" -X; done' 2>/dev/null || true
  if command -v conntrack >/dev/null; then
    ip netns exec "$ns" conntrack -F >/dev/null 2>&1 || true
  fi

  # links: delete whatever the host created, keep the lab's ones
  while read -r ifname mac seg; do keep+="$ifname "; done < <(lab_rows LAB_LINKS "$host")
  while read -r link; do
    [[ $keep == *" $link "* ]] || ip -n "$ns" link del "$link" 2>/dev/null || true
  done < <(ip -n "$ns" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }')

  # policy rules and routes in every table, addresses
  for fam in -4 -6; do
    while read -r pref; do
      ip -n "$ns" "$fam" rule del pref "$pref" 2>/dev/null || true
    done < <(ip -n "$ns" "$fam" rule show | awk -F: '$1 != 0 && $1 != 32766 && $1 != 32767 { print $1 }')
    tables=$(ip -n "$ns" "$fam" route show table all | awk '{ for (i = 1; i < NF; i++) if ($i == "table") print $(i + 1) }' | sort -u)
    for t in main $tables; do
      [[ $t == local ]] || ip -n "$ns" "$fam" route flush table "$t" 2>/dev/null || true
    done
  done
  ip -n "$ns" addr flush dev lo
  ip -n "$ns" link set lo down
  ip -n "$ns" link set lo up
  ip -n "$ns" neigh flush all 2>/dev/null || true

  # sysctls back to their values at namespace creation (only those that differ)
  local snap=$LAB_RUN/sysctl/$ns.conf
  if [[ -s $snap && ${2:-} != first ]]; then
    lab_sysctl_dump "$ns" >"$snap.now"
    LC_ALL=C comm -13 "$snap.now" "$snap" | while IFS= read -r row; do
      ip netns exec "$ns" sysctl -q -w "${row%% = *}=${row#* = }" >/dev/null 2>&1 || true
    done
    rm -f "$snap.now"
  fi

  # the lab's links, addresses and routes
  while read -r ifname mac seg; do
    ip -n "$ns" link set "$ifname" down
    ip -n "$ns" link set "$ifname" address "$mac" mtu 1500
    ip -n "$ns" addr flush dev "$ifname"
    ip -n "$ns" link set "$ifname" up
  done < <(lab_rows LAB_LINKS "$host")
  while read -r ifname addr; do
    ip -n "$ns" addr add "$addr" dev "$ifname"
  done < <(lab_rows LAB_ADDRS "$host")
  while read -r gw; do
    ip -n "$ns" route add default via "$gw"
  done < <(lab_rows LAB_ROUTES "$host")
}

# Writable net.* sysctls of a namespace, sorted ("key = value" lines).
lab_sysctl_dump() { # ns
  ip netns exec "$1" sysctl -a -r '^net\.' 2>/dev/null | LC_ALL=C sort || true
}

# Waits until sshd in the host lets user pi in with the lab key (and sudo works).
lab_ssh_ok() { # host
  local host=$1
  if [[ -n ${LAB_MGMT_IP[$host]:-} ]]; then
    timeout 10 ssh "${LAB_SSH_OPTS[@]}" "pi@${LAB_MGMT_IP[$host]}" sudo -n true >/dev/null 2>&1
  else
    timeout 10 ip netns exec "$(lab_ns "$host")" \
      ssh "${LAB_SSH_OPTS[@]}" pi@127.0.0.1 sudo -n true >/dev/null 2>&1
  fi
}
