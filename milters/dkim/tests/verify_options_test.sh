#!/bin/bash
# inkan-dkim verification options ClockDrift, StrictHeaders and WeakSyntaxChecks end to end:
# the same files and configurations go through `inkan-dkim -t` and, when /usr/sbin/opendkim is
# installed, through `opendkim -t`, and the outputs must match (program name aside; the A-R ends with the Debian
# build's "dkim-atps=neutral" on both sides). Where opendkim 2.11 disagrees with
# opendkim.conf(5), inkan-dkim does what the manual says and the script pins both sides:
#   - "ClockDrift 0" means no tolerance (opendkim 2.11 silently uses its default 300 for 0);
#   - a t= older than the drift (t=100) is not "in the future" (libopendkim's uint64_t
#     t - drift wraps around and calls it so).
# Signatures are made with the real clock (opendkim checks t=/x= against time(), not -F):
# the margins are 120 s or more, so a slow run does not change a verdict. No DNS: keys come
# from TestPublicKeys.
#
# usage: verify_options_test.sh /path/to/inkan-dkim [/usr/sbin/opendkim]
set -u
source "$(dirname "$0")/testlib.sh"
testlib_init "$1" "${2:-}"
# ik CONF FILE: inkan-dkim -vv -t stdout (AR, replies, the test-mode line)
ik() { "$BIN" -x "$1" -vv -t "$2" 2>/dev/null; }
# ikv CONF FILE: the milter verdicts (-v: stage results other than SMFIS_CONTINUE)
ikv() { "$BIN" -x "$1" -v -t "$2" 2>&1 >/dev/null | grep ' returned ' | grep -v SMFIS_CONTINUE; }
# The same for opendkim, in inkan-dkim's words.
norm() { tr -d '\r' | sed -e 's/^opendkim:/inkan-dkim:/'; }
od() { "$OD" -x "$1" -vv -t "$2" 2>/dev/null | norm; }
odv() { "$OD" -x "$1" -v -t "$2" 2>&1 >/dev/null | norm | grep ' returned ' | grep -v SMFIS_CONTINUE; }
# same CONF FILE [NAME]: identical -vv stdout and verdicts (needs opendkim)
same() {
  [ $HAVE_OD = 1 ] || return 0
  expect_eq "${3:-$1 $2} = opendkim (-vv)" "$(ik "$1" "$2")" "$(od "$1" "$2")"
  expect_eq "${3:-$1 $2} = opendkim (verdict)" "$(ikv "$1" "$2")" "$(odv "$1" "$2")"
}
# same_reply CONF FILE: identical verdict, SMTP reply and test-mode line; for rejected messages,
# where opendkim still prints the AR it inserted before rejecting and inkan-dkim adds none.
same_reply() {
  [ $HAVE_OD = 1 ] || return 0
  local keep='^### SETREPLY\|^inkan-dkim:'
  expect_eq "$1 $2 = opendkim (reply)" "$(ik "$1" "$2" | grep "$keep")" "$(od "$1" "$2" | grep "$keep")"
  expect_eq "$1 $2 = opendkim (verdict)" "$(ikv "$1" "$2")" "$(odv "$1" "$2")"
}

P=$(testlib_genkey "$T/sel.private")
testlib_keyline example.org "$P" > "$T/keys"
cd "$T" || exit 1
testlib_message > m.eml
printf 'Mode s\nDomain example.org\nSelector sel\nKeyFile %s\nCanonicalization relaxed/relaxed\nRequireSafeKeys no\n' \
  "$T/sel.private" > sign.conf
{ cat sign.conf; echo "SignatureTTL 100"; } > signttl.conf
testlib_verify_conf "$T/keys" > verify.conf
# conf NAME LINES...: verify.conf plus the given lines
conf() { local n=$1; shift; { cat verify.conf; printf '%s\n' "$@"; } > "$n"; }
# signed CONF TIME MSG OUT: MSG signed by inkan-dkim at TIME (-F), written to OUT
signed() { { "$BIN" -x "$1" -F "$2" -t "$3" | tail -n +2 | crlf; cat "$3"; } > "$4"; }
# line FILE: the expected test-mode line for a failure that stops before the key (0-bit key)
early() { echo "inkan-dkim: $1: verification (s=sel d=example.org, 0-bit key, unknown) failed: $2"; }
ok_line() { echo "inkan-dkim: $1: verification (s=sel, d=example.org, 2048-bit key) succeeded"; }

######## ClockDrift ########
now=$(date +%s)
signed sign.conf $((now + 100000)) m.eml fut_far.eml   # t= a day ahead
signed sign.conf $((now + 1000)) m.eml fut_mid.eml     # t= 1000 s ahead
signed sign.conf $((now + 150)) m.eml fut_near.eml     # t= within the default drift
signed signttl.conf $((now - 10000)) m.eml exp_far.eml # x= 9900 s ago
signed signttl.conf $((now - 250)) m.eml exp_near.eml  # x= 150 s ago
signed sign.conf "$now" m.eml good.eml
sed 's/\([[:space:];]\)t=[0-9]*;/\1t=100;/' fut_mid.eml > t100.eml  # t= in 1970 (b= no longer matches)
sed 's/body line/other body/' m.eml > m2.eml
signed sign.conf "$now" m2.eml other.eml
head -n "$(( $(wc -l < other.eml) - $(wc -l < m2.eml) ))" other.eml > badsig.hdr
head -n "$(( $(wc -l < exp_far.eml) - $(wc -l < m.eml) ))" exp_far.eml > expsig.hdr
head -n "$(( $(wc -l < good.eml) - $(wc -l < m.eml) ))" good.eml > goodsig.hdr
cat badsig.hdr expsig.hdr m.eml > bad_then_exp.eml  # body hash mismatch, then expired
cat expsig.hdr badsig.hdr m.eml > exp_then_bad.eml
cat expsig.hdr goodsig.hdr m.eml > exp_then_good.eml
conf drift0.conf "ClockDrift 0"
conf drift1.conf "ClockDrift 1"
conf drift300.conf "ClockDrift 300"
conf drift5000.conf "ClockDrift 5000"
conf drift20000.conf "ClockDrift 20000"
conf driftbig.conf "ClockDrift 1000000"

future="signature timestamp in the future"
expired="signature expired"
for case in "verify.conf:fut_far:$future" "verify.conf:fut_mid:$future" "verify.conf:fut_near:" \
            "verify.conf:exp_far:$expired" "verify.conf:exp_near:" "verify.conf:good:" \
            "drift0.conf:fut_mid:$future" "drift0.conf:fut_near:$future" "drift0.conf:exp_near:$expired" \
            "drift0.conf:good:" "drift1.conf:fut_near:$future" "drift1.conf:exp_near:$expired" \
            "drift300.conf:fut_mid:$future" "drift300.conf:fut_near:" "drift300.conf:exp_far:$expired" \
            "drift5000.conf:fut_far:$future" "drift5000.conf:fut_mid:" "drift5000.conf:exp_far:$expired" \
            "drift20000.conf:exp_far:" "drift20000.conf:fut_mid:" "driftbig.conf:fut_far:" "driftbig.conf:exp_far:"; do
  IFS=: read -r c f why <<<"$case"
  if [ -n "$why" ]; then want=$(early "$f.eml" "$why"); else want=$(ok_line "$f.eml"); fi
  expect_eq "$c $f" "$("$BIN" -x "$c" -t "$f.eml" 2>&1)" "$want"
done
# The Authentication-Results clause as opendkim 2.11 writes it: permerror, no reason, no key
# comment, and header.a=rsa-sha1 (libopendkim never read a=); accepted whatever On-* says.
b=$(sed -n 's/.*[;[:space:]]b=\([A-Za-z0-9+/]\{8\}\).*/\1/p' fut_mid.eml | head -1)
expect_eq "future AR" "$(ik verify.conf fut_mid.eml)" "### INSHEADER: idx=0 hname='Authentication-Results' hvalue='test.host;
	dkim=permerror header.d=example.org header.i=@example.org header.a=rsa-sha1 header.s=sel header.b=$b;
	dkim-atps=neutral'
$(early fut_mid.eml "$future")"
conf reject_all.conf "On-Default reject"
conf reject_bad.conf "On-BadSignature reject"
for f in fut_far exp_far; do
  expect_eq "$f accepted with On-Default reject" "$(ikv reject_all.conf $f.eml)" "inkan-dkim: $f.eml: mlfi_eom() returned SMFIS_ACCEPT"
done
expect_eq "expired first decides: accept" "$(ikv reject_bad.conf exp_then_bad.eml)" \
  "inkan-dkim: exp_then_bad.eml: mlfi_eom() returned SMFIS_ACCEPT"
expect_eq "bad first decides: On-BadSignature" "$(ikv reject_bad.conf bad_then_exp.eml)" \
  "inkan-dkim: bad_then_exp.eml: mlfi_eom() returned SMFIS_REJECT"
expect_eq "a good signature after an expired one passes" "$("$BIN" -x reject_bad.conf -t exp_then_good.eml)" \
  "$(ok_line exp_then_good.eml)"
# Documented departures (opendkim.conf(5) wins): t=100 is old, not future.
expect_eq "t=100 is not in the future" "$("$BIN" -x verify.conf -t t100.eml)" \
  "inkan-dkim: t100.eml: verification (s=sel d=example.org, 2048-bit key, unknown) failed: signature verification failed"

if [ $HAVE_OD = 1 ]; then
  for c in verify.conf drift300.conf drift5000.conf drift20000.conf driftbig.conf drift1.conf reject_all.conf; do
    for f in fut_far fut_mid fut_near exp_far exp_near good exp_then_good; do same $c $f.eml; done
  done
  same reject_bad.conf exp_then_bad.eml
  same_reply reject_bad.conf bad_then_exp.eml
  same_reply reject_all.conf bad_then_exp.eml
  # ClockDrift 0: identical wherever the signature is more than 300 s off...
  for f in fut_far fut_mid exp_far good; do same drift0.conf $f.eml; done
  # ...and where it is not, opendkim 2.11 applies 300 s, inkan-dkim none (the manual's meaning).
  expect_eq "opendkim ClockDrift 0 = 300 (fut_near)" "$(od drift0.conf fut_near.eml)" "$(od drift300.conf fut_near.eml)"
  expect_eq "opendkim ClockDrift 0 = 300 (exp_near)" "$(od drift0.conf exp_near.eml)" "$(od drift300.conf exp_near.eml)"
  expect_eq "inkan-dkim ClockDrift 0 = 1 (fut_near)" "$(ik drift0.conf fut_near.eml)" "$(ik drift1.conf fut_near.eml)"
  expect_eq "opendkim: t=100 wraps to the future" "$("$OD" -x verify.conf -t t100.eml 2>&1 | norm)" "$(early t100.eml "$future")"
fi

######## StrictHeaders ########
H='From: a@example.org\nTo: b@example.com\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: hello\n'
printf 'From: a@example.org\nTo: b@example.com\nSubject: hello\n\nbody line\n' | crlf > nodate.eml
printf "${H}Date: Tue, 2 Jan 2024 00:00:00 +0000\n\nbody line\n" | crlf > twodate.eml
printf "${H}Subject: again\n\nbody line\n" | crlf > twosubj.eml
printf "${H}Sender: x@example.org\nSender: y@example.org\n\nbody line\n" | crlf > twosender.eml
printf "${H}To: c@example.com\n\nbody line\n" | crlf > twoto.eml
printf "${H}Cc: c@example.com\nCC: d@example.com\n\nbody line\n" | crlf > twocc.eml
printf "${H}Message-ID: <1@x>\nMessage-Id: <2@x>\n\nbody line\n" | crlf > twomid.eml
printf "${H}References: <1@x>\nReferences: <2@x>\n\nbody line\n" | crlf > tworefs.eml
printf 'From: a@example.org\nFrom: c@example.org\nTo: b@example.com\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\nbody line\n' | crlf > twofrom.eml
printf "${H}Received: a\nReceived: b\nComments: a\nComments: b\nKeywords: a\nKeywords: b\n\nbody line\n" | crlf > okmulti.eml
conf strict.conf "StrictHeaders yes"
conf strict_off.conf "StrictHeaders no"
conf strict_reject.conf "StrictHeaders yes" "On-Default reject"
conf strict_ignore.conf "StrictHeaders yes" "IgnoreMalformedMail yes"
{ cat sign.conf; echo "StrictHeaders yes"; } > strict_sign.conf
bad_format="### INSHEADER: idx=0 hname='Authentication-Results' hvalue='test.host; dkim=permerror (bad message/signature format)'"
for f in nodate twodate twosubj twosender twoto twocc twomid tworefs twofrom okmulti m; do
  cat goodsig.hdr $f.eml > s_$f.eml
done
for f in nodate twodate twosubj twosender twoto twocc twomid tworefs; do
  for g in $f s_$f; do
    expect_eq "StrictHeaders $g" "$(ik strict.conf $g.eml)" "$bad_format
inkan-dkim: $g.eml: message not signed"
    expect_eq "StrictHeaders $g whatever On-*" "$(ikv strict_reject.conf $g.eml)" "inkan-dkim: $g.eml: mlfi_eom() returned SMFIS_ACCEPT"
    expect_eq "StrictHeaders $g IgnoreMalformedMail" "$(ik strict_ignore.conf $g.eml)" "inkan-dkim: $g.eml: message not signed"
  done
done
expect_eq "StrictHeaders off: signature checked" "$("$BIN" -x strict_off.conf -t s_twosubj.eml)" \
  "inkan-dkim: s_twosubj.eml: verification (s=sel d=example.org, 2048-bit key, unknown) failed: signature verification failed"
expect_eq "StrictHeaders: repeatable fields pass" "$("$BIN" -x strict.conf -t s_m.eml)" "$(ok_line s_m.eml)"
expect_eq "StrictHeaders signing refused" "$("$BIN" -x strict_sign.conf -vv -F 1700000000 -t twodate.eml 2>/dev/null)" \
  "### INSHEADER: idx=0 hname='Authentication-Results' hvalue='DEBUG-j; dkim=permerror (bad message/signature format)'
inkan-dkim: twodate.eml: no signature added: multiple Date: header fields present"
expect_eq "StrictHeaders signing, conforming" "$("$BIN" -x strict_sign.conf -F 1700000000 -t m.eml)" \
  "$("$BIN" -x sign.conf -F 1700000000 -t m.eml)"
if [ $HAVE_OD = 1 ]; then
  for c in strict.conf strict_off.conf strict_reject.conf strict_ignore.conf; do
    for f in nodate twodate twosubj twosender twoto twocc twomid tworefs twofrom okmulti m; do
      same $c $f.eml
      same $c s_$f.eml
    done
  done
  for f in nodate twodate twosubj twosender twocc twomid okmulti; do
    expect_eq "StrictHeaders signing $f = opendkim" "$("$BIN" -x strict_sign.conf -vv -F 1700000000 -t $f.eml 2>/dev/null)" \
      "$("$OD" -x strict_sign.conf -vv -F 1700000000 -t $f.eml 2>/dev/null | norm)"
  done
fi

######## WeakSyntaxChecks ########
conf weak.conf "WeakSyntaxChecks yes"
conf weak_strict.conf "WeakSyntaxChecks yes" "StrictHeaders yes"
{ cat sign.conf; echo "WeakSyntaxChecks yes"; } > weak_sign.conf
# mk NAME SED: goodsig.hdr edited by SED over m.eml (a damaged signature)
mk() { sed "$2" goodsig.hdr > h.tmp; cat h.tmp m.eml > ws_$1.eml; }
mk no_s 's/ s=sel;//'
mk no_v 's/v=1; //'
mk empty_tag 's/v=1; /v=1; ;; /'
mk ctl_char 's/v=1; /v=1; x=\x01; /'
mk version 's/v=1; /v=2; /'
mk algorithm 's/a=rsa-sha256/a=rsa-md5/'
mk dup_d 's/d=example.org;/d=example.org; d=example.org;/'
mk i_outside 's/d=example.org;/d=example.org; i=a@other.example;/'
mk no_bh 's/bh=[^;]*;//'
printf 'From: broken <<<\r\nTo: b@example.com\r\n\r\nbody\r\n' > badfrom.eml
printf 'To: b@example.com\r\nSubject: x\r\n\r\nbody\r\n' > nofrom.eml
cat goodsig.hdr badfrom.eml > ws_badfrom.eml
cat goodsig.hdr nofrom.eml > ws_nofrom.eml
cat goodsig.hdr twofrom.eml > ws_twofrom.eml
from_cases=""
if "$PY" -c 'import dkim' 2>/dev/null; then
  # Signatures that cover a From field which does not parse (dkimpy does not parse From).
  "$PY" - <<'EOF'
import dkim
key = open('sel.private', 'rb').read()
for name, frm in [('angle', b'From: broken <<<'), ('nodomain', b'From: joe'),
                  ('quote', b'From: "unterminated <a@example.org>'), ('at', b'From: a@'), ('empty', b'From: <>')]:
    msg = frm + b'\r\nTo: b@example.com\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nSubject: s\r\n\r\nbody\r\n'
    sig = dkim.sign(msg, b'sel', b'example.org', key, canonicalize=(b'relaxed', b'relaxed'),
                    include_headers=[b'from', b'to', b'subject', b'date'])
    open('from_' + name + '.eml', 'wb').write(sig + msg)
EOF
  from_cases="from_angle from_nodomain from_quote from_at from_empty"
  for f in $from_cases; do
    expect_eq "$f without WeakSyntaxChecks" "$(ik verify.conf $f.eml)" "$bad_format
inkan-dkim: $f.eml: message not signed"
    expect_eq "$f with WeakSyntaxChecks: verified" "$("$BIN" -x weak.conf -t $f.eml)" "$(ok_line $f.eml)"
    expect_eq "$f WeakSyntaxChecks + StrictHeaders" "$(ik weak_strict.conf $f.eml)" "$bad_format
inkan-dkim: $f.eml: message not signed"
  done
else
  echo "note: python3-dkim missing, signed unparsable-From cases skipped"
fi
expect_eq "no From: still bad format" "$(ik weak.conf ws_nofrom.eml)" "$bad_format"
# Damaged signatures (tag-list syntax, missing tags, bad values): identical with it on and off.
ws_same="ws_no_s ws_no_v ws_empty_tag ws_ctl_char ws_version ws_algorithm ws_dup_d ws_i_outside ws_no_bh ws_nofrom ws_twofrom"
for f in $ws_same; do
  expect_eq "WeakSyntaxChecks no effect on $f" "$(ik weak.conf $f.eml)$(ikv weak.conf $f.eml)" \
    "$(ik verify.conf $f.eml)$(ikv verify.conf $f.eml)"
done
expect_eq "ws_badfrom: bad format without WeakSyntaxChecks" "$(ik verify.conf ws_badfrom.eml)" "$bad_format
inkan-dkim: ws_badfrom.eml: message not signed"
expect_eq "ws_badfrom: verified with WeakSyntaxChecks (the From differs from the signed one)" \
  "$("$BIN" -x weak.conf -t ws_badfrom.eml)" \
  "inkan-dkim: ws_badfrom.eml: verification (s=sel d=example.org, 2048-bit key, unknown) failed: signature verification failed"
expect_eq "WeakSyntaxChecks signing unchanged" "$("$BIN" -x weak_sign.conf -vv -F 1700000000 -t badfrom.eml 2>/dev/null)" \
  "$("$BIN" -x sign.conf -vv -F 1700000000 -t badfrom.eml 2>/dev/null)"
if [ $HAVE_OD = 1 ]; then
  # opendkim 2.11 itself: WeakSyntaxChecks changes nothing on the damaged signatures either
  # (their tag-list or tag errors stop it at EOH or in dkim_siglist_setup, handle or not)...
  for f in $ws_same; do
    expect_eq "opendkim: WeakSyntaxChecks no effect on $f" "$(od weak.conf $f.eml)$(odv weak.conf $f.eml)" \
      "$(od verify.conf $f.eml)$(odv verify.conf $f.eml)"
  done
  # ...and on the From cases, on or off (with StrictHeaders too), both programs agree.
  for c in verify.conf weak.conf weak_strict.conf; do
    for f in ws_badfrom ws_nofrom ws_twofrom $from_cases; do same $c $f.eml; done
  done
  for f in badfrom m; do
    expect_eq "WeakSyntaxChecks signing $f = opendkim" "$("$BIN" -x weak_sign.conf -vv -F 1700000000 -t $f.eml 2>/dev/null)" \
      "$("$OD" -x weak_sign.conf -vv -F 1700000000 -t $f.eml 2>/dev/null | norm)"
  done
else
  echo "note: $OD not installed, OpenDKIM comparison skipped"
fi

######## Configuration: bad values are refused, as opendkim ########
for v in "ClockDrift soon" "StrictHeaders maybe" "WeakSyntaxChecks 2"; do
  conf bad.conf "$v"
  "$BIN" -x bad.conf -t m.eml >/dev/null 2>&1; rc=$?
  expect_eq "'$v' refused (EX_CONFIG)" "$rc" 78
done

testlib_finish
