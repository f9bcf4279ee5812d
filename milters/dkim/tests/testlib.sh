# testlib.sh: helpers shared by the inkan-dkim comparison scripts (tests/*_test.sh). Sourced,
# never run: it only defines functions; testlib_init sets the variables below.
#
#   source "$(dirname "$0")/testlib.sh"
#   testlib_init "$1" "${2:-}"      # BIN, OPENDKIM; T, counters, EXIT trap
#   cd "$T" || exit 1
#   ... expect_eq / expect_has / expect_not ...
#   testlib_finish                  # "<N> checks, all passed|FAILURES", exit status
#
# Variables set by testlib_init (globals the scripts read and may extend):
#   BIN       the inkan-dkim under test (absolute path)
#   OD        the opendkim to compare with (default /usr/sbin/opendkim); HAVE_OD=1 when executable
#   PY        python3, Debian's /usr/bin/python3 (where python3-dkim lives) when present
#   MC        milter-client of the same build tree ($MILTER_CLIENT overrides); may not exist
#   T         a fresh temporary directory, removed at exit
#   status    0, or 1 once a check failed; checks: the number of checks made
#   PIDS      background processes (daemons, fake servers) to end at exit: `PIDS+=($!)`
#   TESTLIB_CLEANUP_HOOKS  commands (strings, eval'd) run at exit before PIDS are ended
# Optional, set by a script after testlib_init:
#   TESTLIB_DIFF=1  expect_eq shows a diff (want -> got, 40 lines) and expect_has/expect_not
#                   cut the haystack at 2000 bytes: for long multi-line outputs.
#
# The EXIT trap belongs to the library (testlib_cleanup): a script must not replace it; it
# registers processes in PIDS and anything else in TESTLIB_CLEANUP_HOOKS.

# testlib_init INKAN_DKIM [OPENDKIM]: the variables above, and the EXIT trap.
testlib_init() {
  BIN=$(readlink -f "$1")
  OD=${2:-/usr/sbin/opendkim}
  HAVE_OD=0
  [ -x "$OD" ] && HAVE_OD=1
  PY=python3
  [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
  MC=${MILTER_CLIENT:-$(dirname "$BIN")/../../tests/milterclient/milter-client}
  T=$(mktemp -d)
  status=0
  checks=0
  PIDS=()
  TESTLIB_CLEANUP_HOOKS=()
  TESTLIB_DIFF=0
  TESTLIB_PID=$BASHPID
  trap testlib_cleanup EXIT
}

# testlib_cleanup: the EXIT trap: the hooks, then every process in PIDS, then $T. Only in the
# script's own shell: a background job killed before bash reset its traps (`cmd & kill $!`)
# would otherwise run it too and remove $T under the script.
testlib_cleanup() {
  [ "$BASHPID" = "$TESTLIB_PID" ] || return 0
  local h
  for h in "${TESTLIB_CLEANUP_HOOKS[@]}"; do eval "$h"; done
  testlib_stop_all
  rm -rf "$T"
}

# testlib_stop PID...: ends these background processes (TERM, then wait) and drops them from PIDS.
testlib_stop() {
  local p q keep
  for p in "$@"; do
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    keep=()
    for q in "${PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
    PIDS=("${keep[@]}")
  done
}

# testlib_stop_all: ends every process in PIDS and empties it.
testlib_stop_all() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  PIDS=()
}

# testlib_finish: the summary line, then exit with the status.
testlib_finish() {
  echo "$checks checks, $([ "$status" = 0 ] && echo 'all passed' || echo 'FAILURES')"
  exit "$status"
}

# fail MESSAGE: reports a failed check (the caller counted it).
fail() { echo "FAIL: $*"; status=1; }

# expect_eq NAME GOT WANT
expect_eq() {
  checks=$((checks + 1))
  if [ "$2" != "$3" ]; then
    fail "$1"
    if [ "$TESTLIB_DIFF" = 1 ]; then
      diff <(printf '%s\n' "$3") <(printf '%s\n' "$2") | head -40 | sed 's/^/  /'
    else
      echo "  got:  $(printf '%q' "$2")"
      echo "  want: $(printf '%q' "$3")"
    fi
  fi
}

# testlib_show HAYSTACK: the haystack as printed by expect_has / expect_not.
testlib_show() {
  if [ "$TESTLIB_DIFF" = 1 ]; then printf '%q' "$1" | head -c 2000; else printf '%q' "$1"; fi
}

# expect_has NAME HAYSTACK NEEDLE
expect_has() {
  checks=$((checks + 1))
  case "$2" in
    *"$3"*) ;;
    *) fail "$1"; echo "  in:   $(testlib_show "$2")"; echo "  want: $(printf '%q' "$3")" ;;
  esac
}

# expect_not NAME HAYSTACK NEEDLE
expect_not() {
  checks=$((checks + 1))
  case "$2" in
    *"$3"*) fail "$1"; echo "  in:   $(testlib_show "$2")"; echo "  unwanted: $(printf '%q' "$3")" ;;
  esac
}

# testlib_logshim: builds $T/logshim.so, an LD_PRELOAD library printing every syslog(3) call on
# stderr as "SYSLOG<priority>: text" (how the scripts compare a daemon's log lines with
# opendkim's), and sets SHIM to it; SHIM="" (and a note) when there is no C compiler.
testlib_logshim() {
  SHIM=""
  if command -v cc >/dev/null 2>&1; then
    cat > "$T/logshim.c" <<'EOF'
#include <stdarg.h>
#include <stdio.h>
static void out(int pri, const char* fmt, va_list ap) {
  char buf[8192];
  vsnprintf(buf, sizeof buf, fmt, ap);
  fprintf(stderr, "SYSLOG<%d>: %s\n", pri & 7, buf);
  fflush(stderr);
}
void syslog(int pri, const char* fmt, ...) { va_list ap; va_start(ap, fmt); out(pri, fmt, ap); va_end(ap); }
void vsyslog(int pri, const char* fmt, va_list ap) { out(pri, fmt, ap); }
void __syslog_chk(int pri, int flag, const char* fmt, ...) { (void)flag; va_list ap; va_start(ap, fmt); out(pri, fmt, ap); va_end(ap); }
void __vsyslog_chk(int pri, int flag, const char* fmt, va_list ap) { (void)flag; out(pri, fmt, ap); }
EOF
    cc -shared -fPIC -o "$T/logshim.so" "$T/logshim.c" && SHIM="$T/logshim.so"
  fi
  [ -n "$SHIM" ] || echo "note: no cc; log lines not compared"
}

# crlf: LF or CRLF line ends on stdin -> CRLF.
crlf() { sed 's/\r\{0,1\}$/\r/'; }

# od_t ARGS...: opendkim's output (stdout and stderr) as inkan-dkim prints it: LF line ends,
# "inkan-dkim:" for the program name.
od_t() { "$OD" "$@" 2>&1 | tr -d '\r' | sed 's/^opendkim:/inkan-dkim:/'; }

# testlib_pubkey KEYFILE: the public half of a private key as base64 DER (a p= value).
testlib_pubkey() { openssl rsa -in "$1" -pubout -outform DER 2>/dev/null | base64 -w0; }

# testlib_genkey KEYFILE: a fresh 2048-bit RSA key in KEYFILE (PKCS#1 PEM where openssl knows
# -traditional, mode 600, which RequireSafeKeys accepts); prints its public key (testlib_pubkey).
testlib_genkey() {
  openssl genrsa -traditional -out "$1" 2048 2>/dev/null || openssl genrsa -out "$1" 2048 2>/dev/null
  chmod 600 "$1"
  testlib_pubkey "$1"
}

# testlib_keyline DOMAIN P [SELECTOR]: a TestPublicKeys / TestDNSData line for SELECTOR
# (default sel) at DOMAIN with the public key P.
testlib_keyline() { printf '%s._domainkey.%s v=DKIM1; k=rsa; p=%s\n' "${3:-sel}" "$1" "$2"; }

# testlib_verify_conf KEYS: the plain verifying configuration (TestPublicKeys KEYS, AuthservID test.host).
testlib_verify_conf() { printf 'Mode v\nTestPublicKeys %s\nAuthservID test.host\n' "$1"; }

# testlib_message: the plain test message (From a@example.org, To, Date, Subject hello,
# "body line"), CRLF.
testlib_message() {
  printf 'From: a@example.org\nTo: b@example.com\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: hello\n\nbody line\n' | crlf
}

# free_port: an unused TCP port on 127.0.0.1.
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# testlib_wait_socket PATH: waits (5 s at most) until a daemon has created its unix socket.
testlib_wait_socket() {
  local i
  for i in $(seq 100); do [ -S "$1" ] && break; sleep 0.05; done
}

# testlib_wait_port PORT: waits (10 s at most) until something listens on 127.0.0.1:PORT.
testlib_wait_port() {
  local i
  for i in $(seq 1 100); do
    "$PY" -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$1)))" && break
    sleep 0.1
  done
}
