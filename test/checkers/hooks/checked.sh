# shellcheck shell=bash
# Test hooks: logging.sh's, plus a check that wants a line starting with "valid".
# shellcheck source=test/checkers/hooks/logging.sh
. "$(dirname "${BASH_SOURCE[0]}")/logging.sh"
check() {
  grep -q "^valid" "$CANDIDATE" || {
    echo "no valid line in $(basename "$CANDIDATE")"
    return 1
  }
}
