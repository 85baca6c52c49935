#!/usr/bin/env bash
# bench/health.sh: latency of `pgmig health` (the CLI, process start included) and of GET /health,
# /health/ready and /health/live on `pgmig health --serve`, against a bare `psql -c 'SELECT 1'` in the same
# run; median and p95. Starts and removes its own throwaway cluster. A report: exits non-zero only when
# something failed to run.
#   bench/health.sh               RUNS=30 CLI runs, REQUESTS=200 HTTP requests, TABLES=200 by default
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
PGMIG=${PGMIG:-$ROOT/build/pgmig}
RUNS=${RUNS:-30}
REQUESTS=${REQUESTS:-200}
TABLES=${TABLES:-200}
KEEP=${KEEP:-0}

say() { printf '%s\n' "$*" >&2; }
die() { say "health.sh: $*"; exit 1; }
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

for v in RUNS REQUESTS TABLES; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
[[ -x $PGMIG ]] || die "$PGMIG not found: build it first (cmake -S . -B build && cmake --build build -j2)"
for c in psql python3; do command -v "$c" >/dev/null || die "$c not found"; done

TMP=$(mktemp -d /tmp/pgmig-bench-health.XXXXXX)
chmod 755 "$TMP"
CLUSTER=$TMP/cluster
server=""
cleanup() {
    [[ -n $server ]] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null
    stop_cluster "$CLUSTER"
    [[ $KEEP == 1 ]] && say "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
start_cluster "$CLUSTER" "$TMP/cluster.log"

# A database with a ledger of real shape: TABLES tables (a key, an index, a foreign key) over 10 migrations.
q -d postgres -c "CREATE DATABASE bench_health" >/dev/null
q -d bench_health -c "CREATE EXTENSION pgmig" >/dev/null
mkdir -p "$TMP/migrations"
python3 - "$TMP/migrations" "$TABLES" <<'PY'
import sys
folder, n = sys.argv[1], int(sys.argv[2])
per = max(1, n // 10)
for m in range(10):
    lines = ["-- pgmig:up"]
    for i in range(m * per, min(n, (m + 1) * per)):
        ref = f" REFERENCES t{i - 1}" if i > 0 else ""
        lines.append(f"CREATE TABLE t{i} (id bigint PRIMARY KEY, parent bigint{ref}, v text);")
        lines.append(f"CREATE INDEX t{i}_v ON t{i} (v);")
    with open(f"{folder}/{m + 1}_tables_{m}.sql", "w") as f:
        f.write("\n".join(lines) + "\n")
PY
"$PGMIG" apply --dir "$TMP/migrations" -d dbname=bench_health >/dev/null || die "pgmig apply failed"
cd "$TMP"  # no pgmig.toml here: the defaults; migrations/ is the folder health compares with

# stats MS...: "median p95 min max" of the values (milliseconds).
stats() {
    python3 -c '
import statistics, sys
v = sorted(float(x) for x in sys.argv[1:])
p95 = v[min(len(v) - 1, int(round(0.95 * (len(v) - 1))))]
print(f"{statistics.median(v):.2f} {p95:.2f} {v[0]:.2f} {v[-1]:.2f}")' "$@"
}
now_ns() { date +%s%N; }

# Alternating rounds: psql, then pgmig health, RUNS times.
psql_times=() cli_times=()
for _ in $(seq 1 "$RUNS"); do
    t0=$(now_ns)
    q -d bench_health -c "SELECT 1" >/dev/null
    t1=$(now_ns)
    "$PGMIG" health -d dbname=bench_health >/dev/null || die "pgmig health was not healthy (exit $?)"
    t2=$(now_ns)
    psql_times+=("$(((t1 - t0) / 1000))e-3")
    cli_times+=("$(((t2 - t1) / 1000))e-3")
done
read -r psql_med psql_p95 psql_min psql_max <<<"$(stats "${psql_times[@]}")"
read -r cli_med cli_p95 cli_min cli_max <<<"$(stats "${cli_times[@]}")"
# The checks' own time, from the report.
"$PGMIG" health -d dbname=bench_health --json >"$TMP/report.json"
checks=$(python3 - "$TMP/report.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(f"{d['duration_ms']:.1f} ms in all; " + ", ".join(f"{c['name']} {c['duration_ms']:.1f}" for c in d["checks"]))
PY
)

# The server: GET each path REQUESTS times on one keep-alive connection (python's http.client), then the
# same with 4 clients at once; and /health with --cache 1s.
http_bench() {  # PORT PATH CLIENTS: "median p95 min max requests/s"
    python3 - "$1" "$2" "$3" "$REQUESTS" <<'PY'
import http.client, statistics, sys, threading, time
port, path, clients, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
times, lock = [], threading.Lock()
def worker():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    mine = []
    for _ in range(n // clients):
        t = time.perf_counter()
        conn.request("GET", path)
        r = conn.getresponse(); r.read()
        if r.status not in (200, 503):
            raise SystemExit(f"GET {path}: {r.status}")
        mine.append((time.perf_counter() - t) * 1000)
    with lock:
        times.extend(mine)
start = time.perf_counter()
ts = [threading.Thread(target=worker) for _ in range(clients)]
[t.start() for t in ts]; [t.join() for t in ts]
wall = time.perf_counter() - start
v = sorted(times)
p95 = v[min(len(v) - 1, int(round(0.95 * (len(v) - 1))))]
print(f"{statistics.median(v):.2f} {p95:.2f} {v[0]:.2f} {v[-1]:.2f} {len(v) / wall:.0f}")
PY
}
start_server() {  # ARGS...: sets $server and $port
    "$PGMIG" health -d dbname=bench_health --serve 127.0.0.1:0 "$@" >"$TMP/serve.out" 2>/dev/null &
    server=$!
    port=""
    for _ in $(seq 1 100); do
        port=$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\) .*|\1|p' "$TMP/serve.out" 2>/dev/null)
        [[ -n $port ]] && return
        sleep 0.1
    done
    die "pgmig health --serve did not start: $(cat "$TMP/serve.out")"
}
stop_server() { kill -TERM "$server"; wait "$server" || true; server=""; }

start_server
read -r h_med h_p95 h_min h_max h_rps <<<"$(http_bench "$port" /health 1)"
read -r r_med r_p95 r_min r_max r_rps <<<"$(http_bench "$port" /health/ready 1)"
read -r l_med l_p95 l_min l_max l_rps <<<"$(http_bench "$port" /health/live 1)"
read -r h4_med h4_p95 h4_min h4_max h4_rps <<<"$(http_bench "$port" /health 4)"
stop_server
start_server --cache 1s
read -r c4_med c4_p95 c4_min c4_max c4_rps <<<"$(http_bench "$port" /health 4)"
stop_server

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
cat <<EOF
health latency: $TABLES tables in 10 applied migrations, PostgreSQL $(q -d postgres -c "SHOW server_version" | cut -d' ' -f1)
                                       median      p95   (min-max) ms          req/s
psql -c 'SELECT 1' (process)         $(printf '%8s %8s   (%s-%s)' "$psql_med" "$psql_p95" "$psql_min" "$psql_max")      RUNS=$RUNS
pgmig health (CLI, process)          $(printf '%8s %8s   (%s-%s)' "$cli_med" "$cli_p95" "$cli_min" "$cli_max")      ratio to psql $(ratio "$cli_med" "$psql_med")
GET /health        (1 client)        $(printf '%8s %8s   (%s-%s)   %6s' "$h_med" "$h_p95" "$h_min" "$h_max" "$h_rps")
GET /health/ready  (1 client)        $(printf '%8s %8s   (%s-%s)   %6s' "$r_med" "$r_p95" "$r_min" "$r_max" "$r_rps")
GET /health/live   (1 client)        $(printf '%8s %8s   (%s-%s)   %6s' "$l_med" "$l_p95" "$l_min" "$l_max" "$l_rps")
GET /health        (4 clients)       $(printf '%8s %8s   (%s-%s)   %6s' "$h4_med" "$h4_p95" "$h4_min" "$h4_max" "$h4_rps")
GET /health --cache 1s (4 clients)   $(printf '%8s %8s   (%s-%s)   %6s' "$c4_med" "$c4_p95" "$c4_min" "$c4_max" "$c4_rps")
GET /health / psql SELECT 1: $(ratio "$h_med" "$psql_med"); REQUESTS=$REQUESTS per row
checks (one report): $checks
EOF
