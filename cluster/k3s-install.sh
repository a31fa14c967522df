# shellcheck shell=bash disable=SC2154 # k3s-node.sh sets the variables and sources this
# The install phase of k3s-node.sh: prepare, unprepare, wait-reboot, install (with its
# upgrade guards), uninstall. Sourced, never run.

find_cmdline() {
  local f
  cmdline=""
  for f in /boot/firmware/cmdline.txt /boot/cmdline.txt; do
    if [ -f "$f" ]; then
      cmdline=$f
      return 0
    fi
  done
}

prepare() {
  local line added="" flag tmp
  set -f
  find_cmdline
  if [ -z "$cmdline" ]; then
    echo "homecloud: no cmdline.txt in /boot/firmware or /boot (not a Raspberry Pi boot partition); nothing to prepare"
    return 0
  fi
  line=$(head -n 1 "$cmdline")
  for flag in $CGROUP_FLAGS; do
    case " $line " in
      *" $flag "*) ;;
      *)
        line="$line $flag"
        added="$added $flag"
        ;;
    esac
  done
  if [ -z "$added" ]; then
    echo "homecloud: $cmdline already enables memory cgroups"
    return 0
  fi
  install -d -m 0755 "$state"
  for flag in $added; do
    echo "$flag"
  done >>"$state/cmdline-added"
  tmp=$(mktemp "$cmdline.homecloud.XXXXXX")
  printf '%s\n' "$line" >"$tmp"
  mv -f "$tmp" "$cmdline"
  sync
  cat /proc/sys/kernel/random/boot_id >"$state/reboot-from"
  shutdown -r +1 "homecloud: rebooting to enable memory cgroups for K3s"
  echo "homecloud: added$added to $cmdline; rebooting in one minute"
}

unprepare() {
  local added line out="" word flag keep tmp
  set -f
  if [ ! -f "$state/cmdline-added" ]; then
    echo "homecloud: cmdline.txt was not changed by this program; nothing to undo"
    return 0
  fi
  find_cmdline
  if [ -n "$cmdline" ]; then
    added=$(cat "$state/cmdline-added")
    line=$(head -n 1 "$cmdline")
    for word in $line; do
      keep=1
      for flag in $added; do
        if [ "$word" = "$flag" ]; then
          keep=0
        fi
      done
      if [ "$keep" = 1 ]; then
        out="${out:+$out }$word"
      fi
    done
    tmp=$(mktemp "$cmdline.homecloud.XXXXXX")
    printf '%s\n' "$out" >"$tmp"
    mv -f "$tmp" "$cmdline"
    echo "homecloud: removed the flags this program added to $cmdline (in effect until the next reboot)"
  fi
  rm -f "$state/cmdline-added" "$state/reboot-from"
}

wait_reboot() {
  if [ -f "$state/reboot-from" ]; then
    if [ "$(cat /proc/sys/kernel/random/boot_id)" = "$(cat "$state/reboot-from")" ]; then
      echo "homecloud: this host has not rebooted yet since its cmdline.txt changed; run pulumi up again once it is back" >&2
      exit 1
    fi
    rm -f "$state/reboot-from"
  fi
  check_cgroups
  echo "homecloud: host is up (boot $(cat /proc/sys/kernel/random/boot_id))"
}

# What K3s itself checks before it starts (pkg/cgroups, Validate): with cgroup v2 the root
# controllers must include cpu, cpuset and memory; with v1 the memory hierarchy must exist.
# A Pi can carry the cmdline.txt flags and still boot without memory (another flag turning
# it off, an edited file on the wrong partition), so look at the running kernel.
check_cgroups() {
  local have missing="" c fix
  if [ -f "$CGROUP_CONTROLLERS" ]; then
    have=$(cat "$CGROUP_CONTROLLERS")
    for c in cpu cpuset memory; do
      case " $have " in
        *" $c "*) ;;
        *) missing="${missing:+$missing }$c" ;;
      esac
    done
    have="$CGROUP_CONTROLLERS lists: ${have:-nothing}"
  else
    have="cgroup v1"
    if ! grep -qw memory /proc/self/cgroup; then
      missing=memory
    fi
  fi
  if [ -z "$missing" ]; then
    return 0
  fi
  find_cmdline
  if [ -n "$cmdline" ]; then
    fix="make sure the one line of $cmdline has $CGROUP_FLAGS and no cgroup_disable=memory, reboot $(node_name), then run pulumi up again"
  else
    fix="enable them on the kernel command line (e.g. $CGROUP_FLAGS), reboot $(node_name), then run pulumi up again"
  fi
  echo "homecloud: $(node_name): K3s needs the cpu, cpuset and memory cgroup controllers; the running kernel lacks: $missing ($have); $fix" >&2
  exit 1
}

# A binary that does not run has no version (empty), not a failed script.
k3s_version_of() { { "$1" --version 2>/dev/null || true; } | sed -n 's/^k3s version \(v[^ ]*\).*$/\1/p'; }
wait_ready() {
  if [ "$(service)" = k3s ]; then
    wait_for "the K3s API on this server to be ready (/readyz)" "journalctl -u k3s on $(node_name)" api_ready
  else
    wait_for "k3s-agent to be active" "journalctl -u k3s-agent on $(node_name)" unit_active k3s-agent
  fi
}

# The install script ends with a `systemctl restart` that blocks until K3s is ready: bounded.
run_install_script() { # run_install_script SCRIPT [extra env...]
  local script=$1
  shift
  bounded "$INSTALL_SECONDS" "the K3s install script (download and restart of $(service))" "journalctl -u $(service) on $(node_name)" \
    env "$@" INSTALL_K3S_VERSION="$version" INSTALL_K3S_EXEC="$HC_ROLE" INSTALL_K3S_FORCE_RESTART=true sh "$script"
}

install_from_script() {
  local tmp
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: the trap runs after this function's scope
  trap "rm -rf '$tmp'" EXIT
  curl -sfL https://get.k3s.io -o "$tmp/install.sh"
  run_install_script "$tmp/install.sh"
}

install_airgap() {
  local dir=${HC_AIRGAP_DIR:?} f have images=0
  for f in "$dir/k3s" "$dir/install.sh"; do
    if [ ! -f "$f" ]; then
      echo "homecloud: $f is missing; an air-gapped install needs k3s, k3s-airgap-images-<arch>.tar* and install.sh for $version in $dir" >&2
      exit 1
    fi
  done
  install -d -m 0755 /usr/local/bin "$K3S_IMAGES_DIR"
  cp "$dir/k3s" "$K3S_BIN.homecloud-new"
  chmod 0755 "$K3S_BIN.homecloud-new"
  have=$(k3s_version_of "$K3S_BIN.homecloud-new")
  if [ "$have" != "$version" ]; then
    rm -f "$K3S_BIN.homecloud-new"
    echo "homecloud: $dir/k3s is ${have:-not a k3s binary}, but homecloud:k3sVersion is $version; put the $version binary there" >&2
    exit 1
  fi
  for f in "$dir"/k3s-airgap-images-*; do
    if [ -f "$f" ]; then
      cp -f "$f" "$K3S_IMAGES_DIR/"
      images=$((images + 1))
    fi
  done
  if [ "$images" -eq 0 ]; then
    rm -f "$K3S_BIN.homecloud-new"
    echo "homecloud: no k3s-airgap-images-* tarball in $dir" >&2
    exit 1
  fi
  mv -f "$K3S_BIN.homecloud-new" "$K3S_BIN"
  run_install_script "$dir/install.sh" INSTALL_K3S_SKIP_DOWNLOAD=true
}

# The fields of a K3s release: v1.32.2+k3s1 -> "1 32 2 1".
release_fields() { printf '%s\n' "$1" | sed -n 's/^v\([0-9]*\)\.\([0-9]*\)\.\([0-9]*\)+k3s\([0-9]*\)$/\1 \2 \3 \4/p'; }

# Refuses, before anything is touched, a target release older than the installed one (K3s
# has no in-place downgrade) or more than one minor above it (docs.k3s.io/upgrades/manual:
# do not skip intermediate minor versions; k3s-ansible's upgrade role, likewise, only ever
# installs a higher version). The message names the next release line allowed.
check_upgrade_path() { # check_upgrade_path INSTALLED TARGET
  local from to
  read -r -a from <<<"$(release_fields "$1")"
  read -r -a to <<<"$(release_fields "$2")"
  if [ "${#from[@]}" -ne 4 ] || [ "${#to[@]}" -ne 4 ]; then
    return 0
  fi
  local i
  for i in 0 1 2 3; do
    if [ "${to[$i]}" -gt "${from[$i]}" ]; then
      break
    elif [ "${to[$i]}" -lt "${from[$i]}" ]; then
      echo "homecloud: $(node_name): k3s $1 is installed and homecloud:k3sVersion $2 is older; K3s cannot be downgraded in place: set homecloud:k3sVersion to $1 or a newer v${from[0]}.${from[1]} or v${from[0]}.$((from[1] + 1)) release" >&2
      exit 1
    fi
  done
  if [ "${to[0]}" -ne "${from[0]}" ] || [ "${to[1]}" -gt $((from[1] + 1)) ]; then
    echo "homecloud: $(node_name): k3s $1 is installed and homecloud:k3sVersion $2 skips a minor version; upgrade one minor at a time: set homecloud:k3sVersion to a v${from[0]}.$((from[1] + 1)).x+k3sN release, run pulumi up, then go on to $2" >&2
    exit 1
  fi
}

install_k3s() {
  local installed="" snapshot
  version=${HC_VERSION:?}
  if [ -x "$K3S_BIN" ]; then
    installed=$(k3s_version_of "$K3S_BIN")
  fi
  if [ -n "$installed" ]; then
    check_upgrade_path "$installed" "$version"
  fi
  if [ "$installed" = "$version" ] && systemctl is-active --quiet "$(service)"; then
    echo "homecloud: k3s $version is installed and running"
  else
    if [ "$HC_ROLE" = server ] && [ -n "$installed" ] && [ "$installed" != "$version" ]; then
      snapshot="homecloud-pre-$(printf '%s' "$version" | tr + -)"
      if systemctl is-active --quiet k3s; then
        echo "homecloud: upgrading k3s $installed to $version; saving etcd snapshot $snapshot first"
        bounded "$WAIT_SECONDS" "etcd snapshot $snapshot" "journalctl -u k3s on $(node_name)" \
          "$K3S_BIN" etcd-snapshot save --name "$snapshot"
      else
        echo "homecloud: k3s $installed is installed but not running; no etcd snapshot before the upgrade" >&2
      fi
    fi
    case "${HC_INSTALL:?}" in
      script) install_from_script ;;
      airgap) install_airgap ;;
      *) echo "homecloud: HC_INSTALL must be script or airgap, not '$HC_INSTALL'" >&2; exit 2 ;;
    esac
  fi
  wait_ready
  # A server's local /readyz answers before its Node reports the new version: the next
  # server must not start its upgrade until this one runs it and is Ready.
  if [ "$HC_ROLE" = server ]; then
    wait_node_ready
  fi
  echo "homecloud: $(service) $version is ready"
}

uninstall_k3s() {
  local uninstall
  uninstall="/usr/local/bin/$(service)-uninstall.sh"
  if [ -x "$uninstall" ]; then
    "$uninstall"
    echo "homecloud: k3s uninstalled"
  else
    echo "homecloud: k3s is not installed; nothing to uninstall"
  fi
}
