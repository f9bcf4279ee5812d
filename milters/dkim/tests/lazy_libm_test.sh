#!/bin/bash
# lazy_libm_test.sh INKAN_DKIM [OPENDKIM]: Lua's math library through milters/dkim/lazy_libm.cpp.
#
# When Lua is linked from its static archive, libm must not be in the daemon's DT_NEEDED list
# nor mapped by a running daemon without a policy script (~0.33 MiB resident saved at start),
# and a script's math must still give glibc's results: the same numbers as opendkim -t (Debian's
# liblua5.3 with libm) on the same script, and libm mapped once a script has used it.
source "$(dirname "$0")/testlib.sh"
testlib_init "$1" "${2:-}"
cd "$T" || exit 1

openssl genrsa -out "$T/k.pem" 2048 2> /dev/null
printf 'From: a@example.com\nTo: b@example.org\nSubject: math\n\nhi\n' > "$T/m.eml"
# Every function lazy_libm.cpp forwards, float table keys (ltable.c hashes them with frexp),
# overflow to inf, and math.huge arithmetic.
cat > "$T/math.lua" << 'EOF'
local t = {}
t[1.5] = "k"
local r = {
  math.sqrt(2), math.sin(1), math.cos(1), math.tan(1), math.asin(0.5), math.acos(0.5),
  math.atan(1, 2), math.exp(1), math.log(8), math.log(8, 2), math.log(100, 10), math.log(9, 3),
  math.fmod(7.5, 2), 2 ^ 0.5, 10 ^ -3, t[1.5], 1e300 * 1e10, -(1e300 * 1e10), math.huge - 1,
  math.sqrt(-1) ~= math.sqrt(-1), math.tointeger(2 ^ 10), string.format("%.17g", math.exp(0.1)),
  math.ult(1, 2), math.floor(-2.5), math.ceil(2.1), math.abs(-3.25), math.max(1.5, 2.5),
}
local out = {}
for i = 1, #r do out[i] = tostring(r[i]) end
io.stderr:write("lua math: ", table.concat(out, " "), "\n")
EOF
cat > "$T/script.conf" << EOF
Mode sv
Domain example.com
Selector s
KeyFile $T/k.pem
SetupPolicyScript $T/math.lua
Syslog no
EOF
printf 'Mode sv\nDomain example.com\nSelector s\nKeyFile %s/k.pem\nSyslog no\nSocket local:%s/m.sock\n' "$T" "$T" > "$T/plain.conf"

needed=$(readelf -d "$BIN" 2> /dev/null | grep NEEDED)
if [ -z "$needed" ]; then
  fail "readelf -d $BIN printed no NEEDED entries (binutils missing?)"; checks=$((checks + 1))
elif [[ "$needed" == *liblua5.3* ]]; then
  echo "note: $BIN links the shared liblua5.3 (INKAN_STATIC_CXX_RUNTIME off): libm comes with it, not checked"
else
  expect_not "libm is not in DT_NEEDED" "$needed" "libm.so"
  # A running daemon without a policy script never maps libm.
  "$BIN" -f -x "$T/plain.conf" > "$T/plain.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  for _ in $(seq 50); do [ -S "$T/m.sock" ] && break; sleep 0.1; done
  maps=$(cat "/proc/$pid/maps" 2> /dev/null)
  expect_has "daemon is running" "$maps" "inkan-dkim"
  expect_not "no libm mapped without a script" "$maps" "libm.so"
  testlib_stop "$pid"
fi

got=$("$BIN" -x "$T/script.conf" -t "$T/m.eml" 2>&1 > /dev/null | grep '^lua math:')
expect_has "the script ran and printed its results" "$got" "lua math: 1.4142135623731 0.8414709848079"
expect_has "inf from overflow" "$got" " inf -inf inf true 1024 "
if [ "$HAVE_OD" = 1 ]; then
  want=$("$OD" -x "$T/script.conf" -t "$T/m.eml" 2>&1 > /dev/null | grep '^lua math:')
  expect_eq "the same numbers as opendkim -t (Debian's liblua5.3 with libm)" "$got" "$want"
fi
testlib_finish
