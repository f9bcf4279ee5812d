#!/usr/bin/env bash
# DKIM in one minute: generate a key, sign a sample message, verify it against a zone made
# from the generated TXT record — no DNS server, nothing outside a temporary directory.
# Usage: examples/dkim-demo.sh BUILD_DIR
set -euo pipefail
build=${1:-build/release}
inkan="$(cd "$build" && pwd)/tools/inkan"
if [ ! -x "$inkan" ]; then
  echo "dkim-demo: $inkan not found; build it first (cmake --build $build --target inkan)" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
cd "$work"

# 1. A key pair, as opendkim-genkey would make it: demo.private + demo.txt (the TXT record).
"$inkan" keygen -d example.com -s demo

# 2. A zone for example.com holding that record (what you would paste into your DNS).
{ echo '$ORIGIN example.com.'; cat demo.txt; } > example.com.zone

# 3. A sample message, signed.
cat > message.eml <<'MSG'
From: Alice <alice@example.com>
To: Bob <bob@example.org>
Subject: Hello from inkan
Date: Sun, 22 Nov 2026 14:00:00 +0000
Message-ID: <demo.1@example.com>

Hi Bob, this message carries a DKIM signature.
MSG
"$inkan" dkim sign --key demo.private -d example.com -s demo < message.eml > signed.eml

echo "== signed headers"
sed -n '1,/^$/p' signed.eml
# 4. Verified against the zone: one Authentication-Results clause per signature.
echo "== verify"
"$inkan" dkim verify --zone example.com.zone < signed.eml
