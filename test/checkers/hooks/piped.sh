# shellcheck shell=bash
# Test hooks: a check whose only step is a pipeline with a failing first stage. The hooks
# run with pipefail, so the failed stage rejects the file.
check() {
  false | cat
}
