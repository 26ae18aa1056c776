#!/usr/bin/env bash
# HTTP benchmark: starts `quasm serve` (release build, fresh data directory,
# embedded Postgres) and drives it with wrk (1 thread) from the same machine.
#
# Part 1, interleaved rounds (figures on this shared machine vary 2x between
# runs, so the targets are ratios between scenarios of the same round):
#   deno_hello           Deno.serve returning "ok" (the reference; npm `deno`
#                        installed under ~/.cache/quasm-bench-deno)
#   healthz              quasm's /healthz (the server's own floor)
#   route_fresh          a public route, default isolation (fresh state per
#                        call), success records off
#   route_warm           the same with `isolation: warm`
#   route_recorded       a public route with every execution recorded
#   jwt_invoke           JWT-authenticated POST /api/v1/functions/{name}/invoke
#                        (`run` handler) of the function behind route_fresh
#                        (successes not recorded: its success_sample_rate is 0)
#   jwt_invoke_recorded  the same for the function behind route_recorded
# Part 2, many functions: creates N functions with public routes in 20
# tenants, calls each once, sampling the server's memory against the number
# of functions; then drives all routes round-robin against the single route;
# then waits until idle functions are evicted (the bench server's idle TTL is
# shortened to QUASM_BENCH_IDLE_TTL seconds, standing in for "not called for
# an hour") and times first calls of a sample of them.
#
# Prints each run, then one JSON line with every figure and ratio (medians
# over the rounds, with min and max), and plots memory against functions.
# Usage: scripts/bench-http.sh [duration_s=5] [connections=64] [rounds=3] [functions=1000] [png=docs/bench-density.png]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-5}"
conns="${2:-64}"
rounds="${3:-3}"
functions="${4:-1000}"
png="${5:-docs/bench-density.png}"
idle_ttl="${QUASM_BENCH_IDLE_TTL:-15}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

# The reference server and the plotting venv live outside the repository.
deno_dir="${QUASM_BENCH_DENO_DIR:-$HOME/.cache/quasm-bench-deno}"
deno="$deno_dir/node_modules/.bin/deno"
if [ ! -x "$deno" ]; then
  mkdir -p "$deno_dir"
  (cd "$deno_dir" && npm install --no-audit --no-fund deno@2 >/dev/null)
fi
venv="${QUASM_BENCH_VENV:-$HOME/.cache/quasm-bench-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import matplotlib" 2>/dev/null || "$venv/bin/pip" install -q matplotlib

export QUASM_SANDBOX_IDLE_TTL_SECS="$idle_ttl"
bench_cleanup() { [ -n "${deno_pid:-}" ] && kill "$deno_pid" 2>/dev/null; true; }
source scripts/lib/bench-server.sh
deno_port=$((port + 1))
cat >"$dir/hello.js" <<JS
Deno.serve({ port: $deno_port, hostname: "127.0.0.1", onListen() {} }, () => new Response("ok"));
JS
DENO_NO_UPDATE_CHECK=1 "$deno" run --allow-net "$dir/hello.js" >"$dir/deno.log" 2>&1 &
deno_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$deno_port/" >/dev/null 2>&1 && break; sleep 0.1; done

api() { curl -fsS -X "$1" "$base$2" -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "$3" >/dev/null; }
code='export default { fetch() { return new Response(\"ok\") }, run(input) { return input } }'
api POST /api/v1/functions "{\"name\":\"quiet\",\"code\":\"$code\",\"success_sample_rate\":0}"
api POST /api/v1/functions "{\"name\":\"warm\",\"code\":\"$code\",\"success_sample_rate\":0,\"isolation\":\"warm\"}"
api POST /api/v1/functions "{\"name\":\"recorded\",\"code\":\"$code\",\"success_sample_rate\":1}"
api POST /api/v1/routes '{"path":"/quiet","function":"quiet","auth":"public"}'
api POST /api/v1/routes '{"path":"/warm","function":"warm","auth":"public"}'
api POST /api/v1/routes '{"path":"/recorded","function":"recorded","auth":"public"}'

cat >"$dir/invoke.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"input": {"n": 1}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
runs="$dir/runs.jsonl"
: >"$runs"
# One wrk run; appends {"round", "scenario", figures...} to $runs. Server CPU
# is that of the process answering (Deno's own for the reference), client CPU
# wrk's: with both on the same cores, a server's requests/s is bounded by
# cores / (server + client CPU per request).
run() { # round name url [wrk args...]
  local round=$1 name=$2 url=$3; shift 3
  local server=$pid
  [ "$name" = deno_hello ] && server=$deno_pid
  local before after out
  before=$(cpu_ticks "$server")
  # `times` in the same subshell: its children's CPU, i.e. wrk's.
  out=$(wrk -t1 -c"$conns" -d"${duration}s" --latency "$@" "$url"; times)
  after=$(cpu_ticks "$server")
  local rps reqs p50 p99 non2xx cpu_us client_us
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  cpu_us=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$reqs" 'BEGIN {printf "%.2f", t / hz * 1e6 / n}')
  client_us=$(tail -1 <<<"$out" | awk -v n="$reqs" '{
    split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.2f", ((u[1] + s[1]) * 60 + u[2] + s[2]) * 1e6 / n }')
  printf 'round %s %-16s %10s req/s  p50 %8s  p99 %8s  server CPU %6s us/req  client CPU %6s us/req  non-2xx %s\n' \
    "$round" "$name" "$rps" "$p50" "$p99" "$cpu_us" "$client_us" "$non2xx"
  echo "{\"round\": $round, \"scenario\": \"$name\", \"rps\": $rps, \"p50\": \"$p50\", \"p99\": \"$p99\", \"server_cpu_us\": $cpu_us, \"client_cpu_us\": $client_us, \"non_2xx\": $non2xx}" >>"$runs"
}
echo "wrk: 1 thread, $conns connections, ${duration}s per run, $rounds rounds, $(nproc) cores shared with the servers"
# Warm-up: every path once, briefly.
for u in "http://127.0.0.1:$deno_port/" "$base/healthz" "$base/fn/bench/quiet" "$base/fn/bench/warm" "$base/fn/bench/recorded"; do
  wrk -t1 -c"$conns" -d1s "$u" >/dev/null
done
wrk -t1 -c"$conns" -d1s -s "$dir/invoke.lua" "$base/api/v1/functions/quiet/invoke" >/dev/null
for r in $(seq 1 "$rounds"); do
  run "$r" deno_hello "http://127.0.0.1:$deno_port/"
  run "$r" healthz "$base/healthz"
  run "$r" route_fresh "$base/fn/bench/quiet"
  run "$r" route_warm "$base/fn/bench/warm"
  run "$r" route_recorded "$base/fn/bench/recorded"
  run "$r" jwt_invoke "$base/api/v1/functions/quiet/invoke" -s "$dir/invoke.lua"
  run "$r" jwt_invoke_recorded "$base/api/v1/functions/recorded/invoke" -s "$dir/invoke.lua"
done

# Part 2: many functions, memory sampled against their number.
density="$dir/density.json"
echo '{}' >"$density"
if [ "$functions" -gt 0 ]; then
  tenants=20
  : >"$dir/tokens"
  for t in $(seq 0 $((tenants - 1))); do
    "$quasm" token create --tenant "t$t" --role admin --data-dir "$dir" >>"$dir/tokens"
  done
  "$venv/bin/python" scripts/lib/bench_density.py create "$base" "$pid" "$dir/tokens" "$functions" "$dir/density.csv" "$dir/paths.txt" "$density"
  cat >"$dir/roundrobin.lua" <<'LUA'
local paths = {}
for line in io.lines(os.getenv("QUASM_BENCH_PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function() i = i % #paths + 1; return wrk.format("GET", paths[i]) end
LUA
  export QUASM_BENCH_PATHS="$dir/paths.txt"
  wrk -t1 -c"$conns" -d1s -s "$dir/roundrobin.lua" "$base" >/dev/null
  run 0 route_single "$base/fn/bench/quiet"
  run 0 route_roundrobin "$base" -s "$dir/roundrobin.lua"
  "$venv/bin/python" scripts/lib/bench_density.py after-load "$pid" "$density"
  echo "waiting $((idle_ttl * 2 + 5)) s for idle functions to be evicted (idle TTL ${idle_ttl} s)..."
  sleep $((idle_ttl * 2 + 5))
  "$venv/bin/python" scripts/lib/bench_density.py idle-calls "$base" "$pid" "$dir/paths.txt" "$density"
  mkdir -p "$(dirname "$png")"
  "$venv/bin/python" scripts/lib/bench_density.py plot "$dir/density.csv" "$png"
fi
"$venv/bin/python" scripts/lib/bench_density.py summary "$runs" "$density" "$(nproc)"
