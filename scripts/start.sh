#!/usr/bin/env bash
# The first command: installs what is missing, builds quasm and starts the
# platform on embedded defaults (its own Postgres cluster and a blob
# directory under the data directory), listening on 127.0.0.1:8080.
# Extra arguments go to `quasm serve` (e.g. --listen 0.0.0.0:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quasm-target}"
features=()
if [[ -n "${QUASM_FEATURES:-}" ]]; then
  features=(--features "$QUASM_FEATURES")
  [[ "$QUASM_FEATURES" == *llvm* ]] && export LLVM_SYS_221_PREFIX="${LLVM_SYS_221_PREFIX:-/usr/lib/llvm-22}"
fi
# The web console (ui/): built first, so the binary embeds it. Without
# node the binary still builds and `/` says how to build the console.
if command -v npm >/dev/null 2>&1; then
  (cd ui && npm ci --no-audit --no-fund && npm run build)
else
  echo "start: npm not found; building quasm without the web console" >&2
fi
cargo build --release --bin quasm "${features[@]}"
quasm="$CARGO_TARGET_DIR/release/quasm"
echo "quasm is built at $quasm"
echo "starting: $quasm serve $*"
exec "$quasm" serve "$@"
