#!/bin/bash
# Builds (or reuses) the lab's Debian bookworm root filesystem and prints its path.
# Cached under ${HOMECLOUD_CACHE:-/var/cache/homecloud}/lab-rootfs-<hash>, the hash
# covering the suite, the variant, the package list and the recipe version below.
# The mirror is the one apt on this machine is configured with (never hard-coded);
# HOMECLOUD_LAB_MIRROR overrides it.
set -euo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"

SUITE=bookworm
VARIANT=minbase
RECIPE=2 # bump when the chroot customisation below changes
PACKAGES=(
  # what the real Pi gateway / nodes run
  systemd systemd-sysv dbus openssh-server openssh-sftp-server sudo curl openssl ca-certificates
  kea-dhcp4-server kea-dhcp-ddns-server bind9 bind9-utils bind9-dnsutils haproxy iptables nftables iproute2 iputils-arping procps
  # what a gateway pair adds (homecloud:gateway2Hostname): VRRP and Kea's Control Agent
  keepalived kea-ctrl-agent
  # what the lab's responders and tests use (python3 with ssl: the K3s API stand-in)
  socat isc-dhcp-client busybox iputils-ping netbase python3
)

lab_require_root
HASH=$(printf '%s\n' "$SUITE" "$VARIANT" "$RECIPE" "${PACKAGES[@]}" | sha256sum | cut -c1-12)
ROOTFS=$LAB_CACHE/lab-rootfs-$HASH
mkdir -p "$LAB_CACHE"

if [[ -f $ROOTFS/.homecloud-lab-rootfs ]]; then
  lab_log "rootfs cached: $ROOTFS"
  printf '%s\n' "$ROOTFS"
  exit 0
fi

exec 9>"$LAB_CACHE/lab-rootfs.lock"
flock 9
if [[ -f $ROOTFS/.homecloud-lab-rootfs ]]; then # built by someone else meanwhile
  printf '%s\n' "$ROOTFS"
  exit 0
fi

# Debian sources exactly as apt here has them: "site release" lines for bookworm main.
debian_sources() {
  # shellcheck disable=SC2016
  apt-get indextargets --format '$(SITE) $(RELEASE) $(COMPONENT) $(ORIGIN) $(TARGET_OF)' 2>/dev/null |
    awk -v s="$SUITE" '$3 == "main" && $4 == "Debian" && $5 == "deb" &&
      ($2 == s || $2 == s "-updates" || $2 == s "-security") { print $1, $2 }' | sort -u
}
SOURCES=$(debian_sources)
if [[ -z $SOURCES ]]; then
  apt-get update -qq
  SOURCES=$(debian_sources)
fi
MIRROR=${HOMECLOUD_LAB_MIRROR:-$(awk -v s="$SUITE" '$2 == s { print $1; exit }' <<<"$SOURCES")}
[[ -n $MIRROR ]] || lab_die "no Debian $SUITE main source configured in apt (set HOMECLOUD_LAB_MIRROR)"
[[ -n $SOURCES ]] || SOURCES="$MIRROR $SUITE"

TMP=$ROOTFS.tmp
unmount_tmp() {
  local m
  while IFS= read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" || true
  done < <(awk -v t="$TMP/" 'index($2, t) == 1 { print $2 }' /proc/self/mounts | sort -r)
}
cleanup() {
  local rc=$?
  unmount_tmp
  if [[ $rc -ne 0 ]]; then
    lab_log "rootfs build failed (rc=$rc); removing $TMP"
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT

unmount_tmp
rm -rf "$TMP"
t0=$(lab_now)
lab_log "debootstrap --variant=$VARIANT $SUITE (mirror from apt config) -> $TMP"
debootstrap --variant="$VARIANT" "$SUITE" "$TMP" "$MIRROR" >"$LAB_CACHE/lab-rootfs-$HASH.debootstrap.log" 2>&1 ||
  { tail -20 "$LAB_CACHE/lab-rootfs-$HASH.debootstrap.log" >&2; lab_die "debootstrap failed"; }
lab_log "debootstrap done in $(lab_since "$t0") s"

t1=$(lab_now)
mount -t proc proc "$TMP/proc"
mount -t sysfs sysfs "$TMP/sys"
mount --bind /dev "$TMP/dev"
mount --bind /dev/pts "$TMP/dev/pts"
cp /etc/resolv.conf "$TMP/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$TMP/usr/sbin/policy-rc.d"
chmod 755 "$TMP/usr/sbin/policy-rc.d"
awk '{ print "deb", $1, $2, "main" }' <<<"$SOURCES" >"$TMP/etc/apt/sources.list"

in_chroot() { chroot "$TMP" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  DEBIAN_FRONTEND=noninteractive HOME=/root "$@"; }
in_chroot apt-get update -qq
in_chroot apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${PACKAGES[@]}" \
  >"$LAB_CACHE/lab-rootfs-$HASH.apt.log" 2>&1 ||
  { tail -30 "$LAB_CACHE/lab-rootfs-$HASH.apt.log" >&2; lab_die "apt-get install failed"; }
lab_log "packages installed in $(lab_since "$t1") s"

# user pi: no password, passwordless sudo; the lab's key is added per host at boot time
in_chroot useradd -m -u 1000 -U -s /bin/bash -G sudo pi
in_chroot usermod -p '*' pi
printf 'pi ALL=(ALL) NOPASSWD: ALL\n' >"$TMP/etc/sudoers.d/010-pi-nopasswd"
chmod 0440 "$TMP/etc/sudoers.d/010-pi-nopasswd"

# services the Pulumi program configures and enables itself; timers that want a network
for unit in kea-dhcp4-server.service kea-dhcp-ddns-server.service named.service haproxy.service nftables.service \
  keepalived.service kea-ctrl-agent.service \
  apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer; do
  in_chroot systemctl disable "$unit" >/dev/null 2>&1 || true
done
in_chroot systemctl enable ssh.service >/dev/null 2>&1

# nothing host-specific or machine-specific left in the shared image
rm -f "$TMP"/etc/ssh/ssh_host_*
: >"$TMP/etc/machine-id"
rm -f "$TMP/var/lib/dbus/machine-id"
printf 'localhost\n' >"$TMP/etc/hostname"
printf '# written per host by the lab\n' >"$TMP/etc/resolv.conf"
printf '# the lab has no route to any mirror\n' >"$TMP/etc/apt/sources.list"
in_chroot apt-get clean
rm -rf "$TMP"/var/lib/apt/lists/* "$TMP"/var/log/apt/* "$TMP"/var/cache/apt/*.bin \
  "$TMP/var/log/bootstrap.log"
rm -f "$TMP/usr/sbin/policy-rc.d"
unmount_tmp

{
  printf 'suite=%s variant=%s recipe=%s built=%s\n' "$SUITE" "$VARIANT" "$RECIPE" "$(date -u +%FT%TZ)"
  printf '%s\n' "${PACKAGES[@]}"
} >"$TMP/.homecloud-lab-rootfs"
mv "$TMP" "$ROOTFS"
# older images (other package lists or recipes) unless a running lab still uses one
in_use=$(cat "$LAB_RUN/rootfs" 2>/dev/null || true)
for old in "$LAB_CACHE"/lab-rootfs-*; do
  [[ -d $old && $old != "$ROOTFS" && $old != "$in_use" && $old != *.tmp ]] || continue
  lab_log "removing old image $old"
  rm -rf "$old"
done
rm -f "$LAB_CACHE/lab-rootfs-$HASH".*.log
lab_log "rootfs built in $(lab_since "$t0") s ($(du -sm "$ROOTFS" | cut -f1) MB): $ROOTFS"
printf '%s\n' "$ROOTFS"
