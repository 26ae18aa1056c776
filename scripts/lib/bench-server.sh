# Sourced by the bench scripts: starts `quasm serve` (release build, fresh
# data directory, embedded Postgres) on a random port, stops it on exit.
# Sets: quasm, dir, pid, base, token.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quasm-target}"
quasm="$CARGO_TARGET_DIR/release/quasm"
[[ -x "$quasm" ]] || cargo build --release --bin quasm

dir=$(mktemp -d /tmp/quasm-bench.XXXXXX)
chmod 755 "$dir"
port=$((20000 + RANDOM % 20000))
base="http://127.0.0.1:$port"
"$quasm" serve --data-dir "$dir" --listen "127.0.0.1:$port" ${QUASM_BENCH_SERVE_ARGS:-} 2>"$dir/serve.log" &
pid=$!
cleanup() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
for _ in $(seq 1 300); do
  curl -fs "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/serve.log" >&2; exit 1; }
  sleep 0.1
done
token=$("$quasm" token create --tenant bench --role admin --data-dir "$dir")
