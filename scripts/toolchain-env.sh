# shellcheck shell=sh
# Source this file (". scripts/toolchain-env.sh") to put the project's toolchain first on
# PATH: Node.js 22 (from the npm registry, installed by scripts/setup-node.sh into the
# cache) and the Pulumi CLI wherever the official install put it (~/.pulumi/bin, or
# $HOMECLOUD_CACHE/pulumi/bin when installed by `HOMECLOUD_INSTALL_PULUMI=1 make toolchain`).
#
#   homecloud_pulumi_ready   0 when the Pulumi CLI and its Node.js language host are on PATH
#
# Plain POSIX sh; sourcing it twice does not grow PATH; it changes no shell option.
HOMECLOUD_NODE_VERSION="${HOMECLOUD_NODE_VERSION:-22.23.3}"
HOMECLOUD_NODE_BIN="${HOMECLOUD_CACHE:-/var/cache/homecloud}/node-$HOMECLOUD_NODE_VERSION/bin"
HOMECLOUD_PULUMI_ROOT="${HOMECLOUD_CACHE:-/var/cache/homecloud}/pulumi"
export HOMECLOUD_NODE_VERSION HOMECLOUD_NODE_BIN HOMECLOUD_PULUMI_ROOT

for _hc_dir in "${HOME:-/root}/.pulumi/bin" "$HOMECLOUD_PULUMI_ROOT/bin" "$HOMECLOUD_NODE_BIN"; do
  case ":$PATH:" in
    *":$_hc_dir:"*) ;;
    *) if [ -d "$_hc_dir" ]; then PATH="$_hc_dir:$PATH"; fi ;;
  esac
done
unset _hc_dir
export PATH
PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_SKIP_UPDATE_CHECK

homecloud_pulumi_ready() {
  command -v pulumi >/dev/null 2>&1 && command -v pulumi-language-nodejs >/dev/null 2>&1
}
