#!/usr/bin/env bash
# Read-path benchmark: loads the write-path benchmark's data set (mimir-loadgen: counters plus a
# classic histogram, one sample per series every 15 s) into mimir-host (monolith), Prometheus and
# VictoriaMetrics, one after the other on this machine, then runs the same PromQL instant and range
# queries (mimir-querybench) against each and prints the median latency per query per system, and
# mimir-host's ratio to the fastest other system. Not a test: figures vary with the machine.
#
#   tools/bench/read-path.sh [series] [rounds]      (defaults: 100000 series, 40 rounds = 9m45s)
#
# Environment: RUNS (timed runs per query, default 10), STEP (range-query step in seconds, default
# 60), SYSTEMS (default "mimir-host prometheus victoria-metrics"), CARGO_TARGET_DIR (default
# target), SKIP_BUILD=1 to use the binaries already built there, QUERIES (a file with one query a
# line instead of mimir-querybench's default set), OUT (a directory to keep each system's JSON in).
set -euo pipefail
cd "$(dirname "$0")/../.."

SERIES=${1:-100000}
ROUNDS=${2:-40}
RUNS=${RUNS:-10}
STEP=${STEP:-60}
CONCURRENCY=${CONCURRENCY:-4}
BATCH=${BATCH:-2000}
SYSTEMS=${SYSTEMS:-mimir-host prometheus victoria-metrics}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
BIN=$TARGET_DIR/release

need() {
  command -v "$1" >/dev/null 2>&1 && return
  echo "installing Debian package $2" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null
}
need prometheus prometheus
need victoria-metrics victoria-metrics
need python3 python3

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  packages=(-p mimir-host -p mimir-loadgen -p mimir-querybench -p mimir-distributor -p mimir-ingester)
  [ -d plugins/querier ] && packages+=(-p mimir-querier)
  CARGO_TARGET_DIR=$TARGET_DIR cargo build --release "${packages[@]}" >&2
fi

WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
OUT=${OUT:-$WORK/out}
mkdir -p "$OUT"
PORT=18480
PORT_GRPC=$((PORT + 1))
QUERY_FLAGS=(-runs="$RUNS" -step="$STEP")
[ -n "${QUERIES:-}" ] && QUERY_FLAGS+=(-queries="$QUERIES")

wait_http() {
  for _ in $(seq 1 300); do
    curl -fs "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server at $1 did not come up" >&2
  return 1
}

# Instant query $2 at time $3 (s) against API root $1: the first result's value, or "".
instant_value() {
  curl -fsG "$1/api/v1/query" --data-urlencode "query=$2" --data-urlencode "time=$3" 2>/dev/null |
    python3 -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null || true
}

# bench NAME READY_URL PUSH_URL API_ROOT PID [FLUSH_URL]
bench() {
  local name=$1 ready_url=$2 push_url=$3 api=$4 pid=$5 flush_url=${6:-}
  wait_http "$ready_url"
  local load
  load=$("$BIN/mimir-loadgen" -url="$push_url" -series="$SERIES" -rounds="$ROUNDS" \
    -batch="$BATCH" -concurrency="$CONCURRENCY" -interval-ms=15000)
  echo "$name: loaded $load" >&2
  local start end
  start=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["first_timestamp_ms"])' "$load")
  end=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["last_timestamp_ms"])' "$load")
  # Queryable once every series answers at the last round's time.
  local count="" at
  at=$(python3 -c 'import sys; print(int(sys.argv[1]) / 1000)' "$end")
  for _ in $(seq 1 120); do
    [ -n "$flush_url" ] && curl -fs "$flush_url" >/dev/null 2>&1
    count=$(instant_value "$api" 'count({job="loadgen"})' "$at")
    [ "$count" = "$SERIES" ] && break
    sleep 1
  done
  if [ "$count" != "$SERIES" ]; then
    echo "$name: only ${count:-no} series of $SERIES queryable, querying anyway" >&2
  fi
  "$BIN/mimir-querybench" -url="$api" -start="$start" -end="$end" "${QUERY_FLAGS[@]}" >"$OUT/$name.json"
  echo "$name: queried" >&2
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

for system in $SYSTEMS; do
  case $system in
  mimir-host)
    if ! ls "$BIN"/libmimir_querier.* >/dev/null 2>&1; then
      echo "mimir-host: no querier plugin in $BIN, skipped" >&2
      continue
    fi
    "$BIN/mimir-host" -plugins.dir="$BIN" -target=all \
      -server.http-listen-address=127.0.0.1 -server.http-listen-port=$PORT \
      -server.grpc-listen-address=127.0.0.1 -server.grpc-listen-port=$PORT_GRPC \
      -auth.multitenancy-enabled=false -ingester.data-dir="$WORK/mimir" -log.level=warn \
      -distributor.ingestion-rate-limit=1e12 -distributor.ingestion-burst-size=1000000000 \
      -ingester.max-global-series-per-user=0 &
    bench mimir-host "http://127.0.0.1:$PORT/ready" "http://127.0.0.1:$PORT/api/v1/push" \
      "http://127.0.0.1:$PORT/prometheus" $!
    ;;
  prometheus)
    echo 'global: {scrape_interval: 1h}' >"$WORK/prometheus.yml"
    prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prometheus" \
      --web.listen-address=127.0.0.1:$PORT --web.enable-remote-write-receiver --log.level=warn 2>/dev/null &
    bench prometheus "http://127.0.0.1:$PORT/-/ready" "http://127.0.0.1:$PORT/api/v1/write" \
      "http://127.0.0.1:$PORT" $!
    ;;
  victoria-metrics)
    victoria-metrics -storageDataPath="$WORK/victoria" -httpListenAddr=127.0.0.1:$PORT \
      -loggerLevel=ERROR -search.latencyOffset=0 -search.disableCache 2>/dev/null &
    bench victoria-metrics "http://127.0.0.1:$PORT/health" "http://127.0.0.1:$PORT/api/v1/write" \
      "http://127.0.0.1:$PORT" $! "http://127.0.0.1:$PORT/internal/force_flush"
    ;;
  *) echo "unknown system $system" >&2 ;;
  esac
done

python3 - "$OUT" $SYSTEMS <<'PY'
import json, os, sys
out, systems = sys.argv[1], sys.argv[2:]
data = {}
for s in systems:
    path = os.path.join(out, s + ".json")
    if os.path.exists(path):
        with open(path) as f:
            data[s] = {(r["query"], r["kind"]): r for r in json.load(f)["results"]}
systems = [s for s in systems if s in data]
if not systems:
    sys.exit("no results")
keys = list(data[systems[0]].keys())
width = max(len(q) for q, _ in keys)
print(f"{'query':{width}} {'kind':7} " + " ".join(f"{s:>16}" for s in systems)
      + ("  mimir/fastest-other" if "mimir-host" in systems and len(systems) > 1 else ""))
notes = []
for key in keys:
    cells, medians = [], {}
    for s in systems:
        r = data[s].get(key)
        if r is None or r["median_ms"] is None:
            cells.append(f"{'error':>16}")
        else:
            medians[s] = r["median_ms"]
            cells.append(f"{r['median_ms']:>13.2f} ms")
        if r is not None and (r["errors"] or r["warmup_errors"]):
            notes.append(f"{s} {key[1]} {key[0]}: {r['errors'] + r['warmup_errors']} errors: {r['first_error'][:200]}")
    series = {s: data[s][key]["series"] for s in systems if key in data[s]}
    if len(set(series.values())) > 1:
        notes.append(f"{key[1]} {key[0]}: series returned differ: {series}")
    # mimir-host evaluates PromQL as Prometheus does, so their answers should agree (VictoriaMetrics'
    # MetricsQL extrapolates rate() differently).
    m, p = data.get("mimir-host", {}).get(key), data.get("prometheus", {}).get(key)
    if m and p and m.get("value_sum") is not None and p.get("value_sum") is not None:
        a, b = m["value_sum"], p["value_sum"]
        if m["samples"] != p["samples"] or abs(a - b) > 1e-6 * max(abs(a), abs(b), 1.0):
            notes.append(f"{key[1]} {key[0]}: answers differ: mimir-host {m['samples']} samples summing to {a}, prometheus {p['samples']} summing to {b}")
    line = f"{key[0]:{width}} {key[1]:7} " + " ".join(cells)
    others = [v for s, v in medians.items() if s != "mimir-host"]
    if "mimir-host" in medians and others:
        line += f"  {medians['mimir-host'] / min(others):>8.2f}"
    print(line)
for n in notes:
    print("note:", n)
PY
