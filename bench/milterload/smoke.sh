#!/bin/bash
# bench/milterload/smoke.sh LOADGEN NULL_MILTER — the ctest smoke test of milter-loadgen
# (label bench-smoke): starts inkan-null-milter on a free loopback port, sends 50 messages over
# 4 connections (reconnecting every 10), and checks the tool's verdict and JSON: every message
# accepted with the X-Inkan-Null header, daemon CPU and RSS read. It never asserts on speed.
set -eu
LOADGEN=${1:?usage: smoke.sh LOADGEN NULL_MILTER}
NULL=${2:?usage: smoke.sh LOADGEN NULL_MILTER}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/milterload-smoke.XXXXXX")
PID=
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$DIR"
}
trap cleanup EXIT
cat > "$DIR/msg.eml" <<'MSG'
From: Alice <alice@example.com>
To: bob@example.org
Subject: milter-loadgen smoke test
Message-ID: <smoke@example.com>

Hello from the smoke test.
MSG

# A free port: try random ones until the daemon binds (a port taken meanwhile just fails the bind).
for attempt in 1 2 3 4 5 6 7 8 9 10; do
    PORT=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    printf 'Syslog no\nSocket inet:%s@127.0.0.1\n' "$PORT" > "$DIR/null.conf"
    "$NULL" -f -x "$DIR/null.conf" > "$DIR/null.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 100); do
        if grep -q "starting (" "$DIR/null.log" || ! kill -0 "$PID" 2>/dev/null; then break; fi
        sleep 0.1
    done
    if kill -0 "$PID" 2>/dev/null && grep -q "starting (" "$DIR/null.log"; then break; fi
    wait "$PID" 2>/dev/null || true
    PID=
done
if [ -z "$PID" ]; then
    echo "smoke: inkan-null-milter did not start"; cat "$DIR/null.log"; exit 1
fi

rc=0
"$LOADGEN" --socket "inet:$PORT@127.0.0.1" --connections 4 --messages 50 --warmup 4 \
    --per-connection 10 --message "$DIR/msg.eml" --macro "{daemon_name}=smoke" \
    --expect-header "X-Inkan-Null:ok" --pid "$PID" --label null-milter --json "$DIR/out.json" \
    --max-seconds 60 || rc=$?
cat "$DIR/out.json"
[ "$rc" -eq 0 ] || { echo "smoke: milter-loadgen exited $rc"; cat "$DIR/null.log"; exit 1; }
for want in '"ok":true' '"completed":50' '"accept":50' '"missing_header":0' '"errors":0' \
            '"cpu_s_per_1000":' '"vmhwm_kib":' '"rss_samples":[['; do
    grep -qF "$want" "$DIR/out.json" || { echo "smoke: JSON lacks $want"; exit 1; }
done

# A header the daemon does not add must be reported as missing (exit 1), not as success.
rc=0
"$LOADGEN" --socket "inet:$PORT@127.0.0.1" --connections 2 --messages 6 --warmup 0 \
    --message "$DIR/msg.eml" --expect-header "DKIM-Signature" --json "$DIR/miss.json" || rc=$?
[ "$rc" -eq 1 ] || { echo "smoke: a missing header gave exit $rc, expected 1"; exit 1; }
grep -qF '"missing_header":6' "$DIR/miss.json" || { echo "smoke: missing headers not counted"; cat "$DIR/miss.json"; exit 1; }
echo "smoke: ok"
