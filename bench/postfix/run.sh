#!/bin/bash
# bench/postfix/run.sh BUILD_DIR [options] — inkan-dkim, the null milter and opendkim side by side
# inside a real Postfix (../shared/bench-postfix), alternating, with the issue's targets checked.
#
#   bench/postfix/run.sh BUILD_DIR [--rounds N] [--msgs M] [--warmup W] [--scenarios sign,verify]
#                        [--sockets tcp,unix] [--daemons inkan-dkim,null,opendkim] [--state DIR] [--smoke]
#
# For every round (--rounds, default 4), scenario (opendkim-sign, opendkim-verify) and socket kind
# (TCP inet:127.0.0.1:12891 and a unix socket), each daemon serves one harness run of --msgs
# messages (default 2000) in turn: inkan-dkim from the harness's generated opendkim-*.conf (the very
# file opendkim reads), inkan-null-milter (accepts everything, adds one header; negotiates like
# inkan-dkim: the floor any milter pays in this Postfix) and /usr/sbin/opendkim. Alternating the
# daemons, and reversing the order every other round, spreads this VM's speed drift (15-25 % within
# minutes) over all of them;
# the summary gives medians over the rounds and the ratios measured in this one invocation:
#   daemon CPU-ms per message (targets: signing <= 0.5, verifying <= 0.15), peak RSS (< 10 MB),
#   msgs/s ÷ the null milter's (>= 0.90) and TCP ÷ unix msgs/s (within 10 %), inkan ÷ opendkim.
# The binaries are copied to the state directory first, so rebuilding during a run changes nothing.
#
# Needs root (the harness runs Postfix, unbound on port 53 and its own network namespace: nothing
# leaves the machine). State: --state DIR below /var (default /var/tmp/inkan-bench-postfix); every harness
# summary is appended to DIR/results.jsonl, and this script's table is written to DIR/summary.md.
# --smoke: one round, sign+verify over a unix socket, inkan-dkim and the null milter, 60 messages
# (the ctest bench_postfix_smoke: the script and the harness still work; no speed is asserted).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
HARNESS=${INKAN_BENCH_POSTFIX:-$REPO/../shared/bench-postfix}

usage() {
    sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2
    exit 2
}
[ $# -ge 1 ] || usage
BUILD=$(cd "$1" && pwd) || usage
shift
ROUNDS=4 MSGS=2000 WARMUP=200 WAIT_IDLE=20
SCENARIOS=sign,verify SOCKETS=tcp,unix DAEMONS=inkan-dkim,null,opendkim
STATE=/var/tmp/inkan-bench-postfix SMOKE=0
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS=${2:?}; shift 2 ;;
        --msgs) MSGS=${2:?}; shift 2 ;;
        --warmup) WARMUP=${2:?}; shift 2 ;;
        --scenarios) SCENARIOS=${2:?}; shift 2 ;;
        --sockets) SOCKETS=${2:?}; shift 2 ;;
        --daemons) DAEMONS=${2:?}; shift 2 ;;
        --state) STATE=${2:?}; shift 2 ;;
        --smoke) SMOKE=1; shift ;;
        -h|--help) usage ;;
        *) echo "run.sh: unknown option $1" >&2; usage ;;
    esac
done
if [ "$SMOKE" = 1 ]; then
    ROUNDS=1 MSGS=60 WARMUP=10 WAIT_IDLE=0 SCENARIOS=sign,verify SOCKETS=unix DAEMONS=inkan-dkim,null
fi

[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root (the harness runs Postfix and unbound in a namespace)" >&2; exit 1; }
[ -x "$HARNESS/run.sh" ] || { echo "run.sh: no harness at $HARNESS (set INKAN_BENCH_POSTFIX)" >&2; exit 1; }
DKIM_BIN=$BUILD/milters/dkim/inkan-dkim
NULL_BIN=$BUILD/milters/common/inkan-null-milter
for b in "$DKIM_BIN" "$NULL_BIN"; do
    [ -x "$b" ] || { echo "run.sh: $b missing (cmake --build $BUILD --target inkan-dkim inkan-null-milter)" >&2; exit 1; }
done
case ",$DAEMONS," in
    *,opendkim,*) [ -x /usr/sbin/opendkim ] || { echo "run.sh: /usr/sbin/opendkim missing (apt-get install opendkim)" >&2; exit 1; } ;;
esac

case "$STATE" in
    /var/*) ;;
    *) echo "run.sh: --state must be below /var (Postfix's maillog_file_prefixes refuses a log elsewhere)" >&2; exit 2 ;;
esac
mkdir -p "$STATE/bin"
# Postfix (user postfix) connects to the unix sockets under $STATE/run: the tree must be searchable.
chmod 755 "$STATE" "$STATE/bin"
cp "$DKIM_BIN" "$STATE/bin/inkan-dkim"
cp "$NULL_BIN" "$STATE/bin/inkan-null-milter"
# The null milter negotiates like inkan-dkim (connect, MAIL and RCPT without replies): the fair floor.
printf 'Syslog no\nSocket inet:12891@127.0.0.1\nNoReplyEnvelope yes\n' > "$STATE/bin/null-tcp.conf"
printf 'Syslog no\nUMask 000\nSocket local:%s/run/null.sock\nNoReplyEnvelope yes\n' "$STATE" > "$STATE/bin/null-unix.conf"
RESULTS=$STATE/results.jsonl
: > "$STATE/this-run.jsonl"

# run_one SCENARIO SOCKET DAEMON ROUND: one harness run; its JSON summary goes to this-run.jsonl.
run_one() {
    local sc=opendkim-$1 sock=$2 daemon=$3 round=$4 milter expect=() unix=()
    local label="$1/$sock/$daemon/$round"
    if [ "$sock" = unix ]; then unix=(--unix); fi
    # inkan-dkim listens where the harness's config says (the scenario's socket); the null milter
    # on the same TCP port, or its own unix socket.
    local tcp=inet:127.0.0.1:12891 dkim_sock=unix:{run}/$sc.sock null_sock=unix:{run}/null.sock
    if [ "$sock" = tcp ]; then dkim_sock=$tcp null_sock=$tcp; fi
    case "$daemon" in
        inkan-dkim) milter="$dkim_sock=$STATE/bin/inkan-dkim -f -x {etc}/$sc.conf" ;;
        null)
            milter="$null_sock=$STATE/bin/inkan-null-milter -f -x $STATE/bin/null-$sock.conf"
            expect=(--expect '^X-Inkan-Null: ok') ;;
        opendkim) milter= ;;  # the harness's own opendkim for the scenario
        *) echo "run.sh: unknown daemon $daemon" >&2; exit 2 ;;
    esac
    local args=("$sc" "${unix[@]}" --runs 1 --msgs "$MSGS" --warmup "$WARMUP" --wait-idle "$WAIT_IDLE"
                --label "$label" "${expect[@]}")
    if [ -n "$milter" ]; then args+=(--milter "$milter"); fi
    local log=$STATE/last-run.log before
    before=0
    if [ -f "$RESULTS" ]; then before=$(wc -l < "$RESULTS"); fi
    if ! BENCH_STATE=$STATE timeout 900 "$HARNESS/run.sh" "${args[@]}" > "$log" 2>&1; then
        echo "run.sh: harness run $label failed; its output:" >&2
        tail -30 "$log" >&2
        exit 1
    fi
    tail -n +"$((before + 1))" "$RESULTS" >> "$STATE/this-run.jsonl"
    echo "  $(tail -1 "$log")" >&2
}

IFS=, read -r -a SC_LIST <<< "$SCENARIOS"
IFS=, read -r -a SOCK_LIST <<< "$SOCKETS"
IFS=, read -r -a D_LIST <<< "$DAEMONS"
echo "== bench/postfix: $ROUNDS round(s) x ${#SC_LIST[@]} scenario(s) x ${#SOCK_LIST[@]} socket(s) x ${#D_LIST[@]} daemon(s), $MSGS messages a run" >&2
# Every combination once per round; even rounds run them in reverse order (A B C, C B A, ...),
# so a drift of the machine's speed during the rounds (as measured here: ~25 % between rounds)
# weighs on the first and the last combination alike.
COMBOS=()
for sc in "${SC_LIST[@]}"; do
    for sock in "${SOCK_LIST[@]}"; do
        for d in "${D_LIST[@]}"; do COMBOS+=("$sc $sock $d"); done
    done
done
for round in $(seq 1 "$ROUNDS"); do
    n=${#COMBOS[@]}
    for i in $(seq 0 $((n - 1))); do
        if [ $((round % 2)) = 0 ]; then i=$((n - 1 - i)); fi
        read -r sc sock d <<< "${COMBOS[$i]}"
        run_one "$sc" "$sock" "$d" "$round"
    done
done
/usr/bin/python3 "$HERE/summarise.py" "$STATE/this-run.jsonl" | tee "$STATE/summary.md"
