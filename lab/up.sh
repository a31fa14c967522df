#!/bin/bash
# Brings the homecloud lab up: root filesystem (cached), namespaces, switch, hosts.
#   lab/up.sh [--recreate]
# If a healthy lab is already up it says so and exits 0 (--recreate tears it down and
# starts afresh); a half-up lab is torn down first. On failure everything is torn down
# again (set HOMECLOUD_LAB_KEEP=1 to keep the pieces for debugging).
set -euo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lab/cluster.sh
. "$(dirname "$0")/cluster.sh"

RECREATE=0
for arg in "$@"; do
  case $arg in
    --recreate) RECREATE=1 ;;
    -h | --help) sed -n '2,6p' "$0"; exit 0 ;;
    *) lab_die "unknown argument: $arg" ;;
  esac
done
lab_require_root
T_START=$(lab_now)

# ------------------------------------------------------------------ preflight
missing=()
for cmd in debootstrap systemd-nspawn ip nsenter setsid ssh ssh-keygen nft iptables sysctl \
  flock conntrack curl openssl; do
  command -v "$cmd" >/dev/null || missing+=("$cmd")
done
if ((${#missing[@]})); then
  lab_log "missing tools (${missing[*]}): installing the lab's host packages"
  "$LAB_DIR/deps.sh"
fi

mkdir -p "$LAB_CACHE"
exec 8>"$LAB_LOCK"
flock -w 600 8 || lab_die "another lab up/down holds $LAB_LOCK"
export LAB_LOCK_HELD=1

lab_healthy() {
  local h pid
  [[ -e $LAB_RUN/up.done ]] || return 1
  for h in "${LAB_HOSTS[@]}"; do
    pid=$(lab_read_pid "$(lab_hdir "$h")/wrapper.pid")
    lab_pid_matches "${pid:-x}" host-run.sh || return 1
  done
}
lab_leftovers() {
  local h
  [[ -e $LAB_RUN ]] && return 0
  ip link show "$LAB_MGMT_IF" >/dev/null 2>&1 && return 0
  for h in sw "${LAB_HOSTS[@]}"; do [[ -e /run/netns/hc-$h ]] && return 0; done
  return 1
}
if lab_healthy && [[ $RECREATE -eq 0 ]]; then
  lab_log "lab already up (lab/down.sh to stop it, lab/up.sh --recreate to start afresh)"
  exit 0
fi
if lab_leftovers; then
  lab_log "tearing down the lab that is there first"
  "$LAB_DIR/down.sh" 8>&-
fi
if [[ -n $(ip -4 route show 10.77.0.0/24) ]]; then
  lab_die "10.77.0.0/24 is already routed in the root namespace: $(ip -4 route show 10.77.0.0/24)"
fi

OK=0
on_exit() {
  local rc=$?
  if [[ $OK -ne 1 ]]; then
    lab_log "up failed (rc=$rc)"
    if [[ ${HOMECLOUD_LAB_KEEP:-0} == 1 ]]; then
      lab_log "HOMECLOUD_LAB_KEEP=1: leaving the pieces; lab/down.sh removes them"
    else
      "$LAB_DIR/down.sh" 8>&- || true
    fi
  fi
}
trap on_exit EXIT

# ------------------------------------------------------------------ key, rootfs
if [[ ! -s $LAB_KEY ]]; then
  install -d -m 700 "$(dirname "$LAB_KEY")"
  ssh-keygen -q -t ed25519 -N '' -C homecloud-lab -f "$LAB_KEY"
  lab_log "generated lab SSH key $LAB_KEY"
fi

t=$(lab_now)
ROOTFS=$("$LAB_DIR/build-rootfs.sh" 8>&-)
T_ROOTFS=$(lab_since "$t")

# ------------------------------------------------------------------ host trees
write() { # path mode content   (through the overlay, so copy-up is the kernel's job)
  install -d "$(dirname "$1")"
  printf '%s' "$3" >"$1"
  chmod "$2" "$1"
}

setup_host() { # host
  local host=$1 hdir m port body bind
  hdir=$(lab_hdir "$host")
  mkdir -p "$hdir/upper" "$hdir/work" "$hdir/merged"
  mount -t overlay "homecloud-lab-$host" \
    -o "lowerdir=$ROOTFS,upperdir=$hdir/upper,workdir=$hdir/work" "$hdir/merged"
  m=$hdir/merged

  write "$m/etc/hostname" 644 "$host"$'\n'
  write "$m/etc/hosts" 644 $'127.0.0.1\tlocalhost\n127.0.1.1\t'"$host"$'\n::1\tlocalhost ip6-localhost ip6-loopback\n'
  write "$m/etc/machine-id" 444 "$(printf 'homecloud-lab-%s' "$host" | sha256sum | cut -c1-32)"$'\n'
  case $host in
    gw | gw2) write "$m/etc/resolv.conf" 644 $'nameserver 127.0.0.1\n' ;;
    node*) write "$m/etc/resolv.conf" 644 $'nameserver 10.77.0.1\n' ;;
    *) write "$m/etc/resolv.conf" 644 $'# no resolver (client: DHCP fills this in)\n' ;;
  esac

  # SSH: this host's own host keys, the lab key for pi
  ssh-keygen -q -t ed25519 -N '' -C "root@$host" -f "$m/etc/ssh/ssh_host_ed25519_key"
  ssh-keygen -q -t ecdsa -N '' -C "root@$host" -f "$m/etc/ssh/ssh_host_ecdsa_key"
  write "$m/etc/ssh/sshd_config.d/homecloud-lab.conf" 644 \
    $'HostKey /etc/ssh/ssh_host_ed25519_key\nHostKey /etc/ssh/ssh_host_ecdsa_key\nPasswordAuthentication no\n'
  install -d -o 1000 -g 1000 -m 700 "$m/home/pi/.ssh"
  install -o 1000 -g 1000 -m 600 "$LAB_KEY.pub" "$m/home/pi/.ssh/authorized_keys"

  # K3s servers (lab/cluster.sh) and the hosts that ask them
  if lab_in "$host" "${LAB_API[@]}"; then cluster_setup_host "$host" "$m" "$hdir"; fi
  if lab_in "$host" "${LAB_API_CLIENTS[@]}"; then
    install -d -m 755 "$m/etc/lab-api"
    install -m 644 "$CLUSTER_PKI/client.crt" "$m/etc/lab-api/client.crt"
    install -m 600 "$CLUSTER_PKI/client.key" "$m/etc/lab-api/client.key"
    install -m 644 "$CLUSTER_PKI/server-ca.crt" "$m/etc/lab-api/server-ca.crt"
  fi

  # HTTP responders (stand-ins for the ingress and a web site upstream)
  local rows
  rows=$(lab_rows LAB_HTTP "$host")
  [[ -n $rows ]] || return 0
  write "$m/usr/local/sbin/lab-http" 755 "$(cat <<'EOF'
#!/bin/bash
# lab-http PORT: tiny HTTP responder of the homecloud lab (socat, one reply per connection)
set -eu
bind=
if [ -s "/etc/lab-http/$1.bind" ]; then bind=",bind=$(cat "/etc/lab-http/$1.bind")"; fi
exec socat -T 10 "TCP4-LISTEN:$1,reuseaddr,fork$bind" "EXEC:/usr/local/sbin/lab-http-reply $1"
EOF
)"$'\n'
  write "$m/usr/local/sbin/lab-http-reply" 755 "$(cat <<'EOF'
#!/bin/bash
# Reads one HTTP request; answers with /etc/lab-http/PORT.body, or with the peer's
# address if that file says @peer, plus a newline.
while IFS= read -r -t 5 line; do line=${line%$'\r'}; [[ -z $line ]] && break; done
body=$(cat "/etc/lab-http/$1.body")
if [[ $body == @peer ]]; then body=${SOCAT_PEERADDR:-unknown}; fi
body+=$'\n'
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' "${#body}" "$body"
EOF
)"$'\n'
  write "$m/etc/systemd/system/lab-http@.service" 644 "$(cat <<'EOF'
[Unit]
Description=homecloud lab HTTP responder on port %i
After=network.target

[Service]
ExecStart=/usr/local/sbin/lab-http %i
Restart=always
RestartSec=1

[Install]
WantedBy=multi-user.target
EOF
)"$'\n'
  while read -r port body bind; do
    write "$m/etc/lab-http/$port.body" 644 "$body"$'\n'
    write "$m/etc/lab-http/$port.bind" 644 "${bind:+$bind$'\n'}"
    install -d "$m/etc/systemd/system/multi-user.target.wants"
    ln -sf ../lab-http@.service "$m/etc/systemd/system/multi-user.target.wants/lab-http@$port.service"
  done <<<"$rows"
}

t=$(lab_now)
mkdir -p "$LAB_RUN/hosts" "$LAB_RUN/sysctl"
cluster_kind
cluster_pki
printf '%s\n' "$ROOTFS" >"$LAB_RUN/rootfs"
for h in "${LAB_HOSTS[@]}"; do setup_host "$h" & done
wait_all() { local p rc=0; for p in $(jobs -p); do wait "$p" || rc=1; done; return $rc; }
wait_all || lab_die "host setup failed"
T_TREES=$(lab_since "$t")

# ------------------------------------------------------------------ network
t=$(lab_now)
ip netns add "$LAB_SW_NS"
ip -n "$LAB_SW_NS" link set lo up
ip -n "$LAB_SW_NS" link add br0 type bridge stp_state 0 forward_delay 0
ip -n "$LAB_SW_NS" link set br0 up
ip -n "$LAB_SW_NS" link add br1 type bridge stp_state 0 forward_delay 0
ip -n "$LAB_SW_NS" link set br1 up
for h in "${LAB_HOSTS[@]}"; do ip netns add "$(lab_ns "$h")"; done

# Each link a veth: the host's end in its namespace, the switch port in hc-sw on br0 (the
# LAN, port p-<host>) or br1 (the home network, port w-<host>).
for row in "${LAB_LINKS[@]}"; do
  read -r h ifname _mac seg <<<"$row"
  case $seg in
    lan) port=p-$h bridge=br0 ;;
    wan) port=w-$h bridge=br1 ;;
    *) lab_die "link $h $ifname: unknown segment '$seg'" ;;
  esac
  ip link add "$port" netns "$LAB_SW_NS" type veth peer name "$ifname" netns "$(lab_ns "$h")"
  ip -n "$LAB_SW_NS" link set "$port" master "$bridge" up
done

# the "admin laptop": the root namespace on the LAN, forwarding nothing
ip link add "$LAB_MGMT_IF" type veth peer name p-mgmt netns "$LAB_SW_NS"
ip -n "$LAB_SW_NS" link set p-mgmt master br0 up
sysctl -q -w "net.ipv6.conf.$LAB_MGMT_IF.disable_ipv6=1" "net.ipv4.conf.$LAB_MGMT_IF.forwarding=0"
ip addr add "$LAB_MGMT_ADDR" dev "$LAB_MGMT_IF"
ip link set "$LAB_MGMT_IF" up

for h in "${LAB_HOSTS[@]}"; do
  lab_sysctl_dump "$(lab_ns "$h")" >"$LAB_RUN/sysctl/$(lab_ns "$h").conf"
done
T_NET=$(lab_since "$t")

# ------------------------------------------------------------------ boot
t=$(lab_now)
for h in "${LAB_HOSTS[@]}"; do
  setsid -f "$LAB_DIR/host-run.sh" "$h" "$(lab_hdir "$h")/merged" \
    </dev/null >>"$(lab_hdir "$h")/wrapper.log" 2>&1 8>&-
done

declare -A READY=()
deadline=$(($(date +%s) + ${HOMECLOUD_LAB_BOOT_TIMEOUT:-120}))
while ((${#READY[@]} < ${#LAB_HOSTS[@]})); do
  for h in "${LAB_HOSTS[@]}"; do
    [[ -n ${READY[$h]:-} ]] && continue
    if lab_ssh_ok "$h"; then
      READY[$h]=$(lab_since "$t")
      lab_log "$h: sshd answers (pi + sudo ok) after ${READY[$h]} s"
      continue
    fi
    hdir=$(lab_hdir "$h")
    wpid=$(lab_read_pid "$hdir/wrapper.pid")
    if grep -qs 'wrapper done' "$hdir/wrapper.log" ||
      { [[ -n $wpid ]] && ! lab_pid_matches "$wpid" host-run.sh; }; then
      tail -n 20 "$hdir/wrapper.log" >&2 || true
      tail -n 20 "$hdir/console.log" >&2 || true
      lab_die "$h: container stopped during boot (see $hdir/console.log)"
    fi
  done
  (($(date +%s) < deadline)) || lab_die "timed out waiting for sshd on: $(for h in "${LAB_HOSTS[@]}"; do [[ -n ${READY[$h]:-} ]] || printf '%s ' "$h"; done)"
  sleep 0.3
done
T_BOOT=$(lab_since "$t")

t=$(lab_now)
cluster_wait
T_API=$(lab_since "$t")

: >"$LAB_RUN/up.done"
OK=1
printf '\nhomecloud lab up in %s s  (rootfs %s s, host trees %s s, network %s s, boot-to-ssh %s s, then API %s s)\n' \
  "$(lab_since "$T_START")" "$T_ROOTFS" "$T_TREES" "$T_NET" "$T_BOOT" "$T_API"
printf '  servers  %s on %s\n' "$(if [[ $CLUSTER_KIND == real ]]; then echo "etcd + kube-apiserver"; else echo "API stand-ins"; fi)" "${LAB_API[*]}"
printf '  rootfs   %s\n  runtime  %s\n  ssh key  %s\n' "$ROOTFS" "$LAB_RUN" "$LAB_KEY"
printf '  ssh      lab/ssh <gw|gw2|node1|node2|node3|client|uplink> [cmd...]   (pi@10.77.0.1/.2/.11/.12/.13 from here)\n'
printf '  exec     lab/exec <host> <cmd...>\n'
