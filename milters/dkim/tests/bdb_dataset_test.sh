#!/bin/bash
# inkan-dkim with OpenDKIM `db:` data sets (Berkeley DB files built with db5.3_load): KeyTable,
# SigningTable, SignHeaders, Domain, DontSignMailTo, InternalHosts/PeerList and -Q. Each
# message is signed by `inkan-dkim -t` with a fixed time (-F) and, when /usr/sbin/opendkim is
# installed, by `opendkim -t` with the same configuration: the output (DKIM-Signature included)
# must be identical. The db: configuration must also sign exactly as its file: twin. Keys come
# from files and TestPublicKeys: no DNS.
#
# usage: bdb_dataset_test.sh /path/to/inkan-dkim [/usr/sbin/opendkim]
set -u
source "$(dirname "$0")/testlib.sh"
testlib_init "$1" "${2:-}"

LOAD=$(command -v db5.3_load || command -v db_load || true)
if [ -z "$LOAD" ]; then
  echo "SKIP: db5.3_load not installed"
  exit 0
fi
# mkdb TYPE OUT.db KEY VALUE [KEY VALUE ...]: a Berkeley DB from key/value pairs (no NULs).
mkdb() {
  local type=$1 out=$2
  shift 2
  rm -f "$out"
  printf '%s\n' "$@" | "$LOAD" -T -t "$type" "$out" || fail "db5.3_load $out"
}
# mktext OUT KEY VALUE ...: the same pairs as a flat file: data set.
mktext() {
  local out=$1
  shift
  : > "$out"
  while [ $# -gt 0 ]; do printf '%s %s\n' "$1" "$2" >> "$out"; shift 2; done
}
ik_t() { "$BIN" "$@" 2>&1; }
[ $HAVE_OD = 1 ] || echo "note: $OD not installed, OpenDKIM comparison skipped"

cd "$T" || exit 1
P=$(testlib_genkey sel.private)
{ testlib_keyline example.org "$P"; testlib_keyline example.net "$P"; } > keys
testlib_verify_conf "$T/keys" > verify.conf

msg() {  # msg FROM OUT
  printf 'From: %s\nTo: b@example.com\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: hello\nX-Extra: x\n\nbody line\n' "$1" \
    | crlf > "$2"
}
msg a@example.org org.eml
msg x@example.net net.eml
msg y@sub.example.net sub.eml
msg z@other.test other.eml
msg Q@Example.ORG mixed.eml

## KeyTable + SigningTable, hash and btree, against the file: twin and opendkim.
KT=(k-org "example.org:sel:$T/sel.private" k-net "example.net:sel:$T/sel.private")
ST=(a@example.org k-org example.net "k-net:boss@example.net" .example.net k-net)
mktext KeyTable "${KT[@]}"
mktext SigningTable "${ST[@]}"
for type in hash btree; do
  mkdb $type kt-$type.db "${KT[@]}"
  mkdb $type st-$type.db "${ST[@]}"
  printf 'Mode s\nRequireSafeKeys no\nCanonicalization relaxed/relaxed\nKeyTable db:%s/kt-%s.db\nSigningTable db:%s/st-%s.db\n' \
    "$T" $type "$T" $type > db-$type.conf
done
printf 'Mode s\nRequireSafeKeys no\nCanonicalization relaxed/relaxed\nKeyTable file:%s/KeyTable\nSigningTable file:%s/SigningTable\n' \
  "$T" "$T" > file.conf
# A ".db" name without the db: prefix is a Berkeley DB too (opendkim(8) DATA SETS h).
printf 'Mode s\nRequireSafeKeys no\nCanonicalization relaxed/relaxed\nKeyTable %s/kt-hash.db\nSigningTable %s/st-btree.db\n' \
  "$T" "$T" > suffix.conf

for m in org net sub other mixed; do
  want=$(ik_t -x file.conf -F 1700000000 -t $m.eml)
  for c in db-hash db-btree suffix; do
    got=$(ik_t -x $c.conf -F 1700000000 -t $m.eml)
    expect_eq "$c $m = file:" "$got" "$want"
    [ $HAVE_OD = 1 ] && expect_eq "$c $m = opendkim" "$got" "$(od_t -x $c.conf -F 1700000000 -t $m.eml)"
  done
done
out=$(ik_t -x db-hash.conf -F 1700000000 -t org.eml)
expect_has "org signed by k-org" "$out" "d=example.org; s=sel;"
out=$(ik_t -x db-hash.conf -F 1700000000 -t net.eml)
expect_has "net signer from the SigningTable value" "$out" "i=boss@example.net;"
out=$(ik_t -x db-hash.conf -F 1700000000 -t other.eml)
case "$out" in *DKIM-Signature*) fail "other.test must not be signed" ;; esac
# The signature verifies (inkan-dkim and opendkim).
{ ik_t -x db-hash.conf -F 1700000000 -t org.eml | tail -n +2 | crlf; cat org.eml; } > signed.eml
expect_eq "db: signature verifies" "$(ik_t -x verify.conf -t signed.eml)" \
  "inkan-dkim: signed.eml: verification (s=sel, d=example.org, 2048-bit key) succeeded"
[ $HAVE_OD = 1 ] && expect_eq "opendkim verifies it" "$(od_t -x verify.conf -t signed.eml)" \
  "inkan-dkim: signed.eml: verification (s=sel, d=example.org, 2048-bit key) succeeded"

## Lists from db: SignHeaders (with and without "*"), OversignHeaders, DontSignMailTo.
mkdb hash sh.db from "" to "" subject "" x-extra ""
mkdb btree shstar.db "*" "" "-subject" "" "+x-extra" ""
mkdb hash os.db from ""
mkdb hash dsmt.db recipient@example.com ""
mkdb hash dsmt-other.db someone@example.com ""
for extra in "SignHeaders db:$T/sh.db" "SignHeaders db:$T/shstar.db" "OversignHeaders db:$T/os.db" \
             "DontSignMailTo db:$T/dsmt.db" "DontSignMailTo db:$T/dsmt-other.db"; do
  { cat db-hash.conf; echo "$extra"; } > list.conf
  got=$(ik_t -x list.conf -F 1700000000 -t org.eml)
  case "$extra" in
    SignHeaders*sh.db) expect_has "$extra h=" "$got" "h=From:To:Subject:X-Extra;" ;;
    SignHeaders*shstar.db) expect_has "$extra h=" "$got" "h=From:To:Date:X-Extra;" ;;
    *DontSignMailTo*dsmt.db) case "$got" in *DKIM-Signature*) fail "$extra: signed" ;; esac ;;
  esac
  [ $HAVE_OD = 1 ] && expect_eq "$extra = opendkim" "$got" "$(od_t -x list.conf -F 1700000000 -t org.eml)"
done

## Single-key mode with a db: Domain list.
mkdb hash dom.db example.org ""
printf 'Mode s\nRequireSafeKeys no\nKeyFile %s/sel.private\nSelector sel\nDomain db:%s/dom.db\n' "$T" "$T" > dom.conf
for m in org net; do
  got=$(ik_t -x dom.conf -F 1700000000 -t $m.eml)
  [ $HAVE_OD = 1 ] && expect_eq "Domain db: $m = opendkim" "$got" "$(od_t -x dom.conf -F 1700000000 -t $m.eml)"
done
expect_has "Domain db: signs example.org" "$(ik_t -x dom.conf -F 1700000000 -t org.eml)" "d=example.org;"

## InternalHosts / PeerList / ExternalIgnoreList from db: load (test mode authenticates every
## message, and opendkim does not open PeerList/ExternalIgnoreList with -t; the test client is
## 127.0.0.1, which the PeerList must not hold: inkan-dkim -t applies a PeerList).
mkdb hash hosts.db 127.0.0.1 "" 192.168.0.0/16 "" "!192.168.1.1" "" .corp.example ""
mkdb btree peers.db 192.0.2.1 "" "::ffff:192.0.2.2" ""
{ cat db-hash.conf; echo "InternalHosts db:$T/hosts.db"; echo "PeerList $T/peers.db"; echo "ExternalIgnoreList db:$T/hosts.db"; } > hosts.conf
got=$(ik_t -x hosts.conf -F 1700000000 -t org.eml)
expect_eq "host lists from db: load" "$got" "$(ik_t -x db-hash.conf -F 1700000000 -t org.eml)"
[ $HAVE_OD = 1 ] && expect_eq "host lists from db: = opendkim" "$got" "$(od_t -x hosts.conf -F 1700000000 -t org.eml)"

## Start-up failures: missing file, corrupt file, MacroList, postmap-style (NUL-terminated) keys.
printf 'Mode s\nRequireSafeKeys no\nKeyTable db:%s/missing.db\nSigningTable db:%s/st-hash.db\n' "$T" "$T" > missing.conf
"$BIN" -x missing.conf -t org.eml >/dev/null 2>err; rc=$?
expect_eq "missing db: rc (EX_CONFIG)" "$rc" 78
expect_has "missing db: names the file" "$(cat err)" "$T/missing.db"
expect_has "missing db: says why" "$(cat err)" "No such file or directory"
head -c 3000 kt-hash.db > corrupt.db
sed "s#kt-hash.db#corrupt.db#" db-hash.conf > corrupt.conf
"$BIN" -x corrupt.conf -t org.eml >/dev/null 2>err; rc=$?
expect_eq "corrupt db: rc" "$rc" 78
expect_has "corrupt db: names the file" "$(cat err)" "$T/corrupt.db"
{ cat db-hash.conf; echo "MacroList db:$T/dom.db"; } > macro.conf
"$BIN" -x macro.conf -t org.eml >/dev/null 2>err; rc=$?
expect_eq "MacroList db: rc" "$rc" 78
expect_has "MacroList db: refused" "$(cat err)" "invalid data set type for MacroList"
if [ $HAVE_OD = 1 ]; then
  odrc=$("$OD" -x missing.conf -t org.eml >/dev/null 2>&1; echo $?)
  [ "$odrc" != 0 ] || fail "opendkim accepted a missing KeyTable db"
  odrc=$("$OD" -x macro.conf -t org.eml >/dev/null 2>&1; echo $?)
  [ "$odrc" != 0 ] || fail "opendkim accepted a db: MacroList"
fi
if command -v postmap >/dev/null 2>&1; then
  mktext pm-kt "${KT[@]}"
  mktext pm-st "${ST[@]}"
  if postmap hash:pm-kt 2>/dev/null && postmap hash:pm-st 2>/dev/null; then
    printf 'Mode s\nRequireSafeKeys no\nKeyTable db:%s/pm-kt.db\nSigningTable db:%s/pm-st.db\n' "$T" "$T" > pm.conf
    # postmap stores "key\0": OpenDKIM looks keys up without the NUL, so the SigningTable's
    # key names are not in the KeyTable and it refuses to start; so does inkan-dkim.
    "$BIN" -x pm.conf -t org.eml >/dev/null 2>err; rc=$?
    expect_eq "postmap tables: rc" "$rc" 78
    expect_has "postmap tables: why" "$(cat err)" "unknown key"
    if [ $HAVE_OD = 1 ]; then
      odrc=$("$OD" -x pm.conf -t org.eml >/dev/null 2>&1; echo $?)
      [ "$odrc" != 0 ] || fail "opendkim accepted postmap-built tables"
    fi
  fi
fi

## -Q against a db: data set.
for q in k-org/3 k-net/2 nothere/1; do
  got=$(printf 'db:%s/kt-hash.db\n%s\n' "$T" "$q" | "$BIN" -Q 2>&1)
  [ $HAVE_OD = 1 ] && expect_eq "-Q db: $q = opendkim" "$got" \
    "$(printf 'db:%s/kt-hash.db\n%s\n' "$T" "$q" | "$OD" -Q 2>&1 | sed 's/^opendkim:/inkan-dkim:/')"
done
expect_eq "-Q db: k-org/3" "$(printf 'db:%s/kt-hash.db\nk-org/3\n' "$T" | "$BIN" -Q)" "'example.org'
'sel'
'$T/sel.private'"

## Over the milter protocol (milter-client of the same build tree): InternalHosts and PeerList
## from db: decide per connection, and a reload re-reads the files — keeping the running data
## when a file is broken.
if [ -x "$MC" ]; then
  mkdb hash live-st.db a@example.org k-org
  mkdb btree live-internal.db 10.1.1.1 "" "!10.1.1.2" "" 10.1.1.0/24 ""
  mkdb hash live-peers.db 192.0.2.9 ""
  printf 'Mode s\nRequireSafeKeys no\nKeyTable db:%s/kt-hash.db\nSigningTable db:%s/live-st.db\nInternalHosts db:%s/live-internal.db\nPeerList db:%s/live-peers.db\nSocket local:%s/m.sock\n' \
    "$T" "$T" "$T" "$T" "$T" > live.conf
  "$BIN" -x live.conf -f >"$T/daemon.log" 2>&1 &
  dpid=$!
  PIDS+=("$dpid")
  testlib_wait_socket "$T/m.sock"
  mc() { "$MC" -s "unix:$T/m.sock" "$@"; }
  # reload: SIGUSR1, then wait for the runtime's verdict in the log.
  reload() {
    local before
    before=$(grep -c 'configuration reloaded\|reload failed' "$T/daemon.log")
    kill -USR1 "$dpid"
    for _ in $(seq 100); do
      [ "$(grep -c 'configuration reloaded\|reload failed' "$T/daemon.log")" -gt "$before" ] && return
      sleep 0.05
    done
    fail "no reload verdict in the log"
  }
  unsigned() { checks=$((checks + 1)); case "$2" in *DKIM-Signature*) fail "$1: signed" ;; esac; }
  expect_has "milter: internal host (db:) signs" "$(mc --client-addr 10.1.1.1 org.eml)" "d=example.org; s=sel;"
  expect_has "milter: internal CIDR (db:) signs" "$(mc --client-addr 10.1.1.77 org.eml)" "d=example.org; s=sel;"
  unsigned "milter: negated host (db:)" "$(mc --client-addr 10.1.1.2 org.eml)"
  unsigned "milter: external host" "$(mc --client-addr 10.2.2.2 org.eml)"
  unsigned "milter: peer (db:)" "$(mc --client-addr 192.0.2.9 org.eml)"
  # A broken SigningTable on reload: the running data stays.
  cp live-st.db live-st.good
  head -c 100 live-st.good > live-st.db
  reload
  expect_has "reload with a broken db: logged" "$(cat "$T/daemon.log")" "reload failed, keeping the current configuration"
  expect_has "reload with a broken db: names it" "$(cat "$T/daemon.log")" "$T/live-st.db"
  expect_has "milter: old SigningTable kept" "$(mc --client-addr 10.1.1.1 org.eml)" "d=example.org; s=sel;"
  # A new SigningTable on reload replaces it.
  mkdb hash live-st.db x@example.net "k-net:boss@example.net"
  reload
  expect_has "reload with a new db: logged" "$(cat "$T/daemon.log")" "configuration reloaded"
  unsigned "milter: entry gone after reload" "$(mc --client-addr 10.1.1.1 org.eml)"
  expect_has "milter: new entry after reload" "$(mc --client-addr 10.1.1.1 net.eml)" "i=boss@example.net;"
  testlib_stop "$dpid"
else
  echo "note: $MC not built, milter-protocol cases skipped"
fi

testlib_finish
