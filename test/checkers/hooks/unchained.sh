# shellcheck shell=bash
# Test hooks: a check whose first step fails and whose last succeeds. It runs with set -e,
# so the failed first step rejects the file.
check() {
  grep -q "^valid" "$CANDIDATE"
  true
}
