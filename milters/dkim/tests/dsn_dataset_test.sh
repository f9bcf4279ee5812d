#!/bin/bash
# inkan-dkim with OpenDKIM `dsn:` data sets (SQL through OpenDBX, libopendbx1-sqlite3): the
# same opendkim.conf with `KeyTable dsn:sqlite3://...` / `SigningTable dsn:...` run through
# `inkan-dkim -t` and `opendkim -t` (fixed time -F): identical output, DKIM-Signature included;
# the start-up check of the SigningTable's key names; a row added between two messages is used
# without reload (-t twice, and two daemons on loopback driven by milter-client); a missing
# table and an unopenable database give the same reaction and log lines as opendkim (syslog
# caught with an LD_PRELOAD shim); SoftStart. OpenDBX's sqlite3 back end opens host + dbase
# as one file name, so the DSN host "." and dbase "keys.db" name "./.keys.db" (the daemons
# run in the test directory). The opendkim half is skipped when it is missing.
#
# usage: dsn_dataset_test.sh /path/to/inkan-dkim [/usr/sbin/opendkim]
set -u
source "$(dirname "$0")/testlib.sh"
testlib_init "$1" "${2:-}"
chmod 700 "$T"
if [ ! -e /usr/lib/opendbx/libsqlite3backend.so ]; then
  if [ "${INKAN_ALLOW_SKIP:-}" = 1 ]; then echo "SKIP: libopendbx1-sqlite3 not installed"; exit 0; fi
  echo "FAIL: libopendbx1-sqlite3 (/usr/lib/opendbx/libsqlite3backend.so) not installed"; exit 1
fi
[ -x "$MC" ] || { echo "FAIL: milter-client not found at $MC"; exit 1; }
[ $HAVE_OD = 1 ] || echo "note: $OD not installed, OpenDKIM comparison skipped"
ik_t() { "$BIN" "$@" 2>&1; }
sql() { "$PY" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()' "$@"; }

cd "$T" || exit 1
P=$(testlib_genkey sel.private)
testlib_keyline example.org "$P" > keys
testlib_keyline example.net "$P" >> keys
testlib_verify_conf "$T/keys" > verify.conf
# The SigningTable names the key "%" (the sender's domain): opendkim checks every key name of
# the SigningTable at start-up, "%" literally, so the KeyTable has a row named "%" too.
sql .keys.db "
CREATE TABLE keytab(name TEXT, dom TEXT, sel TEXT, keyp TEXT);
CREATE TABLE signtab(addr TEXT, keyname TEXT, signer TEXT);
INSERT INTO keytab VALUES('k-org','example.org','sel','$T/sel.private');
INSERT INTO keytab VALUES('example.net','%','sel','$T/sel.private');
INSERT INTO keytab VALUES('%','unused.example','sel','$T/sel.private');
INSERT INTO signtab VALUES('example.org','k-org',NULL);
INSERT INTO signtab VALUES('Boss@example.net','%','chief@%');
INSERT INTO signtab VALUES('.example.net','example.net',NULL);"
KT='dsn:sqlite3://./keys.db/table=keytab?keycol=name?datacol=dom,sel,keyp'
ST='dsn:sqlite3://./keys.db/table=signtab?keycol=addr?datacol=keyname,signer'
printf 'Mode s\nRequireSafeKeys no\nCanonicalization relaxed/relaxed\nKeyTable %s\nSigningTable %s\n' "$KT" "$ST" > dsn.conf

msg() {  # msg FROM OUT
  printf 'From: %s\nTo: b@example.com\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: hello\n\nbody line\n' "$1" | crlf > "$2"
}
msg a@example.org org.eml
msg x@example.net net.eml
msg y@sub.example.net sub.eml
msg Boss@Example.NET boss.eml
msg boss@example.net lboss.eml
msg z@other.test other.eml
msg n@new.example new.eml

## 1. -t: the same signatures as opendkim, from the SQL tables.
for m in org net sub boss lboss other; do
  got=$(ik_t -x dsn.conf -F 1700000000 -t $m.eml)
  [ $HAVE_OD = 1 ] && expect_eq "-t $m = opendkim" "$got" "$(od_t -x dsn.conf -F 1700000000 -t $m.eml)"
done
expect_has "org: KeyTable row" "$(ik_t -x dsn.conf -F 1700000000 -t org.eml)" "d=example.org; s=sel;"
expect_has "sub: parent .example.net, KeyTable domain %" "$(ik_t -x dsn.conf -F 1700000000 -t sub.eml)" "d=sub.example.net;"
out=$(ik_t -x dsn.conf -F 1700000000 -t boss.eml)
expect_has "Boss@Example.NET: local-part as written, % key, signer" "$out" "i=chief@example.net;"
expect_not "boss@example.net: SQL compares case-sensitively" "$(ik_t -x dsn.conf -F 1700000000 -t lboss.eml)" "DKIM-Signature"
expect_not "other.test: no row" "$(ik_t -x dsn.conf -F 1700000000 -t other.eml)" "DKIM-Signature"
{ ik_t -x dsn.conf -F 1700000000 -t org.eml | tail -n +2 | crlf; cat org.eml; } > signed.eml
expect_eq "signature verifies" "$(ik_t -x verify.conf -t signed.eml)" \
  "inkan-dkim: signed.eml: verification (s=sel, d=example.org, 2048-bit key) succeeded"

## 2. A row added between two runs on the same database is used (no snapshot anywhere).
expect_not "new.example before the row" "$(ik_t -x dsn.conf -F 1700000000 -t new.eml)" "DKIM-Signature"
sql .keys.db "INSERT INTO signtab VALUES('new.example','k-org',NULL);"
got=$(ik_t -x dsn.conf -F 1700000000 -t new.eml)
expect_has "new.example after the row" "$got" "d=example.org; s=sel;"
[ $HAVE_OD = 1 ] && expect_eq "new.example = opendkim" "$got" "$(od_t -x dsn.conf -F 1700000000 -t new.eml)"

## 3. Start-up: a key name the KeyTable lacks, a missing KeyTable table, a malformed DSN.
cp .keys.db .bad.db
sql .bad.db "INSERT INTO signtab VALUES('x.example','k-missing',NULL);"
sed 's#//\./keys\.db#//./bad.db#g' dsn.conf > missingkey.conf
"$BIN" -x missingkey.conf -t org.eml >/dev/null 2>err; rc=$?
expect_eq "unknown key name: EX_CONFIG" "$rc" 78
expect_has "unknown key name: opendkim's words" "$(cat err)" 'could not find valid key record "k-missing" in KeyTable'
if [ $HAVE_OD = 1 ]; then
  expect_has "opendkim refuses it too" "$(od_t -x missingkey.conf -t org.eml; echo "rc=$?")" \
    'could not find valid key record "k-missing" in KeyTable'
fi
sed 's#table=keytab#table=nosuch#' dsn.conf > nokt.conf
"$BIN" -x nokt.conf -t org.eml >/dev/null 2>err; rc=$?
expect_eq "missing KeyTable table: EX_CONFIG" "$rc" 78
expect_has "missing KeyTable table: as opendkim" "$(cat err)" 'could not find valid key record "k-org" in KeyTable'
expect_has "missing KeyTable table: server's reason" "$(cat err)" "no such table: nosuch"
[ $HAVE_OD = 1 ] && expect_has "opendkim: missing KeyTable table" "$(od_t -x nokt.conf -t org.eml)" \
  'could not find valid key record "k-org" in KeyTable'
printf 'Mode s\nKeyTable dsn:sqlite3://./keys.db/keycol=name?datacol=dom\nSigningTable %s\n' "$ST" > malformed.conf
"$BIN" -x malformed.conf -t org.eml >/dev/null 2>err; rc=$?
expect_eq "malformed DSN: EX_CONFIG" "$rc" 78
expect_has "malformed DSN: why" "$(cat err)" "table="
if [ $HAVE_OD = 1 ]; then
  "$OD" -x malformed.conf -t org.eml >/dev/null 2>&1; odrc=$?
  [ "$odrc" != 0 ] || fail "opendkim accepted a DSN without table="
fi
# The password never reaches an error message.
printf 'Mode s\nKeyTable dsn:nosuchbackend://u:s3cret@h/d/table=t?keycol=k?datacol=v\nSigningTable %s\n' "$ST" > pw.conf
"$BIN" -x pw.conf -t org.eml >/dev/null 2>err; rc=$?
expect_eq "unknown OpenDBX back end: EX_CONFIG" "$rc" 78
expect_not "password masked" "$(cat err)" "s3cret"
expect_has "password mask shown" "$(cat err)" "u:****@h"

## 4. Daemons on loopback (milter-client), syslog caught with an LD_PRELOAD shim.
testlib_logshim
start() {  # start NAME PROG CONF: a daemon on loopback (log in NAME.log); $NAME = its socket
  local name=$1 prog=$2 conf=$3 port
  port=$(free_port)
  printf 'Socket inet:%s@127.0.0.1\nSyslog yes\nBackground no\nInternalHosts 127.0.0.1,192.0.2.0/24\n' "$port" \
    | cat "$conf" - > "$name.daemon.conf"
  LD_PRELOAD=$SHIM "$prog" -f -x "$name.daemon.conf" > "$name.log" 2>&1 &
  PIDS+=($!)
  testlib_wait_port "$port"
  printf -v "$name" '%s' "inet:$port@127.0.0.1"
}
send() {  # send SPEC FILE QUEUEID
  "$MC" -s "$1" -i "$3" -D connect:j=mx.test.host --client-addr 192.0.2.7 --client-host client.example.net \
    -f '<bounce@example.org>' "$2" 2>&1
}
# verdict OUTPUT: the action the MTA gets (accept, tempfail, ...), whatever the milter stage
# (opendkim answers a SigningTable error at end-of-header, inkan-dkim's runtime at end-of-message).
verdict() { printf '%s\n' "$1" | grep -Eo '^[a-z]+: (accept|tempfail|reject|discard)$' | sed 's/^[a-z]*: //' | head -1; }
signed() { case "$1" in *DKIM-Signature*"d=$2;"*) echo yes ;; *) echo no ;; esac; }
log_lines() { grep '^SYSLOG' "$1" | grep -F "$2" | grep -v ' result=' | sed 's/^SYSLOG<[0-9]>: //'; }

msg m@late.example late.eml
# libopendbx is mapped only by a daemon that has a dsn: data set (dlopen at the first open).
printf 'Mode s\nRequireSafeKeys no\nKeyFile %s/sel.private\nSelector sel\nDomain example.org\n' "$T" > plain.conf
start plain "$BIN" plain.conf
expect_not "no dsn: → libopendbx not mapped" "$(cat /proc/${PIDS[-1]}/maps)" "libopendbx"
testlib_stop_all
start ik "$BIN" dsn.conf
expect_has "dsn: → libopendbx mapped" "$(cat /proc/${PIDS[-1]}/maps)" "libopendbx.so"
[ $HAVE_OD = 1 ] && start od "$OD" dsn.conf
out=$(send "$ik" late.eml QL1)
expect_eq "daemon: late.example unsigned before its row" "$(signed "$out" example.org)" no
expect_has "daemon: accepted" "$(verdict "$out")" "accept"
sql .keys.db "INSERT INTO signtab VALUES('late.example','k-org',NULL);"
out=$(send "$ik" late.eml QL2)
expect_eq "daemon: the row is used without reload" "$(signed "$out" example.org)" yes
if [ $HAVE_OD = 1 ]; then
  oo=$(send "$od" late.eml QL2)
  expect_eq "opendkim: the row is used without reload" "$(signed "$oo" example.org)" yes
  expect_eq "daemon: verdict as opendkim" "$(verdict "$out")" "$(verdict "$oo")"
fi
# SIGHUP: a reload whose KeyTable cannot be opened keeps the running configuration and its
# connection; a good reload opens a fresh one.
IKPID=${PIDS[0]}
cp ik.daemon.conf ik.daemon.conf.good
sed -i 's#^KeyTable dsn:sqlite3#KeyTable dsn:nosuchbackend#' ik.daemon.conf
kill -HUP "$IKPID"
for i in $(seq 50); do grep -q 'reload failed' ik.log && break; sleep 0.1; done
expect_has "reload with a bad dsn: fails" "$(grep 'reload failed' ik.log)" "keeping the current configuration"
expect_eq "after the failed reload: still signs" "$(signed "$(send "$ik" late.eml QL3)" example.org)" yes
cp ik.daemon.conf.good ik.daemon.conf
kill -HUP "$IKPID"
for i in $(seq 50); do grep -q 'configuration reloaded' ik.log && break; sleep 0.1; done
expect_has "good reload" "$(grep 'configuration reloaded' ik.log)" "configuration reloaded"
expect_eq "after the good reload: signs" "$(signed "$(send "$ik" late.eml QL4)" example.org)" yes
# tempfails QID WHAT: org.eml through both daemons as QID: inkan-dkim tempfails, as opendkim does.
tempfails() {
  local out oo
  out=$(send "$ik" org.eml "$1")
  expect_has "daemon: $2 tempfails" "$(verdict "$out")" "tempfail"
  if [ $HAVE_OD = 1 ]; then
    oo=$(send "$od" org.eml "$1")
    expect_eq "daemon: $2 verdict as opendkim" "$(verdict "$out")" "$(verdict "$oo")"
  fi
  sleep 0.3
}
# The SigningTable's table disappears under the running daemons: tempfail, opendkim's lines.
sql .keys.db "ALTER TABLE signtab RENAME TO signtab_old;"
tempfails QT1 "lookup error"
if [ -n "$SHIM" ]; then
  expect_eq "log: lookup error lines" "$(log_lines ik.log 'error' | grep -v 'reload failed')" \
    "$(printf '%s\n' 'error looking up "a@example.org" in database: Invalid handle' 'QT1: error reading signing table')"
  [ $HAVE_OD = 1 ] && expect_eq "log: lookup error lines as opendkim" "$(log_lines ik.log 'error' | grep -v 'reload failed')" "$(log_lines od.log 'error')"
fi
sql .keys.db "ALTER TABLE signtab_old RENAME TO signtab;"
# A KeyTable row removed while running: the SigningTable still names it.
sql .keys.db "DELETE FROM keytab WHERE name='k-org';"
tempfails QK1 "key gone"
if [ -n "$SHIM" ]; then
  expect_eq "log: unknown key" "$(log_lines ik.log 'QK1:')" "QK1: signing table references unknown key 'k-org'"
  [ $HAVE_OD = 1 ] && expect_eq "log: unknown key as opendkim" "$(log_lines ik.log 'QK1:')" "$(log_lines od.log 'QK1:')"
fi
sql .keys.db "INSERT INTO keytab VALUES('k-org','example.org','sel','$T/sel.private');"
testlib_stop_all

## 5. SoftStart: the database cannot be opened at start (".soft.db" is a directory). opendkim
## 2.11 crashes (SIGSEGV) on this configuration with and without SoftStart (lab), so only the
## refusal is compared; inkan-dkim does what opendkim.conf(5) promises: start, answer lookups
## with tempfail while the server is unavailable, and connect as soon as it is.
mkdir .soft.db
sed 's#//\./keys\.db#//./soft.db#g' dsn.conf > soft-off.conf
"$BIN" -x soft-off.conf -t org.eml >/dev/null 2>err; rc=$?
expect_eq "unopenable database without SoftStart: EX_CONFIG" "$rc" 78
expect_has "unopenable database: the server's reason" "$(cat err)" "Opening database failed"
if [ $HAVE_OD = 1 ]; then
  odrc=$("$OD" -x soft-off.conf -t org.eml >/dev/null 2>&1; echo $?) 2>/dev/null
  [ "$odrc" != 0 ] || fail "opendkim started without SoftStart on an unopenable database"
fi
printf 'SoftStart yes\n' | cat soft-off.conf - > soft.conf
start ik "$BIN" soft.conf
out=$(send "$ik" org.eml QS1)
expect_eq "SoftStart: started, lookups tempfail" "$(verdict "$out")" tempfail
sleep 0.3
[ -n "$SHIM" ] && expect_has "SoftStart: the lookup error is logged" "$(log_lines ik.log 'QS1:')" \
  "QS1: error reading signing table"
rmdir .soft.db
cp .keys.db .soft.db
out=$(send "$ik" org.eml QS2)
expect_eq "SoftStart: connects once the database is there" "$(signed "$out" example.org)" yes
testlib_stop_all

## 7. PostgreSQL (libopendbx1-pgsql): a private cluster on 127.0.0.1 (trust authentication),
## run as "nobody" when the test runs as root. The same comparisons, and a lost connection:
## the server restarts under the running daemons and the next message reconnects and signs.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$PGBIN" ] || [ ! -e /usr/lib/opendbx/libpgsqlbackend.so ]; then
  if [ "${INKAN_ALLOW_SKIP:-}" = 1 ]; then
    echo "note: PostgreSQL or libopendbx1-pgsql missing; PostgreSQL part skipped"
  else
    fail "PostgreSQL server binaries (postgresql) or libopendbx1-pgsql not installed"
  fi
else
  PGT=$(mktemp -d)
  chmod 755 "$PGT"
  asuser=()
  PGUSER_NAME=$(id -un)
  if [ "$(id -u)" = 0 ]; then
    chown nobody "$PGT"
    asuser=(runuser -u nobody -- env -C "$PGT")
    PGUSER_NAME=nobody
  fi
  PGPORT=$(free_port)
  pgctl() { "${asuser[@]}" "$PGBIN/pg_ctl" -D "$PGT/data" -l "$PGT/log" -w "$@" >/dev/null 2>&1; }
  TESTLIB_CLEANUP_HOOKS+=("pgctl stop -m immediate; rm -rf '$PGT'")
  "${asuser[@]}" "$PGBIN/initdb" -D "$PGT/data" -A trust -U "$PGUSER_NAME" >/dev/null 2>&1 || fail "initdb"
  pgctl -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGT" start || fail "pg_ctl start"
  psql() { "${asuser[@]}" "$PGBIN/psql" -q -h 127.0.0.1 -p "$PGPORT" -U "$PGUSER_NAME" "$@" >/dev/null; }
  psql -d postgres -c "CREATE DATABASE dkim" || fail "createdb"
  psql -d dkim -c "
CREATE TABLE keytab(name TEXT, dom TEXT, sel TEXT, keyp TEXT);
CREATE TABLE signtab(addr TEXT, keyname TEXT, signer TEXT);
INSERT INTO keytab VALUES('k-org','example.org','sel','$T/sel.private');
INSERT INTO keytab VALUES('example.net','%','sel','$T/sel.private');
INSERT INTO keytab VALUES('%','unused.example','sel','$T/sel.private');
INSERT INTO signtab VALUES('example.org','k-org',NULL);
INSERT INTO signtab VALUES('Boss@example.net','%','chief@%');
INSERT INTO signtab VALUES('.example.net','example.net',NULL);" || fail "psql"
  PGKT="dsn:pgsql://$PGUSER_NAME@$PGPORT+127.0.0.1/dkim/table=keytab?keycol=name?datacol=dom,sel,keyp"
  PGST="dsn:pgsql://$PGUSER_NAME@$PGPORT+127.0.0.1/dkim/table=signtab?keycol=addr?datacol=keyname,signer"
  printf 'Mode s\nRequireSafeKeys no\nCanonicalization relaxed/relaxed\nKeyTable %s\nSigningTable %s\n' "$PGKT" "$PGST" > pg.conf
  for m in org sub boss lboss other; do
    got=$(ik_t -x pg.conf -F 1700000000 -t $m.eml)
    expect_eq "pgsql -t $m = sqlite" "$got" "$(ik_t -x dsn.conf -F 1700000000 -t $m.eml)"
    [ $HAVE_OD = 1 ] && expect_eq "pgsql -t $m = opendkim" "$got" "$(od_t -x pg.conf -F 1700000000 -t $m.eml)"
  done
  psql -d dkim -c "INSERT INTO signtab VALUES('new.example','k-org',NULL)"
  got=$(ik_t -x pg.conf -F 1700000000 -t new.eml)
  expect_has "pgsql: new row used" "$got" "d=example.org; s=sel;"
  [ $HAVE_OD = 1 ] && expect_eq "pgsql: new row = opendkim" "$got" "$(od_t -x pg.conf -F 1700000000 -t new.eml)"
  start ik "$BIN" pg.conf
  [ $HAVE_OD = 1 ] && start od "$OD" pg.conf
  out=$(send "$ik" org.eml QP1)
  expect_eq "pgsql daemon: signed" "$(signed "$out" example.org)" yes
  [ $HAVE_OD = 1 ] && expect_eq "pgsql opendkim daemon: signed" "$(signed "$(send "$od" org.eml QP1)" example.org)" yes
  pgctl -m fast restart -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGT" || fail "pg_ctl restart"
  out=$(send "$ik" org.eml QP2)
  expect_eq "pgsql daemon: reconnects after a server restart" "$(signed "$out" example.org)" yes
  if [ $HAVE_OD = 1 ]; then
    oo=$(send "$od" org.eml QP2)
    expect_eq "pgsql: reconnect verdict as opendkim" "$(verdict "$out")" "$(verdict "$oo")"
    expect_eq "pgsql opendkim daemon: reconnects too" "$(signed "$oo" example.org)" yes
  fi
  # Server down: tempfail and opendkim's lines (opendkim 2.11 itself dies with SIGSEGV here:
  # the failed reconnect leaves it a NULL handle, so it is not asked); back up: signs again.
  [ $HAVE_OD = 1 ] && { testlib_stop "${PIDS[-1]}"; }
  pgctl -m fast stop
  out=$(send "$ik" org.eml QP3)
  expect_eq "pgsql server down: tempfail" "$(verdict "$out")" tempfail
  sleep 0.3
  [ -n "$SHIM" ] && expect_eq "pgsql server down: log" "$(log_lines ik.log 'QP3:')" "QP3: error reading signing table"
  [ -n "$SHIM" ] && expect_has "pgsql server down: the server's reason" "$(log_lines ik.log 'error looking up')" \
    'error looking up "a@example.org" in database: '
  pgctl -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGT" start || fail "pg_ctl start again"
  out=$(send "$ik" org.eml QP4)
  expect_eq "pgsql server back: signs" "$(signed "$out" example.org)" yes
  testlib_stop_all
fi

## 8. The other data-set options as dsn: (opendkim.c: dkimf_db_get per message, or
## dkimf_db_mkarray once at start). Host lists follow dkimf_checkhost / dkimf_checkip: the
## name and each ".suffix" (negative key "!x" first), then the address, "[address]" and every
## prefix "net/len" from /32 down to /0; a negative hit on the name does not stop the address
## walk. Daemons on loopback, client client.example.net [192.0.2.7], not authenticated.
sql .lists.db "
CREATE TABLE hosts(k TEXT, v TEXT);
CREATE TABLE mtas(k TEXT, v TEXT);
CREATE TABLE exempt(k TEXT, v TEXT);
CREATE TABLE nosign(k TEXT, v TEXT);
CREATE TABLE bldb(k TEXT, v TEXT);
CREATE TABLE hdrs(k TEXT, v TEXT);
INSERT INTO hdrs VALUES('subject','x');"
L='dsn:sqlite3://./lists.db/table'
printf 'Mode sv\nRequireSafeKeys no\nKeyFile %s/sel.private\nSelector sel\nDomain example.org\n' "$T" > lbase.conf
{ cat lbase.conf
  printf 'InternalHosts %s=hosts?keycol=k?datacol=v\nMTA %s=mtas?keycol=k?datacol=v\n' "$L" "$L"
  printf 'ExemptDomains %s=exempt?keycol=k?datacol=v\nDontSignMailTo %s=nosign?keycol=k?datacol=v\n' "$L" "$L"
  printf 'BodyLengthDB %s=bldb?keycol=k?datacol=v\n' "$L"
} > lists.conf
start2() {  # start2 NAME PROG CONF: as start, without the InternalHosts line
  local name=$1 prog=$2 conf=$3 port
  port=$(free_port)
  printf 'Socket inet:%s@127.0.0.1\nSyslog yes\nBackground no\n' "$port" | cat "$conf" - > "$name.daemon.conf"
  LD_PRELOAD=$SHIM "$prog" -f -x "$name.daemon.conf" > "$name.log" 2>&1 &
  PIDS+=($!)
  testlib_wait_port "$port"
  printf -v "$name" '%s' "inet:$port@127.0.0.1"
}
send2() {  # send2 SPEC FILE QUEUEID [milter-client options...]
  local spec=$1 file=$2 qid=$3
  shift 3
  "$MC" -s "$spec" -i "$qid" -D connect:j=mx.test.host --client-addr 192.0.2.7 --client-host client.example.net \
    -f '<bounce@example.org>' -r '<Rcpt@Example.COM>' "$@" "$file" 2>&1
}
has_ar() { case "$1" in *Authentication-Results*) echo yes ;; *) echo no ;; esac; }
start2 ik "$BIN" lists.conf
[ $HAVE_OD = 1 ] && start2 od "$OD" lists.conf
n=0
case_() {  # case_ LABEL WANT_SIGNED [milter-client options...]: inkan as expected, opendkim the same
  local label=$1 want=$2 out oo
  shift 2
  n=$((n + 1))
  out=$(send2 "$ik" org.eml "QH$n" "$@")
  expect_eq "$label: signed" "$(signed "$out" example.org)" "$want"
  if [ $HAVE_OD = 1 ]; then
    oo=$(send2 "$od" org.eml "QH$n" "$@")
    expect_eq "$label: signed as opendkim" "$(signed "$out" example.org)" "$(signed "$oo" example.org)"
    expect_eq "$label: verdict as opendkim" "$(verdict "$out")" "$(verdict "$oo")"
    expect_eq "$label: A-R as opendkim" "$(has_ar "$out")" "$(has_ar "$oo")"
  fi
}
case_ "InternalHosts empty table: verified only" no
sql .lists.db "INSERT INTO hosts VALUES('192.0.2.0/24','1');"
case_ "InternalHosts 192.0.2.0/24" yes
sql .lists.db "INSERT INTO hosts VALUES('!192.0.2.7','1');"
case_ "InternalHosts !192.0.2.7 before the prefix" no
sql .lists.db "DELETE FROM hosts; INSERT INTO hosts VALUES('[192.0.2.7]/32','1');"
case_ "InternalHosts [192.0.2.7]/32" yes
sql .lists.db "DELETE FROM hosts; INSERT INTO hosts VALUES('.example.net','1');"
case_ "InternalHosts .example.net (name suffix)" yes
sql .lists.db "INSERT INTO hosts VALUES('!client.example.net','1');"
case_ "InternalHosts !client.example.net" no
sql .lists.db "INSERT INTO hosts VALUES('192.0.2.0/25','1');"
case_ "InternalHosts: a name exclusion does not stop the address walk" yes
sql .lists.db "DELETE FROM hosts; INSERT INTO hosts VALUES('0.0.0.0/0','1');"
case_ "InternalHosts 0.0.0.0/0" yes
sql .lists.db "DELETE FROM hosts; INSERT INTO mtas VALUES('ORIG','1');"
case_ "MTA: {daemon_name} listed" yes -D 'mail:{daemon_name}=ORIG'
case_ "MTA: {daemon_name} not listed" no -D 'mail:{daemon_name}=OTHER'
sql .lists.db "INSERT INTO hosts VALUES('192.0.2.7','1');"
sql .lists.db "INSERT INTO exempt VALUES('example.org','1');"
case_ "ExemptDomains example.org: accepted untouched" no
expect_eq "ExemptDomains: no A-R" "$(has_ar "$(send2 "$ik" org.eml QE1)")" no
sql .lists.db "DELETE FROM exempt; INSERT INTO nosign VALUES('Rcpt@Example.COM','1');"
case_ "DontSignMailTo: the recipient as given" no
sql .lists.db "DELETE FROM nosign; INSERT INTO nosign VALUES('rcpt@example.com','1');"
case_ "DontSignMailTo: SQL compares case-sensitively" yes
sql .lists.db "DELETE FROM nosign; INSERT INTO bldb VALUES('*@.COM','1');"
out=$(send2 "$ik" org.eml QB1)
expect_has "BodyLengthDB *@.COM: l= requested" "$out" " l="
if [ $HAVE_OD = 1 ]; then
  oo=$(send2 "$od" org.eml QB1)
  expect_has "BodyLengthDB: opendkim signs with l= too" "$oo" " l="
fi
sql .lists.db "DELETE FROM bldb;"
expect_not "BodyLengthDB empty: no l=" "$(send2 "$ik" org.eml QB2)" " l="
# A table that disappears under the running daemons: InternalHosts counts as "not listed"
# (opendkim: dkimf_checkhost/checkip return FALSE), ExemptDomains tempfails; no crash.
sql .lists.db "ALTER TABLE hosts RENAME TO hosts_old;"
case_ "InternalHosts table gone: not internal" no
sql .lists.db "ALTER TABLE hosts_old RENAME TO hosts; ALTER TABLE exempt RENAME TO exempt_old;"
out=$(send2 "$ik" org.eml QX1)
expect_eq "ExemptDomains table gone: tempfail" "$(verdict "$out")" tempfail
[ $HAVE_OD = 1 ] && expect_eq "ExemptDomains table gone: as opendkim" "$(verdict "$out")" "$(verdict "$(send2 "$od" org.eml QX1)")"
sql .lists.db "ALTER TABLE exempt_old RENAME TO exempt;"
case_ "after the tables are back: signs" yes
sleep 0.3
if [ -n "$SHIM" ]; then
  expect_has "log: the ExemptDomains lookup error" "$(log_lines ik.log 'error looking up "example.org"')" \
    'error looking up "example.org" in database: '
  [ $HAVE_OD = 1 ] && expect_eq "log: ExemptDomains error line as opendkim" \
    "$(log_lines ik.log 'error looking up "example.org"')" "$(log_lines od.log 'error looking up "example.org"')"
  expect_has "log: the InternalHosts lookup error (inkan only)" "$(log_lines ik.log 'error looking up "!client.example.net"')" \
    'no such table: hosts'
fi
expect_eq "daemon still running" "$(kill -0 "${PIDS[0]}" 2>/dev/null && echo up)" up
testlib_stop_all

## 8b. RemoveARFrom (mlfi_eom: dkimf_db_get per A-R field's authserv-id) and ReplaceHeaders
## (mlfi_header: dkimf_db_get per field name) as dsn:.
sql .lists.db "CREATE TABLE remar(k TEXT, v TEXT); INSERT INTO remar VALUES('mx.other.example','1');
CREATE TABLE rephdrs(k TEXT, v TEXT);"
printf 'Authentication-Results: mx.other.example; dkim=pass header.d=example.org\nAuthentication-Results: mx.kept.example; dkim=pass header.d=example.org\n' \
  | crlf | cat - org.eml > ar.eml
{ cat lbase.conf; printf 'InternalHosts 127.0.0.1\nAuthservID mx.test.host\nRemoveARFrom %s=remar?keycol=k?datacol=v\n' "$L"; } > remar.conf
start2 ik "$BIN" remar.conf
[ $HAVE_OD = 1 ] && start2 od "$OD" remar.conf
ar_mods() { printf '%s\n' "$1" | grep '^modification: change-header' | grep -i 'authentication-results'; }
out=$(send2 "$ik" ar.eml QA1)
expect_eq "RemoveARFrom dsn: the listed host's A-R removed" "$(ar_mods "$out")" \
  'modification: change-header index=1 Authentication-Results ""'
[ $HAVE_OD = 1 ] && expect_eq "RemoveARFrom dsn: as opendkim" "$(ar_mods "$out")" "$(ar_mods "$(send2 "$od" ar.eml QA1)")"
testlib_stop_all
printf 'hello\tHELLO\n' > rules
{ cat lbase.conf; printf 'ReplaceRules %s/rules\nReplaceHeaders %s=rephdrs?keycol=k?datacol=v\n' "$T" "$L"; } > rep.conf
got=$(ik_t -x rep.conf -F 1700000000 -t org.eml)
[ $HAVE_OD = 1 ] && expect_eq "ReplaceHeaders dsn: field not listed = opendkim" "$got" "$(od_t -x rep.conf -F 1700000000 -t org.eml)"
sql .lists.db "INSERT INTO rephdrs VALUES('Subject','1');"
got2=$(ik_t -x rep.conf -F 1700000000 -t org.eml)
[ "$got" != "$got2" ] || fail "ReplaceHeaders dsn: listing Subject changed nothing"
[ $HAVE_OD = 1 ] && expect_eq "ReplaceHeaders dsn: Subject listed = opendkim" "$got2" "$(od_t -x rep.conf -F 1700000000 -t org.eml)"
sql .lists.db "ALTER TABLE rephdrs RENAME TO rephdrs_old;"
got=$(ik_t -x rep.conf -F 1700000000 -t org.eml; echo "rc=$?")
expect_has "ReplaceHeaders dsn: lookup error fails the message" "$got" "rc=70"
[ $HAVE_OD = 1 ] && expect_eq "ReplaceHeaders dsn: lookup error exit as opendkim" "${got##*rc=}" \
  "$("$OD" -x rep.conf -F 1700000000 -t org.eml >/dev/null 2>&1; echo $?)"
sql .lists.db "ALTER TABLE rephdrs_old RENAME TO rephdrs;"

# -t: opendkim does not open ExemptDomains (nor PeerList, ExternalIgnoreList) in test mode.
sql .lists.db "INSERT INTO exempt VALUES('example.org','1');"
got=$(ik_t -x lists.conf -F 1700000000 -t org.eml)
expect_has "-t: ExemptDomains not applied" "$got" "d=example.org;"
[ $HAVE_OD = 1 ] && expect_eq "-t: ExemptDomains dsn: = opendkim" "$got" "$(od_t -x lists.conf -F 1700000000 -t org.eml)"
sql .lists.db "DELETE FROM exempt;"

## 9. PeerList and ExternalIgnoreList as dsn: (not opened by -t, as opendkim).
sql .lists.db "DELETE FROM hosts; INSERT INTO hosts VALUES('.example.net','1');"
{ cat lbase.conf; printf 'PeerList %s=hosts?keycol=k?datacol=v\nInternalHosts 192.0.2.0/24\n' "$L"; } > peer.conf
start2 ik "$BIN" peer.conf
[ $HAVE_OD = 1 ] && start2 od "$OD" peer.conf
out=$(send2 "$ik" org.eml QR1)
expect_eq "PeerList .example.net: accepted at connect, untouched" "$(verdict "$out"):$(signed "$out" example.org)" "accept:no"
[ $HAVE_OD = 1 ] && expect_eq "PeerList: as opendkim" "$(signed "$out" example.org)" "$(signed "$(send2 "$od" org.eml QR1)" example.org)"
sql .lists.db "DELETE FROM hosts;"
out=$(send2 "$ik" org.eml QR2)
expect_eq "PeerList empty: signed" "$(signed "$out" example.org)" yes
testlib_stop_all
{ cat lbase.conf; printf 'ExternalIgnoreList %s=hosts?keycol=k?datacol=v\nInternalHosts 127.0.0.1\n' "$L"; } > exign.conf
start2 ik "$BIN" exign.conf
[ $HAVE_OD = 1 ] && start2 od "$OD" exign.conf
send2 "$ik" org.eml QI1 >/dev/null
[ $HAVE_OD = 1 ] && send2 "$od" org.eml QI1 >/dev/null
sql .lists.db "INSERT INTO hosts VALUES('192.0.2.7','1');"
send2 "$ik" org.eml QI2 >/dev/null
[ $HAVE_OD = 1 ] && send2 "$od" org.eml QI2 >/dev/null
sleep 0.3
if [ -n "$SHIM" ]; then
  expect_eq "ExternalIgnoreList: the external-host notice, then silence" "$(log_lines ik.log 'attempted to send as')" \
    "QI1: external host client.example.net attempted to send as example.org"
  [ $HAVE_OD = 1 ] && expect_eq "ExternalIgnoreList: as opendkim" "$(log_lines ik.log 'attempted to send as')" \
    "$(log_lines od.log 'attempted to send as')"
fi
testlib_stop_all

## 10. Options opendkim reads once with dkimf_db_mkarray: a dsn: data set gives an empty list
## (opendkim-db.c: db_nrecs is 0), so SignHeaders signs every field but the omitted ones and
## the others act as unset; inkan-dkim warns at start. MacroList refuses dsn: (file/csl only).
printf 'From: a@example.org\nTo: b@example.com\nX-Extra: 1\nReceived: x\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: hello\n\nbody line\n' | crlf > extra.eml
for opt in SignHeaders OmitHeaders OversignHeaders SenderHeaders MustBeSigned; do
  { cat lbase.conf; printf '%s %s=hdrs?keycol=k?datacol=v\n' "$opt" "$L"; } > mk.conf
  got=$(ik_t -x mk.conf -F 1700000000 -t extra.eml)
  [ $HAVE_OD = 1 ] && expect_eq "-t $opt dsn: = opendkim" "$got" "$(od_t -x mk.conf -F 1700000000 -t extra.eml)"
done
{ cat lbase.conf; printf 'SignHeaders %s=hdrs?keycol=k?datacol=v\n' "$L"; } > mk.conf
expect_has "SignHeaders dsn: signs every field but the omitted" "$(ik_t -x mk.conf -F 1700000000 -t extra.eml)" \
  "h=From:To:X-Extra:Date:Subject;"
start2 ik "$BIN" mk.conf
sleep 0.3
expect_has "SignHeaders dsn: start-up warning" "$(cat ik.log)" "SignHeaders dsn:sqlite3://./lists.db/table=hdrs"
expect_has "SignHeaders dsn: the warning says why" "$(cat ik.log)" "dkimf_db_mkarray"
testlib_stop_all
{ cat lbase.conf; printf 'MacroList %s=hdrs?keycol=k?datacol=v\n' "$L"; } > mk.conf
"$BIN" -x mk.conf -t org.eml >/dev/null 2>err; rc=$?
expect_eq "MacroList dsn: refused" "$rc" 78
expect_has "MacroList dsn: opendkim's words" "$(cat err)" "invalid data set type for MacroList"
[ $HAVE_OD = 1 ] && expect_has "opendkim refuses MacroList dsn: too" "$(od_t -x mk.conf -t org.eml)" \
  "invalid data set type for MacroList"

## 10b. Domain as dsn: (single-key mode; mlfi_eoh asks the sender's domain, then "*", then with
## SubDomains each parent, which becomes d= with i=@parent).
sql .lists.db "CREATE TABLE doms(k TEXT, v TEXT); INSERT INTO doms VALUES('example.org','1');"
msg u@sub.example.org subdom.eml
printf 'Mode s\nRequireSafeKeys no\nKeyFile %s/sel.private\nSelector sel\nDomain %s=doms?keycol=k?datacol=v\nSubDomains yes\n' \
  "$T" "$L" > dom.conf
for m in org subdom other net; do
  got=$(ik_t -x dom.conf -F 1700000000 -t $m.eml)
  [ $HAVE_OD = 1 ] && expect_eq "Domain dsn: -t $m = opendkim" "$got" "$(od_t -x dom.conf -F 1700000000 -t $m.eml)"
done
expect_has "Domain dsn: parent found with SubDomains" "$(ik_t -x dom.conf -F 1700000000 -t subdom.eml)" "i=@example.org;"
expect_not "Domain dsn: other.test not listed" "$(ik_t -x dom.conf -F 1700000000 -t other.eml)" "DKIM-Signature"
sql .lists.db "INSERT INTO doms VALUES('*','1');"
got=$(ik_t -x dom.conf -F 1700000000 -t other.eml)
expect_has "Domain dsn: \"*\" row signs every domain" "$got" "d=other.test;"
[ $HAVE_OD = 1 ] && expect_eq "Domain dsn: \"*\" = opendkim" "$got" "$(od_t -x dom.conf -F 1700000000 -t other.eml)"

## 11. -Q: opendkim's query mode on a dsn: data set (found, NULL, more fields than columns,
## not found, lookup error, malformed query).
q() { printf '%s\n%s\n' "$1" "$2" | "$3" -Q 2>&1; echo "rc=$?"; }
QKT='dsn:sqlite3://./keys.db/table=keytab?keycol=name?datacol=dom,sel,keyp'
sql .keys.db "INSERT INTO keytab VALUES('half','half.example',NULL,'');"
for query in k-org/3 k-org/1 k-org/0 half/3 half/5 nosuch/2 bad; do
  got=$(q "$QKT" "$query" "$BIN")
  [ $HAVE_OD = 1 ] && expect_eq "-Q $query = opendkim" "$got" "$(q "$QKT" "$query" "$OD" | sed 's/^opendkim:/inkan-dkim:/')"
done
expect_eq "-Q k-org/2" "$(q "$QKT" k-org/2 "$BIN")" "$(printf "'example.org'\n'sel'\n\nrc=0")"
expect_eq "-Q half/3: NULL and empty" "$(q "$QKT" half/3 "$BIN")" "$(printf "'half.example'\n<empty>\n<empty>\n\nrc=0")"
got=$(q "${QKT/keytab/nosuch}" k-org/2 "$BIN")
expect_has "-Q lookup error" "$got" 'inkan-dkim: dkimf_db_get() returned -1: "no such table: nosuch"'
[ $HAVE_OD = 1 ] && expect_eq "-Q lookup error = opendkim" "$(echo "$got" | sort)" \
  "$(q "${QKT/keytab/nosuch}" k-org/2 "$OD" | sed 's/^opendkim:/inkan-dkim:/' | sort)"
sql .keys.db "DELETE FROM keytab WHERE name='half';"

## 6. YAML: the same values under dkim: key_table / signing_table, soft_start.
printf 'dkim:\n  mode: s\n  require_safe_keys: false\n  canonicalization: relaxed/relaxed\n  key_table: "%s"\n  signing_table: "%s"\n  soft_start: false\n' \
  "$KT" "$ST" > inkan.yaml
expect_eq "YAML signs as the legacy file" "$(ik_t -x inkan.yaml -F 1700000000 -t org.eml)" \
  "$(ik_t -x dsn.conf -F 1700000000 -t org.eml)"

testlib_finish
