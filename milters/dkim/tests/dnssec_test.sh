#!/bin/bash
# DNSSEC status of DKIM key records, Postfix style (trust the AD bit of a validating resolver):
# TrustAnchorFile / dns.dnssec: resolver, the "(N-bit key; secure|unprotected)" comment,
# UnprotectedKey and BogusKey, the -t "(..., insecure|secure)" word and the start-up warning
# about a resolver off loopback. Keys come from a fake DNS server on 127.0.0.1 (fake_dns.py:
# AD set for the "signed" zone example.net when the query asks, SERVFAIL for a "bogus"
# record) and, when /usr/sbin/unbound is installed, from a real unbound on 127.0.0.1 serving
# local-data (not validated: no AD). No traffic leaves loopback.
#
# When /usr/sbin/opendkim is installed, the same files go through `opendkim -t` (Debian's
# libunbound build, no TrustAnchorFile, so every key is INSECURE there) with Nameservers on the
# same servers, under UnprotectedKey none/neutral/fail and On-BadSignature reject: the AR
# clauses, -t lines, replies and milter results must match ("dkim-atps=neutral" included).
# opendkim cannot be run with TrustAnchorFile here (its libunbound would validate from the
# root and find our zones bogus), so the "secure" rows are checked on inkan-dkim alone against
# opendkim.c dkimf_ar_all_sigs (DKIM_DNSSEC_SECURE → "secure", UnprotectedKey not applied).
#
# usage: dnssec_test.sh /path/to/inkan-dkim [/usr/sbin/opendkim]
set -u
source "$(dirname "$0")/testlib.sh"
testlib_init "$1" "${2:-}"
UNBOUND=/usr/sbin/unbound
HERE=$(dirname "$(readlink -f "$0")")
cd "$T" || exit 1

## Keys, zone, fake DNS server.
P=$(testlib_genkey sel.private)
{
  testlib_keyline example.org "$P"
  printf 'sel._domainkey.example.net +secure v=DKIM1; k=rsa; p=%s\n' "$P"
  printf 'sel._domainkey.bogus.example SERVFAIL\n'
} > zone
python3 "$HERE/fake_dns.py" zone port &
PIDS+=($!)
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
[ -s port ] || { echo "FAIL: fake DNS server did not start"; exit 1; }
NS="127.0.0.1@$(cat port)"

## Messages signed by inkan-dkim for the unsigned zone (example.org) and the signed one.
testlib_message > m.eml
sed 's/example\.org/example.net/' m.eml > mn.eml
for d in org net; do
  printf 'Mode s\nDomain example.%s\nSelector sel\nKeyFile %s/sel.private\nCanonicalization relaxed/relaxed\n' "$d" "$T" > sign-$d.conf
done
"$BIN" -x sign-org.conf -F 1700000000 -t m.eml | tail -n +2 | crlf > sig-org
"$BIN" -x sign-net.conf -F 1700000000 -t mn.eml | tail -n +2 | crlf > sig-net
cat sig-org m.eml > signed.eml
cat sig-net mn.eml > sec.eml
sed 's/body line/body lime/' signed.eml > bad.eml
sed 's/body line/body lime/' sec.eml > secbad.eml
sed 's/s=sel;/s=nokey;/' signed.eml > nokey.eml
sed 's/d=example\.org;/d=bogus.example;/' signed.eml > bogus.eml
B8=$(sed -n 's/.*[; ]b=\([^;]*\)/\1/p' sig-org | tr -d ' \t\r\n' | head -c 8)

# conf NAME [lines...]: a verify-only configuration on the fake server.
conf() {
  local name=$1
  shift
  { printf 'Mode v\nNameservers %s\nAuthservID test.host\n' "$NS"; printf '%s\n' "$@"; } > "$name.conf"
}
# ar_of CONF FILE: the dkim= clauses inkan-dkim writes, one per line, without the separators.
ar_of() { "$BIN" -x "$1" -vv -t "$2" 2>&1 | grep -a $'^\tdkim=\\|hvalue=.*dkim=' | sed "s/.*hvalue='[^;]*; *//; s/^\t//; s/[;']\$//"; }

conf plain
conf ta "TrustAnchorFile /usr/share/dns/root.key"
conf ta-fail "TrustAnchorFile /usr/share/dns/root.key" "UnprotectedKey fail"
conf ta-neutral "TrustAnchorFile /usr/share/dns/root.key" "UnprotectedKey neutral"
conf ta-fail-reject "TrustAnchorFile /usr/share/dns/root.key" "UnprotectedKey fail" "On-BadSignature reject"
conf ta-bogus "TrustAnchorFile /usr/share/dns/root.key" "UnprotectedKey fail" "BogusKey fail" "On-DNSError accept"
TAIL="header.d=example.net header.i=@example.net header.a=rsa-sha256 header.s=sel header.b="
TAIL_ORG="header.d=example.org header.i=@example.org header.a=rsa-sha256 header.s=sel header.b="

## Without TrustAnchorFile: AD neither asked for nor trusted, every key is "unprotected".
expect_has "plain: signed zone unprotected" "$(ar_of plain.conf sec.eml)" "dkim=pass (2048-bit key; unprotected) $TAIL"
expect_eq "plain: -t" "$("$BIN" -x plain.conf -t secbad.eml)" \
  "inkan-dkim: secbad.eml: verification (s=sel d=example.net, 2048-bit key, insecure) failed: signature verification failed"

## With TrustAnchorFile: the AD bit decides.
expect_has "ta: secure" "$(ar_of ta.conf sec.eml)" "dkim=pass (2048-bit key; secure) $TAIL"
expect_has "ta: unsigned zone" "$(ar_of ta.conf signed.eml)" "dkim=pass (2048-bit key; unprotected) $TAIL_ORG$B8"
expect_eq "ta: -t pass" "$("$BIN" -x ta.conf -t sec.eml)" \
  "inkan-dkim: sec.eml: verification (s=sel, d=example.net, 2048-bit key) succeeded"
expect_eq "ta: -t secure failure" "$("$BIN" -x ta.conf -t secbad.eml)" \
  "inkan-dkim: secbad.eml: verification (s=sel d=example.net, 2048-bit key, secure) failed: signature verification failed"
expect_has "ta: secure bad" "$(ar_of ta.conf secbad.eml)" \
  "dkim=fail reason=\"signature verification failed\" (2048-bit key; secure) $TAIL"
# UnprotectedKey acts on insecure keys only.
expect_has "ta-fail: secure stays pass" "$(ar_of ta-fail.conf sec.eml)" "dkim=pass (2048-bit key; secure) $TAIL"
expect_has "ta-fail: unprotected → policy" "$(ar_of ta-fail.conf signed.eml)" "dkim=policy (2048-bit key; unprotected) $TAIL_ORG"
expect_has "ta-neutral: secure bad stays fail" "$(ar_of ta-neutral.conf secbad.eml)" "dkim=fail reason="
expect_has "ta-neutral: unprotected → neutral" "$(ar_of ta-neutral.conf nokey.eml)" "dkim=neutral reason=\"key not found in DNS\""
out=$("$BIN" -x ta-fail-reject.conf -vv -t signed.eml 2>&1)
expect_has "ta-fail-reject: 550" "$out" "### SETREPLY: rcode='550' xcode='5.7.0' replytxt='bad DKIM signature data'"
expect_has "ta-fail-reject: reject" "$out" "mlfi_eom() returned SMFIS_REJECT"
conf ta-neutral-reject "TrustAnchorFile /usr/share/dns/root.key" "UnprotectedKey neutral" "On-BadSignature reject"
out=$("$BIN" -x ta-neutral-reject.conf -vv -t bad.eml 2>&1)
expect_has "ta-neutral-reject: bad signature accepted" "$out" "mlfi_eom() returned SMFIS_ACCEPT"
expect_has "ta-neutral-reject: neutral" "$out" "dkim=neutral reason=\"signature verification failed\" (2048-bit key; unprotected)"
out=$("$BIN" -x ta-neutral-reject.conf -vv -t secbad.eml 2>&1)
expect_has "ta-neutral-reject: secure bad signature rejected" "$out" "mlfi_eom() returned SMFIS_REJECT"
out=$("$BIN" -x ta-fail-reject.conf -vv -t sec.eml 2>&1)
expect_has "ta-fail-reject: secure accepted" "$out" "mlfi_eom() returned SMFIS_ACCEPT"
expect_not "ta-fail-reject: secure no reply" "$out" "SETREPLY"
# A bogus record: SERVFAIL from the validating resolver, a DNS error; BogusKey cannot apply
# and neither does UnprotectedKey (no answer, status unknown).
out=$("$BIN" -x ta.conf -vv -t bogus.eml 2>&1)
expect_has "bogus: tempfail" "$out" "### SETREPLY: rcode='451' xcode='4.7.5' replytxt='DKIM key retrieval failed'"
expect_has "bogus: -t unknown" "$out" "verification (s=sel d=bogus.example, 0-bit key, unknown) failed: key DNS query failed"
expect_has "bogus: On-DNSError accept" "$(ar_of ta-bogus.conf bogus.eml)" "dkim=temperror reason=\"key query failed\" header.d=bogus.example"

## YAML spelling: dns.dnssec: resolver.
printf 'authserv_id: test.host\ndns:\n  nameservers: ["%s"]\n  dnssec: resolver\ndkim:\n  mode: v\n' "$NS" > y.yaml
expect_has "yaml: secure" "$(ar_of y.yaml sec.eml)" "dkim=pass (2048-bit key; secure) $TAIL"
printf 'authserv_id: test.host\ndns:\n  nameservers: ["%s"]\ndkim:\n  mode: v\n' "$NS" > n.yaml
expect_has "yaml: default none" "$(ar_of n.yaml sec.eml)" "dkim=pass (2048-bit key; unprotected) $TAIL"
# The whole A-R: "dkim-atps=neutral" last by default (as Debian's opendkim), gone with atps_neutral: false.
whole() { "$BIN" -x "$1" -vv -t sec.eml 2>&1 | sed -n "/hname='Authentication-Results'/,/'\$/p"; }
expect_has "yaml: dkim-atps=neutral by default" "$(whole n.yaml)" ";
	dkim-atps=neutral'"
printf 'authserv_id: test.host\ndns:\n  nameservers: ["%s"]\ndkim:\n  mode: v\n  atps_neutral: false\n' "$NS" > na.yaml
expect_eq "yaml: atps_neutral false" "$(whole na.yaml | tail -n 1 | sed "s/.* header\.b=[^;']*//")" "'"

## Test keys never came from DNS: no annotation, whatever the mode (libopendkim: UNKNOWN).
testlib_keyline example.net "$P" > keys
printf 'Mode v\nTestPublicKeys %s/keys\nAuthservID test.host\nTrustAnchorFile /usr/share/dns/root.key\nUnprotectedKey fail\n' "$T" > tk.conf
expect_has "test keys" "$(ar_of tk.conf sec.eml)" "dkim=pass (2048-bit key) $TAIL"

## Start-up warning when a resolver it will trust is off loopback.
printf 'Mode v\nNameservers 192.0.2.53,127.0.0.1@5353\nTrustAnchorFile /usr/share/dns/root.key\nSocket local:%s/s.sock\n' "$T" > warn.conf
log=$(timeout 2 "$BIN" -f -x warn.conf 2>&1)
expect_has "warning off loopback" "$log" "warning: DNSSEC: resolver 192.0.2.53 is not on loopback"
expect_not "no warning for loopback" "$log" "resolver 127.0.0.1"
printf 'Mode v\nNameservers 192.0.2.53\nSocket local:%s/s2.sock\n' "$T" > nowarn.conf
expect_not "no warning without DNSSEC" "$(timeout 2 "$BIN" -f -x nowarn.conf 2>&1)" "not on loopback"

## A real unbound on loopback (local-data is not validated: no AD even when asked).
UNS=""
if [ -x "$UNBOUND" ]; then
  for _ in 1 2 3; do
    UP=$(free_port)
    cat > unbound.conf <<EOF
server:
  interface: 127.0.0.1
  port: $UP
  username: ""
  chroot: ""
  directory: "$T"
  pidfile: "$T/unbound.pid"
  use-syslog: no
  logfile: ""
  num-threads: 1
  do-ip6: no
  module-config: "validator iterator"
  access-control: 127.0.0.0/8 allow
  local-zone: "example.org." static
  local-data: 'sel._domainkey.example.org. 300 IN TXT "v=DKIM1; k=rsa; p=${P:0:200}" "${P:200}"'
remote-control:
  control-enable: no
EOF
    "$UNBOUND" -d -c unbound.conf > unbound.log 2>&1 &
    upid=$!
    for _ in $(seq 100); do
      python3 - "$UP" <<'EOF' 2>/dev/null && break
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.1)
q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + b"\x03sel\x0a_domainkey\x07example\x03org\x00\x00\x10\x00\x01"
s.sendto(q, ("127.0.0.1", int(sys.argv[1]))); s.recvfrom(4096)
EOF
      sleep 0.05
    done
    if kill -0 "$upid" 2>/dev/null; then
      PIDS+=("$upid")
      UNS="127.0.0.1@$UP"
      break
    fi
  done
  if [ -n "$UNS" ]; then
    printf 'Mode v\nNameservers %s\nAuthservID test.host\nTrustAnchorFile /usr/share/dns/root.key\n' "$UNS" > ub.conf
    expect_has "unbound: local-data unprotected" "$(ar_of ub.conf signed.eml)" "dkim=pass (2048-bit key; unprotected) $TAIL_ORG$B8"
    expect_has "unbound: nokey" "$(ar_of ub.conf nokey.eml)" "dkim=fail reason=\"key not found in DNS\""
  else
    fail "unbound did not start: $(tail -3 unbound.log)"
  fi
else
  echo "SKIP: $UNBOUND not installed (real-resolver rows)"
fi

## opendkim on the same servers (no TrustAnchorFile: INSECURE everywhere) and inkan-dkim with
## and without TrustAnchorFile on the unsigned zone: byte-for-byte the same results.
# norm PROGNAME: keep the -t line, the dkim= clauses, replies and milter results.
norm() {
  grep -a $'verification\\|^\tdkim=\\|hvalue=\\|SETREPLY\\|mlfi_eom' |
    sed "s/^$1: /PROG: /; s/.*hvalue='[^;]*; *//; s/^\t//; s/[;']\$//; /^\$/d" | sort
}
if [ -x "$OD" ]; then
  servers=("$NS")
  [ -n "$UNS" ] && servers+=("$UNS")
  for ns in "${servers[@]}"; do
    for u in none neutral fail fail-reject neutral-reject; do
      extra="UnprotectedKey ${u%-reject}"
      case $u in *-reject) extra="$extra
On-BadSignature reject" ;; esac
      printf 'Mode v\nNameservers %s\nAuthservID test.host\n%s\n' "$ns" "$extra" > od.conf
      cp od.conf in.conf
      printf 'TrustAnchorFile /usr/share/dns/root.key\n' >> in.conf
      for f in signed bad nokey; do
        want=$("$OD" -x od.conf -vv -t $f.eml 2>&1 | norm opendkim)
        # opendkim -t -vv shows the AR it inserted before rejecting; inkan-dkim adds none to a
        # message it rejects (anchor-features.md §2.7: the MTA drops it anyway). Not DNSSEC's.
        case $want in *SMFIS_REJECT*) want=$(printf '%s\n' "$want" | grep -v '^dkim=') ;; esac
        got=$("$BIN" -x od.conf -vv -t $f.eml 2>&1 | norm inkan-dkim)
        got_ta=$("$BIN" -x in.conf -vv -t $f.eml 2>&1 | norm inkan-dkim)
        expect_eq "opendkim vs inkan-dkim ($ns, $u, $f)" "$got" "$want"
        expect_eq "opendkim vs inkan-dkim TrustAnchorFile ($ns, $u, $f)" "$got_ta" "$want"
        case $want in *SMFIS_REJECT*) ;; *) expect_has "opendkim AR present ($ns, $u, $f)" "$want" "dkim=" ;; esac
      done
    done
  done
else
  echo "SKIP: $OD not installed (comparison half)"
fi

testlib_finish
