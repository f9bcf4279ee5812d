#!/bin/bash
# bench/milterload/run.sh — inkan-dkim beside opendkim on the milter protocol, without Postfix.
#
#   bench/milterload/run.sh BUILD_DIR [--messages M] [--connections N] [--per-connection K]
#                           [--long] [--mode sign|verify|both] [--unix] [--no-netns] [--keep]
#
# Generates an RSA-2048 key and a 4 KiB message, writes one opendkim.conf for signing (Mode s,
# Domain example.com, Selector sel, relaxed/relaxed, InternalHosts 127.0.0.1) and one for
# verifying (Mode v), and runs opendkim, inkan-dkim (the same opendkim.conf, unchanged) and
# inkan-null-milter (the protocol-overhead floor: accepts all, adds one header) in turn under
# the same load: milter-loadgen, M messages over N connections, every reply checked
# (DKIM-Signature added when signing; Authentication-Results with dkim=pass when verifying).
# Prints a side-by-side table with ratios and `openssl speed rsa2048` for the signing target
# (>= 90 % of the RSA-2048 sign rate; RSS flat over 100 000 messages: --long).
#
# Environment, as root (else see "Without root" below): a private network namespace
# (unshare --net) holding only `lo`, so every port is free and no packet leaves the box:
#  * unbound on 127.0.0.1:53 serves sel._domainkey.example.com (the public key) and answers
#    NXDOMAIN for everything else; both daemons get `Nameservers 127.0.0.1` (opendkim's
#    `TestPublicKeys`/`TestDNSData` would serve keys without DNS, but a real DNS server keeps
#    the DNS path in the measurement for both). opendkim (Debian, libunbound) also
#    takes `Nameservers 127.0.0.1@PORT`, as does inkan-dkim; without root that form is used.
#  * the loopback route gets `quickack 1`. Reason: libmilter (opendkim, and inkan's runtime
#    before its native engine) writes the end-of-message modifications and the final reply as
#    separate small TCP segments without TCP_NODELAY; Nagle holds the second until the first is ACKed, and
#    the client's delayed ACK holds that for ~40 ms. Measured with inkan-null-milter on one
#    connection: 21 msgs/s over plain loopback TCP, 2 160 msgs/s with quickack, 4 800 msgs/s
#    over a unix socket. Without the route the benchmark would measure the ACK timer, not the
#    daemons. (Postfix talking TCP to a milter sees the same stall; a unix socket avoids it.)
# --unix uses `Socket local:DIR/milter.sock` instead of inet:PORT@127.0.0.1.
#
# Without root (or with --no-netns): no namespace; ports are chosen free on the host's loopback, unbound listens on
# 127.0.0.1@PORT, and TCP runs suffer the delayed-ACK stall above (use --unix).
#
# Work files are in BUILD_DIR/bench/milterload/run.XXXXXX (mode 700: opendkim refuses key files
# below a world-writable directory such as /tmp), removed at the end unless --keep.
set -euo pipefail

usage() {
    sed -n '3,5p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}
[ $# -ge 1 ] || usage
BUILD=$(cd "$1" && pwd)
shift
MESSAGES=40000
CONNS=8
PER_CONN=100
MODE=both
TRANSPORT=tcp
KEEP=0
NO_NETNS=0
ARGS_ORIG=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
        --messages) MESSAGES=${2:?}; shift 2 ;;
        --connections) CONNS=${2:?}; shift 2 ;;
        --per-connection) PER_CONN=${2:?}; shift 2 ;;
        --long) MESSAGES=100000; shift ;;
        --mode) MODE=${2:?}; shift 2 ;;
        --unix) TRANSPORT=unix; shift ;;
        --keep) KEEP=1; shift ;;
        --no-netns) NO_NETNS=1; shift ;;
        -h|--help) usage ;;
        *) echo "run.sh: unknown option $1" >&2; usage ;;
    esac
done
case "$MODE" in sign|verify|both) ;; *) echo "run.sh: --mode sign|verify|both" >&2; exit 2 ;; esac

# Re-run inside a private network namespace when we can.
if [ -z "${INKAN_MILTERLOAD_NS:-}" ] && [ "$NO_NETNS" -eq 0 ] && [ "$(id -u)" -eq 0 ] && command -v unshare > /dev/null; then
    if unshare --net true 2> /dev/null; then
        exec env INKAN_MILTERLOAD_NS=1 unshare --net --fork "$0" "$BUILD" "${ARGS_ORIG[@]}"
    fi
fi
IN_NS=${INKAN_MILTERLOAD_NS:-}

LOADGEN="$BUILD/bench/milterload/milter-loadgen"
NULL_MILTER="$BUILD/milters/common/inkan-null-milter"
INKAN_DKIM="$BUILD/milters/dkim/inkan-dkim"
OPENDKIM=/usr/sbin/opendkim
for need in "$LOADGEN" "$NULL_MILTER"; do
    [ -x "$need" ] || { echo "run.sh: $need missing: cmake --build $BUILD --target milter-loadgen inkan-null-milter" >&2; exit 2; }
done
[ -x "$OPENDKIM" ] || { echo "run.sh: $OPENDKIM missing (Debian package opendkim)" >&2; exit 2; }
command -v unbound > /dev/null || { echo "run.sh: unbound missing (Debian package unbound)" >&2; exit 2; }
command -v python3 > /dev/null || { echo "run.sh: python3 missing (prints the table)" >&2; exit 2; }
HAVE_INKAN=0
[ -x "$INKAN_DKIM" ] && HAVE_INKAN=1

DIR=$(mktemp -d "$BUILD/bench/milterload/run.XXXXXX")
chmod 700 "$DIR"
DAEMON_PID=
UNBOUND_PID=
cleanup() {
    for p in $DAEMON_PID $UNBOUND_PID; do kill "$p" 2> /dev/null || true; wait "$p" 2> /dev/null || true; done
    if [ "$KEEP" -eq 1 ]; then echo "work files kept in $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {  # a TCP port nobody listens on (only needed outside the namespace)
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

if [ -n "$IN_NS" ]; then
    ip link set lo up
    ip route change local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1 quickack 1
    DNS_PORT=53
    MILTER_PORT=8891
    NAMESERVERS=127.0.0.1
    WHERE="private network namespace, loopback route with quickack"
else
    DNS_PORT=$(free_port)
    MILTER_PORT=$(free_port)
    NAMESERVERS="127.0.0.1@$DNS_PORT"
    WHERE="host loopback (no namespace: TCP runs include delayed-ACK stalls, see --unix)"
fi
if [ "$TRANSPORT" = unix ]; then
    SOCKET="local:$DIR/milter.sock"
    LG_SOCKET="unix:$DIR/milter.sock"
else
    SOCKET="inet:$MILTER_PORT@127.0.0.1"
    LG_SOCKET="$SOCKET"
fi

# --- key, DNS record, message ---
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$DIR/sel.private" 2> /dev/null
chmod 600 "$DIR/sel.private"
PUB=$(openssl pkey -in "$DIR/sel.private" -pubout -outform DER 2> /dev/null | base64 -w0)
# TXT strings are at most 255 octets (RFC 1035 3.3.14): split p= into quoted pieces.
TXT="\"v=DKIM1; k=rsa; \""
rest="p=$PUB"
while [ -n "$rest" ]; do TXT="$TXT \"${rest:0:250}\""; rest=${rest:250}; done

{
    printf 'Received: from client.example.net (client.example.net [192.0.2.25])\n'
    printf '\tby mx.example.com (Postfix) with ESMTPS id 4Xk2p3Qv9Tz1\n'
    printf '\tfor <bob@example.org>; Sun, 22 Nov 2026 12:00:00 +0000 (UTC)\n'
    printf 'From: Alice Example <alice@example.com>\n'
    printf 'To: Bob Example <bob@example.org>\n'
    printf 'Subject: milter-loadgen benchmark message (4 KiB)\n'
    printf 'Date: Sun, 22 Nov 2026 12:00:00 +0000\n'
    printf 'Message-ID: <milterload-1@example.com>\n'
    printf 'MIME-Version: 1.0\n'
    printf 'Content-Type: text/plain; charset=us-ascii\n'
    printf '\n'
} > "$DIR/message.eml"
i=0
while [ $(($(wc -c < "$DIR/message.eml") + 76)) -le 4096 ]; do  # 76-byte body lines up to 4 KiB
    i=$((i + 1))
    printf 'Line %03d: the quick brown fox jumps over the lazy dog, again and  again.  \n' "$i" >> "$DIR/message.eml"
done

cat > "$DIR/unbound.conf" << EOF
server:
    interface: 127.0.0.1
    port: $DNS_PORT
    username: ""
    chroot: ""
    directory: "$DIR"
    pidfile: "$DIR/unbound.pid"
    use-syslog: no
    verbosity: 0
    num-threads: 1
    do-ip6: no
    module-config: "iterator"
    local-zone: "." static
    local-data: 'sel._domainkey.example.com. 3600 IN TXT $TXT'
EOF
unbound -d -c "$DIR/unbound.conf" > "$DIR/unbound.log" 2>&1 &
UNBOUND_PID=$!

common_conf() {
    cat << EOF
Syslog no
Socket $SOCKET
Nameservers $NAMESERVERS
Canonicalization relaxed/relaxed
EOF
}
{
    common_conf
    cat << EOF
Mode s
Domain example.com
Selector sel
KeyFile $DIR/sel.private
InternalHosts 127.0.0.1
EOF
} > "$DIR/sign.conf"
{
    common_conf
    printf 'Mode v\n'
} > "$DIR/verify.conf"
printf 'Syslog no\nSocket %s\n' "$SOCKET" > "$DIR/null.conf"

wait_ready() {  # PID: waits until the milter socket accepts, or the process died
    local pid=$1 n
    for n in $(seq 1 100); do
        kill -0 "$pid" 2> /dev/null || return 1
        if [ "$TRANSPORT" = unix ]; then
            [ -S "$DIR/milter.sock" ] && return 0
        elif (exec 3<> "/dev/tcp/127.0.0.1/$MILTER_PORT") 2> /dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

start_daemon() {  # NAME BINARY CONF
    rm -f "$DIR/milter.sock"
    "$2" -f -x "$3" > "$DIR/$1.log" 2>&1 &
    DAEMON_PID=$!
    if ! wait_ready "$DAEMON_PID"; then
        echo "run.sh: $1 did not start:" >&2
        cat "$DIR/$1.log" >&2
        exit 1
    fi
}

stop_daemon() {
    kill -TERM "$DAEMON_PID" 2> /dev/null || true
    wait "$DAEMON_PID" 2> /dev/null || true
    DAEMON_PID=
}

# run_one LABEL BINARY CONF MESSAGE_FILE EXTRA_LOADGEN_ARGS...
run_one() {
    local label=$1 bin=$2 conf=$3 msg=$4
    shift 4
    start_daemon "$label" "$bin" "$conf"
    local rc=0
    "$LOADGEN" --socket "$LG_SOCKET" --connections "$CONNS" --messages "$MESSAGES" \
        --per-connection "$PER_CONN" --message "$msg" --pid "$DAEMON_PID" --label "$label" \
        --json "$DIR/$label.json" --max-seconds 1800 "$@" 2> "$DIR/$label.human" || rc=$?
    stop_daemon
    sed 's/^/  /' "$DIR/$label.human"
    [ "$rc" -eq 0 ] || echo "  ($label: milter-loadgen exit $rc: not every message was ok)"
}

echo "milter-loadgen: $MESSAGES messages, $CONNS connections (reconnect every $PER_CONN), socket $LG_SOCKET"
echo "environment: $WHERE; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "corpus: $(wc -c < "$DIR/message.eml") byte message, RSA-2048 key, relaxed/relaxed"
[ "$HAVE_INKAN" -eq 1 ] || echo "NOTE: inkan-dkim is missing ($INKAN_DKIM): running opendkim and the inkan-null-milter floor only"
sleep 0.5  # unbound up
DAEMONS=("opendkim:$OPENDKIM")
[ "$HAVE_INKAN" -eq 1 ] && DAEMONS+=("inkan-dkim:$INKAN_DKIM")

# openssl's RSA-2048 sign rate on one core, into $DIR/$1.txt. This VM's speed drifts by
# +-20 % over minutes (other tenants), so the signing target compares inkan-dkim with the
# mean of two measurements taken right before and right after its run.
speed_once() {
    openssl speed -seconds 3 rsa2048 > "$DIR/$1.txt" 2> /dev/null || true
    awk '/^rsa +2048 bits/ {v=$6} END {print v}' "$DIR/$1.txt"
}
SIGN_BEFORE=
SIGN_AFTER=
if [ "$MODE" = sign ] || [ "$MODE" = both ]; then
    echo "== signing (client 127.0.0.1, internal; expect DKIM-Signature)"
    for d in "${DAEMONS[@]}"; do
        [ "${d%%:*}" = inkan-dkim ] && SIGN_BEFORE=$(speed_once speed-before)
        run_one "sign-${d%%:*}" "${d#*:}" "$DIR/sign.conf" "$DIR/message.eml" --expect-header DKIM-Signature
        [ "${d%%:*}" = inkan-dkim ] && SIGN_AFTER=$(speed_once speed-after)
    done
    [ -n "$SIGN_BEFORE" ] && echo "  openssl speed rsa2048 (1 core) right before / after inkan-dkim: $SIGN_BEFORE / $SIGN_AFTER sign/s"
    run_one sign-null "$NULL_MILTER" "$DIR/null.conf" "$DIR/message.eml" --expect-header X-Inkan-Null
fi
if [ "$MODE" = verify ] || [ "$MODE" = both ]; then
    # The verify corpus: the message signed once by opendkim (the reference signer).
    start_daemon presign "$OPENDKIM" "$DIR/sign.conf"
    "$LOADGEN" --socket "$LG_SOCKET" --connections 1 --messages 1 --warmup 0 --message "$DIR/message.eml" \
        --expect-header DKIM-Signature --save-result "$DIR/signed.eml" --json "$DIR/presign.json" \
        2> "$DIR/presign.human" || { cat "$DIR/presign.human" >&2; exit 1; }
    stop_daemon
    echo "== verifying (client 192.0.2.25, external; expect Authentication-Results with dkim=pass)"
    for d in "${DAEMONS[@]}"; do
        run_one "verify-${d%%:*}" "${d#*:}" "$DIR/verify.conf" "$DIR/signed.eml" \
            --client-addr 192.0.2.25 --client-host client.example.net \
            --expect-header "Authentication-Results:dkim=pass"
    done
    run_one verify-null "$NULL_MILTER" "$DIR/null.conf" "$DIR/signed.eml" \
        --client-addr 192.0.2.25 --client-host client.example.net --expect-header X-Inkan-Null
fi

echo "== openssl speed -seconds 3 rsa2048 (1 process, then -multi 2)"
openssl speed -seconds 3 rsa2048 > "$DIR/speed1.txt" 2> /dev/null
openssl speed -seconds 3 -multi 2 rsa2048 > "$DIR/speed2.txt" 2> /dev/null
SIGN1=$(awk '/^rsa +2048 bits/ {v=$6} END {print v}' "$DIR/speed1.txt")
SIGN2=$(awk '/^rsa +2048 bits/ {v=$6} END {print v}' "$DIR/speed2.txt")
echo "  RSA-2048 sign/s: $SIGN1 (1 core), $SIGN2 (2 processes)"

python3 - "$DIR" "$SIGN1" "$SIGN2" "$HAVE_INKAN" "$SIGN_BEFORE" "$SIGN_AFTER" << 'PY'
import json, os, sys
d, sign1, sign2, have_inkan = sys.argv[1], float(sys.argv[2] or 0), float(sys.argv[3] or 0), sys.argv[4] == "1"
sign_before, sign_after = float(sys.argv[5] or 0), float(sys.argv[6] or 0)
def load(name):
    p = os.path.join(d, name + ".json")
    return json.load(open(p)) if os.path.exists(p) else None
def row(label, r):
    dm = r.get("daemon", {})
    cpu = dm.get("cpu_s_per_1000")
    per_cpu = 1000.0 / cpu if cpu else float("nan")
    return "  %-11s %9.1f %9.3f %10.0f %8.1f %7.1f -> %-7.1f %7.1f %6.2f  %s" % (
        label, r["msgs_per_s"], cpu if cpu is not None else float("nan"), per_cpu,
        dm.get("vmhwm_kib", 0) / 1024, dm.get("rss_kib_before", 0) / 1024, dm.get("rss_kib_after", 0) / 1024,
        r["latency_ms"]["p99"], r.get("loadgen_cpu_s", 0) * 1000 / max(1, r["completed"]),
        "ok" if r["ok"] else "NOT OK (%s)" % (r.get("first_bad_reply") or r.get("first_error") or "see log"))
def flat(r):
    s = r.get("daemon", {}).get("rss_samples", [])
    if len(s) < 3: return "n/a"
    n = r["completed"]
    base = next((x for x in s if x[1] >= n * 0.1), s[0])
    end = s[-1]
    growth = end[2] - base[2]
    verdict = "flat" if growth <= max(1024, base[2] * 0.02) else "GROWING"
    if n < 20000: verdict = "too few messages to judge, see --long"
    return "%.1f MiB after %d msgs -> %.1f MiB after %d msgs (%+d KiB: %s)" % (
        base[2] / 1024, base[1], end[2] / 1024, end[1], growth, verdict)
for mode in ("sign", "verify"):
    od, ik, nl = load(mode + "-opendkim"), load(mode + "-inkan-dkim"), load(mode + "-null")
    if not od: continue
    print("\n%s: %d messages x %d connections" % (mode.upper(), od["messages"], od["connections"]))
    print("  %-11s %9s %9s %10s %8s %18s %7s %6s  %s" % ("daemon", "msgs/s", "CPU-s/1k", "msgs/CPU-s", "peakMiB", "RSS MiB start->end", "p99 ms", "lg ms", "checks"))
    for label, r in (("opendkim", od), ("inkan-dkim", ik), ("null-milter", nl)):
        if r: print(row(label, r))
    if not ik:
        print("  inkan-dkim: not built, not measured")
    else:
        oc, ic = od["daemon"]["cpu_s_per_1000"], ik["daemon"]["cpu_s_per_1000"]
        print("  ratios inkan-dkim/opendkim: msgs/s x%.2f, CPU per message x%.2f, peak RSS x%.2f" % (
            ik["msgs_per_s"] / od["msgs_per_s"], ic / oc, ik["daemon"]["vmhwm_kib"] / od["daemon"]["vmhwm_kib"]))
        if nl:
            nc = nl["daemon"]["cpu_s_per_1000"]
            print("  CPU-s/1000 above the null-milter floor: opendkim %.3f, inkan-dkim %.3f" % (oc - nc, ic - nc))
        if mode == "sign" and sign1 > 0:
            print("  target (>= 90%% of openssl RSA-2048 sign rate): inkan-dkim %.0f msgs per CPU-second = %.0f%% of %.0f sign/s (1 core);"
                  % (1000 / ic, 100000 / ic / sign1, sign1))
            if sign_before > 0 and sign_after > 0:
                mean = (sign_before + sign_after) / 2
                print("    beside openssl measured right before/after its run: %.0f%% of %.0f sign/s (mean of %.0f and %.0f)"
                      % (100000 / ic / mean, mean, sign_before, sign_after))
            if sign2 > 0:
                print("    throughput %.0f msgs/s = %.0f%% of %.0f sign/s on 2 cores (the load generator shares those cores)"
                      % (ik["msgs_per_s"], 100 * ik["msgs_per_s"] / sign2, sign2))
    for label, r in (("opendkim", od), ("inkan-dkim", ik), ("null-milter", nl)):
        if r: print("  RSS %-11s %s" % (label, flat(r)))
print("\nRSS is flat when it grows at most max(1 MiB, 2 %) between 10 % of the messages and the end.")
print("columns: CPU-s/1k = daemon utime+stime per 1000 messages; msgs/CPU-s = its inverse; lg ms = load-generator CPU ms per message")
PY
