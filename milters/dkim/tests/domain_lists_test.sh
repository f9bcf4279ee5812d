#!/bin/bash
# Domain + SubDomains (single-key mode), DontSignMailTo and ExemptDomains from csl: and file:
# data sets, inkan-dkim compared with /usr/sbin/opendkim (Debian 2.11):
#   1. -t: Domain as a list and as a file, SubDomains on and off, From in the domain, in a
#      subdomain, a deeper one, mixed case, outside; opendkim signs a subdomain with the closest
#      listed parent: "d=<parent>; i=@<parent>" (mlfi_eoh: strlcpy(mctx_domain, p); setidentity).
#   2. -t: DontSignMailTo (the test recipient is always <recipient@example.com>, test.c): the
#      exact address matches in any case; a domain, ".domain", parent, bare local part or
#      "*@domain" entry does not (one dkimf_db_get per recipient). A match accepts at EOH.
#   3. Daemons on loopback driven by milter-client (opendkim does not open ExemptDomains in
#      test mode): DontSignMailTo with several recipients, recipients in other case and in a
#      subdomain; ExemptDomains with the From in the domain, a subdomain, another case, and
#      ".domain" / parent entries (exact key, case folded, no suffix matching).
# stdout, stderr and exit codes are compared separately (-t), the verdict and the signature
# (daemons). The opendkim half is skipped only when it is missing.
#
# usage: domain_lists_test.sh /path/to/inkan-dkim /path/to/milter-client [/usr/sbin/opendkim]
set -u
source "$(dirname "$0")/testlib.sh"
testlib_init "$1" "${3:-}"
MC=$(readlink -f "$2")
TESTLIB_DIFF=1
chmod 700 "$T"
[ $HAVE_OD = 1 ] || echo "note: $OD not installed; opendkim comparisons skipped"
[ -x "$MC" ] || { echo "FAIL: milter-client not found at $2"; exit 1; }
cd "$T" || exit 1

testlib_genkey sel.private > /dev/null
msg() {  # msg FROM-DOMAIN FILE
  printf 'From: a@%s\nTo: b@example.com\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: hello\n\nbody line\n' "$1" |
    crlf > "$2"
}
DOMS="example.org sub.example.org a.b.example.org x.a.b.example.org Sub.Example.ORG example.net notexample.org example.org.evil"
for d in $DOMS; do msg "$d" "m-$d.eml"; done
# RequireSafeKeys no: $T is under /tmp, which opendkim refuses otherwise.
base() { printf 'Mode s\nSelector sel\nKeyFile %s\nRequireSafeKeys no\nAuthservID test.host\n' "$T/sel.private"; }

# run_t WHO PROG CONF FILE: WHO.out (LF, program name masked), WHO.err, WHO.rc
run_t() {
  local who=$1 prog=$2 conf=$3 file=$4
  "$prog" -x "$conf" -F 1700000000 -vv -t "$file" > "$who.out" 2> "$who.err"
  echo $? > "$who.rc"
  sed -i -e 's/\r$//' -e "s/^$(basename "$prog"):/PROG:/" "$who.out" "$who.err"
}
# compare_t LABEL CONF FILE: inkan-dkim -t as opendkim -t; the inkan output stays in ik.*
compare_t() {
  run_t ik "$BIN" "$2" "$3"
  [ $HAVE_OD = 1 ] || return 0
  run_t od "$OD" "$2" "$3"
  expect_eq "$1: stdout as opendkim" "$(cat ik.out)" "$(cat od.out)"
  expect_eq "$1: stderr as opendkim" "$(cat ik.err)" "$(cat od.err)"
  expect_eq "$1: exit code as opendkim" "$(cat ik.rc)" "$(cat od.rc)"
}
# sig_of: "d=<d> i=<i>" of the signature inkan-dkim added (-vv: ik.out's INSHEADER), "none"
# when unsigned.
sig_of() {
  if ! grep -q "hname='DKIM-Signature'" ik.out; then echo none; return; fi
  local h d i
  h=$(sed -n "/hname='DKIM-Signature'/,/b=/p" ik.out | tr -d '\n\t ' | sed "s/.*hvalue='/;/")
  d=$(printf '%s' "$h" | grep -o ';d=[^;]*' | cut -d= -f2)
  i=$(printf '%s' "$h" | grep -o ';i=[^;]*' | cut -d= -f2)
  echo "d=$d i=${i:--}"
}

## 1. Domain + SubDomains.
printf '# signing domains\nExample.ORG\n\nb.example.org\n' > domains
{ base; printf 'Domain example.org,B.example.org\nSubDomains yes\n'; } > list-on.conf
{ base; printf 'Domain example.org,B.example.org\nSubDomains no\n'; } > list-off.conf
{ base; printf 'Domain file:%s\nSubDomains yes\n' "$T/domains"; } > file-on.conf
{ base; printf 'Domain %s\nSubDomains no\n' "$T/domains"; } > file-off.conf
{ base; printf 'Domain example.org\nSubDomains yes\n'; } > one-on.conf
{ base; printf 'Domain *\nSubDomains yes\n'; } > star-on.conf
{ base; printf 'Domain org\nSubDomains yes\n'; } > tld-on.conf
# want CONF DOMAIN EXPECTED ("d=... i=..." or none)
want() {
  compare_t "$1 From $2" "$1" "m-$2.eml"
  expect_eq "$1 From $2: signature" "$(sig_of)" "$3"
}
for c in list-on file-on; do
  want $c.conf example.org "d=example.org i=-"
  want $c.conf sub.example.org "d=example.org i=@example.org"
  want $c.conf a.b.example.org "d=b.example.org i=@b.example.org"        # the closest parent
  want $c.conf x.a.b.example.org "d=b.example.org i=@b.example.org"
  want $c.conf Sub.Example.ORG "d=example.org i=@example.org"
  want $c.conf example.net none
  want $c.conf notexample.org none
  want $c.conf example.org.evil none
done
for c in list-off file-off; do
  want $c.conf example.org "d=example.org i=-"
  want $c.conf sub.example.org none
  want $c.conf a.b.example.org none
  want $c.conf Sub.Example.ORG none
  want $c.conf example.net none
done
want one-on.conf a.b.example.org "d=example.org i=@example.org"
want one-on.conf x.a.b.example.org "d=example.org i=@example.org"
want star-on.conf sub.example.org "d=sub.example.org i=-"                  # "*" before the walk
want star-on.conf example.net "d=example.net i=-"
want tld-on.conf example.org "d=org i=@org"
want tld-on.conf example.net none
# A value after the key (file: whitespace, csl: '='): the key alone is looked up.
printf 'example.org  some value\n' > domains-v
{ base; printf 'Domain file:%s\nSubDomains yes\n' "$T/domains-v"; } > value-file.conf
{ base; printf 'Domain example.org=x\nSubDomains yes\n'; } > value-csl.conf
want value-file.conf example.org "d=example.org i=-"
want value-file.conf sub.example.org "d=example.org i=@example.org"
want value-csl.conf example.org "d=example.org i=-"
want value-csl.conf sub.example.org "d=example.org i=@example.org"

## 2. DontSignMailTo in -t (recipient <recipient@example.com>).
printf 'example.org\n' > one
# nosign CONF-VALUE SIGNED(yes|no): as csl and as file.
nosign() {
  local v=$1 w=$2 c
  { base; printf 'Domain example.org\nDontSignMailTo %s\n' "$v"; } > dsmt-csl.conf
  printf '%s\n' "$v" | tr ',' '\n' > dsmt-list
  { base; printf 'Domain example.org\nDontSignMailTo file:%s\n' "$T/dsmt-list"; } > dsmt-file.conf
  for c in csl file; do
    compare_t "DontSignMailTo $c '$v'" dsmt-$c.conf m-example.org.eml
    expect_eq "DontSignMailTo $c '$v': signed" "$([ "$(sig_of)" = none ] && echo no || echo yes)" "$w"
    if [ "$w" = no ]; then
      expect_has "DontSignMailTo $c '$v': accepted at EOH" "$(cat ik.err)" "mlfi_eoh() returned SMFIS_ACCEPT"
    fi
  done
}
nosign 'recipient@example.com' no
nosign 'RECIPIENT@Example.COM' no
nosign 'other@example.com,recipient@example.com' no
nosign 'example.com' yes
nosign '.example.com' yes
nosign 'com' yes
nosign '.com' yes
nosign 'recipient' yes
nosign '*@example.com' yes
nosign '@example.com' yes
nosign 'other@example.com' yes
nosign 'recipient@sub.example.com' yes
{ base; printf 'Domain example.org\nDontSignMailTo recipient@example.com=x\n'; } > dsmt-kv.conf
compare_t "DontSignMailTo csl 'recipient@example.com=x'" dsmt-kv.conf m-example.org.eml
expect_eq "DontSignMailTo csl 'recipient@example.com=x': unsigned" "$(sig_of)" none
printf 'recipient@example.com  some value\n' > dsmt-v
{ base; printf 'Domain example.org\nDontSignMailTo file:%s\n' "$T/dsmt-v"; } > dsmt-v.conf
compare_t "DontSignMailTo file with a value column" dsmt-v.conf m-example.org.eml
expect_eq "DontSignMailTo file with a value column: unsigned" "$(sig_of)" none

## 3. Daemons: several recipients, case, subdomains; ExemptDomains.
start() {  # start NAME PROG CONF: sets $NAME to the socket spec
  local name=$1 prog=$2 conf=$3 port
  port=$(free_port)
  printf 'Socket inet:%s@127.0.0.1\nBackground no\nSyslog yes\n' "$port" | cat "$conf" - > "$name.daemon.conf"
  "$prog" -f -x "$name.daemon.conf" > "$name.log" 2>&1 &
  PIDS+=($!)
  testlib_wait_port "$port"
  printf -v "$name" '%s' "inet:$port@127.0.0.1"
}
send() {  # send SPEC FILE QUEUEID [milter-client options...]
  local spec=$1 file=$2 qid=$3
  shift 3
  "$MC" -s "$spec" -i "$qid" -D connect:j=mx.test.host --client-addr 192.0.2.7 --client-host client.example.net \
    -f '<bounce@example.org>' "$@" "$file" 2>&1
}
verdict() { printf '%s\n' "$1" | sed -n 's/^result: \([a-z]*\).*/\1/p' | head -1; }
dsig() { printf '%s' "$1" | tr -d '\r\n\t' | grep -o 'DKIM-Signature.*' | grep -o ' d=[^;]*' | head -1; }
{ base; printf 'Domain *\nInternalHosts 192.0.2.7\n'
  printf 'DontSignMailTo recipient@example.com,Boss@Example.NET\n'
  printf 'ExemptDomains file:%s\n' "$T/exempt"; } > daemon.conf
printf 'Exempt.example\n.dot.example\nparent.example\n' > exempt
start ik "$BIN" daemon.conf
[ $HAVE_OD = 1 ] && start od "$OD" daemon.conf
for d in exempt.example EXEMPT.Example sub.exempt.example x.dot.example dot.example sub.parent.example parent.example; do
  msg "$d" "e-$d.eml"
done
n=0
# dcase LABEL FILE WANT(accept-unsigned|signed) [milter-client options...]
dcase() {
  local label=$1 file=$2 want=$3 out oo got
  shift 3
  n=$((n + 1))
  out=$(send "$ik" "$file" "QD$n" "$@")
  got=$([ -n "$(dsig "$out")" ] && echo signed || echo "$(verdict "$out")-unsigned")
  expect_eq "$label" "$got" "$want"
  if [ $HAVE_OD = 1 ]; then
    oo=$(send "$od" "$file" "QO$n" "$@")
    expect_eq "$label: verdict as opendkim" "$(verdict "$out")" "$(verdict "$oo")"
    expect_eq "$label: signature domain as opendkim" "$(dsig "$out")" "$(dsig "$oo")"
  fi
}
dcase "DontSignMailTo: one of two recipients" m-example.net.eml accept-unsigned -r '<a@b.example>' -r '<recipient@example.com>'
dcase "DontSignMailTo: two listed recipients" m-example.net.eml accept-unsigned -r '<recipient@example.com>' -r '<boss@example.net>'
dcase "DontSignMailTo: first of two recipients" m-example.net.eml accept-unsigned -r '<recipient@example.com>' -r '<a@b.example>'
dcase "DontSignMailTo: recipient in other case" m-example.net.eml accept-unsigned -r '<Recipient@EXAMPLE.com>'
dcase "DontSignMailTo: entry in other case" m-example.net.eml accept-unsigned -r '<boss@example.net>'
dcase "DontSignMailTo: recipient without <>" m-example.net.eml accept-unsigned -r 'recipient@example.com'
dcase "DontSignMailTo: recipient in a subdomain" m-example.net.eml signed -r '<recipient@sub.example.com>'
dcase "DontSignMailTo: other user, listed domain" m-example.net.eml signed -r '<x@example.com>'
dcase "DontSignMailTo: unlisted" m-example.net.eml signed -r '<a@b.example>'
dcase "ExemptDomains: exact" e-exempt.example.eml accept-unsigned
dcase "ExemptDomains: From in other case" e-EXEMPT.Example.eml accept-unsigned
dcase "ExemptDomains: subdomain of a listed domain" e-sub.exempt.example.eml signed
dcase "ExemptDomains: '.dot.example' entry, From x.dot.example" e-x.dot.example.eml signed
dcase "ExemptDomains: '.dot.example' entry, From dot.example" e-dot.example.eml signed
dcase "ExemptDomains: subdomain of 'parent.example'" e-sub.parent.example.eml signed
dcase "ExemptDomains: 'parent.example'" e-parent.example.eml accept-unsigned
expect_has "log: DontSignMailTo line (opendkim's)" "$(cat ik.log)" "QD1: skipping signing of mail to 'recipient@example.com'"
expect_has "log: the last recipient is looked up first" "$(cat ik.log)" "QD2: skipping signing of mail to 'boss@example.net'"
expect_has "log: the recipient as given" "$(cat ik.log)" "QD4: skipping signing of mail to 'Recipient@EXAMPLE.com'"

testlib_finish
