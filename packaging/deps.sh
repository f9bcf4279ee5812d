#!/usr/bin/env bash
# Installs every build and test dependency of inkan on Debian 12. Idempotent: when all
# packages are already installed it does nothing (no apt-get update, no network).
set -euo pipefail

PKGS=(
  # build
  build-essential cmake pkg-config g++
  libmilter-dev libssl-dev libc-ares-dev libyaml-cpp-dev libidn2-dev zlib1g-dev libsqlite3-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  # fuzzing (libFuzzer) — optional preset `fuzz`
  clang libclang-rt-14-dev
  # test peers and servers (integration, interoperability)
  unbound postfix swaks openssl python3 python3-yaml python3-dkim python3-nacl python3-dnspython
  libmail-dkim-perl python3-spf
  opendkim opendkim-tools publicsuffix iproute2 procps
  # opendkim data sets and policy scripts (db:, Lua)
  libdb5.3-dev db5.3-util liblua5.3-dev
  # ldap: and dsn: data sets: headers only (the libraries are dlopen'ed), and the test servers
  libldap-dev slapd ldap-utils libopendbx1-dev libopendbx1-sqlite3 libopendbx1-pgsql postgresql sqlite3
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Postfix must not ask questions nor configure the system MTA for us.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
# Nor slapd a directory: the LDAP tests start their own slapd on loopback.
echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
echo "inkan deps: installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the packaged daemons; our tests run private instances on their own ports.
for svc in opendkim unbound postfix slapd postgresql; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $SUDO systemctl stop "$svc" || true
  fi
done
