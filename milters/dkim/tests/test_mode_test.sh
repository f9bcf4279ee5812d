#!/bin/bash
# inkan-dkim test modes end to end: runs the built binary with -t (verify and sign RFC 5322
# files through the milter logic), -F, -v/-vv, -r, -L, MustBeSigned, StrictTestMode and -Q,
# and asserts stdout, stderr and exit codes. When /usr/sbin/opendkim is installed, the same
# files and configuration go through `opendkim -t` too and the outputs must match (program
# name aside; both A-R end with the Debian build's "dkim-atps=neutral"), which also checks
# that OpenDKIM verifies what inkan-dkim signs. Keys come from TestPublicKeys: no DNS.
#
# usage: test_mode_test.sh /path/to/inkan-dkim [/usr/sbin/opendkim]
set -u
source "$(dirname "$0")/testlib.sh"
testlib_init "$1" "${2:-}"

P=$(testlib_genkey "$T/sel.private")
{ echo '# test keys'; testlib_keyline example.org "$P"; } > "$T/keys"

testlib_message > "$T/m.eml"
printf 'Mode s\nDomain example.org\nSelector sel\nKeyFile %s\nCanonicalization relaxed/relaxed\n' "$T/sel.private" > "$T/sign.conf"
testlib_verify_conf "$T/keys" > "$T/verify.conf"
cd "$T" || exit 1

## Signing with a fixed time (-F): deterministic, t= as given.
out=$("$BIN" -x sign.conf -F 1700000000 -t m.eml); rc=$?
expect_eq "sign rc" "$rc" 0
expect_eq "sign first line" "$(printf '%s\n' "$out" | head -1)" "inkan-dkim: m.eml:"
expect_has "sign header" "$out" "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=sel;"
expect_has "sign t=" "$out" "t=1700000000;"
expect_eq "sign deterministic" "$("$BIN" -x sign.conf -F 1700000000 -t m.eml)" "$out"
{ printf '%s\n' "$out" | tail -n +2 | crlf; cat m.eml; } > signed.eml
sed 's/body line/body lime/' signed.eml > bad.eml
{ printf '%s\n' "$out" | tail -n +2 | crlf; printf 'Message-ID: <1@example.org>\r\n'; cat m.eml; } > mid.eml
printf 'From: a@example.org\r\nFrom: b@example.org\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nbody\r\n' > two.eml

## Verifying.
expect_eq "verify pass" "$("$BIN" -x verify.conf -t signed.eml)" \
  "inkan-dkim: signed.eml: verification (s=sel, d=example.org, 2048-bit key) succeeded"
expect_eq "verify fail" "$("$BIN" -x verify.conf -t bad.eml)" \
  "inkan-dkim: bad.eml: verification (s=sel d=example.org, 2048-bit key, unknown) failed: signature verification failed"
expect_eq "unsigned" "$("$BIN" -x verify.conf -t m.eml)" "inkan-dkim: m.eml: message not signed"
expect_eq "several files" "$("$BIN" -x verify.conf -t signed.eml,,m.eml)" \
  "inkan-dkim: signed.eml: verification (s=sel, d=example.org, 2048-bit key) succeeded
inkan-dkim: m.eml: message not signed"
expect_eq "stdin" "$("$BIN" -x verify.conf -t - < signed.eml)" \
  "inkan-dkim: (stdin): verification (s=sel, d=example.org, 2048-bit key) succeeded"
vv=$("$BIN" -x verify.conf -vv -t signed.eml 2>"$T/err"); rc=$?
expect_eq "-vv rc" "$rc" 0
expect_has "-vv AR" "$vv" "### INSHEADER: idx=0 hname='Authentication-Results' hvalue='test.host;
	dkim=pass (2048-bit key) header.d=example.org header.i=@example.org header.a=rsa-sha256 header.s=sel header.b="
expect_has "-vv stderr" "$(cat "$T/err")" "inkan-dkim: signed.eml: line 1: mlfi_header() returned SMFIS_CONTINUE"
expect_has "-vv eom" "$(cat "$T/err")" "inkan-dkim: signed.eml: mlfi_eom() returned SMFIS_ACCEPT"
expect_eq "-v only non-continue" "$("$BIN" -x verify.conf -v -t signed.eml 2>&1 >/dev/null)" \
  "inkan-dkim: signed.eml: mlfi_eom() returned SMFIS_ACCEPT"

## Errors and their exit codes (sysexits, as opendkim's test.c).
"$BIN" -x verify.conf -t nonexistent.eml >/dev/null 2>"$T/err"; rc=$?
expect_eq "missing file rc" "$rc" 69
expect_eq "missing file msg" "$(cat "$T/err")" "inkan-dkim: nonexistent.eml: fopen(): No such file or directory"
printf 'no colon here\r\n\r\nbody\r\n' > nocolon.eml
"$BIN" -x verify.conf -t nocolon.eml >/dev/null 2>"$T/err"; rc=$?
expect_eq "malformed rc" "$rc" 65
expect_eq "malformed msg" "$(cat "$T/err")" "inkan-dkim: nocolon.eml: line 2: header malformed"
printf 'StrictTestMode yes\n' >> strict.conf; cat verify.conf >> strict.conf
printf 'From: a@example.org\n\nbody\n' > lf.eml
"$BIN" -x strict.conf -t lf.eml >/dev/null 2>"$T/err"; rc=$?
expect_eq "strict rc" "$rc" 65
expect_eq "strict msg" "$(cat "$T/err")" "inkan-dkim: lf.eml: line 1: not CRLF-terminated"
expect_eq "not strict: LF accepted" "$("$BIN" -x verify.conf -t lf.eml)" "inkan-dkim: lf.eml: message not signed"
"$BIN" -x verify.conf -F soon -t m.eml >/dev/null 2>&1; rc=$?
expect_eq "bad -F rc" "$rc" 78

## Hostile input stays bounded.
{ for i in $(seq 10000); do printf 'X-H%d: v\r\n' "$i"; done; printf 'From: a@example.org\r\n\r\nbody\r\n'; } > many.eml
expect_eq "10000 fields: MaximumHeaders -> On-Security tempfail" "$("$BIN" -x verify.conf -v -t many.eml 2>&1 >/dev/null)" \
  "inkan-dkim: many.eml: mlfi_eoh() returned SMFIS_TEMPFAIL"
{ printf 'From: a@example.org\r\nSubject: x\r\n '; head -c 70000 /dev/zero | tr '\0' a; printf '\r\n\r\nbody\r\n'; } > longfold.eml
"$BIN" -x verify.conf -t longfold.eml >/dev/null 2>"$T/err"; rc=$?
expect_eq "overlong field rc" "$rc" 65
expect_eq "overlong field msg (truncated)" "$(cat "$T/err")" "inkan-dkim: longfold.eml: line 3: header 'Subject: x...' too large"
{ cat signed.eml; head -c 2000000 /dev/zero | tr '\0' b; printf '\0\r\n'; } > bigbody.eml
expect_eq "2 MB body with NUL" "$("$BIN" -x verify.conf -t bigbody.eml)" \
  "inkan-dkim: bigbody.eml: verification (s=sel d=example.org, 2048-bit key, unknown) failed: signature verification failed"

## RequiredHeaders (-r): 550 5.0.0 at end of headers, exit 70.
vv=$("$BIN" -x verify.conf -r -vv -t two.eml 2>/dev/null); rc=$?
expect_eq "-r rc" "$rc" 70
expect_eq "-r reply" "$vv" "### SETREPLY: rcode='550' xcode='5.0.0' replytxt='message does not have exactly one From field'"
expect_eq "-r -v" "$("$BIN" -x verify.conf -r -v -t two.eml 2>&1 >/dev/null)" "inkan-dkim: two.eml: mlfi_eoh() returned SMFIS_REJECT"
{ cat verify.conf; echo "RequiredHeaders yes"; } > reqhdr.conf
"$BIN" -x reqhdr.conf -t two.eml >/dev/null 2>&1; rc=$?
expect_eq "RequiredHeaders rc" "$rc" 70
expect_eq "RequiredHeaders conforming" "$("$BIN" -x reqhdr.conf -t signed.eml)" \
  "inkan-dkim: signed.eml: verification (s=sel, d=example.org, 2048-bit key) succeeded"

## MustBeSigned.
{ cat verify.conf; echo "MustBeSigned Message-ID,Reply-To"; } > mbs.conf
expect_eq "MustBeSigned" "$("$BIN" -x mbs.conf -t mid.eml)" \
  "inkan-dkim: mid.eml: verification (s=sel d=example.org, 2048-bit key, unknown) failed: unprotected header field"
expect_eq "MustBeSigned absent" "$("$BIN" -x mbs.conf -t signed.eml)" \
  "inkan-dkim: signed.eml: verification (s=sel, d=example.org, 2048-bit key) succeeded"
{ cat mbs.conf; echo "On-BadSignature reject"; } > mbsreject.conf
vv=$("$BIN" -x mbsreject.conf -vv -t mid.eml 2>/dev/null)
expect_has "MustBeSigned reject" "$vv" "### SETREPLY: rcode='550' xcode='5.7.0' replytxt='bad DKIM signature data'"

## No From / unparsable From: dkim=permerror (bad message/signature format), accepted
## whatever On-* says; IgnoreMalformedMail drops the header.
printf 'To: b@example.com\r\nSubject: x\r\n\r\nbody\r\n' > nofrom.eml
printf 'From: broken <<<\r\nTo: b@example.com\r\n\r\nbody\r\n' > badfrom.eml
{ cat verify.conf; echo "On-Default reject"; } > reject.conf
{ cat verify.conf; echo "IgnoreMalformedMail yes"; } > ignore.conf
for c in verify.conf reject.conf; do
  vv=$("$BIN" -x $c -vv -t nofrom.eml 2>"$T/err")
  expect_eq "no From AR ($c)" "$vv" "### INSHEADER: idx=0 hname='Authentication-Results' hvalue='test.host; dkim=permerror (bad message/signature format)'"
  expect_has "no From accepted ($c)" "$(cat "$T/err")" "inkan-dkim: nofrom.eml: mlfi_eom() returned SMFIS_ACCEPT"
done
expect_eq "bad From" "$("$BIN" -x verify.conf -vv -t badfrom.eml 2>/dev/null)" \
  "### INSHEADER: idx=0 hname='Authentication-Results' hvalue='test.host; dkim=permerror (bad message/signature format)'
inkan-dkim: badfrom.eml: message not signed"
expect_eq "IgnoreMalformedMail" "$("$BIN" -x ignore.conf -vv -t nofrom.eml 2>/dev/null)" ""

## Forged A-R removal (RFC 8601 §5) on hostile values: a quoted-pair '\' as the last byte of an
## unterminated comment made the authserv-id parser step past the end (found by dkim_config_fuzz;
## the message failed with exit 78 here and got On-InternalError in the daemon). Only the field
## carrying our id is removed (CHGHEADER idx=2); an escaped ')' leaves the comment open.
printf 'Authentication-Results: (x\\\r\nAuthentication-Results: test.host; dkim=pass\r\nAuthentication-Results: (c\\) test.host; dkim=pass\r\n' > arbs.eml
cat m.eml >> arbs.eml
vv=$("$BIN" -x verify.conf -vv -t arbs.eml 2>/dev/null); rc=$?
expect_eq "A-R trailing backslash rc" "$rc" 0
expect_eq "A-R trailing backslash" "$vv" "### CHGHEADER: hname='Authentication-Results' idx=2 hvalue='(null)'
inkan-dkim: arbs.eml: message not signed"

## Minimum (-L) on an l= signature (made with dkimpy) followed by appended text:
## l=11 ("body line\r\n") of a 26-byte canonical body.
if "$PY" -c 'import dkim' 2>/dev/null; then
  "$PY" - <<'EOF'
import dkim
msg = open('m.eml', 'rb').read()
key = open('sel.private', 'rb').read()
sig = dkim.sign(msg, b'sel', b'example.org', key, canonicalize=(b'relaxed', b'relaxed'),
                include_headers=[b'from', b'to', b'subject', b'date'], length=True)
open('l.eml', 'wb').write(sig + msg + b'appended line\r\n')
EOF
  pass="inkan-dkim: l.eml: verification (s=sel, d=example.org, 2048-bit key) succeeded"
  partial="inkan-dkim: l.eml: verification (s=sel d=example.org, 2048-bit key, unknown) failed: partial verification"
  expect_eq "no Minimum" "$("$BIN" -x verify.conf -t l.eml)" "$pass"
  for case in "11:$pass" "12:$partial" "42%:$pass" "43%:$partial" "15+:$pass" "14+:$partial" "0:$pass"; do
    expect_eq "-L ${case%%:*}" "$("$BIN" -x verify.conf -L "${case%%:*}" -t l.eml)" "${case#*:}"
  done
  { cat verify.conf; echo "Minimum 43%"; } > min.conf
  expect_eq "Minimum keyword" "$("$BIN" -x min.conf -t l.eml)" "$partial"
  vv=$("$BIN" -x min.conf -vv -t l.eml 2>/dev/null)
  expect_has "Minimum AR" "$vv" "dkim=permerror reason=\"partial verification\" (2048-bit key) header.d=example.org"
  "$BIN" -x verify.conf -L 101% -t l.eml >/dev/null 2>"$T/err"; rc=$?
  expect_eq "-L bad rc" "$rc" 78
  expect_has "-L bad msg" "$(cat "$T/err")" "illegal value for \"Minimum\""
else
  echo "note: python3-dkim missing, Minimum cases skipped"
fi

## -Q dataset query.
printf 'k1 example.com:sel:/keys/a.private\nk2 foo\n' > kt
expect_eq "-Q found" "$(printf 'file:%s/kt\nk1/3\n' "$T" | "$BIN" -Q)" "'example.com'
'sel'
'/keys/a.private'"
expect_eq "-Q not found" "$(printf 'file:%s/kt\nzz/1\n' "$T" | "$BIN" -Q)" "inkan-dkim: dkimf_db_get(): record not found"
printf 'file:%s/kt\nk1\n' "$T" | "$BIN" -Q >/dev/null 2>"$T/err"; rc=$?
expect_eq "-Q invalid rc" "$rc" 64
expect_eq "-Q invalid msg" "$(cat "$T/err")" "inkan-dkim: invalid query 'k1'"
printf 'db:/x.db\nk1/1\n' | "$BIN" -Q >/dev/null 2>"$T/err"; rc=$?
expect_eq "-Q db: rc" "$rc" 70
expect_has "-Q db: msg" "$(cat "$T/err")" "inkan-dkim: db:/x.db: dkimf_db_open(): "

## Started as "opendkim" (a symlink in its place, anchor-features §8): opendkim's name in -t
## lines, errors and -V, and as syslog ident, so log rules written for opendkim keep matching.
ln -s "$BIN" "$T/opendkim"
expect_has "as opendkim: -t line" "$("$T/opendkim" -x verify.conf -t bad.eml 2>&1)" "opendkim: bad.eml: verification"
expect_has "as opendkim: -V says what runs" "$("$T/opendkim" -V | head -n 1)" "opendkim $("$BIN" -V | head -n 1 | cut -d' ' -f2) (inkan-dkim)"
printf 'Syslog no\nBogusKeyword yes\n' > bogus.conf
# opendkim's line, and the keyword named at its end.
expect_eq "as opendkim: unknown keyword" "$("$T/opendkim" -x bogus.conf -n 2>&1)" \
  "opendkim: bogus.conf: configuration error at line 2: unrecognized parameter (BogusKeyword)"
if [ -x "$OD" ]; then
  for f in signed.eml bad.eml m.eml; do
    expect_eq "as opendkim: -t $f = opendkim, name included" "$("$T/opendkim" -x verify.conf -t $f 2>&1)" \
      "$("$OD" -x verify.conf -t $f 2>&1 | tr -d '\r')"
  done
  expect_eq "as opendkim: unknown keyword = opendkim" "$("$T/opendkim" -x bogus.conf -n 2>&1 | sed 's/ (BogusKeyword)$//')" \
    "$("$OD" -x bogus.conf -n 2>&1)"
fi
if command -v cc > /dev/null 2>&1; then
  printf '#include <stdio.h>\nvoid openlog(const char* id, int o, int f) { (void)o; (void)f; fprintf(stderr, "OPENLOG %%s\\n", id); }\n' > ident.c
  cc -shared -fPIC -o ident.so ident.c
  { testlib_verify_conf "$T/keys"; printf 'Syslog yes\nSocket local:%s/as-od.sock\n' "$T"; } > as-od.conf
  LD_PRELOAD="$T/ident.so" "$T/opendkim" -f -x as-od.conf 2> as-od.err &
  PIDS+=($!)
  testlib_wait_socket "$T/as-od.sock"
  testlib_stop_all
  expect_has "as opendkim: syslog ident" "$(cat as-od.err)" "OPENLOG opendkim"
  rm -f "$T/as-od.sock"
  LD_PRELOAD="$T/ident.so" "$BIN" -f -x as-od.conf 2> ik.err &
  PIDS+=($!)
  testlib_wait_socket "$T/as-od.sock"
  testlib_stop_all
  expect_has "as inkan-dkim: syslog ident" "$(cat ik.err)" "OPENLOG inkan-dkim"
fi

## The same files through OpenDKIM, when installed.
if [ -x "$OD" ]; then
  norm() { sed -e 's/^opendkim:/inkan-dkim:/'; }
  for f in signed.eml bad.eml m.eml arbs.eml; do
    expect_eq "opendkim -t $f" "$("$OD" -x verify.conf -t $f 2>&1 | norm)" "$("$BIN" -x verify.conf -t $f 2>&1)"
    expect_eq "opendkim -vv -t $f" "$("$OD" -x verify.conf -vv -t $f 2>/dev/null | norm)" \
      "$("$BIN" -x verify.conf -vv -t $f 2>/dev/null)"
  done
  for c in verify.conf reject.conf ignore.conf; do
    for f in nofrom.eml badfrom.eml; do
      expect_eq "opendkim $c $f" "$("$OD" -x $c -vv -t $f 2>/dev/null | norm)" "$("$BIN" -x $c -vv -t $f 2>/dev/null)"
    done
  done
  expect_eq "opendkim MustBeSigned" "$("$OD" -x mbs.conf -vv -t mid.eml 2>/dev/null | norm)" \
    "$("$BIN" -x mbs.conf -vv -t mid.eml 2>/dev/null)"
  "$OD" -x verify.conf -r -vv -t two.eml >"$T/od.out" 2>"$T/od.err"; arc=$?
  "$BIN" -x verify.conf -r -vv -t two.eml >"$T/ik.out" 2>"$T/ik.err"; brc=$?
  expect_eq "opendkim -r -vv stdout" "$(norm < "$T/od.out")" "$(cat "$T/ik.out")"
  expect_eq "opendkim -r -vv stderr" "$(norm < "$T/od.err")" "$(cat "$T/ik.err")"
  expect_eq "opendkim -r rc" "$arc" "$brc"
  "$OD" -x verify.conf -t nonexistent.eml >/dev/null 2>&1; arc=$?
  expect_eq "opendkim missing rc" "$arc" 69
  expect_eq "opendkim -Q" "$(printf 'file:%s/kt\nk1/2\n' "$T" | "$OD" -Q 2>&1)" "$(printf 'file:%s/kt\nk1/2\n' "$T" | "$BIN" -Q 2>&1)"
else
  echo "note: $OD not installed, OpenDKIM comparison skipped"
fi

## BodyLengthDB, SenderMacro, SelectCanonicalizationHeader.
# Test mode's recipient is <recipient@example.com> and every macro reads "DEBUG-<name>" (as
# opendkim's test.c), so SenderMacro "m@example.net" yields the sender DEBUG-m@example.net.
testlib_keyline example.net "$(testlib_pubkey "$T/sel.private")" >> "$T/keys"
printf 'Mode s\nSelector sel\nKeyFile %s/sel.private\nRequireSafeKeys no\n' "$T" > base.conf
printf 'From: a@example.org\nTo: b@example.com\nX-Canonicalization: relaxed/relaxed\nSubject: hello\n\nbody line\n' | crlf > xc.eml
# signed_with CONF MSG OUT: sign MSG (test mode, fixed time), write the signed message to OUT
signed_with() { { "$BIN" -x "$1" -F 1700000000 -t "$2" | tail -n +2 | crlf; cat "$2"; } > "$3"; }

# BodyLengthDB: opendkim.c dkimf_checkbldb keys (user@host, *@host, user@.parent, *@.parent,
# user@*, *), case-insensitive; a bare domain is not a key. l= = canonical body length.
for case in "recipient@example.com:1" "*@example.com:1" "recipient@.com:1" "*@.com:1" "recipient@*:1" \
            "*:1" "RECIPIENT@Example.COM:1" "example.com:0" ".com:0" "other@example.com:0" \
            "recipient@.example.com:0" "nobody@*,*@example.com:1"; do
  e=${case%:*}; want=${case##*:}
  { cat base.conf; echo "Domain example.org"; echo "BodyLengthDB csl:$e"; } > bl.conf
  out=$("$BIN" -x bl.conf -F 1700000000 -t m.eml)
  got=0; case "$out" in *" l=11;"*) got=1 ;; esac
  expect_eq "BodyLengthDB $e -> l=" "$got" "$want"
  [ -x "$OD" ] && expect_eq "BodyLengthDB $e = opendkim" "$("$BIN" -x bl.conf -F 1700000000 -t m.eml 2>&1)" \
    "$(od_t -x bl.conf -F 1700000000 -t m.eml)"
done
printf 'nobody@example.org\n*@.COM  # mailing lists\n' > bldb
{ cat base.conf; echo "Domain example.org"; echo "Canonicalization relaxed/relaxed"; echo "BodyLengthDB file:$T/bldb"; } > blf.conf
signed_with blf.conf m.eml bl.eml
expect_has "BodyLengthDB file: l=" "$(cat bl.eml)" " l=11;"
expect_eq "l= signature verifies" "$("$BIN" -x verify.conf -t bl.eml)" \
  "inkan-dkim: bl.eml: verification (s=sel, d=example.org, 2048-bit key) succeeded"
{ cat bl.eml; printf -- '-- \r\nappended by a list\r\n'; } > blapp.eml
expect_eq "l= signature survives an appended footer" "$("$BIN" -x verify.conf -t blapp.eml)" \
  "inkan-dkim: blapp.eml: verification (s=sel, d=example.org, 2048-bit key) succeeded"
{ cat base.conf; echo "Domain example.org"; echo "BodyLengthDB csl:*@.com"; echo "MaximumSignedBytes 5"; } > blmax.conf
expect_has "BodyLengthDB + MaximumSignedBytes: l= = bytes signed" "$("$BIN" -x blmax.conf -F 1700000000 -t m.eml)" " l=5;"
if [ -x "$OD" ]; then
  expect_eq "opendkim verifies the l= signature" "$(od_t -x verify.conf -t blapp.eml)" \
    "inkan-dkim: blapp.eml: verification (s=sel, d=example.org, 2048-bit key) succeeded"
  expect_eq "BodyLengthDB file: = opendkim" "$("$BIN" -x blf.conf -F 1700000000 -t m.eml 2>&1)" \
    "$(od_t -x blf.conf -F 1700000000 -t m.eml)"
  expect_eq "BodyLengthDB + MaximumSignedBytes = opendkim" "$("$BIN" -x blmax.conf -F 1700000000 -t m.eml 2>&1)" \
    "$(od_t -x blmax.conf -F 1700000000 -t m.eml)"
fi
if "$PY" -c 'import dkim' 2>/dev/null; then
  cat > dkimpy_verify.py <<'PYEOF'
import sys, dkim
keys = {}
for line in open(sys.argv[1]):
    if line.strip() and not line.startswith('#'):
        name, txt = line.split(None, 1)
        keys[name.encode() + b'.'] = txt.strip().encode()
print(dkim.verify(open(sys.argv[2], 'rb').read(), dnsfunc=lambda n, timeout=5: keys.get(n, b'')))
PYEOF
  expect_eq "dkimpy verifies the l= signature" "$("$PY" dkimpy_verify.py "$T/keys" blapp.eml)" "True"
fi

# SenderMacro: the macro's value, when non-empty, is the signing sender (From ignored).
{ cat base.conf; echo "Domain example.net"; } > net.conf
{ cat net.conf; echo "SenderMacro m@example.net"; } > smacro.conf
{ cat net.conf; echo "SenderMacro {auth_authen}"; } > smbad.conf
expect_eq "no SenderMacro: From example.org not signed for example.net" "$("$BIN" -x net.conf -F 1700000000 -t m.eml)" ""
expect_has "SenderMacro picks d=" "$("$BIN" -x smacro.conf -F 1700000000 -t m.eml)" "c=simple/simple; d=example.net; s=sel;"
signed_with smacro.conf m.eml sm.eml
expect_eq "SenderMacro signature verifies" "$("$BIN" -x verify.conf -t sm.eml)" \
  "inkan-dkim: sm.eml: verification (s=sel, d=example.net, 2048-bit key) succeeded"
expect_eq "SenderMacro unparsable: permerror, neither signed nor verified" "$("$BIN" -x smbad.conf -vv -t m.eml 2>/dev/null)" \
  "### INSHEADER: idx=0 hname='Authentication-Results' hvalue='DEBUG-j; dkim=permerror (bad message/signature format)'"
if [ -x "$OD" ]; then
  for c in net.conf smacro.conf smbad.conf; do
    expect_eq "SenderMacro $c = opendkim" "$("$BIN" -x $c -vv -F 1700000000 -t m.eml 2>/dev/null)" \
      "$("$OD" -x $c -vv -F 1700000000 -t m.eml 2>/dev/null | tr -d '\r')"
  done
fi

# SelectCanonicalizationHeader: only when set; the header's value as Canonicalization,
# unknown parts ignored. opendkim 2.11.0 has no such header, so unset = its output exactly.
{ cat base.conf; echo "Domain example.org"; } > org.conf
{ cat org.conf; echo "SelectCanonicalizationHeader X-Canonicalization"; } > sch.conf
{ cat org.conf; echo "SelectCanonicalizationHeader X-Canon"; echo "Canonicalization relaxed/relaxed"; } > sch2.conf
expect_has "not set: header ignored" "$("$BIN" -x org.conf -F 1700000000 -t xc.eml)" "c=simple/simple;"
[ -x "$OD" ] && expect_eq "not set = opendkim 2.11" "$("$BIN" -x org.conf -F 1700000000 -t xc.eml 2>&1)" \
  "$(od_t -x org.conf -F 1700000000 -t xc.eml)"
for case in "relaxed/relaxed:relaxed/relaxed" "Relaxed:relaxed/simple" "simple/relaxed:simple/relaxed" \
            " relaxed / relaxed :relaxed/relaxed" "bogus/relaxed:simple/relaxed" "relaxed/bogus:relaxed/simple" \
            "nonsense:simple/simple" ":simple/simple"; do
  v=${case%:*}; want=${case##*:}
  printf 'From: a@example.org\r\nX-Canonicalization:%s\r\nSubject: x\r\n\r\nbody  line \r\n\r\n' "$v" > sel.eml
  expect_has "X-Canonicalization '$v'" "$("$BIN" -x sch.conf -F 1700000000 -t sel.eml)" "c=$want;"
done
printf 'From: a@example.org\r\nX-Canon: simple\r\nx-canon: bogus/simple\r\nSubject: x\r\n\r\nbody\r\n' > sel2.eml
expect_has "custom name, several fields in order" "$("$BIN" -x sch2.conf -F 1700000000 -t sel2.eml)" "c=simple/simple;"
signed_with sch.conf xc.eml sch.eml
expect_has "c= from the header" "$(cat sch.eml)" "c=relaxed/relaxed; d=example.org;"
expect_eq "header-selected c= verifies" "$("$BIN" -x verify.conf -t sch.eml)" \
  "inkan-dkim: sch.eml: verification (s=sel, d=example.org, 2048-bit key) succeeded"
[ -x "$OD" ] && expect_eq "opendkim verifies header-selected c=" "$(od_t -x verify.conf -t sch.eml)" \
  "inkan-dkim: sch.eml: verification (s=sel, d=example.org, 2048-bit key) succeeded"

# TrustSignaturesFrom: opendkim 2.11 reads it only for Lua policy scripts; a third-party
# signature (d= not the From domain) still verifies with a list that does not name it.
printf '*@example.net k\n' > tp.st
printf 'Mode s\nKeyTable csl:k=example.org:sel:%s\nSigningTable refile:%s/tp.st\n' "$T/sel.private" "$T" > tp.conf
printf 'From: a@example.net\r\nTo: b@example.com\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nSubject: tp\r\n\r\nbody\r\n' > tp.eml
out=$("$BIN" -x tp.conf -F 1700000000 -t tp.eml)
{ printf '%s\n' "$out" | tail -n +2 | crlf; cat tp.eml; } > tps.eml
{ cat verify.conf; echo "TrustSignaturesFrom nobody.example"; } > tsf.conf
expect_eq "TrustSignaturesFrom: third-party signature still verifies" "$("$BIN" -x tsf.conf -t tps.eml 2>/dev/null)" \
  "inkan-dkim: tps.eml: verification (s=sel, d=example.org, 2048-bit key) succeeded"
[ -x "$OD" ] && expect_eq "TrustSignaturesFrom: as opendkim" "$("$BIN" -x tsf.conf -t tps.eml 2>/dev/null)" \
  "$(od_t -x tsf.conf -t tps.eml)"

# Over the milter protocol (milter-client of the same build tree): a real {auth_authen}.
if [ -x "$MC" ]; then
  { cat net.conf; printf 'Mode sv\nSenderMacro auth_authen\nBodyLengthDB csl:*@lists.example\nSocket local:%s/m.sock\n' "$T"
    printf 'TestPublicKeys %s/keys\nAuthservID test.host\nInternalHosts 10.9.9.9\n' "$T"; } > daemon.conf
  "$BIN" -x daemon.conf -f >"$T/daemon.log" 2>&1 &
  dpid=$!
  PIDS+=("$dpid")
  testlib_wait_socket "$T/m.sock"
  mc() { "$MC" -s "unix:$T/m.sock" -D mail:auth_type=PLAIN "$@"; }
  out=$(mc -D mail:auth_authen=alice@example.net m.eml)
  expect_has "milter: macro sender signs d=example.net" "$out" "d=example.net; s=sel;"
  checks=$((checks + 1))
  case "$out" in *" l="*) fail "milter: l= without a BodyLengthDB recipient" ;; esac
  printf '%s\n' "$out" | sed -n '/^--- message ---$/,$p' | tail -n +2 | crlf > mcs.eml
  expect_eq "milter: macro-signed message verifies" "$("$BIN" -x verify.conf -t mcs.eml)" \
    "inkan-dkim: mcs.eml: verification (s=sel, d=example.net, 2048-bit key) succeeded"
  expect_has "milter: BodyLengthDB recipient adds l=" \
    "$(mc -D mail:auth_authen=alice@example.net -r '<x@example.com>' -r '<List@Lists.Example>' m.eml)" " l=11;"
  checks=$((checks + 2))
  case "$(mc m.eml)" in *DKIM-Signature*) fail "milter: no macro, From example.org: must not sign" ;; esac
  case "$(mc -D mail:auth_authen= m.eml)" in *DKIM-Signature*) fail "milter: empty macro falls back to From: must not sign" ;; esac
  expect_has "milter: unparsable macro" "$(mc -D mail:auth_authen=alice m.eml)" \
    "dkim=permerror (bad message/signature format)"
  testlib_stop "$dpid"
  # ChangeRootDirectory (root only): bound outside, chroot into an empty jail, then nobody.
  # The KeyFile (root's, mode 600, outside the jail) was loaded before: signing still works.
  if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    mkdir -p "$T/jail"
    chmod 755 "$T" "$T/jail"
    { cat sign.conf; printf 'Socket local:%s/j.sock
ChangeRootDirectory %s/jail
UserID nobody
' "$T" "$T"; } > jail.conf
    "$BIN" -x jail.conf -f >"$T/jail.log" 2>&1 &
    jpid=$!
    PIDS+=("$jpid")
    testlib_wait_socket "$T/j.sock"
    expect_eq "chroot: the daemon's root is the jail" "$(readlink "/proc/$jpid/root")" "$T/jail"
    expect_has "chroot: signs with the key loaded before" "$("$MC" -s "unix:$T/j.sock" m.eml)" "d=example.org; s=sel;"
    testlib_stop "$jpid"
  fi
else
  echo "note: $MC not built, milter-protocol SenderMacro cases skipped"
fi

## PeerList is not loaded in test mode (dkimf_config_load: `!testmode`): a PeerList naming
## the test client 127.0.0.1 must not stop -t.
{ cat verify.conf; printf 'PeerList 127.0.0.1,localhost\n'; } > peer.conf
out=$("$BIN" -x peer.conf -t signed.eml 2>&1); rc=$?
expect_eq "PeerList in -t: rc" "$rc" 0
expect_eq "PeerList in -t: same as without" "$out" "$("$BIN" -x verify.conf -t signed.eml 2>&1)"
[ -x "$OD" ] && expect_eq "PeerList in -t: as opendkim" "$out" "$(od_t -x peer.conf -t signed.eml)"

testlib_finish
