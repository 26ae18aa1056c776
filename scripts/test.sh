#!/usr/bin/env bash
# Runs the whole test suite: the guest's reproducibility check, the Rust
# workspace (unit + integration tests via nextest), doc tests and the JS
# prelude's tests. `.ci/run` calls this script.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quasm-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== guest: rebuild and compare with the committed quasm-guest.wasm"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
runtime/guest/build.sh "$tmp/guest.wasm"
if ! cmp -s "$tmp/guest.wasm" runtime/guest/quasm-guest.wasm; then
  echo "FAIL: runtime/guest/quasm-guest.wasm differs from a fresh build;" \
       "run runtime/guest/build.sh and commit the result" >&2
  exit 1
fi

echo "== prelude (node --test)"
node --test runtime/guest/prelude.test.mjs

echo "== rust"
cargo test --workspace --doc --quiet
cargo nextest run --workspace --no-fail-fast
