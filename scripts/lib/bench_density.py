"""Helpers of scripts/bench-http.sh: the many-functions scenario (create,
call, sample the server's memory), the plot, and the summary JSON line.

Memory of the server process, from /proc/PID:
  rss      VmRSS: every page mapped in the process (shared snapshot pages
           count once per mapping)
  node     what the node spends: anonymous RSS + file RSS + the bytes the
           sandbox images' memfds hold (mapped or not; RssShmem is left out
           because those pages are inside the memfds)
"""

import http.client
import json
import os
import statistics
import sys
import time
from urllib.parse import urlparse

MIB = 1024 * 1024


def memory(pid):
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                status[k] = int(v.split()[0]) * 1024
    memfd = 0
    memfds = 0
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(f"{fd_dir}/{fd}")
            if target.startswith("/memfd:quasm"):
                memfd += os.stat(f"{fd_dir}/{fd}").st_blocks * 512
                memfds += 1
        except OSError:
            pass
    return {
        "rss_mib": round(status["VmRSS"] / MIB, 1),
        "anon_mib": round(status["RssAnon"] / MIB, 1),
        "shmem_mib": round(status["RssShmem"] / MIB, 1),
        "memfd_mib": round(memfd / MIB, 1),
        "memfds": memfds,
        "node_mib": round((status["RssAnon"] + status["RssFile"] + memfd) / MIB, 1),
    }


class Client:
    def __init__(self, base):
        u = urlparse(base)
        self.host, self.port = u.hostname, u.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def request(self, method, path, body=None, token=None):
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                payload = r.read()
                return r.status, payload
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                if attempt:
                    raise


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def latency_summary(ms):
    return {
        "count": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3),
    }


def load(path):
    with open(path) as f:
        return json.load(f)


def save(path, d):
    with open(path, "w") as f:
        json.dump(d, f)


def create(base, pid, tokens_file, n, csv_path, paths_path, density_path):
    tokens = [t.strip() for t in open(tokens_file) if t.strip()]
    c = Client(base)
    step = max(10, n // 100)
    rows = [dict(functions=0, **memory(pid))]
    first_call_ms = []
    paths = []
    started = time.monotonic()
    for i in range(n):
        t = i % len(tokens)
        name = f"f{i}"
        # Each function differs, as real ones do (no two share bytecode).
        code = (
            f"const id = {i}; const greeting = 'hello from ' + id;\n"
            "export default { fetch(req) { return new Response(greeting) } }"
        )
        s, body = c.request("POST", "/api/v1/functions", {"name": name, "code": code, "success_sample_rate": 0}, tokens[t])
        assert s in (200, 201), (s, body)
        s, body = c.request("POST", "/api/v1/routes", {"path": f"/{name}", "function": name, "auth": "public"}, tokens[t])
        assert s in (200, 201), (s, body)
        path = f"/fn/t{t}/{name}"
        t0 = time.perf_counter()
        s, body = c.request("GET", path)
        first_call_ms.append((time.perf_counter() - t0) * 1000)
        assert s == 200 and body == f"hello from {i}".encode(), (s, body)
        paths.append(path)
        if (i + 1) % step == 0 or i + 1 == n:
            rows.append(dict(functions=i + 1, **memory(pid)))
    with open(csv_path, "w") as f:
        keys = list(rows[0].keys())
        f.write(",".join(keys) + "\n")
        for r in rows:
            f.write(",".join(str(r[k]) for k in keys) + "\n")
    with open(paths_path, "w") as f:
        f.write("\n".join(paths) + "\n")
    d = load(density_path)
    d.update(
        functions=n,
        tenants=len(tokens),
        memory_before=rows[0],
        memory_after_each_called_once=rows[-1],
        create_and_first_call_s=round(time.monotonic() - started, 1),
        first_call_of_new_function=latency_summary(first_call_ms),
    )
    save(density_path, d)
    print(f"{n} functions in {len(tokens)} tenants, each called once: {rows[-1]}")


def after_load(pid, density_path):
    d = load(density_path)
    d["memory_after_roundrobin"] = memory(pid)
    save(density_path, d)
    print(f"after round-robin load: {d['memory_after_roundrobin']}")


def idle_calls(base, pid, paths_path, density_path, sample=300):
    paths = [p.strip() for p in open(paths_path) if p.strip()]
    stride = max(1, len(paths) // sample)
    picked = paths[::stride][:sample]
    d = load(density_path)
    d["memory_after_idle"] = memory(pid)
    c = Client(base)
    c.request("GET", "/healthz")  # the connection, not a function
    ms = []
    for p in picked:
        t0 = time.perf_counter()
        s, _ = c.request("GET", p)
        ms.append((time.perf_counter() - t0) * 1000)
        assert s == 200, (p, s)
    d["first_call_after_idle"] = latency_summary(ms)
    d["memory_after_idle_calls"] = memory(pid)
    save(density_path, d)
    print(f"memory after the idle TTL: {d['memory_after_idle']}")
    print(f"first call after idle eviction: {d['first_call_after_idle']}")


def plot(csv_path, png):
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(csv.DictReader(open(csv_path)))
    x = [int(r["functions"]) for r in rows]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(x, [float(r["rss_mib"]) for r in rows], label="server RSS")
    ax.plot(x, [float(r["node_mib"]) for r in rows], label="node memory (anon + file RSS + snapshot memfds)")
    ax.plot(x, [float(r["memfd_mib"]) for r in rows], label="snapshot memfds", linestyle="--")
    ax.set_xlabel("functions deployed and each called once (20 tenants)")
    ax.set_ylabel("MiB")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("quasm serve: memory against the number of functions")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    print(f"plot: {png}")


def ms(s):
    for unit, f in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if s.endswith(unit):
            return float(s[: -len(unit)]) * f
    return float(s)


def spread(xs):
    return {"median": round(statistics.median(xs), 3), "min": round(min(xs), 3), "max": round(max(xs), 3)}


def summary(runs_path, density_path, cores):
    runs = [json.loads(line) for line in open(runs_path) if line.strip()]
    by_round = {}
    for r in runs:
        by_round.setdefault(r["round"], {})[r["scenario"]] = r
    figures = {}
    for r in runs:
        if r["round"] == 0:
            continue
        f = figures.setdefault(r["scenario"], {"rps": [], "p50_ms": [], "p99_ms": [], "server_cpu_us": [], "client_cpu_us": [], "non_2xx": 0})
        f["rps"].append(r["rps"])
        f["p50_ms"].append(ms(r["p50"]))
        f["p99_ms"].append(ms(r["p99"]))
        f["server_cpu_us"].append(r["server_cpu_us"])
        f["client_cpu_us"].append(r.get("client_cpu_us", 0))
        f["non_2xx"] += r["non_2xx"]
    ratio_defs = {
        "route_fresh_vs_deno": ("route_fresh", "deno_hello", "rps"),
        "route_warm_vs_deno": ("route_warm", "deno_hello", "rps"),
        "healthz_vs_deno": ("healthz", "deno_hello", "rps"),
        "invoke_vs_route_rps": ("jwt_invoke", "route_fresh", "rps"),
        "invoke_vs_route_p99": ("jwt_invoke", "route_fresh", "p99"),
        "recorded_invoke_vs_recorded_route_rps": ("jwt_invoke_recorded", "route_recorded", "rps"),
        "recorded_invoke_vs_recorded_route_p99": ("jwt_invoke_recorded", "route_recorded", "p99"),
    }
    ratios = {}
    for name, (a, b, what) in ratio_defs.items():
        xs = []
        for rnd, sc in by_round.items():
            if rnd == 0 or a not in sc or b not in sc:
                continue
            if what == "rps":
                xs.append(sc[a]["rps"] / sc[b]["rps"])
            else:
                xs.append(ms(sc[a]["p99"]) / ms(sc[b]["p99"]))
        if xs:
            ratios[name] = spread(xs)
    out = {
        "cores": int(cores),
        "rounds": len([k for k in by_round if k != 0]),
        "ratios": ratios,
        "figures": {k: {m: (spread(v) if isinstance(v, list) else v) for m, v in f.items()} for k, f in figures.items()},
    }
    density = load(density_path)
    if 0 in by_round and {"route_single", "route_roundrobin"} <= by_round[0].keys():
        single, rr = by_round[0]["route_single"], by_round[0]["route_roundrobin"]
        density["roundrobin_rps"] = rr["rps"]
        density["single_route_rps"] = single["rps"]
        density["roundrobin_vs_single"] = round(rr["rps"] / single["rps"], 3)
        density["roundrobin_non_2xx"] = rr["non_2xx"]
    if density:
        out["many_functions"] = density
    print(json.dumps(out))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "create":
        create(args[0], args[1], args[2], int(args[3]), args[4], args[5], args[6])
    elif cmd == "after-load":
        after_load(args[0], args[1])
    elif cmd == "idle-calls":
        idle_calls(args[0], args[1], args[2], args[3])
    elif cmd == "plot":
        plot(args[0], args[1])
    elif cmd == "summary":
        summary(args[0], args[1], args[2])
    else:
        sys.exit(f"unknown command {cmd}")
