#!/bin/bash
# opendkim.conf options that change what inkan-dkim signs: Diagnostics (z=), RequestReports
# (r=y), ReplaceRules + ReplaceHeaders. Runs the built binary in test mode (-t, fixed time -F)
# and, when /usr/sbin/opendkim is installed, asserts that Debian's opendkim 2.11 prints the
# same DKIM-Signature field byte for byte (b= included: RSA PKCS#1 v1.5 is deterministic),
# that both verify what inkan-dkim signed, and that python3-dkim verifies it (after the
# rewrite the rules anticipate). Keys come from TestPublicKeys: no DNS.
#
# usage: sign_options_test.sh /path/to/inkan-dkim [/usr/sbin/opendkim]
set -u
source "$(dirname "$0")/testlib.sh"
testlib_init "$1" "${2:-}"
[ $HAVE_OD = 1 ] || echo "note: $OD missing, the opendkim comparisons are skipped"
cd "$T" || exit 1

P=$(testlib_genkey sel.private)
for d in example.org example.net; do
  testlib_keyline "$d" "$P" >> keys
done
testlib_verify_conf "$T/keys" > verify.conf
printf 'Mode s\nSelector sel\nKeyFile %s/sel.private\nRequireSafeKeys no\n' "$T" > base.conf

# same CONF MSG [LABEL]: inkan-dkim and opendkim print the same signature for MSG.
same() {
  [ $HAVE_OD = 1 ] || return 0
  expect_eq "${3:-$1 $2} = opendkim" "$("$BIN" -x "$1" -F 1700000000 -t "$2" 2>&1)" \
    "$(od_t -x "$1" -F 1700000000 -t "$2")"
}
# signed CONF MSG OUT: MSG with inkan-dkim's signature on top, CRLF.
signed() { { "$BIN" -x "$1" -F 1700000000 -t "$2" | tail -n +2 | crlf; cat "$2"; } > "$3"; }
# verifies MSG D LABEL: inkan-dkim, opendkim and python3-dkim all pass MSG's signature.
verifies() {
  expect_eq "$3: inkan-dkim verifies" "$("$BIN" -x verify.conf -t "$1")" \
    "inkan-dkim: $1: verification (s=sel, d=$2, 2048-bit key) succeeded"
  [ $HAVE_OD = 1 ] && expect_eq "$3: opendkim verifies" "$("$OD" -x verify.conf -t "$1" 2>&1 | tr -d '\r')" \
    "opendkim: $1: verification (s=sel, d=$2, 2048-bit key) succeeded"
  if "$PY" -c 'import dkim' 2>/dev/null; then
    expect_eq "$3: python3-dkim verifies" "$("$PY" - "$1" "$T/keys" <<'EOF'
import sys, dkim
keys = {}
for line in open(sys.argv[2]):
    name, txt = line.split(None, 1)
    keys[name.encode()] = txt.strip().encode()
msg = open(sys.argv[1], 'rb').read()
print(dkim.verify(msg, dnsfunc=lambda n, timeout=5: keys.get(n.rstrip(b'.'), b'')))
EOF
)" "True"
  fi
}

## Messages: plain, folded with tabs and trailing blanks, every byte class z= must escape,
## a space before the colon, "Name:value" without space, a long field (z= continuation lines).
## odd.eml without "Cc :" (which python3-dkim cannot parse) and with "Date: " (both daemons
## sign "Name:value" as "Name: value", anchor-features.md §1.4) is vodd.eml, for verifying.
printf 'From: a@example.org\nTo: b@example.com\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: hello\nMessage-ID: <1@example.org>\n\nbody line\n' | crlf > plain.eml
printf 'From: "A; B" <a@example.org>\r\nTo: b@example.com,\r\n\tc@example.com  \r\nSubject: x=y;z|w\t\xc3\xa9 ~\x7f\r\nCc : d@example.com\r\nDate:Mon, 1 Jan 2024 00:00:00 +0000\r\nReceived: from x by y; Mon, 1 Jan 2024\r\n\r\nbody\r\n' > odd.eml
grep -v '^Cc :' odd.eml | sed 's/^Date:Mon/Date: Mon/' > vodd.eml
{ printf 'From: a@example.org\r\nSubject: '; for i in $(seq 120); do printf 'word%d ' "$i"; done; printf '\r\nTo: b@example.com\r\n\r\nbody\r\n'; } > long.eml

## Diagnostics and RequestReports, alone and together, with the optional tags around them.
printf 'k example.org:sel:%s/sel.private\n' "$T" > kt
printf '*@example.org k:signer@example.org\n' > st
{ cat base.conf; echo "Domain example.org"; echo "Diagnostics yes"; } > diag.conf
{ cat base.conf; echo "Domain example.org"; echo "RequestReports yes"; } > rr.conf
{ cat base.conf; echo "Domain example.org"; echo "Diagnostics yes"; echo "RequestReports yes"; \
  echo "Canonicalization relaxed/relaxed"; } > both.conf
printf 'Mode s\nRequireSafeKeys no\nKeyTable %s/kt\nSigningTable refile:%s/st\nDiagnostics true\nRequestReports 1\nSignatureTTL 3600\nMaximumSignedBytes 3\nOversignHeaders From\nSignHeaders From,To,Subject,Date,Cc\n' "$T" "$T" > full.conf
{ cat base.conf; echo "Domain example.org"; echo "Diagnostics no"; echo "RequestReports no"; } > off.conf

out=$("$BIN" -x diag.conf -F 1700000000 -t plain.eml | tr -d '\r\n\t ')
expect_has "z= copies the signed fields in message order" "$out" \
  "h=From:To:Date:Subject;z=From:=20a@example.org|To:=20b@example.com|Date:=20Mon,=201=20Jan=202024=2000:00:00=20+0000|Subject:=20hello;b="
expect_has "r=y after t=, before bh=" "$("$BIN" -x rr.conf -F 1700000000 -t plain.eml)" "t=1700000000; r=y;"
out=$("$BIN" -x full.conf -F 1700000000 -t odd.eml | tr -d '\r\n\t ')
expect_has "full: tag order t x i r bh l h z b" "$out" \
  "t=1700000000;x=1700003600;i=signer@example.org;r=y;bh="
expect_has "z= escapes ; = SP HTAB CR LF 8-bit DEL, not |" "$out" \
  "Subject:=20x=3Dy=3Bz|w=09=C3=A9=20~=7F|Cc=20:=20d@example.com|Date:=20Mon"
case "$out" in *"z="*"Received"*) fail "z= must not copy unsigned fields" ;; esac
checks=$((checks + 1))
expect_eq "Diagnostics no / RequestReports no = default" "$("$BIN" -x off.conf -F 1700000000 -t odd.eml)" \
  "$({ cat base.conf; echo "Domain example.org"; } > def.conf; "$BIN" -x def.conf -F 1700000000 -t odd.eml)"

for c in diag.conf rr.conf both.conf full.conf off.conf; do
  for m in plain.eml odd.eml long.eml; do same "$c" "$m"; done
done
grep -v '^SignatureTTL' full.conf > fullv.conf  # x= of -F 1700000000 has expired
for c in diag.conf both.conf fullv.conf; do
  signed "$c" vodd.eml "s-${c%.conf}.eml"
  verifies "s-${c%.conf}.eml" example.org "$c"
done
# Test mode prints through a DKIM_MAXHEADER buffer: a signature too long for it (a z= of a
# 3332-byte Subject) is reported as opendkim -t does, one byte less still prints.
for n in 3331 3332 5000; do
  { printf 'From: a@example.org\r\nSubject: '; head -c "$n" /dev/zero | tr '\0' x; printf '\r\n\r\nbody\r\n'; } > big$n.eml
done
expect_has "3331: printed" "$("$BIN" -x diag.conf -F 1700000000 -t big3331.eml 2>&1)" "DKIM-Signature: v=1;"
expect_eq "3332: too long for test mode's buffer" "$("$BIN" -x diag.conf -F 1700000000 -t big3332.eml 2>&1)" \
  "inkan-dkim: big3332.eml: dkim_getsighdr(): Resource unavailable"
for n in 3331 3332 5000; do same diag.conf big$n.eml; done
# Verifying: Diagnostics changes nothing (opendkim reads z= only for DiagnosticDirectory
# reports); a z= signature that fails reads the same with and without it, as in opendkim.
sed 's/^Subject: x=y/Subject: x=Y/' s-diag.eml > zbad.eml
{ cat verify.conf; echo "Diagnostics yes"; } > vdiag.conf
expect_has "the altered z= message fails" "$("$BIN" -x vdiag.conf -t zbad.eml 2>&1)" "failed: signature verification failed"
expect_eq "verify with Diagnostics = without" "$("$BIN" -x vdiag.conf -vv -t zbad.eml 2>&1)" "$("$BIN" -x verify.conf -vv -t zbad.eml 2>&1)"
[ $HAVE_OD = 1 ] && expect_eq "verify with Diagnostics = opendkim" "$("$BIN" -x vdiag.conf -t zbad.eml 2>&1)" \
  "$(od_t -x vdiag.conf -t zbad.eml)"
signed diag.conf long.eml s-long.eml
verifies s-long.eml example.org "long z="

## ReplaceRules / ReplaceHeaders.
# Masquerading: mail signed as the MTA will rewrite it. The rules file: last rule applied
# first (OpenDKIM prepends), '#' comments, blank lines; the blanks before the '#' belong to
# the replacement text, as in opendkim.
printf '# masquerade internal hosts\n@host\\.example\\.org\t@example.org\n\n[Uu]rgent!*\tnote  # trailing comment\n' > rules
printf 'From: Alice <alice@host.example.org>\r\nTo: b@example.com\r\nSubject: Urgent!!! meeting\r\nX-Mailer: host.example.org\r\n\r\nbody\r\n' > masq.eml
{ cat base.conf; echo "Domain example.org"; echo "ReplaceRules $T/rules"; echo "Diagnostics yes"; } > rep.conf
{ cat rep.conf; echo "ReplaceHeaders csl:from"; } > rephdr.conf
{ cat rep.conf; echo "SignHeaders From,To,Subject,X-Mailer"; } > repall.conf
out=$("$BIN" -x rep.conf -F 1700000000 -t masq.eml | tr -d '\r\n\t ')
expect_has "From rewritten before signing (d= from the rewritten sender)" "$out" "d=example.org;"
expect_has "z= shows the rewritten fields" "$out" "z=From:=20Alice=20<alice@example.org>|To:=20b@example.com|Subject:=20note=20=20=20meeting;"
out=$("$BIN" -x rephdr.conf -F 1700000000 -t masq.eml | tr -d '\r\n\t ')
expect_has "ReplaceHeaders csl:from (any case): only From" "$out" "|Subject:=20Urgent!!!=20meeting;"
for c in rep.conf rephdr.conf repall.conf; do same "$c" masq.eml; done
# The signature verifies once the MTA has rewritten the message as the rules say.
signed rep.conf masq.eml s-masq.eml
sed -e 's/alice@host\.example\.org/alice@example.org/' -e 's/Urgent!!!/note  /' s-masq.eml > rewritten.eml
verifies rewritten.eml example.org "ReplaceRules, rewritten"
expect_eq "ReplaceRules: not verifiable before the rewrite" "$("$BIN" -x verify.conf -t s-masq.eml)" \
  "inkan-dkim: s-masq.eml: verification (s=sel d=example.org, 2048-bit key, unknown) failed: signature verification failed"
# Basic regular expressions (regcomp(rule, 0)): ( ) + are literal, \+ is GNU's one-or-more,
# case matters; a CR before LF stays in the replacement.
printf 'From: a@example.org\r\nSubject: (x)+ bb  cc Hello\r\n\r\nbody\r\n' > bre.eml
printf '(x)+\tP\nb \\+c\tQ\nhello\tnever\n' > rules2
{ cat base.conf; echo "Domain example.org"; echo "ReplaceRules $T/rules2"; echo "Diagnostics yes"; } > bre.conf
expect_has "BRE semantics" "$("$BIN" -x bre.conf -F 1700000000 -t bre.eml | tr -d '\r\n\t ')" \
  "Subject:=20P=20bQc=20Hello;"
same bre.conf bre.eml
printf 'H\tX\r\n' > rules3
{ cat base.conf; echo "Domain example.org"; echo "ReplaceRules $T/rules3"; echo "Diagnostics yes"; } > cr.conf
expect_has "CR kept in the replacement" "$("$BIN" -x cr.conf -F 1700000000 -t bre.eml | tr -d '\r\n\t ')" "=20X=0Dello"
same cr.conf bre.eml
# Documented difference: several matches of one rule. inkan-dkim replaces each once, left to
# right; opendkim 2.11 corrupts the value (its scratch buffer aliases its output).
printf 'From: a@example.org\r\nSubject: hello hello\r\n\r\nbody\r\n' > two.eml
printf 'hello\tHI\n' > rules4
{ cat base.conf; echo "Domain example.org"; echo "ReplaceRules $T/rules4"; echo "Diagnostics yes"; } > two.conf
expect_has "every match replaced once" "$("$BIN" -x two.conf -F 1700000000 -t two.eml | tr -d '\r\n\t ')" \
  "Subject:=20HI=20HI;"
[ $HAVE_OD = 1 ] && expect_has "opendkim 2.11's result differs (documented)" \
  "$("$OD" -x two.conf -F 1700000000 -t two.eml 2>&1 | tr -d '\r\n\t ')" "Subject:=20HI;"
# A replacement the rule matches again: OpenDKIM would loop forever; we finish.
printf 'example\\.org\tmail.example.org\n' > rules5
{ cat base.conf; echo "Domain mail.example.org"; echo "ReplaceRules $T/rules5"; echo "Diagnostics yes"; } > loop.conf
expect_has "self-matching replacement terminates" "$(timeout 10 "$BIN" -x loop.conf -F 1700000000 -t plain.eml | tr -d '\r\n\t ')" \
  "d=mail.example.org;"
# 10 000 matches in one field stay bounded (kMaxReplacementsPerField): the field is kept.
{ printf 'From: a@example.org\r\nSubject: '; head -c 10000 /dev/zero | tr '\0' h; printf '\r\n\r\nbody\r\n'; } > many.eml
printf 'h\tX\n' > rules6
{ cat base.conf; echo "Domain example.org"; echo "ReplaceRules $T/rules6"; } > many.conf
expect_has "10000 matches: bounded, field kept, still signed" "$(timeout 10 "$BIN" -x many.conf -F 1700000000 -t many.eml)" \
  "d=example.org; s=sel;"

# Over the milter protocol (milter-client of the same build tree), with and without
# SMFIP_HDR_LEADSPC: the rules see the value as OpenDKIM does, the signature verifies after
# the rewrite.
if [ -x "$MC" ]; then
  { cat rep.conf; printf 'Socket local:%s/m.sock
InternalHosts 127.0.0.1
' "$T"; } > daemon.conf
  "$BIN" -x daemon.conf -f >"$T/daemon.log" 2>&1 &
  dpid=$!
  PIDS+=("$dpid")
  testlib_wait_socket "$T/m.sock"
  for lead in "" --no-leading-space; do
    out=$("$MC" -s "unix:$T/m.sock" $lead masq.eml)
    expect_has "milter $lead: z= shows the rewritten fields" "$(printf '%s' "$out" | tr -d '\r\n\t ')" \
      "z=From:=20Alice=20<alice@example.org>|To:=20b@example.com|Subject:=20note=20=20=20meeting;"
    printf '%s\n' "$out" | sed -n '/^--- message ---$/,$p' | tail -n +2 | crlf |
      sed -e 's/alice@host\.example\.org/alice@example.org/' -e 's/Urgent!!!/note  /' > "mrw$lead.eml"
    expect_eq "milter $lead: rewritten message verifies" "$("$BIN" -x verify.conf -t "mrw$lead.eml")" \
      "inkan-dkim: mrw$lead.eml: verification (s=sel, d=example.org, 2048-bit key) succeeded"
  done
  testlib_stop "$dpid"
else
  echo "note: $MC not built, milter-protocol ReplaceRules cases skipped"
fi

## Bad values: start-up errors naming the option (exit 78, EX_CONFIG).
bad() {  # bad LABEL OPTION-LINE NEEDLE
  { cat base.conf; echo "Domain example.org"; echo "$2"; } > bad.conf
  "$BIN" -x bad.conf -t plain.eml >/dev/null 2>bad.err; rc=$?
  expect_eq "$1: rc" "$rc" 78
  expect_has "$1: message" "$(cat bad.err)" "$3"
}
bad "Diagnostics maybe" "Diagnostics maybe" "Diagnostics"
bad "RequestReports 2" "RequestReports 2" "RequestReports"
bad "ReplaceRules missing file" "ReplaceRules $T/nonexistent" "ReplaceRules"
printf 'no tab here\n' > badrules1
bad "ReplaceRules without TAB" "ReplaceRules $T/badrules1" "failed to load ReplaceRules from $T/badrules1: line 1: no TAB"
printf 'ok\tfine\n[z\tbroken\n' > badrules2
bad "ReplaceRules bad regex" "ReplaceRules $T/badrules2" "line 2: bad regular expression"
printf 'x*\tY\n' > badrules3
bad "ReplaceRules empty match" "ReplaceRules $T/badrules3" "matches the empty string"
{ head -c 1100 /dev/zero | tr '\0' a; printf '\tb\n'; } > badrules4
bad "ReplaceRules overlong line" "ReplaceRules $T/badrules4" "longer than 1023 bytes"
bad "ReplaceHeaders refile:" "ReplaceHeaders refile:$T/rules" "ReplaceHeaders"

testlib_finish
