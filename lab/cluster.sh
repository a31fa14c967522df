# shellcheck shell=bash
# The lab's K3s servers on node1..3 (LAB_API), sourced by lab/up.sh. Two kinds:
#   real     the control plane K3s runs on a server: a member of a three-member etcd cluster
#            (Debian's etcd from this machine, peers on the node's LAN address) and a real
#            kube-apiserver on 6443 using its own member, as K3s's does; both binaries are
#            bind-mounted read-only into the nodes (nothing copied, no image rebuild).
#   standin  lab/api-standin.py on 6443 (TLS, 401 anonymous, /readyz ok with a client certificate).
# Real when $LAB_CACHE/bin/kube-apiserver (scripts/setup-kube-apiserver.sh) and an etcd on
# PATH (Debian's etcd-server, scripts/setup-checkers.sh) are there; else stand-ins. Both
# answer alike where the program looks: TLS from the lab's server CA, a serving certificate
# whose CN is the node's name, the client CA where K3s keeps it
# (/var/lib/rancher/k3s/server/tls/client-ca.{crt,key}), anonymous requests 401; both run
# as lab-api.service. The kind is written to $LAB_RUN/cluster and /etc/lab-api/cluster.
#
# Needs from up.sh: LAB_* (lib.sh), write(), $LAB_RUN.

CLUSTER_PKI=$LAB_RUN/api-pki
CLUSTER_KUBE_APISERVER=$LAB_CACHE/bin/kube-apiserver
CLUSTER_ETCD_CLIENT=2379
CLUSTER_ETCD_PEER=2380
# kube-apiserver's service range as K3s sets it, and the first address of it (the
# `kubernetes` Service, named in the serving certificate as K3s names it).
CLUSTER_SERVICE_CIDR=10.43.0.0/16
CLUSTER_SERVICE_IP=10.43.0.1

# Decides the kind (CLUSTER_KIND) and the binaries (resolved paths); says so in one line.
# HOMECLOUD_LAB_CLUSTER=standin keeps the stand-ins even with the binaries there; =real
# fails without them; unset (auto): real when both are there.
cluster_kind() {
  CLUSTER_KIND=standin CLUSTER_APISERVER_BIN='' CLUSTER_ETCD_BIN=''
  local api etcd want=${HOMECLOUD_LAB_CLUSTER:-auto}
  case $want in auto | real | standin) ;; *) lab_die "HOMECLOUD_LAB_CLUSTER=$want: auto, real or standin" ;; esac
  api=$(readlink -f "$CLUSTER_KUBE_APISERVER" 2>/dev/null || true)
  etcd=$(command -v etcd 2>/dev/null || true)
  if [[ $want == standin ]]; then
    lab_log "K3s servers: the API stand-ins on ${LAB_API[*]} (HOMECLOUD_LAB_CLUSTER=standin)"
  elif [[ -n $api && -x $api && -n $etcd ]]; then
    CLUSTER_KIND=real CLUSTER_APISERVER_BIN=$api CLUSTER_ETCD_BIN=$(readlink -f "$etcd")
    lab_log "K3s servers: real etcd ($CLUSTER_ETCD_BIN) and kube-apiserver ($CLUSTER_APISERVER_BIN) on ${LAB_API[*]}"
  else
    local missing=()
    [[ -n $api && -x $api ]] || missing+=("$CLUSTER_KUBE_APISERVER (scripts/setup-kube-apiserver.sh)")
    [[ -n $etcd ]] || missing+=("etcd (Debian's etcd-server, scripts/setup-checkers.sh)")
    [[ $want != real ]] || lab_die "HOMECLOUD_LAB_CLUSTER=real: missing ${missing[*]}"
    lab_log "K3s servers: the API stand-ins on ${LAB_API[*]}, no real control plane: missing ${missing[*]}"
  fi
  printf '%s\n' "$CLUSTER_KIND" >"$LAB_RUN/cluster"
}

cluster_ip() { # host: its first LAN address
  lab_rows LAB_ADDRS "$1" | awk 'NR == 1 { sub(/\/.*/, "", $2); print $2 }'
}

# The certificates, made afresh for every lab: a server CA and a client CA as K3s has, a
# serving certificate per server (CN its name; its name and address, the VIP, loopback and
# the `kubernetes` Service's names, as K3s's), one client certificate (system:admin in
# system:masters) and the service-account key pair all servers share.
cluster_pki() {
  local h ip ca san
  install -d -m 700 "$CLUSTER_PKI"
  for ca in server-ca client-ca; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
      -subj "/CN=k3s-$ca@homecloud-lab" -keyout "$CLUSTER_PKI/$ca.key" -out "$CLUSTER_PKI/$ca.crt" 2>/dev/null
  done
  for h in "${LAB_API[@]}"; do
    ip=$(cluster_ip "$h")
    san="DNS:$h,IP:$ip,IP:$LAB_VIP,IP:127.0.0.1,DNS:localhost,IP:$CLUSTER_SERVICE_IP,DNS:kubernetes"
    san+=",DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$h" \
      -keyout "$CLUSTER_PKI/$h.key" -out "$CLUSTER_PKI/$h.csr" 2>/dev/null
    openssl x509 -req -in "$CLUSTER_PKI/$h.csr" -CA "$CLUSTER_PKI/server-ca.crt" -CAkey "$CLUSTER_PKI/server-ca.key" \
      -CAcreateserial -days 30 -out "$CLUSTER_PKI/$h.crt" \
      -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san") 2>/dev/null
  done
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/O=system:masters/CN=system:admin" \
    -keyout "$CLUSTER_PKI/client.key" -out "$CLUSTER_PKI/client.csr" 2>/dev/null
  openssl x509 -req -in "$CLUSTER_PKI/client.csr" -CA "$CLUSTER_PKI/client-ca.crt" -CAkey "$CLUSTER_PKI/client-ca.key" \
    -CAcreateserial -days 30 -out "$CLUSTER_PKI/client.crt" \
    -extfile <(printf 'extendedKeyUsage=clientAuth\n') 2>/dev/null
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$CLUSTER_PKI/sa.key" 2>/dev/null
  openssl pkey -in "$CLUSTER_PKI/sa.key" -pubout -out "$CLUSTER_PKI/sa.pub" 2>/dev/null
}

cluster_unit() { # merged-dir name description exec-start [extra [Unit] lines]
  write "$1/etc/systemd/system/$2.service" 644 "$(cat <<EOF
[Unit]
Description=$3
After=network.target${5:+
$5}

[Service]
ExecStart=$4
Restart=always
RestartSec=1
# A kube-apiserver stopping without an etcd quorum (every node powering off at once) waits
# for it until killed (measured: the whole timeout, then SIGKILL); lab/down.sh's grace is 10 s.
TimeoutStopSec=2

[Install]
WantedBy=multi-user.target
EOF
)"$'\n'
  install -d "$1/etc/systemd/system/multi-user.target.wants"
  ln -sf "../$2.service" "$1/etc/systemd/system/multi-user.target.wants/$2.service"
}

# A server's files and units; for the real kind also its nspawn bind mounts ($hdir/nspawn.args).
cluster_setup_host() { # host merged-dir host-dir
  local host=$1 m=$2 hdir=$3 ip h peers=
  install -d -m 755 "$m/etc/lab-api"
  install -m 644 "$CLUSTER_PKI/$host.crt" "$m/etc/lab-api/server.crt"
  install -m 600 "$CLUSTER_PKI/$host.key" "$m/etc/lab-api/server.key"
  printf '%s\n' "$CLUSTER_KIND" >"$m/etc/lab-api/cluster"
  # Where K3s keeps its client CA on a server (the program signs HAProxy's check there).
  install -d -m 700 "$m/var/lib/rancher/k3s/server/tls"
  install -m 644 "$CLUSTER_PKI/client-ca.crt" "$m/var/lib/rancher/k3s/server/tls/client-ca.crt"
  install -m 600 "$CLUSTER_PKI/client-ca.key" "$m/var/lib/rancher/k3s/server/tls/client-ca.key"
  if [[ $CLUSTER_KIND == standin ]]; then
    install -m 755 "$LAB_DIR/api-standin.py" "$m/usr/local/sbin/lab-api"
    cluster_unit "$m" lab-api "homecloud lab stand-in for the K3s API on 6443" "/usr/local/sbin/lab-api $host"
    return 0
  fi

  ip=$(cluster_ip "$host")
  for h in "${LAB_API[@]}"; do peers+="${peers:+,}$h=http://$(cluster_ip "$h"):$CLUSTER_ETCD_PEER"; done
  install -m 644 "$CLUSTER_PKI/sa.pub" "$m/etc/lab-api/sa.pub"
  install -m 600 "$CLUSTER_PKI/sa.key" "$m/etc/lab-api/sa.key"
  # The binaries come in read-only at boot (host-run.sh passes these to systemd-nspawn).
  printf '%s\n' "--bind-ro=$CLUSTER_ETCD_BIN:/usr/local/bin/etcd" \
    "--bind-ro=$CLUSTER_APISERVER_BIN:/usr/local/bin/kube-apiserver" >"$hdir/nspawn.args"
  # etcd: plain HTTP (the lab's LAN is its own namespaces; K3s uses TLS here), peers on the
  # LAN address, clients on loopback and the LAN address. --initial-* only count on the
  # first start: after that the member's data directory holds the cluster.
  cluster_unit "$m" lab-etcd "homecloud lab: etcd member $host of ${LAB_API[*]}" \
    "/usr/local/bin/etcd --name $host --data-dir /var/lib/lab-etcd \
--listen-peer-urls http://$ip:$CLUSTER_ETCD_PEER --initial-advertise-peer-urls http://$ip:$CLUSTER_ETCD_PEER \
--listen-client-urls http://127.0.0.1:$CLUSTER_ETCD_CLIENT,http://$ip:$CLUSTER_ETCD_CLIENT \
--advertise-client-urls http://$ip:$CLUSTER_ETCD_CLIENT \
--initial-cluster $peers --initial-cluster-token homecloud-lab --initial-cluster-state new"
  # kube-apiserver with the flags K3s passes where it matters here: its own etcd member only
  # (K3s: https://127.0.0.1:2379), anonymous auth off, the client CA where K3s keeps it, RBAC.
  cluster_unit "$m" lab-api "homecloud lab: kube-apiserver on 6443 (as K3s runs it)" \
    "/usr/local/bin/kube-apiserver --etcd-servers=http://127.0.0.1:$CLUSTER_ETCD_CLIENT \
--bind-address=0.0.0.0 --advertise-address=$ip --secure-port=6443 --cert-dir=/var/lib/lab-apiserver \
--tls-cert-file=/etc/lab-api/server.crt --tls-private-key-file=/etc/lab-api/server.key \
--client-ca-file=/var/lib/rancher/k3s/server/tls/client-ca.crt \
--service-account-key-file=/etc/lab-api/sa.pub --service-account-signing-key-file=/etc/lab-api/sa.key \
--service-account-issuer=https://kubernetes.default.svc.cluster.local \
--api-audiences=https://kubernetes.default.svc.cluster.local,k3s \
--service-cluster-ip-range=$CLUSTER_SERVICE_CIDR \
--authorization-mode=Node,RBAC --anonymous-auth=false --allow-privileged=true \
--enable-admission-plugins=NodeRestriction --profiling=false" \
    "Wants=lab-etcd.service
After=lab-etcd.service"
}

# Waits until every server's /readyz answers 200 to the lab's client certificate, asked
# from the root namespace over the management veth (the stand-ins at once; real ones once
# etcd has its quorum and the apiserver its post-start hooks).
cluster_wait() {
  local h t deadline code
  declare -A ready=()
  t=$(lab_now)
  deadline=$(($(date +%s) + ${HOMECLOUD_LAB_CLUSTER_TIMEOUT:-240}))
  while ((${#ready[@]} < ${#LAB_API[@]})); do
    for h in "${LAB_API[@]}"; do
      [[ -n ${ready[$h]:-} ]] && continue
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 --cacert "$CLUSTER_PKI/server-ca.crt" \
        --cert "$CLUSTER_PKI/client.crt" --key "$CLUSTER_PKI/client.key" "https://$(cluster_ip "$h"):6443/readyz" || true)
      if [[ $code == 200 ]]; then
        ready[$h]=$(lab_since "$t")
        lab_log "$h: API ($CLUSTER_KIND) ready after ${ready[$h]} s"
      fi
    done
    ((${#ready[@]} == ${#LAB_API[@]})) && break
    if (($(date +%s) >= deadline)); then
      for h in "${LAB_API[@]}"; do
        [[ -n ${ready[$h]:-} ]] && continue
        lab_log "$h: API not ready; its journal:"
        "$LAB_DIR/exec" "$h" journalctl -n 15 --no-pager -u lab-api -u lab-etcd >&2 || true
      done
      lab_die "the API on $(for h in "${LAB_API[@]}"; do [[ -n ${ready[$h]:-} ]] || printf '%s ' "$h"; done)is not ready"
    fi
    sleep 0.5
  done
}
