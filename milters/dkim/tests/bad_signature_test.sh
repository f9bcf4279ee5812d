#!/bin/bash
# inkan-dkim on damaged DKIM-Signature fields, against Debian's opendkim 2.11 with no options:
# one message per flaw, signed for real (python3-dkim's RSA, key from TestPublicKeys) so that
# only the named flaw is wrong. Three kinds (dkim_core.h OpendkimSigCheck):
#   eoh   libopendkim refuses the tag-list (dkim_process_set): mlfi_eoh gives up with
#         On-BadSignature's action, no Authentication-Results, no test-mode line, exit 70;
#   perm  libopendkim keeps the signature with a DKIM_SIGERROR_* code: "dkim=permerror" with
#         no reason, header.a=rsa-sha1 when a= was not read yet, accepted whatever On-* says;
#   own   documented departures, pinned on both sides (dup_d, dup_d2, empty_d, empty_s);
# and two that reach the key: bh= not base64 and l= beyond the body ("fail" clauses).
# The inkan-dkim side is checked against fixed expectations; when /usr/sbin/opendkim is
# installed, -vv stdout and the verdicts (default and On-BadSignature reject) must be equal.
#
# usage: bad_signature_test.sh /path/to/inkan-dkim [/usr/sbin/opendkim]
set -u
source "$(dirname "$0")/testlib.sh"
testlib_init "$1" "${2:-}"
if ! "$PY" -c 'import dkim.crypto' 2>/dev/null; then
  echo "SKIP: python3-dkim not installed"
  exit 0
fi
cd "$T" || exit 1
P=$(testlib_genkey sel.private)
testlib_keyline example.org "$P" > keys
testlib_verify_conf "$T/keys" > verify.conf
{ cat verify.conf; echo "On-BadSignature reject"; } > reject.conf

# gen.py KEY NOW: NAME.eml for each case: DKIM-Signature (the tag-list given, {bh} and {b}
# filled in, b= signed over relaxed h= fields and the field itself) + four fields + body.
cat > gen.py <<'PYEOF'
import base64, hashlib, re, sys
import dkim.crypto as dc
key = dc.parse_pem_private_key(open(sys.argv[1], 'rb').read())
now = int(sys.argv[2])
HDRS = [(b'From', b' a@example.org'), (b'To', b' b@example.com'),
        (b'Date', b' Mon, 1 Jan 2024 00:00:00 +0000'), (b'Subject', b' hello')]
BODY = b'body line\r\n'
def rh(name, value):
    v = re.sub(rb'[ \t]+', b' ', value.replace(b'\r\n', b'')).strip(b' \t')
    return name.lower() + b':' + v
def make(name, tags, sign_h='from:to:date:subject'):
    bh = base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    tl = tags.replace('{bh}', bh).replace('{now}', str(now)).replace('{now+100}', str(now + 100)) \
             .replace('{now+200}', str(now + 200))
    data = b''
    for h in filter(None, sign_h.split(':')):
        for n, v in HDRS:
            if n.lower() == h.encode():
                data += rh(n, v) + b'\r\n'
    data += rh(b'DKIM-Signature', b' ' + tl.replace('{b}', '').encode())
    sig = dc.RSASSA_PKCS1_v1_5_sign(hashlib.sha256(data), key)
    tl = tl.replace('{b}', base64.b64encode(sig).decode())
    with open(name + '.eml', 'wb') as f:
        f.write(b'DKIM-Signature: ' + tl.encode() + b'\r\n')
        for n, v in HDRS:
            f.write(n + b':' + v + b'\r\n')
        f.write(b'\r\n' + BODY)
A, C, D, H, B = 'a=rsa-sha256', 'c=relaxed/relaxed', 'd=example.org; s=sel', 'h=from:to:date:subject', 'bh={bh}; b={b}'
for line in sys.stdin:
    name, tags, sign_h = line.rstrip('\n').split('|')
    make(name, tags.replace('$A', A).replace('$C', C).replace('$D', D).replace('$H', H).replace('$B', B), sign_h)
PYEOF
FH=from:to:date:subject
"$PY" gen.py sel.private "$(date +%s)" <<CASES
good|v=1; \$A; \$C; \$D; \$H; \$B|$FH
no_v|\$A; \$C; \$D; \$H; \$B|$FH
no_a|v=1; \$C; \$D; \$H; \$B|$FH
no_s|v=1; \$A; \$C; d=example.org; \$H; \$B|$FH
no_d|v=1; \$A; \$C; s=sel; \$H; \$B|$FH
no_h|v=1; \$A; \$C; \$D; \$B|
no_b|v=1; \$A; \$C; \$D; \$H; bh={bh}|$FH
taglist|v=1; \$A; \$C; \$D; junk; \$H; \$B|$FH
name_dash|v=1; \$A; \$C; \$D; -x=1; \$H; \$B|$FH
name_space|v=1; \$A; \$C; \$D; z z=1; \$H; \$B|$FH
tail_name|v=1; \$A; \$C; \$D; \$H; \$B; zz|$FH
bad_t|v=1; \$A; \$C; \$D; t=soon; \$H; \$B|$FH
neg_x|v=1; \$A; \$C; \$D; x=-5; \$H; \$B|$FH
v2|v=2; \$A; \$C; \$D; \$H; \$B|$FH
empty_v|v=; \$A; \$C; \$D; \$H; \$B|$FH
md5|v=1; a=rsa-md5; \$C; \$D; \$H; \$B|$FH
empty_a|v=1; a=; \$C; \$D; \$H; \$B|$FH
i_outside|v=1; \$A; \$C; \$D; i=a@other.example; \$H; \$B|$FH
x_before_t|v=1; \$A; \$C; \$D; t={now+200}; x={now+100}; \$H; \$B|$FH
c_unknown|v=1; \$A; c=fancy/relaxed; \$D; \$H; \$B|$FH
bc_unknown|v=1; \$A; c=relaxed/fancy; \$D; \$H; \$B|$FH
empty_h|v=1; \$A; \$C; \$D; h=; \$B|
h_no_from|v=1; \$A; \$C; \$D; h=to:date:subject; \$B|to:date:subject
l_bad|v=1; \$A; \$C; \$D; l=ten; \$H; \$B|$FH
q_unknown|v=1; \$A; \$C; \$D; q=http/well-known; \$H; \$B|$FH
q_dns|v=1; \$A; \$C; \$D; q=dns; \$H; \$B|$FH
no_bh|v=1; \$A; \$C; \$D; \$H; b={b}|$FH
empty_bh|v=1; \$A; \$C; \$D; \$H; bh=; b={b}|$FH
empty_b|v=1; \$A; \$C; \$D; \$H; bh={bh}; b=|$FH
b_b64|v=1; \$A; \$C; \$D; \$H; bh={bh}; b=!!notbase64!!|$FH
i_sub|v=1; \$A; \$C; \$D; i=a@sub.example.org; \$H; \$B|$FH
dup_d|v=1; \$A; \$C; \$D; d=example.org; \$H; \$B|$FH
dup_d2|v=1; \$A; \$C; d=other.example; \$D; \$H; \$B|$FH
empty_d|v=1; \$A; \$C; d=; s=sel; \$H; \$B|$FH
empty_s|v=1; \$A; \$C; d=example.org; s=; \$H; \$B|$FH
bh_b64|v=1; \$A; \$C; \$D; \$H; bh=!!notbase64!!; b={b}|$FH
l_large|v=1; \$A; \$C; \$D; l=1000; \$H; \$B|$FH
CASES
printf 'DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=sel; h=from; bh=x; b=y; z=caf\xc3\xa9\r\n' > nonascii.eml
tail -n +2 good.eml >> nonascii.eml
{ head -n 1 no_s.eml; cat good.eml; } > nos_then_good.eml  # a refused tag-list next to a good signature

# ik CONF FILE: stdout of -vv and the exit code; ikv CONF FILE: the verdicts other than CONTINUE.
ik() { "$BIN" -x "$1" -vv -t "$2" 2>/dev/null; echo "rc=$?"; }
ikv() { "$BIN" -x "$1" -v -t "$2" 2>&1 >/dev/null | grep ' returned ' | grep -v SMFIS_CONTINUE; }
norm() { tr -d '\r' | sed -e 's/^opendkim:/inkan-dkim:/'; }
od() { "$OD" -x "$1" -vv -t "$2" 2>/dev/null | norm; echo "rc=${PIPESTATUS[0]}"; }
# A rejected message: opendkim prints the AR it inserted before rejecting, inkan-dkim adds
# none (as verify_options_test.sh same_reply); compared without it.
noar() { perl -0pe "s/### INSHEADER: [^\n]*\n(\t[^\n]*\n)*//g if /### SETREPLY/"; }
odv() { "$OD" -x "$1" -v -t "$2" 2>&1 >/dev/null | norm | grep ' returned ' | grep -v SMFIS_CONTINUE; }
bval() { tr -d '\r' < "$1" | sed -n 's/^DKIM-Signature:.*[;[:space:]]b=\([^;]*\).*/\1/p' | head -c 8; }

eoh_cases="no_v no_a no_s no_d no_h no_b taglist name_dash name_space tail_name bad_t neg_x nonascii nos_then_good"
# name:error text:a= as opendkim reports it
perm_cases="v2:unsupported signature version:rsa-sha1
empty_v:version empty:rsa-sha1
md5:signature algorithm invalid:rsa-sha1
empty_a:signature algorithm invalid:rsa-sha1
i_outside:invalid domain coverage:rsa-sha1
x_before_t:signature timestamp order error:rsa-sha1
c_unknown:invalid header canonicalization:rsa-sha1
bc_unknown:invalid body canonicalization:rsa-sha1
empty_h:header list tag empty:rsa-sha256
h_no_from:header list missing required entries:rsa-sha256
l_bad:body length value invalid:rsa-sha256
q_unknown:query method invalid:rsa-sha256
q_dns:query option invalid:rsa-sha256
no_bh:body hash missing:rsa-sha256
empty_bh:body hash empty:rsa-sha256
empty_b:signature data empty:rsa-sha256
b_b64:signature data corrupt:rsa-sha256"
perm_names=$(cut -d: -f1 <<<"$perm_cases")

for n in $eoh_cases; do
  expect_eq "$n: no AR, exit 70" "$(ik verify.conf $n.eml)" "rc=70"
  expect_eq "$n: accepted at EOH" "$(ikv verify.conf $n.eml)" "inkan-dkim: $n.eml: mlfi_eoh() returned SMFIS_ACCEPT"
  expect_eq "$n: On-BadSignature reject at EOH" "$(ik reject.conf $n.eml)" \
    "### SETREPLY: rcode='550' xcode='5.7.0' replytxt='DKIM signature syntax error'
rc=70"
done
while IFS=: read -r n why alg; do
  [ -n "$n" ] || continue
  i=$(sed -n 's/^DKIM-Signature:.*[;[:space:]]i=\([^;]*\);.*/\1/p' $n.eml)
  expect_eq "$n: permerror clause and line" "$(ik verify.conf $n.eml)" "### INSHEADER: idx=0 hname='Authentication-Results' hvalue='test.host;
	dkim=permerror header.d=example.org header.i=${i:-@example.org} header.a=$alg header.s=sel header.b=$(bval $n.eml);
	dkim-atps=neutral'
inkan-dkim: $n.eml: verification (s=sel d=example.org, 0-bit key, unknown) failed: $why
rc=0"
  expect_eq "$n: accepted under On-BadSignature reject" "$(ikv reject.conf $n.eml)" \
    "inkan-dkim: $n.eml: mlfi_eom() returned SMFIS_ACCEPT"
done <<<"$perm_cases"
expect_eq "i= subdomain of d= passes" "$("$BIN" -x verify.conf -t i_sub.eml)" \
  "inkan-dkim: i_sub.eml: verification (s=sel, d=example.org, 2048-bit key) succeeded"

# Departures, pinned on the inkan-dkim side:
# - a duplicate tag (RFC 6376 §3.2: "the entire tag-list is invalid"): opendkim 2.11 keeps the
#   last value and reports a pass, also for "d=other.example; d=example.org"; inkan-dkim keeps
#   its permerror with the reason (and On-BadSignature), as a pass would hide the ambiguity.
for n in dup_d dup_d2; do
  expect_eq "$n: permerror (opendkim: pass)" "$("$BIN" -x verify.conf -t $n.eml)" \
    "inkan-dkim: $n.eml: verification failed: signature unusable: duplicate tag \"d\""
done
# - an empty d= or s=: opendkim prints a NULL pointer ("header.d=(null) header.i=@",
#   "header.s=(null)"); inkan-dkim leaves the property out, the rest is opendkim's.
expect_eq "empty_d" "$(ik verify.conf empty_d.eml | sed -n 2p)" \
  "	dkim=permerror header.a=rsa-sha1 header.s=sel header.b=$(bval empty_d.eml);"
expect_eq "empty_s" "$(ik verify.conf empty_s.eml | sed -n 2p)" \
  "	dkim=permerror header.d=example.org header.i=@example.org header.a=rsa-sha1 header.b=$(bval empty_s.eml);"
# bh= that is not base64 (RFC 6376: a syntax error): opendkim's decoder skips the foreign
# bytes and the body hash fails: "fail" with the key and On-BadSignature; inkan-dkim reports
# the same, but never a pass (libauth verifier.cpp placeholder_body_hash).
expect_eq "bh_b64: fail with the key" "$("$BIN" -x verify.conf -t bh_b64.eml)" \
  "inkan-dkim: bh_b64.eml: verification (s=sel d=example.org, 2048-bit key, unknown) failed: signature verification failed"
expect_eq "bh_b64: On-BadSignature" "$(ik reject.conf bh_b64.eml | grep SETREPLY)" \
  "### SETREPLY: rcode='550' xcode='5.7.0' replytxt='bad DKIM signature data'"

# l= larger than the body: fail "length tag value exceeds body size" with the key, accepted
# whatever On-* says (DKIM_SIGERROR_TOOLARGE_L).
expect_eq "l_large: fail, opendkim's reason" "$(ik verify.conf l_large.eml | sed -n 2p)" \
  "	dkim=fail reason=\"length tag value exceeds body size\" (2048-bit key) header.d=example.org header.i=@example.org header.a=rsa-sha256 header.s=sel header.b=$(bval l_large.eml);"
expect_eq "l_large: accepted under On-BadSignature reject" "$(ikv reject.conf l_large.eml)" \
  "inkan-dkim: l_large.eml: mlfi_eom() returned SMFIS_ACCEPT"

if [ -x "$OD" ]; then
  for n in $eoh_cases $perm_names good i_sub l_large bh_b64; do
    for c in verify.conf reject.conf; do
      expect_eq "$n $c = opendkim (-vv)" "$(ik $c $n.eml)" "$(od $c $n.eml | noar)"
      expect_eq "$n $c = opendkim (verdict)" "$(ikv $c $n.eml)" "$(odv $c $n.eml)"
    done
  done
  for n in dup_d dup_d2; do
    expect_eq "opendkim passes $n" "$("$OD" -x verify.conf -t $n.eml 2>&1 | norm)" \
      "inkan-dkim: $n.eml: verification (s=sel, d=example.org, 2048-bit key) succeeded"
  done
  expect_eq "opendkim: empty_d (null)" "$(od verify.conf empty_d.eml | sed -n 2p)" \
    "	dkim=permerror header.d=(null) header.i=@ header.a=rsa-sha1 header.s=(null) header.b=$(bval empty_d.eml);"
fi

# Over the milter protocol (milter-client of the same build tree), On-BadSignature reject: the
# same replies and Authentication-Results. inkan-dkim's runtime answers a verdict taken at end
# of headers at end of message ("eoh: noreply"), opendkim at once: only the stage differs.
start() {  # start NAME PROG: daemon on a free loopback port with reject.conf; $NAME = its socket
  local name=$1 port
  shift
  port=$(free_port)
  { cat reject.conf; printf 'Socket inet:%s@127.0.0.1\nBackground no\n' "$port"; } > "d$port.conf"
  "$1" -f -x "d$port.conf" > "d$port.log" 2>&1 &
  PIDS+=($!)
  testlib_wait_port "$port"
  printf -v "$name" '%s' "inet:$port@127.0.0.1"
}
# mc SOCKET FILE: the reply and the header changes, whatever the stage
mc() { "$MC" -s "$1" -i Q -f '<bounce@example.org>' "$2" 2>&1 | grep -E '^(eoh|eom|modification)' |
       grep -v ': \(noreply\|continue\)$' | sed -e 's/^eo[hm]: //'; }
if [ -x "$MC" ]; then
  start ik_sock "$BIN"
  expect_eq "milter: refused tag-list rejected, no AR" "$(mc "$ik_sock" no_s.eml)" "replycode 550 5.7.0 DKIM signature syntax error"
  expect_eq "milter: DKIM_SIGERROR_* accepted with its AR" "$(mc "$ik_sock" md5.eml)" "accept
modification: insert-header index=0 Authentication-Results \" test.host;\\n\\tdkim=permerror header.d=example.org header.i=@example.org header.a=rsa-sha1 header.s=sel header.b=$(bval md5.eml);\\n\\tdkim-atps=neutral\""
  if [ -x "$OD" ]; then
    start od_sock "$OD"
    for n in no_s nos_then_good md5 empty_b bh_b64 l_large good; do
      want=$(mc "$od_sock" $n.eml)
      # A rejected message: opendkim's AR (inserted before the reject) left out, see noar.
      case "$want" in replycode*) want=$(head -n 1 <<<"$want") ;; esac
      expect_eq "milter: $n = opendkim" "$(mc "$ik_sock" $n.eml)" "$want"
    done
  fi
fi

testlib_finish
