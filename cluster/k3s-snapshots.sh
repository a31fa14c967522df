# shellcheck shell=bash disable=SC2154 # k3s-node.sh sets the variables and sources this
# The snapshot phase of k3s-node.sh, on a server: the gateway keeps copies of the etcd
# snapshot each upgrade saves first (network/etcd-snapshots.sh pulls them). Sourced, never run.
#
# The gateway's key gets one line in the SSH user's authorized_keys, marked
# SNAPSHOT_MARK: `restrict` (no terminal, no forwarding) and a forced command, so that key
# can only ask for the newest snapshot of one pre-upgrade name, whatever it sends.

SNAPSHOT_DIR=/var/lib/rancher/k3s/server/db/snapshots
SNAPSHOT_MARK=homecloud-etcd-snapshots
# What the gateway may ask for: the name install_k3s saves before an upgrade.
SNAPSHOT_NAME='^homecloud-pre-v[0-9]+\.[0-9]+\.[0-9]+-k3s[0-9]+$'

# The authorized_keys of user $1 (sshd's default AuthorizedKeysFile).
authorized_keys_of() {
  local home
  home=$(getent passwd "$1" | cut -d: -f6)
  [ -n "$home" ] || { echo "homecloud: $(node_name): no user '$1' here (homecloud:sshUser)" >&2; exit 1; }
  printf '%s/.ssh/authorized_keys' "$home"
}

# rewrite_authorized_keys USER FILE LINE: FILE without the marked line, plus LINE if not
# empty; same owner and mode, replaced in one rename; every other line kept byte for byte.
rewrite_authorized_keys() {
  local user=$1 file=$2 line=$3 tmp
  tmp=$(mktemp "$file.homecloud.XXXXXX")
  if [ -f "$file" ]; then
    grep -v " $SNAPSHOT_MARK\$" "$file" >"$tmp" || true
    chmod --reference="$file" "$tmp"
    chown --reference="$file" "$tmp"
  else
    chmod 0600 "$tmp"
    chown "$user:$(id -gn "$user")" "$tmp"
  fi
  if [ -n "$line" ]; then
    printf '%s\n' "$line" >>"$tmp"
  fi
  mv -f "$tmp" "$file"
}

# snapshot-access: HC_SNAPSHOT_KEY (the gateway's public key) may fetch this server's
# pre-upgrade snapshots as HC_SNAPSHOT_USER.
snapshot_access() {
  local user=${HC_SNAPSHOT_USER:?} key=${HC_SNAPSHOT_KEY:?} type b64 rest file line
  read -r type b64 rest <<<"$key"
  if [ "$type" != ssh-ed25519 ] || ! [[ "$b64" =~ ^[A-Za-z0-9+/]+=*$ ]]; then
    echo "homecloud: $(node_name): the gateway's snapshot key is not an ssh-ed25519 public key: '$key'" >&2
    exit 1
  fi
  file=$(authorized_keys_of "$user")
  line="restrict,command=\"sudo -n /bin/bash $root/cluster/k3s-node.sh snapshot-send \\\"\$SSH_ORIGINAL_COMMAND\\\"\" $type $b64 $SNAPSHOT_MARK"
  if [ -f "$file" ] && grep -qxF -- "$line" "$file"; then
    echo "homecloud: $(node_name): the gateway may fetch etcd snapshots (unchanged)"
    return 0
  fi
  install -d -m 0700 -o "$user" -g "$(id -gn "$user")" "$(dirname "$file")"
  rewrite_authorized_keys "$user" "$file" "$line"
  echo "homecloud: $(node_name): the gateway may fetch etcd snapshots as $user (its key only runs snapshot-send)"
}

# snapshot-revoke: the marked line goes from every account's authorized_keys that has it
# (an uninstall does not know the user any more); nothing else in those files changes.
snapshot_revoke() {
  local home file found=""
  while IFS= read -r home; do
    file="$home/.ssh/authorized_keys"
    if [ -n "$home" ] && [ -f "$file" ] && grep -q " $SNAPSHOT_MARK\$" "$file"; then
      rewrite_authorized_keys "$(stat -c %U "$file")" "$file" ""
      echo "homecloud: $(node_name): the gateway's snapshot key removed from $file"
      found=1
    fi
  done < <(getent passwd | cut -d: -f6 | sort -u)
  if [ -z "$found" ]; then
    echo "homecloud: $(node_name): no authorized_keys holds the gateway's snapshot key; nothing to remove"
  fi
}

# snapshot-send NAME: the gateway's forced command. Writes the newest snapshot NAME-* as a
# tar stream (its name and time kept), or nothing when there is none; refuses anything else.
snapshot_send() {
  local name=${1:-} newest
  if ! [[ "$name" =~ $SNAPSHOT_NAME ]]; then
    echo "homecloud: $(hostname): this key only fetches pre-upgrade etcd snapshots (homecloud-pre-<version>); refused '$name'" >&2
    exit 1
  fi
  newest=$(find "$SNAPSHOT_DIR" -maxdepth 1 -type f -name "$name-*" -printf '%T@ %f\n' 2>/dev/null | sort -rn | sed -n '1s/^[^ ]* //p')
  if [ -z "$newest" ]; then
    echo "homecloud: $(hostname): no etcd snapshot $name-* in $SNAPSHOT_DIR" >&2
    return 0
  fi
  tar -C "$SNAPSHOT_DIR" -cf - -- "$newest"
}
