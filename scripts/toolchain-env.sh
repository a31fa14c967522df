# shellcheck shell=sh
# Source this file (". scripts/toolchain-env.sh") to use the toolchain that
# scripts/setup-toolchain.sh puts in the cache: Node 22, the Pulumi CLI with its Node.js
# language host, and the resource plugins at the versions node_modules declares.
#
# It exports PATH (Node 22 and Pulumi first), PULUMI_HOME (in the cache, where the
# plugins are registered) and the variables that keep the CLI from reaching the internet.
# It sets no backend URL and no passphrase: the lab stack's own setup does that.
#
#   homecloud_toolchain_ready     returns 0 when everything is in place, 1 otherwise
#   homecloud_toolchain_missing   prints what is missing, one item a line
#
# Inputs: HOMECLOUD_CACHE (default /var/cache/homecloud; the toolchain lives in
# $HOMECLOUD_CACHE/toolchain), HOMECLOUD_ROOT (the repository; found from this file's
# path under bash, else the current directory), HOMECLOUD_NODE_VERSION (22.23.3).
# Plain POSIX sh: works when sourced from bash, dash or a Makefile recipe. It changes no
# shell option, and sourcing it twice does not grow PATH.

if [ -z "${HOMECLOUD_ROOT:-}" ]; then
  if [ -n "${BASH_SOURCE:-}" ]; then
    # shellcheck disable=SC3028,SC3054
    HOMECLOUD_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  else
    HOMECLOUD_ROOT=$(pwd)
  fi
fi
export HOMECLOUD_ROOT

HOMECLOUD_TOOLCHAIN_DIR="${HOMECLOUD_CACHE:-/var/cache/homecloud}/toolchain"
HOMECLOUD_NODE_VERSION="${HOMECLOUD_NODE_VERSION:-22.23.3}"

# Versions come from the installed npm packages (node_modules/@pulumi/<pkg>/package.json,
# field pulumi.version, else version), falling back to the exact pins in package.json,
# so that bumping package.json (and npm ci) is followed. Printed as
# "pulumi=<v> command=<v> random=<v> kubernetes=<v>". Any Node.js can read them.
_homecloud_versions() {
  _hc_node=node
  command -v node >/dev/null 2>&1 || _hc_node="$HOMECLOUD_TOOLCHAIN_DIR/node-$HOMECLOUD_NODE_VERSION/bin/node"
  "$_hc_node" -e '
    const fs = require("fs"), path = require("path");
    const root = process.argv[1];
    let deps = {};
    try { deps = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).dependencies || {}; } catch (e) {}
    const out = [];
    for (const name of ["pulumi", "command", "random", "kubernetes"]) {
      let v = "";
      try {
        const p = JSON.parse(fs.readFileSync(path.join(root, "node_modules/@pulumi", name, "package.json"), "utf8"));
        v = (name !== "pulumi" && p.pulumi && p.pulumi.version) || p.version || "";
      } catch (e) {
        const d = deps["@pulumi/" + name] || "";
        if (/^\d+\.\d+\.\d+$/.test(d)) v = d;
      }
      out.push(name + "=" + v.replace(/^v/, ""));
    }
    console.log(out.join(" "));
  ' "$HOMECLOUD_ROOT" 2>/dev/null
}

_hc_versions=$(_homecloud_versions || true)
HOMECLOUD_PULUMI_VERSION=""
HOMECLOUD_PLUGIN_VERSIONS=""
for _hc_kv in $_hc_versions; do
  case "$_hc_kv" in
    pulumi=*) HOMECLOUD_PULUMI_VERSION="${_hc_kv#pulumi=}" ;;
    *=) ;;
    *) HOMECLOUD_PLUGIN_VERSIONS="${HOMECLOUD_PLUGIN_VERSIONS:+$HOMECLOUD_PLUGIN_VERSIONS }$_hc_kv" ;;
  esac
done
unset _hc_kv _hc_versions

HOMECLOUD_NODE_BIN="$HOMECLOUD_TOOLCHAIN_DIR/node-$HOMECLOUD_NODE_VERSION/bin"
HOMECLOUD_PULUMI_BIN="$HOMECLOUD_TOOLCHAIN_DIR/pulumi-v${HOMECLOUD_PULUMI_VERSION:-unknown}/bin"
export HOMECLOUD_TOOLCHAIN_DIR HOMECLOUD_NODE_VERSION HOMECLOUD_PULUMI_VERSION \
  HOMECLOUD_PLUGIN_VERSIONS HOMECLOUD_NODE_BIN HOMECLOUD_PULUMI_BIN

_hc_path=""
_hc_ifs=$IFS
IFS=:
for _hc_dir in $PATH; do
  case "$_hc_dir" in
    "$HOMECLOUD_NODE_BIN" | "$HOMECLOUD_PULUMI_BIN" | "") ;;
    *) _hc_path="${_hc_path:+$_hc_path:}$_hc_dir" ;;
  esac
done
IFS=$_hc_ifs
PATH="$HOMECLOUD_PULUMI_BIN:$HOMECLOUD_NODE_BIN${_hc_path:+:$_hc_path}"
export PATH
unset _hc_dir _hc_path _hc_ifs

PULUMI_HOME="$HOMECLOUD_TOOLCHAIN_DIR/pulumi-home"
PULUMI_SKIP_UPDATE_CHECK=true
PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
export PULUMI_HOME PULUMI_SKIP_UPDATE_CHECK PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION \
  PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK

# The directory in which `pulumi plugin install` registers resource plugin $1 at version $2.
homecloud_plugin_dir() {
  echo "$PULUMI_HOME/plugins/resource-$1-v$2"
}

homecloud_toolchain_missing() {
  [ -x "$HOMECLOUD_NODE_BIN/node" ] || echo "node $HOMECLOUD_NODE_VERSION ($HOMECLOUD_NODE_BIN/node)"
  if [ -z "$HOMECLOUD_PULUMI_VERSION" ]; then
    echo "the @pulumi/pulumi version (no node_modules and no exact pin in package.json)"
  else
    for _hc_b in pulumi pulumi-language-nodejs; do
      [ -x "$HOMECLOUD_PULUMI_BIN/$_hc_b" ] || echo "$_hc_b v$HOMECLOUD_PULUMI_VERSION ($HOMECLOUD_PULUMI_BIN/$_hc_b)"
    done
  fi
  for _hc_p in command random kubernetes; do
    case " $HOMECLOUD_PLUGIN_VERSIONS " in
      *" $_hc_p="*) ;;
      *) echo "the @pulumi/$_hc_p version (no node_modules and no exact pin in package.json)"; continue ;;
    esac
  done
  for _hc_p in $HOMECLOUD_PLUGIN_VERSIONS; do
    _hc_d=$(homecloud_plugin_dir "${_hc_p%%=*}" "${_hc_p#*=}")
    if [ ! -x "$_hc_d/pulumi-resource-${_hc_p%%=*}" ] || [ -e "$_hc_d.partial" ]; then
      echo "plugin resource ${_hc_p%%=*} ${_hc_p#*=} (not registered in $PULUMI_HOME)"
    fi
  done
  unset _hc_b _hc_p _hc_d
}

homecloud_toolchain_ready() {
  [ -z "$(homecloud_toolchain_missing)" ]
}
