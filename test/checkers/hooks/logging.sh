# shellcheck shell=bash
# Test hooks: activation logs what it saw (to HC_LOG) and fails on content with "explode".
activate() {
  echo "activate $(cat "$HC_DEST")" >>"$HC_LOG"
  ! grep -q explode "$HC_DEST"
}
revert() { echo "revert" >>"$HC_LOG"; }
