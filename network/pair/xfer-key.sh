# shellcheck shell=bash
# Hooks for the TSIG key zone transfers between the two gateways are signed with (bindPair.ts):
# `named-checkconf` checks the key statement; named reads it when named.conf.local, which
# includes it, is reloaded. Readable by root and named's group only (0640 root:bind).
check() { named-checkconf "$CANDIDATE"; }
