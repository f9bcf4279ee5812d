#!/usr/bin/env bash
# The inkan demo: runs the suite's main job on its embedded defaults.
# Usage: examples/demo.sh BUILD_DIR
set -euo pipefail
build=${1:-build/release}
inkan="$build/tools/inkan"
"$inkan" version
"$inkan" --help
