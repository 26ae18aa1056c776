#!/usr/bin/env bash
# Cron accuracy benchmark: starts `quasm serve` (release build, fresh data
# directory, embedded Postgres), creates N every-second schedules on a
# trivial `scheduled` handler, lets them fire for D seconds, then reads every
# recorded slot and prints how late each run started (fired_at - slot_at):
# p50, p99, max, and how many slots ran, were skipped or missed.
# Usage: scripts/bench-cron.sh [duration_s=30] [schedules=20]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-30}"
schedules="${2:-20}"
source scripts/lib/bench-server.sh
api() { curl -fsS -X "$1" "$base/api/v1$2" -H "Authorization: Bearer $token" -H 'content-type: application/json' ${3:+-d "$3"}; }
api POST /functions '{"name":"tick","code":"export default { scheduled(e) { return e.scheduledTime } }"}' >/dev/null
ids=()
for _ in $(seq 1 "$schedules"); do
  ids+=("$(api POST /functions/tick/schedules '{"cron":"* * * * * *","overlap":"allow"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')")
done
echo "$schedules every-second schedules for ${duration}s on $(nproc) cores"
sleep "$duration"
for id in "${ids[@]}"; do api PATCH "/functions/tick/schedules/$id" '{"enabled":false}' >/dev/null; done
sleep 2
for id in "${ids[@]}"; do api GET "/functions/tick/schedules/$id/runs?limit=1000"; echo; done | python3 -c '
import json, sys
runs = [r for line in sys.stdin if line.strip() for r in json.loads(line)["runs"]]
lags = sorted(r["lag_ms"] for r in runs if r["status"] == "ran")
count = lambda s: sum(1 for r in runs if r["status"] == s)
pct = lambda p: lags[min(len(lags) - 1, int(p / 100 * len(lags)))]
print("slots: %d  ran %d  skipped %d  missed %d  still running %d" % (len(runs), len(lags), count("skipped"), count("missed"), count("running")))
print(f"start lag: p50 {pct(50):.1f} ms  p99 {pct(99):.1f} ms  max {lags[-1]:.1f} ms  (target: within 1000 ms)")
print(json.dumps({"slots": len(runs), "ran": len(lags), "lag_p50_ms": pct(50), "lag_p99_ms": pct(99), "lag_max_ms": lags[-1]}))
'
