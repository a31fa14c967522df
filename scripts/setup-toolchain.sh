#!/usr/bin/env bash
# Installs the toolchain that runs the real Pulumi engine against this program:
#   - Node.js 22 (the npm package node-linux-<arch>, which ships bin/node),
#   - the Pulumi CLI and its Node.js language host, at the version of node_modules/@pulumi/pulumi,
#   - the resource plugins command, random and kubernetes, at the versions their npm
#     packages declare (node_modules/@pulumi/<pkg>/package.json: pulumi.version), registered
#     with `pulumi plugin install resource <name> <version> --file <binary>`.
# Everything goes into ${HOMECLOUD_CACHE:-/var/cache/homecloud}/toolchain, keyed on the
# versions; afterwards `. scripts/toolchain-env.sh` puts it on PATH (see that file).
# Idempotent: a run with everything in place only checks and exits; a missing piece is
# rebuilt alone. Go's module and build caches stay in Go's default places.
#
# HOMECLOUD_TOOLCHAIN selects how the CLI and plugins are obtained. Nothing is probed:
#   source   (default) build them from Go modules, for machines that reach only package
#            registries. A cold build takes long (tens of minutes on 2 cores) and several GB
#            of Go caches.
#   official a machine with internet access: the official install script
#            (https://get.pulumi.com) installs the CLI, `pulumi plugin install` the plugins.
# Node.js 22 comes from the npm registry in both modes.
#
# Other knobs:
#   HOMECLOUD_GO_JOBS                 parallel Go compile jobs (default 2: the machine is shared)
#   HOMECLOUD_LANGUAGE_NODEJS_MODVER  module version of pulumi-language-nodejs (it has no tags
#                                     of its own); by default found from the release commit
#   HOMECLOUD_COMMAND_MODVER, HOMECLOUD_RANDOM_MODVER, HOMECLOUD_KUBERNETES_MODVER
#                                     module version (or commit) of a provider module, for a
#                                     release whose provider module has no tag of its own
# Progress lines go to stdout; the build's own output to $HOMECLOUD_CACHE/toolchain/logs/.
# Exit status: 0 ready; 1 something failed; 2 bad usage; 3 the Go module proxy refuses a
# module needed (403 "not available"): the toolchain cannot be built on this machine, so
# callers should skip what needs it (scripts/toolchain-env.sh: homecloud_toolchain_ready).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/toolchain-env.sh
. "$here/toolchain-env.sh"

mode=${HOMECLOUD_TOOLCHAIN:-source}
case "$mode" in
  source | official) ;;
  *) echo "toolchain: HOMECLOUD_TOOLCHAIN must be 'source' or 'official', not '$mode'" >&2; exit 2 ;;
esac

dir=$HOMECLOUD_TOOLCHAIN_DIR
t_start=$SECONDS
say() { echo "toolchain: $*"; }

if homecloud_toolchain_ready; then
  say "ready (node $HOMECLOUD_NODE_VERSION, pulumi v$HOMECLOUD_PULUMI_VERSION, $HOMECLOUD_PLUGIN_VERSIONS) in $dir"
  exit 0
fi
if [ -z "$HOMECLOUD_PULUMI_VERSION" ] || [ "$(echo "$HOMECLOUD_PLUGIN_VERSIONS" | wc -w)" -lt 3 ]; then
  say "cannot read the @pulumi package versions: run 'npm ci' first" >&2
  exit 1
fi

if ! mkdir -p "$dir/logs" 2>/dev/null || [ ! -w "$dir" ]; then
  say "cannot write to $dir: set HOMECLOUD_CACHE to a writable directory" >&2
  exit 1
fi
# One run at a time per cache (several engineers may share a machine).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dir/.setup.lock"
  if ! flock -n 9; then
    say "another setup run holds $dir/.setup.lock; waiting"
    flock 9
    if homecloud_toolchain_ready; then say "ready (set up by the other run)"; exit 0; fi
  fi
fi
log="$dir/logs/setup-$(date +%Y%m%d-%H%M%S).log"
ln -sfn "$(basename "$log")" "$dir/logs/latest.log"
# Keep the ten latest logs.
find "$dir/logs" -name 'setup-*.log' -printf '%T@ %p\n' | sort -rn | tail -n +11 | cut -d' ' -f2- |
  xargs -r rm -f
rm -rf "$dir"/.tmp.* # left by an interrupted run
say "mode $mode; log $log"
{ echo "== setup-toolchain $(date -Is) mode=$mode pulumi=$HOMECLOUD_PULUMI_VERSION $HOMECLOUD_PLUGIN_VERSIONS"; } >>"$log"

jobs=${HOMECLOUD_GO_JOBS:-2}
node_js() { node -e "$@"; } # any Node.js: the system's or the cached 22

# Prints a field (dotted path) of the JSON on stdin, or nothing.
json_field() {
  node_js 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v;try{v=JSON.parse(s)}catch(e){return}
    for(const k of process.argv[1].split(".")){if(v==null)break;v=v[k]}
    if(v!=null&&v!=="")console.log(typeof v==="object"?JSON.stringify(v):v)})' "$1"
}

# Runs a command with its output in the log.
logged() {
  echo "+ $*" >>"$log"
  "$@" >>"$log" 2>&1
}

failed=()
# component NAME FUNCTION: runs FUNCTION in a subshell with errexit, times it, and on
# failure prints the log's tail and records the failure (the other components still run).
component() {
  local label=$1 fn=$2 t0=$SECONDS rc from
  say "$label: start"
  echo "== $label $(date -Is)" >>"$log"
  from=$(($(wc -l <"$log") + 1))
  set +e
  (set -e; "$fn") 2>&1
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then
    say "$label: done in $((SECONDS - t0)) s"
  else
    say "$label: FAILED after $((SECONDS - t0)) s; its last log lines ($log):"
    tail -n "+$from" "$log" | tail -n 25 | sed 's/^/    | /'
    failed+=("$label")
  fi
}

# --- Go helpers (source mode) -------------------------------------------------------

go_bin() {
  if command -v go >/dev/null 2>&1; then command -v go
  elif [ -x /usr/local/go/bin/go ]; then echo /usr/local/go/bin/go
  else return 1; fi
}

# go_query MOD@QUERY: the resolved module version; on failure a one-line reason on stderr.
go_query() {
  local out err
  out=$(cd "$dir" && "$GO" mod download -json "$1" 2>>"$log") || true
  err=$(printf '%s' "$out" | json_field Error)
  if [ -z "$err" ]; then
    printf '%s' "$out" | json_field Version
    return
  fi
  echo "go: $1: $err" >>"$log"
  case "$err" in
    *"403 Forbidden"* | *"not available"*)
      say "  the Go module proxy refuses $1 (403: not available)" >&2 ;;
    *"404 Not Found"* | *"410 Gone"* | *"unknown revision"* | *"invalid version"*)
      say "  no such module version: $1" >&2 ;;
    *) say "  $1: $(printf '%s' "$err" | head -n 1 | cut -c1-160)" >&2 ;;
  esac
  return 1
}

# Prints field $2 of `go mod download -json $1`.
go_download_field() {
  (cd "$dir" && "$GO" mod download -json "$1" 2>>"$log") | json_field "$2"
}

# resolve_modver MOD VERSION OVERRIDE [SIBLING@VERSION ...]: a version of MOD built from
# the release VERSION: OVERRIDE if set, else MOD@VERSION if the release tagged MOD,
# else the pseudo-version of the commit that a sibling module's release tag points at.
resolve_modver() {
  local mod=$1 ver=$2 override=$3 sib hash v
  shift 3
  if [ -n "$override" ]; then go_query "$mod@$override"; return; fi
  if v=$(go_query "$mod@$ver") && [ -n "$v" ]; then echo "$v"; return; fi
  for sib in "$@"; do
    hash=$(go_download_field "$sib" Origin.Hash)
    if [ -n "$hash" ]; then go_query "$mod@$hash"; return; fi
  done
  say "  no module version of $mod for release $ver found: see the overrides in the header" >&2
  return 1
}

# copy_replaces GOMODFILE: repeats its non-local replace directives in ./go.mod and prints
# its local ones as "oldpath<TAB>dir" lines.
copy_replaces() {
  local lines l reps=()
  lines=$("$GO" mod edit -json "$1" | node_js '
    let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
      for (const r of JSON.parse(s).Replace || []) {
        const old = r.Old.Path + (r.Old.Version ? "@" + r.Old.Version : "");
        if (r.New.Version) console.log("R\t-replace=" + old + "=" + r.New.Path + "@" + r.New.Version);
        else console.log("L\t" + r.Old.Path + "\t" + r.New.Path);
      }})')
  while IFS= read -r l; do
    case "$l" in R$'\t'*) reps+=("${l#R$'\t'}") ;; esac
  done <<<"$lines"
  [ "${#reps[@]}" -eq 0 ] || logged "$GO" mod edit "${reps[@]}"
  printf '%s\n' "$lines" | sed -n 's/^L\t//p'
}

# required_version GOMODFILE MODULE: the version GOMODFILE requires of MODULE.
required_version() {
  "$GO" mod edit -json "$1" | node_js '
    let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
      for (const r of JSON.parse(s).Require || []) if (r.Path === process.argv[1]) console.log(r.Version);
    })' "$2"
}

# new_wrapper DIR MODULE: an empty module in DIR (removed first).
new_wrapper() {
  rm -rf "$1"
  mkdir -p "$1"
  (cd "$1" && logged "$GO" mod init "$2")
}

# go_build OUT PKG LDFLAGS [TAGS]: builds PKG of the module in the current directory.
go_build() {
  logged "$GO" build -p "$jobs" -trimpath -buildvcs=false ${4:+-tags "$4"} -ldflags "-s -w $3" -o "$1" "$2"
}

# --- Node.js 22 ----------------------------------------------------------------------

node_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) echo "unsupported architecture $(uname -m)" >&2; return 1 ;;
  esac
}

install_node() {
  local dest="$dir/node-$HOMECLOUD_NODE_VERSION" pkg tmp
  pkg="node-linux-$(node_arch)@$HOMECLOUD_NODE_VERSION"
  tmp=$(mktemp -d "$dir/.tmp.XXXXXX")
  (cd "$tmp" && logged npm pack --silent "$pkg")
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  [ "$("$tmp/package/bin/node" --version)" = "v$HOMECLOUD_NODE_VERSION" ]
  rm -rf "$dest"
  mv "$tmp/package" "$dest"
  rm -rf "$tmp"
}

# --- Pulumi CLI and Node.js language host ----------------------------------------------

cli_official() {
  local root="$dir/pulumi-v$HOMECLOUD_PULUMI_VERSION"
  # shellcheck disable=SC2016 # expanded by the inner shell
  logged bash -c 'set -o pipefail; curl -fsSL https://get.pulumi.com | sh -s -- --version "$1" --install-root "$2" --no-edit-path' \
    _ "$HOMECLOUD_PULUMI_VERSION" "$root"
  [ -x "$root/bin/pulumi" ] && [ -x "$root/bin/pulumi-language-nodejs" ]
}

cli_source() {
  local v="v$HOMECLOUD_PULUMI_VERSION" out="$HOMECLOUD_PULUMI_BIN" w
  w="$dir/build/pulumi-$v"
  local pkg=github.com/pulumi/pulumi/pkg/v3 sdk=github.com/pulumi/pulumi/sdk/v3
  local host=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 hostver
  go_query "$pkg@$v" >/dev/null
  hostver=$(resolve_modver "$host" "$v" "${HOMECLOUD_LANGUAGE_NODEJS_MODVER:-}" "$pkg@$v" "$sdk@$v")
  say "  pulumi $v, language host module $hostver"
  new_wrapper "$w" homecloud.invalid/toolchain/pulumi
  cd "$w"
  logged "$GO" mod edit -require="$pkg@$v" -require="$sdk@$v" -require="$host@$hostver"
  copy_replaces "$(go_download_field "$pkg@$v" GoMod)" >/dev/null
  copy_replaces "$(go_download_field "$host@$hostver" GoMod)" >/dev/null
  printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "%s/cmd/pulumi"\n\t_ "%s"\n)\n' "$pkg" "$host" >tools.go
  logged "$GO" mod tidy
  local ld="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$v"
  mkdir -p "$w/bin"
  go_build "$w/bin/pulumi" "$pkg/cmd/pulumi" "$ld" osusergo,grpcnotrace
  go_build "$w/bin/pulumi-language-nodejs" "$host" "$ld" osusergo,grpcnotrace
  [ "$("$w/bin/pulumi" version)" = "$v" ]
  mkdir -p "$out"
  mv -f "$w/bin/pulumi-language-nodejs" "$out/"
  mv -f "$w/bin/pulumi" "$out/" # last: its presence marks the pair as done
}

install_cli() {
  if [ "$mode" = official ]; then cli_official; else cli_source; fi
}

# --- Resource plugins ------------------------------------------------------------------

plugin_bin() { echo "$dir/plugins/$1-v$2/pulumi-resource-$1"; }

# command: its provider module has no replace directives and embeds committed files only.
build_command() {
  local ver=$1 mod=github.com/pulumi/pulumi-command/provider modver tmp
  modver=$(resolve_modver "$mod" "v$ver" "${HOMECLOUD_COMMAND_MODVER:-}" "github.com/pulumi/pulumi-command/sdk@v$ver")
  say "  command $ver, module $mod@$modver"
  tmp=$(mktemp -d "$dir/.tmp.XXXXXX")
  (cd "$dir" && GOBIN="$tmp" logged "$GO" install -p "$jobs" -trimpath \
    -ldflags "-s -w -X $mod/pkg/version.Version=$ver" "$mod/cmd/pulumi-resource-command@$modver")
  mkdir -p "$(dirname "$(plugin_bin command "$ver")")"
  mv -f "$tmp/pulumi-resource-command" "$(plugin_bin command "$ver")"
  rmdir "$tmp"
}

# A module replaced by a local directory in a provider's go.mod is not in any module zip:
# the few we know are written here. random's shim reaches terraform-provider-random's
# internal provider package (allowed: the shim's path lies under that module's path).
write_local_module() {
  local oldpath=$1 target=$2 gomod=$3 v
  case "$oldpath" in
    github.com/terraform-providers/terraform-provider-random/shim)
      mkdir -p "$target"
      {
        echo "module $oldpath"
        echo
        echo "go $("$GO" mod edit -json "$gomod" | json_field Go)"
        echo
        for m in github.com/terraform-providers/terraform-provider-random github.com/hashicorp/terraform-plugin-framework; do
          v=$(required_version "$gomod" "$m")
          [ -z "$v" ] || echo "require $m $v"
        done
      } >"$target/go.mod"
      printf '%s\n' 'package shim' '' 'import (' \
        '	tfpf "github.com/hashicorp/terraform-plugin-framework/provider"' \
        '	"github.com/terraform-providers/terraform-provider-random/internal/provider"' ')' '' \
        'func NewProvider() tfpf.Provider {' '	return provider.New()' '}' >"$target/shim.go"
      ;;
    *)
      say "  $gomod replaces $oldpath by a local directory this script cannot write" >&2
      return 1
      ;;
  esac
}

# random and kubernetes: a wrapper module holding the provider's own cmd/ main package,
# copied from the module cache, with the embedded files its release process generates
# (<name>-embed.json from <name>.json; the schema gets the release version) written here.
build_wrapped() {
  local name=$1 ver=$2 mod=$3 override=$4 modver srcdir gomod cmd w f pat locals oldpath newpath
  modver=$(resolve_modver "$mod" "v$ver" "$override" "github.com/pulumi/pulumi-$name/sdk/v${ver%%.*}@v$ver")
  say "  $name $ver, module $mod@$modver"
  srcdir=$(go_download_field "$mod@$modver" Dir)
  gomod=$(go_download_field "$mod@$modver" GoMod)
  cmd="$srcdir/cmd/pulumi-resource-$name"
  [ -d "$cmd" ]
  w="$dir/build/$name-v$ver"
  new_wrapper "$w" "homecloud.invalid/toolchain/pulumi-resource-$name"
  cd "$w"
  logged "$GO" mod edit -require="$mod@$modver"
  locals=$(copy_replaces "$gomod")
  while IFS=$'\t' read -r oldpath newpath; do
    [ -n "$oldpath" ] || continue
    write_local_module "$oldpath" "$w/local/$(basename "$newpath")" "$gomod"
    logged "$GO" mod edit -replace="$oldpath=./local/$(basename "$newpath")"
  done <<<"$locals"
  for f in "$cmd"/*.go; do
    case "$f" in *_test.go) continue ;; esac
    grep -qE '^//go:build.*\bignore\b' "$f" && continue
    cp "$f" .
  done
  # shellcheck disable=SC2013 # one pattern per word
  for pat in $(sed -n 's|^//go:embed ||p' ./*.go); do
    if [ -e "$cmd/$pat" ]; then
      cp "$cmd/$pat" .
    elif [[ "$pat" == *-embed.json ]] && [ -e "$cmd/${pat%-embed.json}.json" ]; then
      node_js 'const fs=require("fs");const [src,dst,ver,isSchema]=process.argv.slice(1);
        const j=JSON.parse(fs.readFileSync(src,"utf8"));if(isSchema==="1")j.version=ver;
        fs.writeFileSync(dst,JSON.stringify(j))' \
        "$cmd/${pat%-embed.json}.json" "$pat" "$ver" "$([ "$pat" = schema-embed.json ] && echo 1 || echo 0)"
    else
      say "  $name: main package embeds $pat, which neither the module has nor this script can make" >&2
      return 1
    fi
    chmod u+w "$pat"
  done
  logged "$GO" mod tidy
  mkdir -p "$w/bin" "$(dirname "$(plugin_bin "$name" "$ver")")"
  go_build "$w/bin/pulumi-resource-$name" . "-X $mod/pkg/version.Version=$ver"
  mv -f "$w/bin/pulumi-resource-$name" "$(plugin_bin "$name" "$ver")"
}

build_plugin() { # NAME VERSION
  case "$1" in
    command) build_command "$2" ;;
    random) build_wrapped random "$2" github.com/pulumi/pulumi-random/provider/v4 "${HOMECLOUD_RANDOM_MODVER:-}" ;;
    kubernetes) build_wrapped kubernetes "$2" github.com/pulumi/pulumi-kubernetes/provider/v4 "${HOMECLOUD_KUBERNETES_MODVER:-}" ;;
    *) say "  no recipe to build plugin $1" >&2; return 1 ;;
  esac
}

register_plugin() { # NAME VERSION [BINARY]
  if [ -n "${3:-}" ]; then
    logged "$HOMECLOUD_PULUMI_BIN/pulumi" plugin install resource "$1" "$2" --file "$3"
  else
    logged env -u PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION \
      "$HOMECLOUD_PULUMI_BIN/pulumi" plugin install resource "$1" "$2"
  fi
  [ -x "$(homecloud_plugin_dir "$1" "$2")/pulumi-resource-$1" ]
}

# --- Main ------------------------------------------------------------------------------

if [ "$mode" = source ]; then
  if ! GO=$(go_bin); then say "Go is needed to build from source (none on PATH nor in /usr/local/go)" >&2; exit 1; fi
  say "using $("$GO" version | cut -d' ' -f3), $jobs parallel jobs"
fi

if [ -x "$HOMECLOUD_NODE_BIN/node" ]; then
  say "node $HOMECLOUD_NODE_VERSION: cached"
else
  component "node $HOMECLOUD_NODE_VERSION" install_node
fi

if [ -x "$HOMECLOUD_PULUMI_BIN/pulumi" ] && [ -x "$HOMECLOUD_PULUMI_BIN/pulumi-language-nodejs" ]; then
  say "pulumi v$HOMECLOUD_PULUMI_VERSION: cached"
else
  component "pulumi v$HOMECLOUD_PULUMI_VERSION + language host ($mode)" install_cli
fi

for kv in $HOMECLOUD_PLUGIN_VERSIONS; do
  name=${kv%%=*} ver=${kv#*=}
  pdir=$(homecloud_plugin_dir "$name" "$ver")
  if [ -x "$pdir/pulumi-resource-$name" ] && [ ! -e "$pdir.partial" ]; then
    say "plugin $name $ver: registered"
    continue
  fi
  if [ "$mode" = source ] && [ ! -x "$(plugin_bin "$name" "$ver")" ]; then
    build_one() { build_plugin "$name" "$ver"; }
    component "plugin $name $ver (build)" build_one
    [ -x "$(plugin_bin "$name" "$ver")" ] || continue
  fi
  if [ ! -x "$HOMECLOUD_PULUMI_BIN/pulumi" ]; then
    say "plugin $name $ver: not registered (no pulumi CLI)"
    failed+=("plugin $name $ver (register)")
    continue
  fi
  if [ "$mode" = source ]; then
    register_one() { register_plugin "$name" "$ver" "$(plugin_bin "$name" "$ver")"; }
  else
    register_one() { register_plugin "$name" "$ver"; }
  fi
  component "plugin $name $ver (register)" register_one
done

if [ "${#failed[@]}" -gt 0 ] || ! homecloud_toolchain_ready; then
  say "INCOMPLETE after $((SECONDS - t_start)) s; missing:"
  homecloud_toolchain_missing | sed 's/^/  - /'
  say "log: $log"
  if [ "$mode" = source ] && grep -q '403 Forbidden' "$log"; then
    say "the Go module proxy this machine reaches refuses some of these modules (403): they cannot"
    say "be built from source here; on a machine with internet access use HOMECLOUD_TOOLCHAIN=official"
    exit 3
  fi
  exit 1
fi
say "ready after $((SECONDS - t_start)) s: . scripts/toolchain-env.sh, then pulumi $("$HOMECLOUD_PULUMI_BIN/pulumi" version)"
