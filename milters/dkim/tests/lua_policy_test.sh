#!/bin/bash
# inkan-dkim Lua policy scripts (SetupPolicyScript, ScreenPolicyScript, FinalPolicyScript;
# opendkim-lua(3)) end to end through the test mode (-t). When /usr/sbin/opendkim is
# installed, the same scripts, configuration and messages go through `opendkim -t` and the
# outputs must match (program name aside; both A-R end with the Debian build's
# "dkim-atps=neutral"). Keys come from TestPublicKeys: no DNS. Cases opendkim cannot be
# compared on are asserted for inkan-dkim alone: opendkim 2.11 crashes on a failing script, and lists a
# signature its screen script ignored as "dkim=fail" in Authentication-Results where
# opendkim-lua(3) promises it is treated as absent (inkan-dkim does the latter).
# Section 7: the odkim names each hook registers (as Debian's build: no odkim.spam), xtag and
# resign as that build answers them, add_rcpt/del_rcpt (`-t -vv` prints ADDRCPT/DELRCPT as
# test.c does; the daemons are driven with milter-client to see SMFIR_ADDRCPT/DELRCPT), and
# rbl_check against a fake DNS server on 127.0.0.1 (inkan-dkim only: opendkim's rbl_check
# aborts when Nameservers is set; its argument errors are compared).
#
# usage: lua_policy_test.sh /path/to/inkan-dkim [/usr/sbin/opendkim]
set -u
source "$(dirname "$0")/testlib.sh"
testlib_init "$1" "${2:-}"
# opendkim's output in inkan-dkim's words.
norm() { sed -e 's/^opendkim:/inkan-dkim:/'; }

cd "$T" || exit 1
for d in org net; do
  testlib_keyline "example.$d" "$(testlib_genkey "k$d.private")" >> keys
done
printf 'korg example.org:sel:%s/korg.private\nknet example.net:sel:%s/knet.private\n' "$T" "$T" > keytable
testlib_message > org.eml
sed 's/a@example.org/a@example.net/' org.eml > net.eml
vcommon="TestPublicKeys $T/keys
AuthservID test.host"
common="KeyTable $T/keytable
TestPublicKeys $T/keys
AuthservID test.host
RequireSafeKeys no
Canonicalization relaxed/relaxed"

## 1. Setup script: sign with the KeyTable key chosen by the From domain (odkim.sign).
cat > sign.lua <<'EOF'
local d = odkim.get_fromdomain(ctx)
if d == "example.org" then odkim.sign(ctx, "korg")
elseif d == "example.net" then odkim.sign(ctx, "knet") end
EOF
printf 'Mode sv\n%s\nSetupPolicyScript %s/sign.lua\n' "$common" "$T" > sign.conf
for m in org net; do
  out=$("$BIN" -x sign.conf -F 1700000000 -t $m.eml); rc=$?
  expect_eq "sign $m rc" "$rc" 0
  expect_has "sign $m d=" "$out" "d=example.$m; s=sel;"
done
# Both signatures on one message (a second setup script), reused below.
printf 'odkim.sign(ctx, "korg")\nodkim.sign(ctx, "knet")\n' > both.lua
printf 'Mode sv\n%s\nSetupPolicyScript %s/both.lua\n' "$common" "$T" > both.conf
out=$("$BIN" -x both.conf -F 1700000000 -t org.eml)
{ printf '%s\n' "$out" | tail -n +2 | crlf; cat org.eml; } > signed2.eml
expect_eq "two signatures" "$(grep -c '^DKIM-Signature:' signed2.eml)" 2
{ "$BIN" -x sign.conf -F 1700000000 -t net.eml | tail -n +2 | crlf; cat net.eml; } > netsig.eml  # example.net only
sed 's/body line/body lime/' signed2.eml > bad2.eml

# replace_header (what is signed, not what is delivered), signer and signlen, use_ltag.
printf 'odkim.replace_header(ctx, "Subject", 0, "rewritten subject")\nodkim.sign(ctx, "korg", "@example.org", 5)\nodkim.use_ltag(ctx)\n' > rh.lua
printf 'Mode sv\n%s\nSetupPolicyScript %s/rh.lua\n' "$common" "$T" > rh.conf
out=$("$BIN" -x rh.conf -F 1700000000 -t org.eml)
expect_has "sign i= and l=" "$out" "t=1700000000; i=@example.org;"
expect_has "sign l=5" "$out" "; l=5;"

## 2. Setup script that only verifies (odkim.verify; no SigningTable, nothing signed).
printf 'odkim.verify(ctx)\n' > verify.lua
printf 'Mode sv\n%s\nSetupPolicyScript %s/verify.lua\n' "$common" "$T" > verify.conf
expect_eq "verify-only: both pass" "$("$BIN" -x verify.conf -t signed2.eml)" \
  "inkan-dkim: signed2.eml: verification (s=sel, d=example.net, 2048-bit key) succeeded"
vv=$("$BIN" -x verify.conf -vv -t signed2.eml 2>/dev/null)
expect_has "verify-only: AR" "$vv" "dkim=pass (2048-bit key) header.d=example.net"
case "$vv" in *"hname='DKIM-Signature'"*) fail "verify-only signed" ;; esac

## 3. Screen script that ignores the signatures of example.net.
cat > screen.lua <<'EOF'
for i = 0, odkim.get_sigcount(ctx) - 1 do
  local s = odkim.get_sighandle(ctx, i)
  if odkim.sig_getdomain(s) == "example.net" then odkim.sig_ignore(s) end
end
EOF
printf 'Mode v\n%s\nScreenPolicyScript %s/screen.lua\n' "$vcommon" "$T" > screen.conf
expect_eq "screen: ignored signature absent" "$("$BIN" -x screen.conf -t netsig.eml)" \
  "inkan-dkim: netsig.eml: message not signed"
vv=$("$BIN" -x screen.conf -vv -t signed2.eml 2>/dev/null)
expect_has "screen: org still passes" "$vv" "dkim=pass (2048-bit key) header.d=example.org"
case "$vv" in *"header.d=example.net"*) fail "screen: ignored signature in AR" ;; esac

## 4. Final script: reject unsigned mail with odkim.set_reply, add a header otherwise.
cat > final.lua <<'EOF'
if odkim.get_sigcount(ctx) == 0 then
  odkim.set_reply(ctx, "550", "5.7.1", "unsigned mail from " .. odkim.get_fromdomain(ctx) .. " refused")
  odkim.set_result(ctx, SMFIS_REJECT)
else
  -- tostring(): opendkim runs every script once at start-up with a NULL ctx (dummy values).
  local s = odkim.get_sighandle(ctx, 0)
  odkim.add_header(ctx, "X-Lua-Final", tostring(odkim.sig_getdomain(s)) .. " " .. tostring(odkim.sig_result(s)) ..
                   " " .. tostring(odkim.sig_bhresult(s)) .. " " .. tostring(odkim.sig_bodylength(ctx, s)) .. " " ..
                   tostring(odkim.rcpt_count(ctx)))
end
EOF
printf 'Mode v\n%s\nFinalPolicyScript %s/final.lua\n' "$vcommon" "$T" > final.conf
"$BIN" -x final.conf -vv -t org.eml > final.out 2> final.err; rc=$?
expect_eq "final reject rc" "$rc" 0
expect_has "final reply" "$(cat final.out)" "### SETREPLY: rcode='550' xcode='5.7.1' replytxt='unsigned mail from example.org refused'"
expect_has "final verdict" "$(cat final.err)" "mlfi_eom() returned SMFIS_REJECT"
expect_has "final header" "$("$BIN" -x final.conf -vv -t signed2.eml 2>/dev/null)" \
  "hname='X-Lua-Final' hvalue='example.net 0.0 0.0 11.0 1.0'"
expect_has "final header (bad body)" "$("$BIN" -x final.conf -vv -t bad2.eml 2>/dev/null)" \
  "hname='X-Lua-Final' hvalue='example.net 28.0 1.0 11.0 1.0'"

## 5. Failures: On-InternalError (default tempfail), never a crash; limits.
printf 'error("boom")\n' > err.lua
printf 'while true do pcall(function() while true do end end) end\n' > loop.lua
printf 'if then\n' > syntax.lua
for s in err loop; do
  for hook in Setup Screen Final; do
    printf 'Mode v\n%s\n%sPolicyScript %s/%s.lua\n' "$vcommon" "$hook" "$T" "$s" > fail.conf
    out=$("$BIN" -x fail.conf -v -t org.eml 2>&1); rc=$?
    # test.c exits 70 when a callback before EOM stops the message; the EOM verdict is only printed.
    want=70; [ $hook = Final ] && want=0
    expect_eq "$s in $hook: rc" "$rc" $want
    expect_has "$s in $hook: tempfail" "$out" "returned SMFIS_TEMPFAIL"
  done
done
printf 'Mode v\n%s\nSetupPolicyScript %s/err.lua\nOn-InternalError accept\n' "$common" "$T" > accept.conf
expect_eq "On-InternalError accept" "$("$BIN" -x accept.conf -v -t org.eml 2>&1)" \
  "inkan-dkim: org.eml: mlfi_eoh() returned SMFIS_ACCEPT"
printf 'Mode v\n%s\nSetupPolicyScript %s/syntax.lua\n' "$common" "$T" > syntax.conf
out=$("$BIN" -x syntax.conf -t org.eml 2>&1); rc=$?
expect_eq "syntax error rc" "$rc" 78
expect_has "syntax error names the script" "$out" "syntax.lua:1:"
printf 'Mode v\nSetupPolicyScript %s/missing.lua\n' "$T" > missing.conf
"$BIN" -x missing.conf -t org.eml >/dev/null 2>&1; rc=$?
expect_eq "missing script rc" "$rc" 78
printf 'Mode v\nStatisticsPolicyScript %s/err.lua\n' "$T" > stats.conf
"$BIN" -x stats.conf -t org.eml >/dev/null 2>&1; rc=$?
expect_eq "StatisticsPolicyScript refused" "$rc" 78
# LuaOnlySigning: the SigningTable is not consulted, only the script signs.
printf '*@example.org korg\n' > signingtable
printf 'Mode sv\n%s\nSigningTable refile:%s/signingtable\nSetupPolicyScript %s/verify.lua\nLuaOnlySigning yes\n' \
  "$common" "$T" "$T" > only.conf
case "$("$BIN" -x only.conf -vv -t org.eml 2>/dev/null)" in *"DKIM-Signature"*) fail "LuaOnlySigning signed" ;; esac
sed '/LuaOnlySigning/d' only.conf > table.conf
expect_has "without LuaOnlySigning the table signs" "$("$BIN" -x table.conf -vv -t org.eml 2>/dev/null)" "hname='DKIM-Signature'"

## 6. The same through opendkim -t.
# A probe script printing what every read function answers, in each hook (stderr). The
# first line skips opendkim's start-up run of the script with a NULL ctx.
cat > probe.lua <<'EOF'
if odkim.get_fromdomain(ctx) == "dkimf_xs_fromdomain" then return end
local function p(...) local t = {} for i = 1, select("#", ...) do t[#t+1] = tostring((select(i, ...))) end io.stderr:write(table.concat(t, " "), "\n") end
p("from", odkim.get_fromdomain(ctx))
p("host", odkim.get_clienthost(ctx), "ip", odkim.get_clientip(ctx))
p("envfrom", odkim.get_envfrom and odkim.get_envfrom(ctx))
p("hdr", odkim.get_header(ctx, "From", 0), odkim.get_header(ctx, "subject", -1), odkim.get_header(ctx, "X-No", 0))
p("sym", odkim.get_mtasymbol(ctx, "i"), odkim.get_mtasymbol(ctx, "{auth_type}"))
p("rcpt", odkim.rcpt_count(ctx), odkim.get_rcpt(ctx, 0), #odkim.get_rcptarray(ctx), odkim.get_rcptarray(ctx)[1])
p("internal", odkim.internal_ip(ctx))
if odkim.check_popauth then p("popauth", odkim.check_popauth(ctx)) end
if odkim.get_sigcount then
  p("sigs", odkim.get_sigcount(ctx))
  for i = 0, odkim.get_sigcount(ctx) - 1 do
    local s = odkim.get_sighandle(ctx, i)
    p("sig", i, odkim.sig_getdomain(s), odkim.sig_getidentity(s))
    if odkim.sig_result then p("res", odkim.sig_result(s), odkim.sig_bhresult(s), odkim.sig_bodylength(ctx, s), odkim.sig_canonlength(ctx, s)) end
  end
end
if odkim.parse_field then p("parse", odkim.parse_field("Bob <bob@Sub.Example.COM>")) p("parse2", odkim.parse_field("junk")) end
p("consts", SMFIS_REJECT, SMFIS_ACCEPT, DB_DOMAINS, DKIM_SIGERROR_BADSIG, DKIM_SIGBH_UNTESTED)
EOF
printf 'Mode v\n%s\nFinalPolicyScript %s/probe.lua\n' "$vcommon" "$T" > probe.conf
out=$("$BIN" -x probe.conf -t bad2.eml 2>&1 >/dev/null)
expect_has "probe: envelope" "$out" "envfrom sender@example.org"
expect_has "probe: bad signature" "$out" "res 28.0 1.0 11.0 11.0"
expect_has "probe: parse_field" "$out" "parse bob Sub.Example.COM"
if [ -x "$OD" ]; then
  for hook in Setup Screen Final; do
    printf 'Mode v\n%s\n%sPolicyScript %s/probe.lua\n' "$vcommon" "$hook" "$T" > probe.conf
    for m in org signed2 bad2; do
      expect_eq "opendkim probe $hook $m" "$("$OD" -x probe.conf -t $m.eml 2>&1 >/dev/null)" \
        "$("$BIN" -x probe.conf -t $m.eml 2>&1 >/dev/null)"
    done
  done
  cmp_run() {  # NAME CONF FILE [opts]: stdout and the -v verdicts must match
    local name=$1 conf=$2 file=$3; shift 3
    expect_eq "opendkim $name stdout" "$("$OD" -x "$conf" "$@" -t "$file" 2>/dev/null | norm)" \
      "$("$BIN" -x "$conf" "$@" -t "$file" 2>/dev/null)"
    expect_eq "opendkim $name -v" "$("$OD" -x "$conf" -v "$@" -t "$file" 2>&1 >/dev/null | norm)" \
      "$("$BIN" -x "$conf" -v "$@" -t "$file" 2>&1 >/dev/null)"
  }
  # opendkim -t prints the new signature with CRLF folding, inkan-dkim with LF (the test-mode
  # printer, not the scripts): compared without CRs.
  for m in org net; do
    expect_eq "opendkim sign $m" "$("$OD" -x sign.conf -F 1700000000 -t $m.eml 2>/dev/null | norm | tr -d '\r')" \
      "$("$BIN" -x sign.conf -F 1700000000 -t $m.eml 2>/dev/null | tr -d '\r')"
    expect_eq "opendkim sign $m -v" "$("$OD" -x sign.conf -F 1700000000 -v -t $m.eml 2>&1 >/dev/null | norm)" \
      "$("$BIN" -x sign.conf -F 1700000000 -v -t $m.eml 2>&1 >/dev/null)"
  done
  expect_eq "opendkim replace_header/signer/signlen" "$("$OD" -x rh.conf -F 1700000000 -t org.eml 2>/dev/null | norm | tr -d '\r')" \
    "$("$BIN" -x rh.conf -F 1700000000 -t org.eml 2>/dev/null | tr -d '\r')"
  # Two signatures: the same fields; opendkim lists them in request order, inkan-dkim in the
  # order they end up in the header (first request on top): compared sorted.
  expect_eq "opendkim sign both" "$("$OD" -x both.conf -F 1700000000 -t org.eml 2>/dev/null | norm | tr -d '\r' | sort)" \
    "$("$BIN" -x both.conf -F 1700000000 -t org.eml 2>/dev/null | tr -d '\r' | sort)"
  for m in signed2 org bad2; do cmp_run "verify-only $m" verify.conf $m.eml; done
  expect_eq "opendkim verify-only -vv" "$("$OD" -x verify.conf -vv -t signed2.eml 2>/dev/null | norm)" \
    "$("$BIN" -x verify.conf -vv -t signed2.eml 2>/dev/null)"
  # A message signed through the SigningTable: the screen and final scripts see no signatures.
  printf 'Mode sv\n%s\nSigningTable refile:%s/signingtable\nScreenPolicyScript %s/probe.lua\nFinalPolicyScript %s/probe.lua\n' \
    "$common" "$T" "$T" "$T" > probesign.conf
  expect_eq "opendkim probe signing" "$("$OD" -x probesign.conf -F 1700000000 -t org.eml 2>&1 >/dev/null)" \
    "$("$BIN" -x probesign.conf -F 1700000000 -t org.eml 2>&1 >/dev/null)"
  # odkim.verify next to a SigningTable match: verified and signed (AR, then the signature).
  for m in signed2 org; do
    expect_eq "opendkim sign+verify $m -vv" "$("$OD" -x table.conf -F 1700000000 -vv -t $m.eml 2>/dev/null | norm)" \
      "$("$BIN" -x table.conf -F 1700000000 -vv -t $m.eml 2>/dev/null)"
  done
  cmp_run "screen netsig" screen.conf netsig.eml -vv
  cmp_run "screen signed2" screen.conf signed2.eml
  # The final script: opendkim prints its header and reply as the script calls them,
  # inkan-dkim applies them at the end: compare the lines in order of appearance sorted.
  for m in org signed2 bad2; do
    expect_eq "opendkim final $m -vv" "$("$OD" -x final.conf -vv -t $m.eml 2>/dev/null | norm | sort)" \
      "$("$BIN" -x final.conf -vv -t $m.eml 2>/dev/null | sort)"
    expect_eq "opendkim final $m -v" "$("$OD" -x final.conf -v -t $m.eml 2>&1 >/dev/null | norm)" \
      "$("$BIN" -x final.conf -v -t $m.eml 2>&1 >/dev/null)"
  done
  # odkim.quarantine and odkim.del_header (printed as called by opendkim, at the end by inkan).
  printf 'odkim.quarantine(ctx, "held by policy")\nodkim.del_header(ctx, "Subject", 0)\n' > q.lua
  printf 'Mode v\n%s\nFinalPolicyScript %s/q.lua\n' "$vcommon" "$T" > q.conf
  for m in org signed2; do
    out=$("$BIN" -x q.conf -vv -t $m.eml 2>/dev/null)
    expect_has "quarantine $m" "$out" "### QUARANTINE: reason='held by policy'"
    expect_has "del_header $m" "$out" "### CHGHEADER: hname='Subject' idx=1 hvalue='(null)'"
    expect_eq "opendkim quarantine $m -vv" "$("$OD" -x q.conf -vv -t $m.eml 2>/dev/null | norm | sort)" "$(printf '%s\n' "$out" | sort)"
  done
  expect_eq "opendkim LuaOnlySigning unknown" "$("$OD" -x only.conf -t org.eml 2>&1 | grep -c 'unrecognized parameter')" 1
  expect_eq "opendkim StatisticsPolicyScript unknown" "$("$OD" -x stats.conf -t org.eml 2>&1 | grep -c 'unrecognized parameter')" 1
else
  echo "SKIP: $OD not installed, comparison with opendkim skipped"
fi

## 7. The odkim functions Debian's build has or lacks: the names each hook registers,
## add_rcpt / del_rcpt, xtag, resign, spam (nil) and rbl_check.
# Every name of `odkim`, sorted, hook by hook (the start-up run with a NULL ctx skipped).
cat > names.lua <<'LUA'
if odkim.get_fromdomain(ctx) == "dkimf_xs_fromdomain" then return end
local t = {}
for k in pairs(odkim) do t[#t + 1] = k end
table.sort(t)
io.stderr:write(table.concat(t, " "), "\n")
LUA
for hook in Setup Screen Final; do
  printf 'Mode v\n%s\n%sPolicyScript %s/names.lua\n' "$vcommon" "$hook" "$T" > names.conf
  names=$("$BIN" -x names.conf -t org.eml 2>&1 >/dev/null)
  expect_not "$hook: no odkim.spam" " $names " " spam "
  [ $hook = Final ] && expect_has "Final: add_rcpt, del_rcpt" "$names" "add_header add_rcpt del_header del_rcpt"
  [ $hook = Final ] && expect_has "Final: rbl_check, xtag" "$names" " rbl_check "
  [ $hook = Setup ] && expect_has "Setup: resign, xtag" "$names" "replace_header resign set_result"
  [ -x "$OD" ] && expect_eq "opendkim $hook: same odkim names" "$names" "$("$OD" -x names.conf -t org.eml 2>&1 >/dev/null)"
done

# Envelope recipients in the final script (test mode prints the changes with -vv, as test.c).
cat > rcpt.lua <<'LUA'
if odkim.get_fromdomain(ctx) == "dkimf_xs_fromdomain" then return end
io.stderr:write("add ", tostring(odkim.add_rcpt(ctx, "new@example.net")),
                " del ", tostring(odkim.del_rcpt(ctx, "RECIPIENT@example.com")),
                " unknown ", tostring(odkim.del_rcpt(ctx, "nobody@example.com")), "\n")
LUA
printf 'Mode v\n%s\nFinalPolicyScript %s/rcpt.lua\n' "$vcommon" "$T" > rcpt.conf
out=$("$BIN" -x rcpt.conf -vv -t org.eml 2>rcpt.err)
expect_has "-t: ADDRCPT" "$out" "### ADDRCPT: 'new@example.net'"
expect_has "-t: DELRCPT, the address as the MTA gave it" "$out" "### DELRCPT: 'recipient@example.com'"
expect_has "-t: X-Original-Recipient (opendkim-lua(3))" "$out" \
  "### ADDHEADER: hname='X-Original-Recipient' hvalue='rfc822;recipient@example.com'"
expect_has "-t: return values" "$(cat rcpt.err)" "add 1.0 del 1.0 unknown nil"
if [ -x "$OD" ]; then
  # opendkim 2.11 writes "Original-Recipient" where its man page promises "X-Original-Recipient".
  expect_eq "opendkim rcpt -vv" \
    "$("$OD" -x rcpt.conf -vv -t org.eml 2>/dev/null | norm | sed "s/hname='Original-Recipient'/hname='X-Original-Recipient'/" | sort)" \
    "$(printf '%s\n' "$out" | sort)"
  expect_eq "opendkim rcpt stderr" "$("$OD" -x rcpt.conf -vv -t org.eml 2>&1 >/dev/null | norm)" "$(cat rcpt.err)"
fi

# xtag, resign and spam as Debian's build has them (its signer adds no extension tag, no
# _FFR_RESIGN, no _FFR_REPUTATION).
cat > xtag.lua <<'LUA'
if odkim.get_fromdomain(ctx) == "dkimf_xs_fromdomain" then return end
io.stderr:write("xtag ", tostring(odkim.xtag(ctx, "x", "y")), " spam ", tostring(odkim.spam), "\n")
if odkim.resign then io.stderr:write("resign ", tostring(odkim.resign(ctx)), "\n") end
LUA
printf 'Mode sv\n%s\nSetupPolicyScript %s/xtag.lua\n' "$common" "$T" > xtag-setup.conf
printf 'Mode sv\n%s\nSigningTable refile:%s/signingtable\nFinalPolicyScript %s/xtag.lua\n' "$common" "$T" "$T" > xtag-final.conf
printf 'Mode v\n%s\nFinalPolicyScript %s/xtag.lua\n' "$vcommon" "$T" > xtag-verify.conf
expect_eq "xtag, resign: nothing requested" "$("$BIN" -x xtag-setup.conf -t org.eml 2>&1 >/dev/null)" "xtag 0.0 spam nil
resign nil"
expect_eq "xtag: final script of a signed message" "$("$BIN" -x xtag-final.conf -F 1700000000 -t org.eml 2>&1 >/dev/null)" \
  "xtag -1.0 spam nil"
expect_eq "xtag: final script, nothing signed" "$("$BIN" -x xtag-verify.conf -t org.eml 2>&1 >/dev/null)" "xtag 0.0 spam nil"
# After odkim.sign in the setup script opendkim aborts (dkim_add_xtag asserts); inkan-dkim: -1.
printf 'odkim.sign(ctx, "korg")\nio.stderr:write(tostring(odkim.xtag(ctx, "x", "y")), "\\n")\n' > xtag-sign.lua
printf 'Mode sv\n%s\nSetupPolicyScript %s/xtag-sign.lua\n' "$common" "$T" > xtag-sign.conf
expect_eq "xtag after odkim.sign: -1" "$("$BIN" -x xtag-sign.conf -F 1700000000 -t org.eml 2>&1 >/dev/null)" "-1.0"
if [ -x "$OD" ]; then
  for c in xtag-setup xtag-final xtag-verify; do
    expect_eq "opendkim $c" "$("$OD" -x $c.conf -F 1700000000 -t org.eml 2>&1 >/dev/null)" \
      "$("$BIN" -x $c.conf -F 1700000000 -t org.eml 2>&1 >/dev/null)"
  done
  ("$OD" -x xtag-sign.conf -t org.eml > /dev/null 2> xtag-od.err; true) 2>/dev/null  # bash's "Aborted" line
  expect_has "opendkim aborts on xtag after odkim.sign (lab)" "$(cat xtag-od.err)" "dkim_add_xtag: Assertion"
fi

# rbl_check: a fake DNS server on 127.0.0.1 (A records, a CNAME, SERVFAIL, a name it never
# answers), asked through Nameservers.
cat > rbl_dns.py <<'PY'
import socket, struct, sys
zone = {}
for line in open(sys.argv[1]):
    p = line.split()
    if p:
        zone.setdefault(p[0].lower(), []).append(p[1:])
def enc(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[2], "w").write(str(s.getsockname()[1]))
while True:
    msg, peer = s.recvfrom(4096)
    try:
        labels, pos = [], 12
        while msg[pos]:
            labels.append(msg[pos + 1:pos + 1 + msg[pos]].decode())
            pos += 1 + msg[pos]
        qtype = struct.unpack("!H", msg[pos + 1:pos + 3])[0]
        question, name = msg[12:pos + 5], ".".join(labels).lower()
    except Exception:
        continue
    entries, flags, answers = zone.get(name), 0x8080 | (msg[2] & 1) << 8, []
    if entries is None:
        flags |= 3
    elif entries[0][0] == "DROP":
        continue
    elif entries[0][0] == "SERVFAIL":
        flags |= 2
    else:
        for e in entries:
            if e[0] == "A" and qtype == 1:
                answers.append(b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(e[1]))
            elif e[0] == "CNAME":
                rd = enc(e[1])
                answers.append(b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 60, len(rd)) + rd)
                for t in zone.get(e[1].lower(), []):
                    if t[0] == "A" and qtype == 1:
                        answers.append(rd + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(t[1]))
    s.sendto(msg[0:2] + struct.pack("!HHHHH", flags, 1, len(answers), 0, 0) + question + b"".join(answers), peer)
PY
cat > rbl.zone <<'ZONE'
2.0.0.127.bl.test A 127.0.0.2
multi.bl.test A 127.0.0.2
multi.bl.test A 127.0.0.3
alias.bl.test CNAME target.bl.test
target.bl.test A 127.1.2.254
fail.bl.test SERVFAIL
slow.bl.test DROP
nodata.bl.test TXT x
ZONE
"$PY" rbl_dns.py rbl.zone rbl.port &
PIDS+=($!)
for _ in $(seq 100); do [ -s rbl.port ] && break; sleep 0.05; done
[ -s rbl.port ] || fail "fake RBL DNS server did not start"
cat > rbl.lua <<'LUA'
if odkim.get_fromdomain(ctx) == "dkimf_xs_fromdomain" then return end
local function p(...)
  local t = {}
  for i = 1, select("#", ...) do t[#t + 1] = tostring((select(i, ...))) end
  io.stderr:write(select("#", ...), ": ", table.concat(t, " "), "\n")
end
p(odkim.rbl_check(ctx, "2.0.0.127", "bl.test"))
p(odkim.rbl_check(ctx, "3.0.0.127", "bl.test"))
p(odkim.rbl_check(ctx, "alias", "BL.test", 5))
p(odkim.rbl_check(ctx, "nodata", "bl.test"))
p(odkim.rbl_check(ctx, "fail", "bl.test"))
p(odkim.rbl_check(ctx, "multi", "bl.test"))
p(odkim.rbl_check(ctx, "slow", "bl.test", 1))
LUA
printf 'Mode v\nNameservers 127.0.0.1@%s\nDNSTimeout 4\nFinalPolicyScript %s/rbl.lua\n' "$(cat rbl.port)" "$T" > rbl.conf
t0=$(date +%s%N)
out=$("$BIN" -x rbl.conf -t org.eml 2>&1 >/dev/null)
ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "rbl_check through the resolver" "$out" "4: 127.0 0.0 0.0 2.0
0: 
4: 127.0 1.0 2.0 254.0
0: 
0: 
1: nil
1: nil"
expect_eq "rbl_check: the script's 1 s timeout bounds the wait" \
  "$([ "$ms" -ge 900 ] && [ "$ms" -lt 3500 ] && echo bounded || echo "$ms ms")" bounded
# Argument errors and an empty query root: opendkim's errors (no DNS needed).
cat > rblerr.lua <<'LUA'
if odkim.get_fromdomain(ctx) == "dkimf_xs_fromdomain" then return end
for _, args in ipairs({ {"x", ""}, {"x"}, {"x", "y", "z"}, {{}, "y"}, {"x", "y", 1, 2} }) do
  io.stderr:write(tostring(select(2, pcall(odkim.rbl_check, ctx, table.unpack(args)))), "\n")
end
io.stderr:write(tostring(select(2, pcall(odkim.rbl_check, 1, "x", "y"))), "\n")
LUA
printf 'Mode v\n%s\nFinalPolicyScript %s/rblerr.lua\n' "$vcommon" "$T" > rblerr.conf
rblerr=$("$BIN" -x rblerr.conf -t org.eml 2>&1 >/dev/null)
expect_eq "rbl_check errors" "$rblerr" "odkim.rbl_check(): RBL query failed
odkim.rbl_check(): incorrect argument count
odkim.rbl_check(): incorrect argument type
odkim.rbl_check(): incorrect argument type
odkim.rbl_check(): incorrect argument count
odkim.rbl_check(): incorrect argument type"
if [ -x "$OD" ]; then
  expect_eq "opendkim rbl_check errors" "$("$OD" -x rblerr.conf -t org.eml 2>&1 >/dev/null)" "$rblerr"
  # opendkim's rbl_check cannot be pointed at this server: with Nameservers it aborts (lab).
  ("$OD" -x rbl.conf -t org.eml > /dev/null 2> rbl-od.err; true) 2>/dev/null
  expect_has "opendkim rbl_check aborts with Nameservers (lab)" "$(cat rbl-od.err)" "dkimf_ub_nslist: Assertion"
fi

# The daemons on loopback, driven with the milter-protocol client: SMFIR_ADDRCPT / DELRCPT.
# (An MTA that does not offer them is covered by milters/common's runtime tests.)
if [ ! -x "$MC" ]; then
  fail "milter-client not found at $MC"
else
  cat > rcptd.lua <<'LUA'
local a = odkim.add_rcpt(ctx, "audit@example.net")
local d = odkim.del_rcpt(ctx, "BOB@example.com")
odkim.add_header(ctx, "X-Rcpt", tostring(a) .. " " .. tostring(d))
LUA
  start() {  # start NAME PROG: a daemon running rcptd.lua; $NAME = its socket
    local port
    port=$(free_port)
    printf 'Mode v\n%s\nFinalPolicyScript %s/rcptd.lua\nSocket inet:%s@127.0.0.1\nBackground no\nSyslog no\n' \
      "$vcommon" "$T" "$port" > "$1.d.conf"
    "$2" -f -x "$1.d.conf" > "$1.log" 2>&1 &
    PIDS+=($!)
    testlib_wait_port "$port"
    printf -v "$1" '%s' "inet:$port@127.0.0.1"
  }
  send() { "$MC" -s "$1" -i QRC1 -r '<bob@example.com>' -r '<carol@example.com>' "$2" 2>&1; }
  actions() { printf '%s\n' "$1" | sed -n 's/^negotiated: .* actions=\(0x[0-9a-f]*\) .*/\1/p'; }
  start ik "$BIN"
  out=$(send "$ik" org.eml)
  a=$(actions "$out")
  expect_eq "daemon: SMFIF_ADDRCPT and SMFIF_DELRCPT negotiated" "$(((${a:-0} & 0xc) == 0xc))" 1
  expect_has "daemon: SMFIR_ADDRCPT" "$out" 'modification: add-rcpt audit@example.net ""'
  expect_has "daemon: SMFIR_DELRCPT, the address without brackets" "$out" 'modification: delete-rcpt bob@example.com ""'
  expect_has "daemon: X-Original-Recipient" "$out" 'X-Original-Recipient " rfc822;bob@example.com"'
  expect_has "daemon: both granted" "$out" 'X-Rcpt " 1.0 1.0"'
  expect_has "daemon: accepted" "$out" "eom: accept"
  testlib_stop_all
  if [ -x "$OD" ]; then
    # opendkim 2.11 does not ask for SMFIF_ADDRCPT/DELRCPT: its add_rcpt answers nil, its
    # del_rcpt 1 while nothing changes (smfi_delrcpt fails, no header).
    start od "$OD"
    oo=$(send "$od" org.eml)
    a=$(actions "$oo")
    expect_eq "opendkim daemon: no ADDRCPT/DELRCPT asked for (lab)" "$(((${a:-0xc} & 0xc) == 0))" 1
    expect_not "opendkim daemon: no SMFIR_ADDRCPT (lab)" "$oo" "add-rcpt"
    expect_has "opendkim daemon: add_rcpt nil, del_rcpt 1 (lab)" "$oo" 'X-Rcpt "nil 1.0"'
    testlib_stop_all
  fi
fi

testlib_finish
