#!/bin/bash
# inkan-dkim with OpenDKIM `ldap:` data sets (opendkim(8) DATA SETS e; opendkim.conf(5) LDAP*):
# a private slapd (mdb back end on 127.0.0.1:PORT and an ldapi socket under $T, started and
# killed here, entries loaded with ldapadd) answers KeyTable and SigningTable lookups. Each
# message is signed by `inkan-dkim -t` with a fixed time (-F) and, when /usr/sbin/opendkim is
# installed, by `opendkim -t` with the same opendkim.conf: the output (DKIM-Signature and log
# lines included) must be identical. Also: an entry added without reload is used by the next
# message, several URLs with the first server down, a wrong LDAPBindPassword, a server that
# is down at start (with and without SoftStart).
#
# usage: ldap_dataset_test.sh /path/to/inkan-dkim [/usr/sbin/opendkim]
set -u
source "$(dirname "$0")/testlib.sh"
testlib_init "$1" "${2:-}"

SLAPD=/usr/sbin/slapd
LDAPADD=$(command -v ldapadd || true)
if [ ! -x "$SLAPD" ] || [ -z "$LDAPADD" ]; then
  # CI installs slapd and ldap-utils: only an explicit INKAN_ALLOW_SKIP=1 turns this into a skip.
  if [ "${INKAN_ALLOW_SKIP:-0}" = 1 ]; then
    echo "SKIP: slapd / ldap-utils not installed"
    exit 0
  fi
  echo "FAIL: slapd and ldap-utils are needed (apt-get install slapd ldap-utils)"
  exit 1
fi
ik_t() { "$BIN" "$@" 2>&1; }
[ $HAVE_OD = 1 ] || echo "note: $OD not installed, OpenDKIM comparison skipped"
cd "$T" || exit 1

## The server.
PORT=$(free_port)
DEAD=$(free_port)
ROOTDN=cn=admin,dc=example,dc=org
ROOTPW=s3cret
mkdir -p db
cat > slapd.conf <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile $T/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
suffix "dc=example,dc=org"
rootdn "$ROOTDN"
rootpw $ROOTPW
directory $T/db
maxsize 10485760
access to * by users read by anonymous auth
EOF
SOCK=$(printf '%s' "$T/ldapi" | sed 's#/#%2F#g')
SLAPD_PID=
start_slapd() {
  "$SLAPD" -f slapd.conf -h "ldap://127.0.0.1:$PORT/ ldapi://$SOCK/" -d 0 >>slapd.log 2>&1 &
  SLAPD_PID=$!
  PIDS+=("$SLAPD_PID")
  testlib_wait_port "$PORT"
}
stop_slapd() { testlib_stop "$SLAPD_PID"; }
ldif_add() { "$LDAPADD" -x -H "ldap://127.0.0.1:$PORT" -D "$ROOTDN" -w "$ROOTPW" >/dev/null 2>>slapd.log; }
start_slapd

P=$(testlib_genkey sel.private)
{ testlib_keyline example.org "$P"; testlib_keyline example.net "$P"; } > keys
testlib_verify_conf "$T/keys" > verify.conf

# KeyTable entries under ou=keys (cn = key name; o, ou, description = domain, selector, key),
# SigningTable entries under ou=signing (mail = the looked-up name, description = key name).
ldif_add <<EOF || fail "ldapadd"
dn: dc=example,dc=org
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=keys,dc=example,dc=org
objectClass: organizationalUnit
ou: keys

dn: ou=signing,dc=example,dc=org
objectClass: organizationalUnit
ou: signing

dn: cn=k-org,ou=keys,dc=example,dc=org
objectClass: inetOrgPerson
cn: k-org
sn: key
o: example.org
ou: sel
description: $T/sel.private

dn: cn=k-net,ou=keys,dc=example,dc=org
objectClass: inetOrgPerson
cn: k-net
sn: key
o: example.net
ou: sel
description: $T/sel.private

dn: cn=s1,ou=signing,dc=example,dc=org
objectClass: inetOrgPerson
cn: s1
sn: sign
mail: a@example.org
description: k-org

dn: cn=s2,ou=signing,dc=example,dc=org
objectClass: inetOrgPerson
cn: s2
sn: sign
mail: example.net
description: k-net
EOF

KT="ldap://127.0.0.1:$PORT/ou=keys,dc=example,dc=org?o,ou,description?one?(cn=\$d)"
ST="ldap://127.0.0.1:$PORT/ou=signing,dc=example,dc=org?description?one?(mail=\$d)"
conf() {  # conf KEYTABLE SIGNINGTABLE [EXTRA LINES...]
  printf 'Mode s\nRequireSafeKeys no\nCanonicalization relaxed/relaxed\nKeyTable %s\nSigningTable %s\n' "$1" "$2"
  printf 'LDAPBindUser %s\nLDAPBindPassword %s\n' "$ROOTDN" "$ROOTPW"
  shift 2
  [ $# -gt 0 ] && printf '%s\n' "$@"
}
msg() {  # msg FROM OUT
  printf 'From: %s\nTo: b@example.com\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: hello\n\nbody line\n' "$1" \
    | crlf > "$2"
}
msg a@example.org org.eml
msg x@example.net net.eml
msg b@example.org org2.eml
msg z@other.test other.eml

## Lookups against opendkim: found, found by domain, not found.
conf "$KT" "$ST" > ldap.conf
for m in org net org2 other; do
  got=$(ik_t -x ldap.conf -F 1700000000 -t $m.eml)
  [ $HAVE_OD = 1 ] && expect_eq "ldap: $m = opendkim" "$got" "$(od_t -x ldap.conf -F 1700000000 -t $m.eml)"
done
expect_has "org signed with k-org" "$(ik_t -x ldap.conf -F 1700000000 -t org.eml)" "d=example.org; s=sel;"
expect_has "net signed by domain entry" "$(ik_t -x ldap.conf -F 1700000000 -t net.eml)" "d=example.net; s=sel;"
expect_not "b@example.org has no entry" "$(ik_t -x ldap.conf -F 1700000000 -t org2.eml)" "DKIM-Signature"
expect_not "other.test has no entry" "$(ik_t -x ldap.conf -F 1700000000 -t other.eml)" "DKIM-Signature"
# The signature verifies.
{ ik_t -x ldap.conf -F 1700000000 -t org.eml | tail -n +2 | crlf; cat org.eml; } > signed.eml
expect_eq "ldap: signature verifies" "$(ik_t -x verify.conf -t signed.eml)" \
  "inkan-dkim: signed.eml: verification (s=sel, d=example.org, 2048-bit key) succeeded"

## An entry added without reload answers the next lookup.
ldif_add <<EOF || fail "ldapadd s3"
dn: cn=s3,ou=signing,dc=example,dc=org
objectClass: inetOrgPerson
cn: s3
sn: sign
mail: b@example.org
description: k-org
EOF
got=$(ik_t -x ldap.conf -F 1700000000 -t org2.eml)
expect_has "new entry signs" "$got" "d=example.org; s=sel;"
[ $HAVE_OD = 1 ] && expect_eq "new entry = opendkim" "$got" "$(od_t -x ldap.conf -F 1700000000 -t org2.eml)"

## A SigningTable entry naming a key the KeyTable lacks: the message fails (EX_SOFTWARE in -t).
ldif_add <<EOF || fail "ldapadd s6"
dn: cn=s6,ou=signing,dc=example,dc=org
objectClass: inetOrgPerson
cn: s6
sn: sign
mail: c@example.org
description: k-missing
EOF
msg c@example.org c.eml
got=$(ik_t -x ldap.conf -F 1700000000 -t c.eml; echo "rc=$?")
expect_eq "unknown key: rc" "$got" "rc=70"
if [ $HAVE_OD = 1 ]; then
  od=$(od_t -x ldap.conf -F 1700000000 -t c.eml)
  odrc=$("$OD" -x ldap.conf -F 1700000000 -t c.eml >/dev/null 2>&1; echo $?)
  expect_eq "unknown key = opendkim" "$got" "${od}rc=$odrc"
fi

## Several URLs, the first server down; ldapi; $D in a filter.
conf "ldap://127.0.0.1:$DEAD/ou=keys,dc=example,dc=org?o,ou,description?one?(cn=\$d) ldap://127.0.0.1:$PORT/" \
  "ldap://127.0.0.1:$DEAD/ou=signing,dc=example,dc=org?description?one?(mail=\$d) ldap://127.0.0.1:$PORT/" > multi.conf
got=$(ik_t -x multi.conf -F 1700000000 -t org.eml)
expect_has "first server down: signs" "$got" "d=example.org; s=sel;"
[ $HAVE_OD = 1 ] && expect_eq "first server down = opendkim" "$got" "$(od_t -x multi.conf -F 1700000000 -t org.eml)"
# ldapi (the server's socket under $T) and $D: "example.net" -> "dc=example,dc=net" in the filter.
ldif_add <<EOF || fail "ldapadd s5"
dn: cn=s5,ou=signing,dc=example,dc=org
objectClass: inetOrgPerson
cn: s5
sn: sign
mail: dc=example,dc=net
description: k-net
EOF
conf "ldapi://$SOCK/ou=keys,dc=example,dc=org?o,ou,description?one?(cn=\$d)" \
  "ldapi://$SOCK/ou=signing,dc=example,dc=org?description?one?(mail=\$D)" > ldapi.conf
got=$(ik_t -x ldapi.conf -F 1700000000 -t net.eml)
expect_has "ldapi + \$D: signs" "$got" "d=example.net; s=sel;"
expect_eq "ldapi + \$D = ldap:" "$got" "$(ik_t -x ldap.conf -F 1700000000 -t net.eml)"
# opendkim-db.c hands libldap "ldapi://PATH:0", which libldap reads as its default socket
# (/var/run/slapd/ldapi), not the URL's: opendkim cannot use this server. inkan-dkim connects
# to the socket the URL names (opendkim(8): "a set of LDAP URLs").
if [ $HAVE_OD = 1 ]; then
  od=$(od_t -x ldapi.conf -F 1700000000 -t net.eml)
  expect_has "opendkim: ldapi socket not reached (its quirk)" "$od" "Can't contact LDAP server"
fi

## libldap (and its gnutls/sasl) is mapped by a running daemon only when an ldap: data set is
## configured: it is opened with dlopen, not linked.
maps_of() {  # maps_of CONF: the shared objects of a running inkan-dkim with CONF
  local pid out
  { cat "$1"; echo "Socket local:$T/m.sock"; } > daemon.conf
  rm -f "$T/m.sock"
  "$BIN" -x daemon.conf -f >>daemon.log 2>&1 &
  pid=$!
  PIDS+=("$pid")
  testlib_wait_socket "$T/m.sock"
  out=$(grep -o '[^/]*\.so[.0-9]*' "/proc/$pid/maps" | sort -u | tr '\n' ' ')
  testlib_stop "$pid"
  echo "$out"
}
printf 'Mode s\nRequireSafeKeys no\nKeyFile %s/sel.private\nSelector sel\nDomain example.org\n' "$T" > plain.conf
expect_not "plain daemon: no libldap" "$(maps_of plain.conf)" "libldap"
expect_has "ldap: daemon: libldap mapped" "$(maps_of ldap.conf)" "libldap"

## The other data-set options as ldap: URLs. InternalHosts and ExemptDomains are asked per
## message (dkimf_checkhost / dkimf_checkip keys: "!name", "name", "!.suffix", ... then the
## address and its prefixes), so an entry added to the directory is used by the next message;
## SignHeaders (dkimf_db_mkarray) yields an empty list: every field but the omitted is signed.
ldif_add <<EOF || fail "ldapadd hosts"
dn: ou=hosts,dc=example,dc=org
objectClass: organizationalUnit
ou: hosts

dn: ou=exempt,dc=example,dc=org
objectClass: organizationalUnit
ou: exempt
EOF
HOSTS="ldap://127.0.0.1:$PORT/ou=hosts,dc=example,dc=org?description?one?(cn=\$d)"
EXEMPT="ldap://127.0.0.1:$PORT/ou=exempt,dc=example,dc=org?description?one?(cn=\$d)"
host_entry() {  # host_entry OU CN: an entry whose cn is the looked-up key
  ldif_add <<EOF || fail "ldapadd $2"
dn: cn=$2,ou=$1,dc=example,dc=org
objectClass: inetOrgPerson
cn: $2
sn: host
description: 1
EOF
}
host_delete() {  # host_delete OU CN
  ldapdelete -x -H "ldap://127.0.0.1:$PORT" -D "$ROOTDN" -w "$ROOTPW" "cn=$2,ou=$1,dc=example,dc=org" \
    >/dev/null 2>>slapd.log || fail "ldapdelete $2"
}
{ printf 'Mode sv\nRequireSafeKeys no\nKeyFile %s/sel.private\nSelector sel\nDomain example.org\n' "$T"
  printf 'LDAPBindUser %s\nLDAPBindPassword %s\nInternalHosts %s\nExemptDomains %s\n' "$ROOTDN" "$ROOTPW" "$HOSTS" "$EXEMPT"
} > lists.conf
if [ ! -x "$MC" ]; then
  fail "milter-client not found at $MC"
else
  start_d() {  # start_d NAME PROG CONF: a daemon on loopback; $NAME = its socket
    local port
    port=$(free_port)
    printf 'Socket inet:%s@127.0.0.1\nBackground no\n' "$port" | cat "$3" - > "$1.daemon.conf"
    "$2" -f -x "$1.daemon.conf" > "$1.log" 2>&1 &
    PIDS+=($!)
    testlib_wait_port "$port"
    printf -v "$1" '%s' "inet:$port@127.0.0.1"
  }
  send_d() {  # send_d SPEC QUEUEID: org.eml from client.example.net [192.0.2.7]
    "$MC" -s "$1" -i "$2" --client-addr 192.0.2.7 --client-host client.example.net \
      -f '<bounce@example.org>' -r '<b@example.com>' org.eml 2>&1
  }
  signed_d() { case "$1" in *DKIM-Signature*"d=example.org;"*) echo yes ;; *) echo no ;; esac; }
  verdict_d() { printf '%s\n' "$1" | grep -Eo '^[a-z]+: (accept|tempfail|reject|discard)$' | sed 's/^[a-z]*: //' | head -1; }
  start_d ik "$BIN" lists.conf
  IKD=${PIDS[-1]}
  [ $HAVE_OD = 1 ] && start_d od "$OD" lists.conf
  nq=0
  case_d() {  # case_d LABEL WANT_SIGNED: inkan as expected, opendkim the same
    nq=$((nq + 1))
    local out oo
    out=$(send_d "$ik" "QL$nq")
    expect_eq "ldap $1: signed" "$(signed_d "$out")" "$2"
    if [ $HAVE_OD = 1 ]; then
      oo=$(send_d "$od" "QL$nq")
      expect_eq "ldap $1: as opendkim" "$(signed_d "$out"):$(verdict_d "$out")" "$(signed_d "$oo"):$(verdict_d "$oo")"
    fi
  }
  case_d "InternalHosts: no entry" no
  host_entry hosts 192.0.2.0/24
  case_d "InternalHosts 192.0.2.0/24 (added without reload)" yes
  host_entry hosts '!192.0.2.7'
  case_d "InternalHosts !192.0.2.7" no
  host_delete hosts '!192.0.2.7'
  host_delete hosts 192.0.2.0/24
  host_entry hosts .example.net
  case_d "InternalHosts .example.net" yes
  host_entry hosts '!client.example.net'
  case_d "InternalHosts !client.example.net" no
  host_entry exempt example.org
  host_entry hosts 192.0.2.7
  case_d "ExemptDomains example.org" no
  [ $HAVE_OD = 1 ] && testlib_stop "${PIDS[-1]}"  # opendkim 2.11 is not asked with its server gone
  stop_slapd
  out=$(send_d "$ik" QLD)
  expect_eq "ldap server down: ExemptDomains lookup fails: tempfail" "$(verdict_d "$out")" tempfail
  expect_eq "ldap daemon survives the server's absence" "$(kill -0 "$IKD" 2>/dev/null && echo up)" up
  testlib_stop_all
  start_slapd
fi
{ printf 'Mode s\nRequireSafeKeys no\nKeyFile %s/sel.private\nSelector sel\nDomain example.org\n' "$T"
  printf 'LDAPBindUser %s\nLDAPBindPassword %s\nSignHeaders %s\n' "$ROOTDN" "$ROOTPW" "$HOSTS"
} > mk.conf
printf 'From: a@example.org\nTo: b@example.com\nX-Extra: 1\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: hello\n\nbody line\n' \
  | crlf > extra.eml
got=$(ik_t -x mk.conf -F 1700000000 -t extra.eml)
expect_has "SignHeaders ldap: every field but the omitted" "$got" "h=From:To:X-Extra:Date:Subject;"
[ $HAVE_OD = 1 ] && expect_eq "SignHeaders ldap: = opendkim" "$got" "$(od_t -x mk.conf -F 1700000000 -t extra.eml)"
sed 's/^SignHeaders/MacroList/' mk.conf > macro.conf
"$BIN" -x macro.conf -t org.eml >/dev/null 2>err; rc=$?
expect_eq "MacroList ldap: refused" "$rc:$(grep -c 'invalid data set type for MacroList' err)" "78:1"
## -Q on an ldap: URL (no configuration file: an anonymous bind, which this server lets bind only).
q() { printf '%s\n%s\n' "$1" "$2" | "$3" -Q 2>&1; echo "rc=$?"; }
for query in k-org/3 nosuch/2 bad; do
  got=$(q "$KT" "$query" "$BIN")
  [ $HAVE_OD = 1 ] && expect_eq "-Q ldap $query = opendkim" "$got" "$(q "$KT" "$query" "$OD" | sed 's/^opendkim:/inkan-dkim:/')"
done

## Bind failures and a server down at start.
conf "$KT" "$ST" "LDAPBindPassword wrong" | grep -v '^LDAPBindPassword s3cret' > badpw.conf
"$BIN" -x badpw.conf -t org.eml >/dev/null 2>err; rc=$?
expect_eq "wrong password: rc (EX_CONFIG)" "$rc" 78
expect_has "wrong password: why" "$(cat err)" "Invalid credentials"
if [ $HAVE_OD = 1 ]; then
  odrc=$("$OD" -x badpw.conf -t org.eml >/dev/null 2>&1; echo $?)
  [ "$odrc" != 0 ] || fail "opendkim accepted a wrong LDAPBindPassword"
fi
stop_slapd
"$BIN" -x ldap.conf -t org.eml >/dev/null 2>err; rc=$?
expect_eq "server down: rc (EX_CONFIG)" "$rc" 78
expect_has "server down: why" "$(cat err)" "Can't contact LDAP server"
if [ $HAVE_OD = 1 ]; then
  odrc=$("$OD" -x ldap.conf -t org.eml >/dev/null 2>&1; echo $?)
  [ "$odrc" != 0 ] || fail "opendkim started without its LDAP server"
fi
{ cat ldap.conf; echo "SoftStart yes"; } > soft.conf
got=$(ik_t -x soft.conf -F 1700000000 -t org.eml)
[ $HAVE_OD = 1 ] && expect_eq "SoftStart, server down = opendkim" "$got" "$(od_t -x soft.conf -F 1700000000 -t org.eml)"
start_slapd
got=$(ik_t -x soft.conf -F 1700000000 -t org.eml)
expect_has "SoftStart, server up: signs" "$got" "d=example.org; s=sel;"
[ $HAVE_OD = 1 ] && expect_eq "SoftStart, server up = opendkim" "$got" "$(od_t -x soft.conf -F 1700000000 -t org.eml)"

stop_slapd
testlib_finish
