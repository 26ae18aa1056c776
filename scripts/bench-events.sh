#!/usr/bin/env bash
# Event throughput benchmark: starts `quasm serve` (release build) on a fresh
# database of the Postgres at $QUASM_BENCH_DATABASE_URL (default: the local
# test Postgres, 127.0.0.1:5432, user postgres), subscribes a trivial `event`
# handler, publishes N events as fast as wrk can POST them to /api/v1/events,
# for a fixed time, and measures end to end: from the first event stored to the last delivery
# marked done (both timestamps from Postgres). Then a small retry run prints
# the measured spacing of retries against the backoff formula.
# Usage: scripts/bench-events.sh [publish_seconds=10] [connections=32] [events_per_request=1]
# (more than 1 publishes through POST /api/v1/events/batch, one commit per request).
# QUASM_BENCH_BIN=path runs that binary instead of building the release one.
set -euo pipefail
cd "$(dirname "$0")/.."
secs_publish="${1:-10}"
conns="${2:-32}"
batch="${3:-1}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
command -v psql >/dev/null || { echo "psql is missing: apt-get install postgresql-client" >&2; exit 1; }

admin="${QUASM_BENCH_DATABASE_URL:-host=127.0.0.1 port=5432 user=postgres dbname=postgres}"
db="quasm_bench_events_$$"
url="$admin dbname=$db"
psql "$admin" -qc "CREATE DATABASE $db"
sql() { psql "$url" -XAtqc "$1"; }
bench_database_url="$url"
bench_cleanup() { psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true; }
source scripts/lib/bench-server.sh
api() { curl -fsS -X "$1" "$base$2" -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "$3" >/dev/null; }
api POST /api/v1/functions '{"name":"sink","code":"export default { event(e) { return null } }","isolation":"warm"}'
api POST /api/v1/subscriptions '{"function":"sink","event_type":"bench.*"}'

# One wrk thread posts events for $secs_publish s (wrk.thread:stop() does not stop wrk 4.x).
cat >"$dir/publish.lua" <<LUA
local sent = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
local batch = $batch
request = function()
  if batch <= 1 then
    sent = sent + 1
    return wrk.format(nil, nil, nil, '{"type": "bench.created", "payload": {"n": ' .. sent .. '}}')
  end
  local events = {}
  for i = 1, batch do
    sent = sent + 1
    events[i] = '{"type": "bench.created", "payload": {"n": ' .. sent .. '}}'
  end
  return wrk.format(nil, nil, nil, '{"events": [' .. table.concat(events, ",") .. ']}')
end
LUA
endpoint=/api/v1/events; [[ "$batch" -gt 1 ]] && endpoint=/api/v1/events/batch
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
before=$(cpu_ticks)
wrk -t1 -c"$conns" -d"${secs_publish}s" -s "$dir/publish.lua" "$base$endpoint" >"$dir/wrk.out"
published=$(sql "SELECT count(*) FROM events")
echo "published $published events ($(awk '/^Requests\/sec/ {print $2}' "$dir/wrk.out") requests/s as wrk saw it, $batch per request; non-2xx: $(awk '/Non-2xx/ {print $NF}' "$dir/wrk.out"))"
for _ in $(seq 1 1200); do
  [[ "$(sql "SELECT count(*) FROM deliveries WHERE status <> 'done'")" == 0 ]] && break
  sleep 0.5
done
after=$(cpu_ticks)
read -r count secs pub_secs < <(sql "SELECT count(*), EXTRACT(EPOCH FROM max(d.updated_at) - min(e.created_at)),
    EXTRACT(EPOCH FROM max(e.created_at) - min(e.created_at))
  FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.status = 'done'" | tr '|' ' ')
records=$(sql "SELECT count(*) FROM executions WHERE trigger = 'event'")
hz=$(getconf CLK_TCK)
eps=$(awk -v c="$count" -v s="$secs" 'BEGIN {printf "%.0f", c / s}')
pps=$(awk -v c="$published" -v s="$pub_secs" 'BEGIN {printf "%.0f", c / s}')
cpu=$(awk -v t=$((after - before)) -v hz="$hz" -v c="$count" 'BEGIN {printf "%.0f", t / hz * 1e6 / c}')
echo "delivered $count events (execution records: $records) in ${secs}s end to end: $eps events/s (publishing alone: $pps events/s; server CPU $cpu us/event)"

# Retries: each event fails twice, then succeeds; backoff 100 ms / max 1 s.
api POST /api/v1/functions '{"name":"flaky","code":"export default { event(e) { if (e.attempt < 3) throw new Error(\"again\"); return null } }"}'
api POST /api/v1/subscriptions '{"function":"flaky","event_type":"retry","backoff":{"initial_ms":100,"max_ms":1000}}'
for i in $(seq 1 50); do api POST /api/v1/events "{\"type\":\"retry\",\"payload\":{\"i\":$i}}"; done
for _ in $(seq 1 600); do
  [[ "$(sql "SELECT count(*) FROM deliveries d JOIN events e ON e.id = d.event_id WHERE e.type = 'retry' AND d.status = 'done'")" == 50 ]] && break
  sleep 0.1
done
echo "retry spacing over 50 events (expected base 100 ms then 200 ms, times a jitter in [0.5, 1)):"
sql "WITH x AS (
       SELECT trigger_ref, created_at - lag(created_at) OVER (PARTITION BY trigger_ref ORDER BY created_at) AS gap,
              row_number() OVER (PARTITION BY trigger_ref ORDER BY created_at) AS n
       FROM executions WHERE function_name = 'flaky')
     SELECT 'after attempt ' || (n - 1) || ': min ' || round(EXTRACT(EPOCH FROM min(gap)) * 1000) || ' ms, avg '
            || round(EXTRACT(EPOCH FROM avg(gap)) * 1000) || ' ms, max ' || round(EXTRACT(EPOCH FROM max(gap)) * 1000) || ' ms'
     FROM x WHERE gap IS NOT NULL GROUP BY n ORDER BY n"
echo "{\"events\": $count, \"end_to_end_events_per_s\": $eps, \"publish_events_per_s\": $pps, \"server_cpu_us_per_event\": $cpu}"
