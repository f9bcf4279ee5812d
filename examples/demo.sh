#!/usr/bin/env bash
# The inkan demo: inkan-dkim signing and verifying real mail in a private Postfix.
# Starts unbound, smtp-sink and a Postfix instance of its own (own config directory, loopback
# high ports; nothing leaves 127.0.0.1), runs inkan-dkim on an OpenDKIM-style configuration,
# sends one message through submission (signed) and one signed inbound message (verified),
# prints the resulting headers and cleans up. Needs root (Postfix's master), postfix, unbound,
# openssl and Debian's python3-dkim.
# Usage: examples/demo.sh BUILD_DIR
set -euo pipefail
build=${1:-build/release}
here=$(cd "$(dirname "$0")" && pwd)
if [[ ! -x "$build/milters/dkim/inkan-dkim" ]]; then
  echo "demo: $build/milters/dkim/inkan-dkim missing; build first: cmake --build $build" >&2
  exit 1
fi
if [[ -x "$build/tools/inkan" ]]; then "$build/tools/inkan" version || true; fi
exec timeout 120 /usr/bin/python3 "$here/demo.py" "$build"
