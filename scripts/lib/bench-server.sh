# Sourced by the bench scripts: starts `quasm serve` (release build, fresh
# data directory) on a random port and stops it on exit.
# Optional, set before sourcing: bench_database_url (an external database;
# default: the embedded Postgres), a bench_cleanup function (run on exit),
# QUASM_BENCH_BIN (a binary to run instead of building the release one),
# QUASM_BENCH_SERVE_ARGS (extra `serve` flags).
# Sets: quasm, dir, pid, base, token.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quasm-target}"
quasm="${QUASM_BENCH_BIN:-$CARGO_TARGET_DIR/release/quasm}"
[[ -n "${QUASM_BENCH_BIN:-}" ]] || cargo build --release --bin quasm

dir=$(mktemp -d /tmp/quasm-bench.XXXXXX)
chmod 755 "$dir"
port=$((20000 + RANDOM % 20000))
base="http://127.0.0.1:$port"
"$quasm" serve --data-dir "$dir" --listen "127.0.0.1:$port" ${bench_database_url:+--database-url "$bench_database_url"} \
  ${QUASM_BENCH_SERVE_ARGS:-} 2>"$dir/serve.log" &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  if declare -F bench_cleanup >/dev/null; then bench_cleanup; fi
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 1 300); do
  curl -fs "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/serve.log" >&2; exit 1; }
  sleep 0.1
done
token=$("$quasm" token create --tenant bench --role admin --data-dir "$dir")
