#!/usr/bin/env bash
# Soak benchmark (not part of the test suite): runs mixed load against one
# `quasm serve` (release build) for a while — a public route and JWT
# invokes through wrk, events published through wrk, an every-second cron
# schedule — and samples the server's RSS, open file descriptors and
# Postgres connections every 10 s. Prints the samples, a verdict on whether
# each stayed flat (last third vs first third), and plots them to a PNG.
#
# Usage: scripts/soak.sh [seconds=600] [png=docs/soak.png]
# QUASM_BENCH_BIN=path runs that binary instead of building the release one.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-600}"
png="${2:-docs/soak.png}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
admin="${QUASM_BENCH_DATABASE_URL:-host=127.0.0.1 port=5432 user=postgres dbname=postgres}"
db="quasm_soak_$$"
url="$admin dbname=$db"
psql "$admin" -qc "CREATE DATABASE $db"
bench_database_url="$url"
bench_cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
}
source scripts/lib/bench-server.sh
api() { curl -fsS -X "$1" "$base$2" -H "Authorization: Bearer $token" -H 'content-type: application/json' -d "$3" >/dev/null; }
api POST /api/v1/functions '{"name":"web","code":"export default { async fetch(req) { console.log(req.url); return Response.json({ ok: true }) }, run(i) { return { price: (i.qty || 1) * 3 } }, event(e) { return e.payload }, scheduled(e) { return e.scheduledTime } }"}'
api POST /api/v1/routes '{"path":"/web","function":"web","auth":"public"}'
api POST /api/v1/subscriptions '{"function":"web","event_type":"soak.*"}'
api POST /api/v1/functions/web/schedules '{"cron":"* * * * * *"}'

cat >"$dir/invoke.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
wrk.body = '{"input": {"qty": 2}}'
LUA
cat >"$dir/publish.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
wrk.body = '{"type": "soak.tick", "payload": {"n": 1}}'
LUA
# Modest, steady load: the point is what grows, not the peak rate.
load=()
wrk -t1 -c8 -d"${secs}s" "$base/fn/bench/web" >"$dir/wrk-route.out" 2>&1 & load+=($!)
wrk -t1 -c4 -d"${secs}s" -s "$dir/invoke.lua" "$base/api/v1/functions/web/invoke" >"$dir/wrk-invoke.out" 2>&1 & load+=($!)
wrk -t1 -c2 -d"${secs}s" -s "$dir/publish.lua" "$base/api/v1/events" >"$dir/wrk-events.out" 2>&1 & load+=($!)

samples="$dir/samples.csv"
echo "t,rss_mib,fds,pg_connections" >"$samples"
start=$(date +%s)
while :; do
  now=$(date +%s); t=$((now - start))
  rss=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
  fds=$(ls "/proc/$pid/fd" | wc -l)
  conns=$(psql "$url" -XAtqc "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db'")
  echo "$t,$rss,$fds,$conns" | tee -a "$samples"
  [ "$t" -ge "$secs" ] && break
  sleep 10
done
# Only the load generators: the server is a job of this shell too.
wait "${load[@]}" 2>/dev/null || true
for f in route invoke events; do
  echo "$f: $(awk '/^Requests\/sec/ {print $2 " req/s"}' "$dir/wrk-$f.out"), non-2xx: $(awk '/Non-2xx/ {print $NF}' "$dir/wrk-$f.out")"
done
echo "cron slots recorded: $(psql "$url" -XAtqc "SELECT status || '=' || count(*) FROM schedule_runs GROUP BY status" | tr '\n' ' ')"

venv="${QUASM_FUZZ_VENV:-$HOME/.cache/quasm-fuzz-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import matplotlib" 2>/dev/null || "$venv/bin/pip" install -q matplotlib
mkdir -p "$(dirname "$png")"
"$venv/bin/python" - "$samples" "$png" <<'PY'
import csv, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
rows = list(csv.DictReader(open(sys.argv[1])))
t = [int(r["t"]) / 60 for r in rows]
series = [("rss_mib", "RSS (MiB)"), ("fds", "open file descriptors"), ("pg_connections", "Postgres connections")]
fig, axes = plt.subplots(len(series), 1, figsize=(8, 6), sharex=True)
verdict = []
for ax, (key, label) in zip(axes, series):
    v = [float(r[key]) for r in rows]
    ax.plot(t, v, marker=".")
    ax.set_ylabel(label)
    ax.set_ylim(bottom=0, top=max(v) * 1.3 + 1)
    ax.grid(alpha=0.3)
    third = max(1, len(v) // 3)
    first, last = sum(v[:third]) / third, sum(v[-third:]) / third
    growth = (last - first) / first * 100 if first else 0.0
    verdict.append(f"{label}: first third avg {first:.1f}, last third avg {last:.1f} ({growth:+.1f}%)")
axes[-1].set_xlabel("minutes of mixed load (route + invoke + events + every-second cron)")
fig.suptitle("quasm soak: resources under steady mixed load")
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=100)
print("\n".join(verdict))
print(f"plot: {sys.argv[2]}")
PY
