#!/bin/bash
# sign_or_verify_test.sh INKAN_DKIM [OPENDKIM]: which mail from an internal host is verified.
#
# opendkim's mlfi_eoh signs when the origin is internal and the From domain has a key; every other
# message is verified when Mode has v: mail from an internal host whose domain has no key too
# (`opendkim -t` runs as client 127.0.0.1, internal by default). Both binaries get the same
# configurations and messages; -vv output (header changes, callback verdicts) and the exit code
# are compared. Keys come from TestPublicKeys: no DNS.
source "$(dirname "$0")/testlib.sh"
testlib_init "$1" "${2:-}"
cd "$T" || exit 1
chmod 700 "$T"

openssl genrsa -out ours.pem 2048 2> /dev/null
openssl genrsa -out theirs.pem 1024 2> /dev/null
chmod 600 ours.pem theirs.pem
pub() { openssl rsa -in "$1" -pubout 2> /dev/null | grep -v '^-----' | tr -d '\n'; }
printf 'sel._domainkey.example.com v=DKIM1; k=rsa; p=%s\no._domainkey.other.org v=DKIM1; k=rsa; p=%s\n' \
  "$(pub ours.pem)" "$(pub theirs.pem)" > keys

printf 'From: a@other.org\nTo: b@example.net\nSubject: foreign\n\nhi\n' > foreign.eml
printf 'From: a@example.com\nTo: b@example.net\nSubject: ours\n\nhi\n' > ours.eml
"$PY" - << 'EOF'
import dkim
msg = open('foreign.eml', 'rb').read().replace(b'\n', b'\r\n')
sig = dkim.sign(msg, b'o', b'other.org', open('theirs.pem', 'rb').read(),
                include_headers=[b'from', b'to', b'subject'])
open('signed.eml', 'wb').write((sig + msg).replace(b'\r\n', b'\n'))
# The same, its body changed after signing: dkim=fail.
open('tampered.eml', 'wb').write((sig + msg).replace(b'\r\n', b'\n').replace(b'hi\n', b'ho\n'))
EOF

common="Syslog no
AuthservID test.host
TestPublicKeys $T/keys
RequireSafeKeys no"
# Single-key mode and KeyTable/SigningTable mode, each with and without AlwaysAddARHeader.
printf '%s\nMode sv\nDomain example.com\nSelector sel\nKeyFile %s/ours.pem\n' "$common" "$T" > simple.conf
printf '%s\nAlwaysAddARHeader yes\n' "$(cat simple.conf)" > simple-ar.conf
printf 'sel example.com:sel:%s/ours.pem\n' "$T" > keytable
printf '*@example.com sel\n' > signingtable
printf '%s\nMode sv\nKeyTable %s/keytable\nSigningTable refile:%s/signingtable\n' "$common" "$T" "$T" > table.conf
printf '%s\nAlwaysAddARHeader yes\n' "$(cat table.conf)" > table-ar.conf
# Mode s: nothing is verified, internal or not.
printf '%s\nMode s\nDomain example.com\nSelector sel\nKeyFile %s/ours.pem\nAlwaysAddARHeader yes\n' \
  "$common" "$T" > sign-only.conf

# Both A-R end with Debian's "dkim-atps=neutral" clause (_FFR_ATPS; opendkim.conf keeps it).
norm() { sed -e 's/^opendkim:/inkan-dkim:/'; }

for conf in simple simple-ar table table-ar sign-only; do
  for m in foreign signed tampered ours; do
    got=$("$BIN" -x "$conf.conf" -vv -t "$m.eml" 2> /dev/null)
    rc_got=$?
    # What inkan-dkim must do whether or not opendkim is here to compare with.
    case "$conf/$m" in
      sign-only/foreign | sign-only/signed | sign-only/tampered)
        expect_not "$conf/$m: Mode s verifies nothing" "$got" "Authentication-Results" ;;
      */ours)
        expect_has "$conf/$m: our domain is signed" "$got" "hname='DKIM-Signature'"
        expect_not "$conf/$m: and not verified" "$got" "Authentication-Results" ;;
      *-ar/foreign)
        expect_has "$conf/$m: internal, foreign, unsigned: verified" "$got" "hvalue='test.host; dkim=none; dkim-atps=neutral'" ;;
      */foreign)
        expect_not "$conf/$m: nothing to report without AlwaysAddARHeader" "$got" "Authentication-Results" ;;
      */signed)
        expect_has "$conf/$m: internal, foreign, signed: verified" "$got" "dkim=pass (1024-bit key) header.d=other.org" ;;
      */tampered)
        expect_has "$conf/$m: internal, foreign, tampered: verified" "$got" "dkim=fail reason=\"signature verification failed\" (1024-bit key) header.d=other.org" ;;
    esac
    if [ "$HAVE_OD" = 1 ]; then
      "$OD" -x "$conf.conf" -vv -t "$m.eml" > od.out 2> /dev/null
      rc_want=$?
      want=$(norm < od.out)
      # A new signature differs in t= and b= (opendkim -t has no fixed clock): compare its shape.
      if [ "$m" = ours ]; then
        got=$(printf '%s\n' "$got" | sed -e 's/t=[0-9]*;/t=T;/' -e 's/b=[A-Za-z0-9+\/= 	]*$/b=B/' | grep -v '^	 ')
        want=$(printf '%s\n' "$want" | sed -e 's/t=[0-9]*;/t=T;/' -e 's/b=[A-Za-z0-9+\/= 	]*$/b=B/' | grep -v '^	 ')
      fi
      expect_eq "$conf/$m: the same as opendkim -t" "$got" "$want"
      expect_eq "$conf/$m: exit code as opendkim -t" "$rc_got" "$rc_want"
    fi
  done
done

# inkan.yaml: "dkim-atps=neutral" is written by default too, and atps_neutral: false drops it
# (TestPublicKeys is opendkim.conf only: the unsigned message; dnssec_test.sh has a signed one).
for atps in "" "  atps_neutral: false"; do
  printf 'authserv_id: test.host\nsyslog: false\ndkim:\n  mode: v\n  always_add_ar_header: true\n%s\n' "$atps" > v.yaml
  none="hvalue='test.host; dkim=none; dkim-atps=neutral'"
  [ -n "$atps" ] && none="hvalue='test.host; dkim=none'"
  expect_has "yaml${atps:+ atps_neutral false}: unsigned" "$("$BIN" -x v.yaml -vv -t foreign.eml 2> /dev/null)" "$none"
done
testlib_finish
