#!/bin/bash
# inkan-dkim milter options compared with /usr/sbin/opendkim (Debian 2.11):
#   - a message without a usable sender (no From, an empty one, one that does not parse) in
#     signing and verifying modes, with and without -r: "dkim=permerror (bad message/signature
#     format)" (opendkim -t -vv, stdout and stderr compared), and the log line of the daemon
#     ("can't determine message sender; accepting", "can't parse From: header value '...'");
#   - On-BadSignature quarantine: SMFIR_QUARANTINE with opendkim's reason (the program name)
#     through the milter protocol; Quarantine yes (documented, honoured by inkan-dkim only:
#     opendkim 2.11 reads the keyword and ignores it);
#   - SendReports / ReportAddress / ReportBccAddress / MTACommand: a failed r=y signature whose
#     domain publishes _report._domainkey (TestDNSData) makes both daemons run MTACommand
#     (a script saving its arguments and stdin); the reports are compared line by line after
#     masking what must differ (Date, User-Agent, the empty line opendkim omits). opendkim -t
#     sends no report (lab), so the daemons are driven with the milter-protocol client.
# Daemons listen on 127.0.0.1 only; syslog lines are caught with an LD_PRELOAD shim (built
# with cc here) that prints them on stderr. The opendkim half is skipped when it is missing.
#
# usage: milter_options_test.sh /path/to/inkan-dkim /path/to/milter-client [/usr/sbin/opendkim]
set -u
source "$(dirname "$0")/testlib.sh"
testlib_init "$1" "${3:-}"
MC=$(readlink -f "$2")
TESTLIB_DIFF=1  # long multi-line outputs: diffs, haystacks cut at 2000 bytes
chmod 700 "$T"
[ $HAVE_OD = 1 ] || echo "note: $OD not installed; opendkim comparisons skipped"
[ -x "$MC" ] || { echo "FAIL: milter-client not found at $2"; exit 1; }

cd "$T" || exit 1
P=$(testlib_genkey sel.private)
testlib_keyline example.org "$P" > keys
{ testlib_keyline example.org "$P"; printf '_report._domainkey.example.org ra=dkim-failures; rp=100\n'; } > dnsdata

H='To: b@example.com\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: hello\n'
printf "From: a@example.org\n$H\nbody line\n" | crlf > m.eml
printf "$H\nbody line\n" | crlf > nofrom.eml
printf "From: not an address\n$H\nbody line\n" | crlf > badfrom.eml
printf "From:\n$H\nbody line\n" | crlf > emptyfrom.eml
printf 'Authentication-Results: test.host; dkim=pass header.d=example.org\n' | crlf | cat - nofrom.eml > nofrom-ar.eml

# RequireSafeKeys no: the temporary directory is under /tmp, which opendkim refuses otherwise.
printf 'Mode s\nDomain example.org\nSelector sel\nKeyFile %s\nCanonicalization relaxed/relaxed\nAuthservID test.host\nRequireSafeKeys no\n' \
  "$T/sel.private" > sign.conf
testlib_verify_conf "$T/keys" > verify.conf
printf 'RequestReports yes\n' | cat sign.conf - > signr.conf

# A signed copy (r=y) and one with the body changed.
sig=$("$BIN" -x signr.conf -F 1700000000 -t m.eml | tail -n +2)
expect_has "RequestReports writes r=y" "$sig" " r=y;"
{ printf '%s\n' "$sig" | crlf; printf 'Message-ID: <abc@example.org>\r\n'; cat m.eml; } > signed.eml
sed 's/body line/body lime/' signed.eml > bad.eml

## 1. -t: malformed senders, byte for byte against opendkim -t -vv (program name masked).
run_t() {  # run_t PROG CONF FILE [opts...] -> $1.out $1.err
  local who=$1 prog=$2 conf=$3 file=$4
  shift 4
  "$prog" -x "$conf" "$@" -vv -t "$file" > "$who.out" 2> "$who.err"
  echo "rc=$?" >> "$who.err"
  sed -i "s/$(basename "$prog")/PROG/g" "$who.out" "$who.err"
}
for conf in sign.conf verify.conf; do
  for f in nofrom.eml badfrom.eml emptyfrom.eml; do
    for opt in "" "-r"; do
      run_t ik "$BIN" "$conf" "$f" $opt
      expect_has "$conf $f $opt: AR" "$(cat ik.out)" \
        "hname='Authentication-Results' hvalue='test.host; dkim=permerror (bad message/signature format)'"
      expect_has "$conf $f $opt: accepted" "$(cat ik.err)" "mlfi_eom() returned SMFIS_ACCEPT"
      if [ $HAVE_OD = 1 ]; then
        run_t od "$OD" "$conf" "$f" $opt
        expect_eq "$conf $f $opt: stdout as opendkim" "$(cat ik.out)" "$(cat od.out)"
        expect_eq "$conf $f $opt: stderr as opendkim" "$(cat ik.err)" "$(cat od.err)"
      fi
    done
  done
done
# AuthservIDWithJobID and SoftwareHeader do not apply on this path; IgnoreMalformedMail drops the AR.
printf 'AuthservIDWithJobID yes\nSoftwareHeader yes\n' | cat verify.conf - > jobid.conf
printf 'IgnoreMalformedMail yes\n' | cat sign.conf - > ignore.conf
for conf in jobid.conf ignore.conf; do
  run_t ik "$BIN" "$conf" nofrom.eml
  if [ $HAVE_OD = 1 ]; then
    run_t od "$OD" "$conf" nofrom.eml
    expect_eq "$conf: stdout as opendkim" "$(cat ik.out)" "$(cat od.out)"
    expect_eq "$conf: stderr as opendkim" "$(cat ik.err)" "$(cat od.err)"
  fi
done
expect_not "IgnoreMalformedMail: no AR" "$(cat ik.out)" "Authentication-Results"
# Deliberate difference: a forged AR with our authserv-id is removed here too (RFC 8601 §5).
run_t ik "$BIN" verify.conf nofrom-ar.eml
expect_has "forged AR removed" "$(cat ik.out)" "### CHGHEADER: hname='Authentication-Results' idx=1 hvalue='(null)'"

## 2. -t: quarantine.
printf 'On-BadSignature quarantine\n' | cat verify.conf - > onq.conf
printf 'Quarantine yes\n' | cat verify.conf - > q.conf
printf 'Quarantine yes\nOn-BadSignature reject\n' | cat verify.conf - > qr.conf
run_t ik "$BIN" onq.conf bad.eml
expect_has "On-BadSignature quarantine: reason is the program name" "$(cat ik.out)" "### QUARANTINE: reason='PROG'"
if [ $HAVE_OD = 1 ]; then
  run_t od "$OD" onq.conf bad.eml
  expect_eq "On-BadSignature quarantine: stdout as opendkim" "$(cat ik.out)" "$(cat od.out)"
  expect_eq "On-BadSignature quarantine: stderr as opendkim" "$(cat ik.err)" "$(cat od.err)"
  run_t od "$OD" q.conf bad.eml
  expect_not "opendkim 2.11 ignores Quarantine (lab)" "$(cat od.out)" "QUARANTINE"
fi
run_t ik "$BIN" q.conf bad.eml
expect_has "Quarantine yes: failed verification quarantined (man page)" "$(cat ik.out)" "### QUARANTINE: reason='PROG'"
run_t ik "$BIN" q.conf signed.eml
expect_not "Quarantine yes: a pass is not" "$(cat ik.out)" "QUARANTINE"
run_t ik "$BIN" q.conf m.eml
expect_not "Quarantine yes: unsigned is not" "$(cat ik.out)" "QUARANTINE"
run_t ik "$BIN" qr.conf bad.eml
expect_has "Quarantine yes + On-BadSignature reject: rejected" "$(cat ik.err)" "mlfi_eom() returned SMFIS_REJECT"
expect_not "Quarantine yes + On-BadSignature reject: no quarantine" "$(cat ik.out)" "QUARANTINE"
# A rejected bad r=y signature: the reply starts with the domain's rs= text (dkimf_libstatus).
printf 'sel._domainkey.example.org v=DKIM1; k=rsa; p=%s\n_report._domainkey.example.org ra=x; rs=Contact=20the=20postmaster\n' "$P" > dnsdata-rs
printf 'Mode v\nTestDNSData file:%s\nAuthservID test.host\nOn-BadSignature reject\n' "$T/dnsdata-rs" > rs.conf
sed 's/ r=y;//' bad.eml > bad-nor.eml
run_t ik "$BIN" rs.conf bad.eml
expect_has "rs= before the reply" "$(cat ik.out)" "replytxt='Contact the postmaster: bad DKIM signature data'"
run_t ik "$BIN" rs.conf bad-nor.eml
expect_has "no rs= without r=y" "$(cat ik.out)" "replytxt='bad DKIM signature data'"
if [ $HAVE_OD = 1 ]; then
  for f in bad.eml bad-nor.eml; do
    run_t ik "$BIN" rs.conf $f
    run_t od "$OD" rs.conf $f
    # (opendkim also adds its AR before rejecting; inkan-dkim adds none to a rejected message)
    expect_eq "rs.conf $f: reply as opendkim" "$(grep SETREPLY ik.out)" "$(grep SETREPLY od.out)"
    expect_eq "rs.conf $f: stderr as opendkim" "$(cat ik.err)" "$(cat od.err)"
  done
fi
# opendkim -t sends no failure report; neither does inkan-dkim -t.
cat > mta.sh <<EOF
#!/bin/sh
n=\$(date +%s%N)
printf '%s\n' "\$*" > "$T/reports/\$n.args"
cat > "$T/reports/\$n.txt"
EOF
chmod 755 mta.sh
mkdir -p reports
printf 'Mode v\nTestDNSData file:%s\nAuthservID test.host\nSendReports yes\nMTACommand %s\nReportAddress reporter@test.host\n' \
  "$T/dnsdata" "$T/mta.sh" > report.conf
run_t ik "$BIN" report.conf bad.eml
expect_eq "-t sends no report" "$(ls reports)" ""

## 3. Daemons on loopback, driven with the milter-protocol client.
testlib_logshim

# start NAME PROG CONF: starts a daemon (log in NAME.log) and sets $NAME to its socket spec.
# Not run in a subshell: its PID must reach PIDS so that testlib_stop_all and the trap end it.
start() {
  local name=$1 prog=$2 conf=$3 port
  port=$(free_port)
  printf 'Socket inet:%s@127.0.0.1\nSyslog yes\nBackground no\n' "$port" | cat "$conf" - > "$name.daemon.conf"
  LD_PRELOAD=$SHIM "$prog" -f -x "$name.daemon.conf" > "$name.log" 2>&1 &
  PIDS+=($!)
  testlib_wait_port "$port"
  printf -v "$name" '%s' "inet:$port@127.0.0.1"
}
send() {  # send SPEC FILE QUEUEID
  "$MC" -s "$1" -i "$3" -D connect:j=mx.test.host --client-addr 192.0.2.7 --client-host client.example.net \
    -f '<bounce@example.org>' "$2" 2>&1
}
log_lines() { grep '^SYSLOG' "$1" | grep -F "$2" | grep -v ' result=' | sed 's/^SYSLOG<[0-9]>: //'; }
# opendkim's bad-format AR has no leading space even when the MTA keeps it (a deliberate
# difference: inkan-dkim writes "Authentication-Results: value" as for every other AR).
mods() { grep -E '^(eom|modification)' | sed 's/Authentication-Results " /Authentication-Results "/'; }

# 3a. Sign mode, no sender / unparsable From: the AR and opendkim's log lines.
printf 'LogWhy no\n' | cat sign.conf - > signd.conf
start ik "$BIN" signd.conf
[ $HAVE_OD = 1 ] && start od "$OD" signd.conf
for f in nofrom badfrom emptyfrom; do
  out=$(send "$ik" $f.eml Q$f)
  expect_has "daemon $f: AR" "$out" "Authentication-Results \" test.host; dkim=permerror (bad message/signature format)\""
  expect_has "daemon $f: accepted" "$out" "eom: accept"
  if [ $HAVE_OD = 1 ]; then
    oo=$(send "$od" $f.eml Q$f)
    expect_eq "daemon $f: modifications as opendkim" "$(printf '%s\n' "$out" | mods)" "$(printf '%s\n' "$oo" | mods)"
  fi
done
sleep 0.3
if [ -n "$SHIM" ]; then
  expect_eq "log: no sender" "$(log_lines ik.log 'Qnofrom:')" "Qnofrom: can't determine message sender; accepting"
  expect_eq "log: empty From" "$(log_lines ik.log 'Qemptyfrom:')" "Qemptyfrom: can't determine message sender; accepting"
  # The value as the MTA sent it, leading space included (Postfix mode).
  expect_eq "log: unparsable From" "$(log_lines ik.log 'Qbadfrom:')" "Qbadfrom: can't parse From: header value ' not an address'"
  if [ $HAVE_OD = 1 ]; then
    for q in Qnofrom Qemptyfrom Qbadfrom; do
      expect_eq "log $q as opendkim" "$(log_lines ik.log "$q:")" "$(log_lines od.log "$q:")"
    done
  fi
fi
testlib_stop_all

# 3b. On-BadSignature quarantine: SMFIR_QUARANTINE with the program name. opendkim 2.11 asks
# the MTA for the quarantine action only with CaptureUnknownErrors (mlfi_negotiate), so its
# On-* quarantine does nothing without it (lab); inkan-dkim always asks.
printf 'CaptureUnknownErrors yes\n' | cat onq.conf - > onqc.conf
start ik "$BIN" onq.conf
[ $HAVE_OD = 1 ] && start od "$OD" onqc.conf
out=$(send "$ik" bad.eml QQ1)
expect_has "SMFIR_QUARANTINE from inkan-dkim" "$out" "modification: quarantine inkan-dkim"
expect_has "quarantine is an accept" "$out" "eom: accept"
if [ $HAVE_OD = 1 ]; then
  oo=$(send "$od" bad.eml QQ1)
  expect_has "SMFIR_QUARANTINE from opendkim" "$oo" "modification: quarantine opendkim"
  expect_eq "quarantine: same steps (program name masked)" \
    "$(printf '%s\n' "$out" | grep -E '^(eom|modification: quarantine)' | sed 's/inkan-dkim/PROG/')" \
    "$(printf '%s\n' "$oo" | grep -E '^(eom|modification: quarantine)' | sed 's/opendkim/PROG/')"
fi
testlib_stop_all
start ik "$BIN" q.conf
expect_has "Quarantine yes: SMFIR_QUARANTINE" "$(send "$ik" bad.eml QQ2)" "modification: quarantine inkan-dkim"
expect_not "Quarantine yes: none for a pass" "$(send "$ik" signed.eml QQ3)" "quarantine"
testlib_stop_all

# 3c. SendReports: MTACommand gets the report.
printf 'ReportBccAddress audit@test.host\n' | cat report.conf - > reportd.conf
rm -f reports/*
start ik "$BIN" reportd.conf
out=$(send "$ik" bad.eml QR1)
expect_has "report: message accepted first" "$out" "eom: accept"
for _ in $(seq 1 50); do [ -n "$(ls reports/*.txt 2>/dev/null)" ] && break; sleep 0.1; done
sleep 0.3
expect_eq "report: one report" "$(ls reports/*.txt 2>/dev/null | wc -l)" "1"
ik_args=$(cat reports/*.args 2>/dev/null)
ik_rep=$(cat reports/*.txt 2>/dev/null)
expect_eq "report: MTACommand -t -f ReportAddress" "$ik_args" "-t -freporter@test.host"
expect_has "report: To ra@d" "$ik_rep" "To: dkim-failures@example.org"
expect_has "report: Bcc" "$ik_rep" "Bcc: audit@test.host"
expect_has "report: MIME header ends before the first part" "$ik_rep" \
  "boundary=\"dkimreport/mx.test.host/QR1\"

--dkimreport/mx.test.host/QR1"
[ -n "$SHIM" ] && expect_eq "report: logged" "$(log_lines ik.log 'QR1: DKIM failure report')" \
  "QR1: DKIM failure report sent to dkim-failures@example.org"
# Passing, unsigned, and r= absent: no report.
rm -f reports/*
send "$ik" signed.eml QR2 > /dev/null
send "$ik" m.eml QR3 > /dev/null
send "$ik" bad-nor.eml QR4 > /dev/null
sleep 0.5
expect_eq "no report without a failed r=y signature" "$(ls reports)" ""
testlib_stop_all

# A body longer than kept (64 KiB canonical): reported without DKIM-Canonicalized-Body.
{ printf "From: a@example.org\n$H\n"; for i in $(seq 1 2000); do echo "line $i of a long body, long enough to pass the limit"; done; } | crlf > big.eml
bigsig=$("$BIN" -x signr.conf -F 1700000000 -t big.eml | tail -n +2)
{ printf '%s\n' "$bigsig" | crlf; sed 's/line 7 of/line seven of/' big.eml; } > bigbad.eml
rm -f reports/*
start ik "$BIN" reportd.conf
send "$ik" bigbad.eml QB1 > /dev/null
for _ in $(seq 1 50); do [ -n "$(ls reports/*.txt 2>/dev/null)" ] && break; sleep 0.1; done
sleep 0.3
big_rep=$(cat reports/*.txt 2>/dev/null)
expect_has "big body: reported" "$big_rep" "DKIM-Canonicalized-Header: "
expect_not "big body: canonical body left out" "$big_rep" "DKIM-Canonicalized-Body"
testlib_stop_all

# A slow MTACommand and a burst of failures: at most 8 reports at once, the rest dropped and
# logged; every message is answered at once all the same.
printf '#!/bin/sh\ncat > /dev/null\nsleep 3\nprintf x >> "%s/slow.count"\n' "$T" > slow.sh
chmod 755 slow.sh
sed "s|^MTACommand .*|MTACommand $T/slow.sh|" report.conf > slow.conf
start ik "$BIN" slow.conf
t0=$(date +%s)
burst=()
for i in $(seq 1 12); do send "$ik" bad.eml QS$i > /dev/null & burst+=($!); done
for j in "${burst[@]}"; do wait "$j"; done
t1=$(date +%s)
expect_eq "burst: answered without waiting for MTACommand" "$([ $((t1 - t0)) -lt 3 ] && echo fast || echo slow)" "fast"
sleep 4
expect_eq "burst: at most 8 reports in flight" "$(wc -c < slow.count 2>/dev/null)" "8"
[ -n "$SHIM" ] && expect_eq "burst: the rest dropped and logged" \
  "$(grep "^SYSLOG" ik.log | grep -c "failure report dropped: too many reports in flight")" "4"
testlib_stop_all

# A failing MTACommand, an unreachable one and rr= not asking for this failure: the message is
# still accepted, the failure logged.
printf 'SendReports yes\nMTACommand /bin/false\n' | cat verify.conf - | sed "s|^TestPublicKeys .*|TestDNSData file:$T/dnsdata|" > false.conf
start ik "$BIN" false.conf
expect_has "MTACommand failing: accepted" "$(send "$ik" bad.eml QF1)" "eom: accept"
sleep 0.5
[ -n "$SHIM" ] && expect_has "MTACommand failing: logged" "$(log_lines ik.log 'QF1:')" \
  "QF1: failure report to dkim-failures@example.org not sent: MTACommand returned status"
testlib_stop_all
sed 's/rp=100/rr=x/' dnsdata > dnsdata-x
sed "s|file:$T/dnsdata|file:$T/dnsdata-x|" report.conf > reportx.conf
rm -f reports/*
start ik "$BIN" reportx.conf
send "$ik" bad.eml QX1 > /dev/null
sleep 0.5
expect_eq "rr=x: no report for a body hash failure (RFC 6651 §3.3)" "$(ls reports)" ""
testlib_stop_all

# Against opendkim: the same report, masking Date:, Arrival-Date:, User-Agent: and the empty
# line opendkim leaves out after the top header block.
if [ $HAVE_OD = 1 ]; then
  rm -f reports/*
  start od "$OD" reportd.conf
  send "$od" bad.eml QR1 > /dev/null
  for _ in $(seq 1 50); do [ -n "$(ls reports/*.txt 2>/dev/null)" ] && break; sleep 0.1; done
  sleep 0.3
  od_args=$(cat reports/*.args 2>/dev/null)
  od_rep=$(cat reports/*.txt 2>/dev/null)
  testlib_stop_all
  expect_eq "report: MTACommand arguments as opendkim" "$ik_args" "$od_args"
  mask() {
    sed -E 's/^(Date|Arrival-Date): .*/\1: X/; s/^User-Agent: .*/User-Agent: X/' |
      python3 -c 'import sys; t=sys.stdin.read(); print(t.replace("\"\n\n--dkimreport", "\"\n--dkimreport", 1), end="")'
  }
  expect_eq "report: as opendkim's (masked)" "$(printf '%s\n' "$ik_rep" | mask)" "$(printf '%s\n' "$od_rep" | mask)"
fi

testlib_finish
