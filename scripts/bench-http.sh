#!/usr/bin/env bash
# HTTP benchmark: starts `quasm serve` (release build, fresh data directory,
# embedded Postgres) and drives it with wrk from the same machine:
#   1. a trivial public route, success records off (sample rate 0)
#   2. the same route with every execution recorded
#   3. JWT-authenticated POST /api/v1/functions/{name}/invoke
# Prints requests/s, p50, p99 and the server's CPU time per request for each,
# then one JSON line with every figure.
# Usage: scripts/bench-http.sh [duration_s=10] [connections=64]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
conns="${2:-64}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
source scripts/lib/bench-server.sh
api() { curl -fsS -X "$1" "$base$2" -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "$3" >/dev/null; }
code='export default { fetch() { return new Response(\"ok\") }, run(input) { return input } }'
api POST /api/v1/functions "{\"name\":\"quiet\",\"code\":\"$code\",\"success_sample_rate\":0}"
api POST /api/v1/functions "{\"name\":\"recorded\",\"code\":\"$code\",\"success_sample_rate\":1}"
api POST /api/v1/routes '{"path":"/quiet","function":"quiet","auth":"public"}'
api POST /api/v1/routes '{"path":"/recorded","function":"recorded","auth":"public"}'

cat >"$dir/invoke.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"input": {"n": 1}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA

cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
results=()
run() { # name url [wrk args...]
  local name=$1 url=$2; shift 2
  wrk -t1 -c"$conns" -d2s "$@" "$url" >/dev/null # warm-up
  local before after out
  before=$(cpu_ticks)
  out=$(wrk -t1 -c"$conns" -d"${duration}s" --latency "$@" "$url")
  after=$(cpu_ticks)
  local rps reqs p50 p99 non2xx
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  local cpu_us
  cpu_us=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$reqs" 'BEGIN {printf "%.2f", t / hz * 1e6 / n}')
  printf '%-34s %10s req/s  p50 %8s  p99 %8s  server CPU %6s us/req  non-2xx %s\n' "$name" "$rps" "$p50" "$p99" "$cpu_us" "$non2xx"
  results+=("\"$name\": {\"requests_per_s\": $rps, \"p50\": \"$p50\", \"p99\": \"$p99\", \"server_cpu_us_per_request\": $cpu_us, \"non_2xx\": $non2xx}")
}
echo "wrk: 1 thread, $conns connections, ${duration}s per run, $(nproc) cores shared with the server"
run public_route_records_off "$base/fn/bench/quiet"
run public_route_all_recorded "$base/fn/bench/recorded"
run jwt_invoke_api "$base/api/v1/functions/quiet/invoke" -s "$dir/invoke.lua"
recorded=$(curl -fsS "$base/metrics" | awk '/^quasm_execution_records_written_total/ {print $2}')
echo "execution records written: ${recorded:-0}"
(IFS=,; echo "{${results[*]}, \"records_written\": ${recorded:-0}}")
