#!/bin/sh
# bench/spf/run.sh — policy-protocol load: inkan-spf (socket mode, one process, event loop; and
# spawn mode, one process per connection)
# beside policyd-spf (spawned per connection on stdin/stdout, as Postfix spawn(8) runs it).
#
#   bench/spf/run.sh BUILD_DIR [CONNECTIONS [REQUESTS [POLICY_LOAD_OPTIONS...]]]   (root)
#
#   e.g. run.sh build 16 20000 --rate 8000     open loop at 8000 requests/s (policy_load --rate)
#        run.sh build 4 20000 --idle 100       plus 100 idle connections (policy_load --idle)
#   SPF_BIN=/path/inkan-spf   another inkan-spf binary (default BUILD_DIR/milters/spf/inkan-spf)
#   SKIP_POLICYD=1            leave out policyd-spf (slow: ~1/20 of inkan-spf's rate)
#
# inkan-spf CPU per request is exact in both modes: socket mode from /proc/PID/schedstat (ns),
# spawn mode from rusage_wrap (wait4 rusage in us of every spawned process, start-up included).
#
# Runs in private network + mount namespaces: only `lo`, unbound on 127.0.0.1:53 serving the
# test zone, /etc/resolv.conf bind-mounted to it (policyd-spf uses the system resolver), so no
# query leaves the box. Same request stream for both servers: client 192.0.2.5, HELO
# client.example.com (SPF "a -all", pass), MAIL FROM user@example.com (pass), a distinct
# instance per request (no per-message cache hits), warm DNS caches (warm-up requests first).
set -eu
BUILD=${1:?usage: run.sh BUILD_DIR [CONNECTIONS [REQUESTS]]}
CONNS=${2:-16}
REQS=${3:-20000}
[ $# -ge 3 ] && shift 3 || shift $#
BUILD=$(cd "$BUILD" && pwd)
if [ -z "${INKAN_SPF_BENCH_NS:-}" ]; then
    exec env INKAN_SPF_BENCH_NS=1 unshare --net --mount --fork "$0" "$BUILD" "$CONNS" "$REQS" "$@"
fi
SPF_BIN=${SPF_BIN:-$BUILD/milters/spf/inkan-spf}
ip link set lo up
DIR=$(mktemp -d /var/tmp/inkan-spf-bench.XXXXXX)
trap 'kill $UNBOUND_PID $SPF_PID 2>/dev/null || true; rm -rf "$DIR"' EXIT INT TERM
chmod 755 "$DIR"
echo "nameserver 127.0.0.1" > "$DIR/resolv.conf"
mount --bind "$DIR/resolv.conf" /etc/resolv.conf
cat > "$DIR/unbound.conf" <<UNB
server:
    interface: 127.0.0.1
    port: 53
    username: ""
    chroot: ""
    directory: "$DIR"
    pidfile: "$DIR/unbound.pid"
    use-syslog: no
    verbosity: 0
    num-threads: 1
    module-config: "iterator"
    do-not-query-localhost: no
    do-ip6: no
    local-zone: "." static
    local-data: 'example.com. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 include:_spf.example.com -all"'
    local-data: '_spf.example.com. 300 IN TXT "v=spf1 ip4:127.0.0.0/8 -all"'
    local-data: 'client.example.com. 300 IN TXT "v=spf1 a -all"'
    local-data: 'client.example.com. 300 IN A 192.0.2.5'
UNB
unbound -d -c "$DIR/unbound.conf" > "$DIR/unbound.out" 2>&1 &
UNBOUND_PID=$!
SPF_PID=
sleep 1
cat > "$DIR/policyd-spf.conf" <<CONF
debugLevel = 0
TestOnly = 1
HELO_reject = Fail
Mail_From_reject = Fail
PermError_reject = False
TempError_Defer = False
skip_addresses = 127.0.0.0/8,::ffff:127.0.0.0/104,::1
CONF
chmod 644 "$DIR/policyd-spf.conf"
LOAD="$BUILD/bench/spf/policy_load"
EXPECT="action=prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.5"

echo "== inkan-spf, socket mode (unix:), $CONNS connections $*"
"$SPF_BIN" -f -p "unix:$DIR/spf.sock" -c "$DIR/policyd-spf.conf" \
    > "$DIR/inkan-spf.out" 2>&1 &
SPF_PID=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -S "$DIR/spf.sock" ] && break; sleep 0.2; done
T0=$(awk '{print $1}' /proc/$SPF_PID/schedstat)
"$LOAD" --connect "unix:$DIR/spf.sock" -c "$CONNS" -n "$REQS" -w 500 --expect "$EXPECT" "$@"
T1=$(awk '{print $1}' /proc/$SPF_PID/schedstat)
echo "inkan-spf CPU ms/request: $(awk -v a="$T0" -v b="$T1" -v n="$REQS" 'BEGIN{printf "%.4f", (b-a)/1e6/(n+500)}') (one process; warm-up included)"
echo "inkan-spf peak RSS: $(awk '/VmHWM/{print $2, $3}' /proc/$SPF_PID/status)"
kill $SPF_PID; wait $SPF_PID 2>/dev/null || true
SPF_PID=

echo "== inkan-spf, spawn mode (one process per connection), $CONNS connections $*"
"$LOAD" --spawn "$BUILD/bench/spf/rusage_wrap $DIR/spawn-cpu.log $SPF_BIN $DIR/policyd-spf.conf" \
    -c "$CONNS" -n "$REQS" -w 500 --expect "$EXPECT" "$@"
awk -v n="$REQS" '{s += $4 + $5; p++} END {printf "inkan-spf CPU ms/request: %.4f (%d processes, start-up and warm-up included)\n", s/1000/(n+500), p}' "$DIR/spawn-cpu.log"

if [ -n "${SKIP_POLICYD:-}" ]; then
    :
elif [ -x /usr/bin/policyd-spf ]; then
    N2=$((REQS / 4))
    echo "== policyd-spf (postfix-policyd-spf-python), spawned per connection, $CONNS connections"
    "$LOAD" --spawn "/usr/bin/policyd-spf $DIR/policyd-spf.conf" -c "$CONNS" -n "$N2" -w 200 \
        --expect "$EXPECT" "$@"
else
    echo "== policyd-spf not installed (../shared/bench-postfix/setup.sh installs it)"
fi
