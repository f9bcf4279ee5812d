#!/bin/bash
# systemd_units_test.sh INKAN_DKIM INKAN_SPF: packaging/systemd and packaging/sysusers.d as an
# admin's machine reads them, without starting a service manager (booting systemd here would
# run its sysinit units against the host: tmpfiles wipes /tmp, journald takes /dev/log).
#   1. ReadWritePaths=/ReadOnlyPaths= entries outside the unit's RuntimeDirectory start with
#      "-": systemd.exec(5) skips a missing "-" path, and refuses to start the unit
#      (226/NAMESPACE) on any other missing one: no opendkim package, no /etc/inkan, ...
#   2. `systemd-analyze verify` (when systemd is installed) on the units, ExecStart pointed at
#      the built daemons: no error, no warning; Documentation= names files the install puts
#      there and manual pages that exist (when man-db is installed).
#   3. sysusers.d/inkan.conf creates the User= of inkan-dkim.service (in a scratch root).
#   4. The daemons accept the units' ExecStart command lines (with -n: check and exit).
source "$(dirname "$0")/../../milters/dkim/tests/testlib.sh"
testlib_init "$1"
SPF=$(readlink -f "$2")
P=$(cd "$(dirname "$0")/.." && pwd)
cd "$T" || exit 1

# value KEY UNIT: the values of KEY= in UNIT, one line each occurrence.
value() { sed -n "s/^$1=//p" "$2"; }

## 1. Paths that may be missing are marked "-".
for u in "$P"/systemd/*.service; do
  name=$(basename "$u")
  rt=$(value RuntimeDirectory "$u")
  for key in ReadWritePaths ReadOnlyPaths InaccessiblePaths; do
    for path in $(value $key "$u"); do
      case "$path" in
        -*) ok=1 ;;
        *) ok=0; for r in $rt; do case "$path" in /run/"$r" | /run/"$r"/*) ok=1 ;; esac; done ;;
      esac
      expect_eq "$name: $key $path exists or is optional (\"-\")" "$ok" 1
    done
  done
done

## 2. systemd-analyze verify.
if command -v systemd-analyze > /dev/null; then
  mkdir units
  for u in "$P"/systemd/*; do
    sed -e "s#/usr/sbin/inkan-dkim#$BIN#g" -e "s#/usr/sbin/inkan-spf#$SPF#g" "$u" > "units/$(basename "$u")"
  done
  for u in units/*; do
    out=$(cd units && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$(basename "$u")" 2>&1)
    rc=$?
    expect_eq "$(basename "$u"): systemd-analyze verify exit" "$rc" 0
    expect_eq "$(basename "$u"): systemd-analyze verify says nothing" "$out" ""
  done
else
  echo "systemd-analyze not installed: verify skipped"
fi
for u in "$P"/systemd/*; do
  for doc in $(value Documentation "$u"); do
    case "$doc" in
      file:/usr/share/doc/inkan/examples/*)
        f=${doc#file:/usr/share/doc/inkan/examples/}
        expect_has "$(basename "$u"): $doc is installed" "$(cat "$P/CMakeLists.txt")" "/examples/$f"
        [ -f "$P/../examples/$f" ]
        rc=$?
        expect_eq "$(basename "$u"): examples/$f exists" "$rc" 0 ;;
      man:*)
        if command -v man > /dev/null; then
          page=${doc#man:}
          man -w "$(sed 's/.*(\(.*\))/\1/' <<< "$page")" "${page%(*}" > /dev/null 2>&1
          rc=$?
          expect_eq "$(basename "$u"): $doc exists" "$rc" 0
        fi ;;
      *) fail "$(basename "$u"): Documentation $doc: not a file: or man: reference" ;;
    esac
  done
done

## 3. The unit's user, from sysusers.d (systemd-sysusers --root writes only under $T).
user=$(value User "$P/systemd/inkan-dkim.service")
expect_eq "inkan-dkim.service: User" "$user" inkan
if command -v systemd-sysusers > /dev/null; then
  mkdir -p root/etc
  touch root/etc/passwd root/etc/group root/etc/shadow root/etc/gshadow
  systemd-sysusers --root="$T/root" "$P/sysusers.d/inkan.conf" > sysusers.out 2>&1
  rc=$?
  expect_eq "systemd-sysusers inkan.conf exit" "$rc" 0
  expect_has "sysusers: user $user, no login" "$(cat root/etc/passwd)" "$user:x:"
  expect_has "sysusers: no shell" "$(grep "^$user:" root/etc/passwd)" ":/nonexistent:/usr/sbin/nologin"
  expect_has "sysusers: group $user" "$(cat root/etc/group)" "$user:x:"
else
  expect_has "sysusers.d: a u line for $user" "$(cat "$P/sysusers.d/inkan.conf")" "u $user "
fi

## 4. The ExecStart command lines, checked with -n (the unit's user may not exist here: nobody).
args() { value ExecStart "$1" | sed -e 's/^[^ ]* //' -e 's/-u [a-z-]*/-u nobody/'; }
printf 'Syslog no\nMode sv\n' > opendkim.conf
# shellcheck disable=SC2046
"$BIN" $(args "$P/systemd/inkan-dkim.service") -n -x opendkim.conf > dkim.out 2>&1
rc=$?
expect_eq "inkan-dkim accepts its ExecStart flags ($(args "$P/systemd/inkan-dkim.service"))" "$rc" 0
printf 'debugLevel = 1\n' > policyd-spf.conf
# shellcheck disable=SC2046
"$SPF" $(args "$P/systemd/inkan-spf.service" | sed 's#-c [^ ]*#-c policyd-spf.conf#') -n > spf.out 2>&1
rc=$?
expect_eq "inkan-spf accepts its ExecStart flags" "$rc" 0
expect_has "inkan-spf -n read the config" "$(cat spf.out)" "policyd-spf.conf: OK"

testlib_finish
