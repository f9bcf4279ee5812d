#!/bin/sh
# Instructions per DKIM operation under callgrind (repeatable whatever the machine load).
#
#   bench/dkim/callgrind.sh [BUILD_DIR]    (needs BUILD_DIR/bench/dkim/dkim_profile)
#
# Each case runs N operations; only the instructions inside profiled_op() are counted
# (--toggle-collect), so key generation and start-up are left out. Prints Ir per operation.
set -eu
BUILD=${1:-build}
BIN=$BUILD/bench/dkim/dkim_profile
N=${N:-10}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
ir() {
  valgrind --tool=callgrind --toggle-collect='*profiled_op*' --callgrind-out-file="$TMP/out" \
    "$BIN" "$@" >/dev/null 2>"$TMP/err"
  sed -n 's/^==[0-9]*== Collected : *\([0-9]*\).*/\1/p' "$TMP/err"
}
for c in "sign rsa 4k" "sign ed 4k" "raw-sign rsa 4k" "raw-sign ed 4k" "verify rsa 4k" \
         "verify ed 4k" "sign ed 100k" "verify ed 100k"; do
  # shellcheck disable=SC2086
  echo "$c: $(( $(ir $c "$N") / N )) Ir per operation"
done
