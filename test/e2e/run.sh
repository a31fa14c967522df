#!/usr/bin/env bash
# Real-engine gates on the lab stack: the Pulumi CLI with the command provider, against a
# shellcheck disable=SC2016 # the node -e programs are JavaScript, not shell
# fresh lab. Needs root and the CLI (scripts/toolchain-env.sh finds it); the lab is always
# torn down. Gates:
#   1. `up` creates the program's commands;
#   2. a second `up` changes nothing, and `preview --expect-no-changes` passes;
#   3. adding a DHCP reservation is exactly 4 updates (Kea, both dynamic zones, named.conf.local's
#      update policy) and 0 replacements (preview --json),
#      and after the `up` Kea is active and both zones load after `systemctl restart named`;
#   4. a second gateway (the lab's gw2): one `up` adds it, gw holds the VIP and gw2 answers DNS,
#      `preview --expect-no-changes` passes, and one `up` of the lab stack takes it out again
#      (gw holds the VIP alone, keepalived stopped; gate 6 then finds gw's /etc as before);
#   5. `stack export` holds no line of the SSH key;
#   6. `destroy` gives back gw's /etc, ruleset, enabled units, forwarding, addresses and every
#      host's trust store, keeping exactly what the design keeps: the CA's certificate (0644)
#      and key (0600) in /etc/homecloud/ca (0700), as `homecloud:caDestroy` documents;
#   7. an `up` with caDestroy true, then `destroy`: gw's /etc is back byte for byte, and all
#      of the above;
#   8. the working tree is as it was (git status).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/toolchain-env.sh
. scripts/toolchain-env.sh
if ! homecloud_pulumi_ready; then
  echo "e2e: no Pulumi CLI on PATH; install it (https://www.pulumi.com/docs/install/) to run the real-engine gates" >&2
  exit 3
fi
# The gates run on the plugins installed here (`pulumi plugin ls`): nothing is downloaded
# mid-run, so a missing plugin fails at once instead of reaching for the network.
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=${PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION:-true}
RUN_DIR=${HOMECLOUD_LAB_RUN:-/run/homecloud-lab}
export HOMECLOUD_LAB_RUN=$RUN_DIR
key=${HOMECLOUD_CACHE:-/var/cache/homecloud}/lab-ssh/id_ed25519
tree_before=$(git status --porcelain)

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
fail() { echo "e2e FAILED: $*" >&2; exit 1; }
gates=0
passed() { gates=$((gates + 1)); echo "e2e: gate $gates passed: $*"; }
times=()
timed() { # timed <label> <command...>: runs it, records its wall time
  local label=$1 t
  shift
  t=$(now)
  "$@"
  times+=("$(printf '%-26s %s s' "$label:" "$(since "$t")")")
}
summary_of() { # the resource changes of the last `pulumi up` in the stack's history
  bash scripts/lab-stack.sh pulumi stack history --stack lab --json | node -e '
    let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => {
      const h = JSON.parse(s)[0]; console.log(JSON.stringify(h.resourceChanges || {})); });'
}

trap 'bash lab/down.sh' EXIT
bash lab/up.sh --recreate
bash lab/snapshot.sh "$RUN_DIR/e2e-before"

timed "first up" bash scripts/lab-stack.sh up >"$RUN_DIR/e2e-up.log" 2>&1 || { cat "$RUN_DIR/e2e-up.log"; fail "first up"; }
echo "e2e: first up $(summary_of)"
passed "first up"
timed "no-op up" bash scripts/lab-stack.sh up >"$RUN_DIR/e2e-noop.log" 2>&1 || { cat "$RUN_DIR/e2e-noop.log"; fail "no-op up"; }
noop=$(summary_of)
echo "e2e: no-op up $noop"
node -e 'const c = JSON.parse(process.argv[1]); const changed = Object.keys(c).filter((k) => k !== "same");
  if (changed.length) { console.error(`changed: ${JSON.stringify(c)}`); process.exit(1); }' "$noop" || fail "no-op up changed something"
bash scripts/lab-stack.sh preview --expect-no-changes >"$RUN_DIR/e2e-expect-no-changes.log" 2>&1 ||
  { cat "$RUN_DIR/e2e-expect-no-changes.log"; fail "preview --expect-no-changes"; }
passed "no-op up and preview --expect-no-changes"

variant=$RUN_DIR/e2e-reservation.yaml
sed 's|^    - { name: client, mac: "02:77:00:00:00:50", ip: 10.77.0.50 }$|&\n    - { name: printer, mac: "02:77:00:00:00:60", ip: 10.77.0.60 }|' Pulumi.lab.yaml >"$variant"
grep -q printer "$variant" || fail "could not add the reservation to a copy of Pulumi.lab.yaml"
HOMECLOUD_LAB_STACK_FILE=$variant bash scripts/lab-stack.sh preview --json >"$RUN_DIR/e2e-reservation-preview.json"
node -e '
  const p = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const ops = {};
  for (const s of p.steps || []) ops[s.op] = [...(ops[s.op] || []), s.urn.split("::").pop()];
  console.log(`e2e: reservation preview ${JSON.stringify(ops)}`);
  const updates = (ops.update || []).sort();
  const want = ["gateway-dhcp-config", "gateway-dns-dynamic-forward-zone", "gateway-dns-dynamic-reverse-zone", "gateway-dns-local"];
  const replaced = ["replace", "create-replacement", "delete-replaced"].flatMap((o) => ops[o] || []);
  if (JSON.stringify(updates) !== JSON.stringify(want) || replaced.length > 0) process.exit(1);
' "$RUN_DIR/e2e-reservation-preview.json" || fail "adding a reservation is not exactly 4 updates and 0 replacements"
timed "one-reservation up" env HOMECLOUD_LAB_STACK_FILE="$variant" bash scripts/lab-stack.sh up >"$RUN_DIR/e2e-reservation-up.log" 2>&1 ||
  { cat "$RUN_DIR/e2e-reservation-up.log"; fail "one-reservation up"; }
echo "e2e: one-reservation up $(summary_of)"
lab/exec gw systemctl is-active kea-dhcp4-server >/dev/null || fail "kea-dhcp4-server is not active after the reservation up"
lab/exec gw systemctl restart named
# Asked from node1 (a LAN address); named may take a moment to load after the restart.
answer() { # answer <expected> <dig args...>
  local want=$1 _
  shift
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    [ "$(lab/exec node1 dig +short +time=1 +tries=1 @10.77.0.1 "$@")" = "$want" ] && return 0
    sleep 1
  done
  return 1
}
answer 10.77.0.60 printer.lab.home.arpa A || fail "printer A record after the named restart"
answer printer.lab.home.arpa. -x 10.77.0.60 || fail "printer PTR record after the named restart"
passed "one reservation: 4 updates, 0 replacements, Kea active, zones load after a restart"

# Who holds an address: the gateways whose interfaces have it.
holders() { local h; for h in gw gw2; do lab/exec "$h" ip -4 -o addr show | grep -q " $1/" && printf '%s ' "$h"; done; return 0; }
variant_pair=$RUN_DIR/e2e-pair.yaml
{ cat "$variant"; printf '  homecloud:gateway2Hostname: gw2\n  homecloud:gateway2LanAddress: 10.77.0.2\n  homecloud:gateway2WanAddress: 192.168.77.3\n  homecloud:lanFloatingAddress: 10.77.0.254\n'; } >"$variant_pair"
timed "up adding gw2" env HOMECLOUD_LAB_STACK_FILE="$variant_pair" bash scripts/lab-stack.sh up >"$RUN_DIR/e2e-pair-up.log" 2>&1 ||
  { cat "$RUN_DIR/e2e-pair-up.log"; fail "up adding the second gateway"; }
echo "e2e: up adding gw2 $(summary_of)"
# keepalived starts as BACKUP on both: the first advert interval decides who serves.
# The VIP may still be there from gw's one-gateway NAT unit: wait for both addresses.
for _ in $(seq 30); do [ "$(holders 192.168.77.10)$(holders 10.77.0.254)" = "gw gw " ] && break; sleep 0.5; done
[ "$(holders 192.168.77.10)" = "gw " ] || fail "after adding gw2 the VIP is on '$(holders 192.168.77.10)', not on gw alone"
[ "$(holders 10.77.0.254)" = "gw " ] || fail "after adding gw2 the floating address is on '$(holders 10.77.0.254)', not on gw alone"
[ "$(lab/exec node1 dig +short +time=2 +tries=1 @10.77.0.2 printer.lab.home.arpa A)" = 10.77.0.60 ] || fail "gw2 does not answer for printer.lab.home.arpa"
HOMECLOUD_LAB_STACK_FILE=$variant_pair bash scripts/lab-stack.sh preview --expect-no-changes >"$RUN_DIR/e2e-pair-noop.log" 2>&1 ||
  { cat "$RUN_DIR/e2e-pair-noop.log"; fail "preview --expect-no-changes with two gateways"; }
timed "up taking gw2 out" env HOMECLOUD_LAB_STACK_FILE="$variant" bash scripts/lab-stack.sh up >"$RUN_DIR/e2e-pair-removed.log" 2>&1 ||
  { cat "$RUN_DIR/e2e-pair-removed.log"; fail "up taking the second gateway out"; }
echo "e2e: up taking gw2 out $(summary_of)"
[ "$(holders 192.168.77.10)" = "gw " ] || fail "after taking gw2 out the VIP is on '$(holders 192.168.77.10)', not on gw alone"
[ "$(holders 10.77.0.254)" = "" ] || fail "after taking gw2 out the floating address is still on '$(holders 10.77.0.254)'"
[ "$(lab/exec gw systemctl is-active keepalived || true)" = inactive ] || fail "keepalived still runs on gw"
passed "a second gateway added and taken out again, one up each (VIP on gw, gw2 answers DNS, no changes pending)"

bash scripts/lab-stack.sh pulumi stack export --stack lab >"$RUN_DIR/e2e-export.json"
while read -r line; do
  case "$line" in -----*|"") continue ;; esac
  if grep -qF -- "$line" "$RUN_DIR/e2e-export.json"; then fail "a line of the SSH key is in the stack export"; fi
done <"$key"
passed "no line of the SSH key in the stack export"

# same_as_before <snapshot dir> <what>: every aspect but /etc's files and directories as before.
same_as_before() {
  local f
  for f in nft.txt enabled.txt ip_forward.txt addr.txt trust-gw.txt trust-node1.txt trust-node2.txt trust-node3.txt; do
    diff -u "$RUN_DIR/e2e-before/$f" "$1/$f" || fail "$2: gw $f differs from before the first up"
  done
}

timed "destroy" bash scripts/lab-stack.sh destroy >"$RUN_DIR/e2e-destroy.log" 2>&1 || { cat "$RUN_DIR/e2e-destroy.log"; fail "destroy"; }
after=$RUN_DIR/e2e-after
bash lab/snapshot.sh "$after"
same_as_before "$after" "destroy"
# /etc: every file as before, plus exactly the CA's two files; every directory as before,
# plus exactly the CA's (and its parent, which the program made for it).
ca=/etc/homecloud/ca
diff -u <(grep -v "  $ca/" "$after/etc.sha256") "$RUN_DIR/e2e-before/etc.sha256" || fail "destroy: gw /etc differs from before beyond the CA"
kept=$(grep "  $ca/" "$after/etc.sha256" | awk '{print $2}' | tr '\n' ' ')
[ "$kept" = "$ca/ca.crt $ca/ca.key " ] || fail "destroy kept '$kept' in $ca, not exactly ca.crt and ca.key"
kept_dirs=$(LC_ALL=C comm -13 "$RUN_DIR/e2e-before/etc-dirs.txt" "$after/etc-dirs.txt" | tr '\n' ';')
[ "$kept_dirs" = "/etc/homecloud 755 root:root;$ca 700 root:root;$ca/issued 700 root:root;" ] || fail "destroy left directories other than the CA's: $kept_dirs"
[ -z "$(LC_ALL=C comm -23 "$RUN_DIR/e2e-before/etc-dirs.txt" "$after/etc-dirs.txt")" ] || fail "destroy removed or changed a directory of /etc"
modes=$(lab/exec gw stat -c '%a %U:%G %n' "$ca/ca.crt" "$ca/ca.key" | tr '\n' ';')
[ "$modes" = "644 root:root $ca/ca.crt;600 root:root $ca/ca.key;" ] || fail "the kept CA's files: $modes"
passed "destroy gives back gw and every trust store, keeping only the CA ($kept_dirs $modes)"

# caDestroy: the documented way to remove the CA too: set it, up, destroy.
variant_ca=$RUN_DIR/e2e-ca-destroy.yaml
{ cat Pulumi.lab.yaml; echo "  homecloud:caDestroy: true"; } >"$variant_ca"
timed "up with caDestroy" env HOMECLOUD_LAB_STACK_FILE="$variant_ca" bash scripts/lab-stack.sh up >"$RUN_DIR/e2e-ca-up.log" 2>&1 ||
  { cat "$RUN_DIR/e2e-ca-up.log"; fail "up with caDestroy"; }
echo "e2e: up with caDestroy $(summary_of)"
[ "$(lab/exec gw cat "$ca/ca.crt" | sha256sum)" = "$(grep "  $ca/ca.crt" "$after/etc.sha256" | awk '{print $1"  -"}')" ] ||
  fail "the up after destroy made a new CA instead of using the one kept"
timed "destroy with caDestroy" env HOMECLOUD_LAB_STACK_FILE="$variant_ca" bash scripts/lab-stack.sh destroy >"$RUN_DIR/e2e-ca-destroy.log" 2>&1 ||
  { cat "$RUN_DIR/e2e-ca-destroy.log"; fail "destroy with caDestroy"; }
grep -q "homecloud: CA removed from $ca" "$RUN_DIR/e2e-ca-destroy.log" || fail "the caDestroy destroy did not say it removed the CA"
bash lab/snapshot.sh "$RUN_DIR/e2e-after-ca"
same_as_before "$RUN_DIR/e2e-after-ca" "destroy with caDestroy"
for f in etc.sha256 etc-dirs.txt; do
  diff -u "$RUN_DIR/e2e-before/$f" "$RUN_DIR/e2e-after-ca/$f" || fail "destroy with caDestroy: gw $f differs from before the first up"
done
passed "up and destroy with caDestroy give back gw's /etc byte for byte"

[ "$(git status --porcelain)" = "$tree_before" ] || { git status --short; fail "the lab run changed the working tree"; }
passed "the working tree is as it was"

echo "== real engine ($(pulumi version)) =="
printf '%s\n' "${times[@]}"
echo "e2e: all $gates gates passed"
