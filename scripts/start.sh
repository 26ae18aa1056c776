#!/usr/bin/env bash
# The first command: installs what is missing, builds quasm and runs an
# example function. (`quasm serve` replaces the example run once the server
# lands.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quasm-target}"
cargo build --release --bin quasm
quasm="$CARGO_TARGET_DIR/release/quasm"
echo "== quasm run examples/hello.js --input '{\"name\":\"Ada\"}'"
"$quasm" run examples/hello.js --input '{"name":"Ada"}'
echo "== quasm run examples/hello.js --handler fetch --url http://localhost/hi"
"$quasm" run examples/hello.js --handler fetch --url http://localhost/hi
echo
echo "quasm is built at $quasm; try: $quasm run --help"
