#!/usr/bin/env bash
# Write-path benchmark: the same pre-encoded remote-write load (mimir-loadgen) against mimir-host
# (monolith), Prometheus (--web.enable-remote-write-receiver) and VictoriaMetrics, one after the
# other on this machine. Prints per system: samples/s, server CPU seconds per million samples, and
# peak RSS per active series. Not a test: figures vary with the machine.
#
#   tools/bench/write-path.sh [series] [rounds]      (defaults: 100000 series, 30 rounds)
#
# Builds and runs the binaries of $CARGO_TARGET_DIR when it is set, else of ./target.
set -euo pipefail
cd "$(dirname "$0")/../.."

SERIES=${1:-100000}
ROUNDS=${2:-30}
CONCURRENCY=${CONCURRENCY:-4}
BATCH=${BATCH:-2000}

need() {
  command -v "$1" >/dev/null 2>&1 && return
  echo "installing Debian package $2" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null
}
need prometheus prometheus
need victoria-metrics victoria-metrics
cargo build --release --workspace >&2
BIN=${CARGO_TARGET_DIR:-target}/release

WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=18480

wait_http() {
  for _ in $(seq 1 300); do
    curl -fs "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server at $1 did not come up" >&2
  return 1
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
peak_rss_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

run() {
  local name=$1 ready_url=$2 push_url=$3 pid=$4
  wait_http "$ready_url"
  local before
  before=$(cpu_ticks "$pid")
  local result
  result=$("$BIN/mimir-loadgen" -url="$push_url" -series="$SERIES" -rounds="$ROUNDS" \
    -batch="$BATCH" -concurrency="$CONCURRENCY")
  sleep 2
  local after rss
  after=$(cpu_ticks "$pid")
  rss=$(peak_rss_kb "$pid")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  python3 - "$name" "$result" "$before" "$after" "$rss" "$SERIES" "$(getconf CLK_TCK)" <<'PY'
import json, sys
name, result, before, after, rss_kb, series, hz = sys.argv[1:]
r = json.loads(result)
cpu = (int(after) - int(before)) / int(hz)
samples = r["samples"]
per_million = cpu / (samples / 1e6)
bytes_per_series = int(rss_kb) * 1024 / int(series)
print(f"{name:16} {r['samples_per_second']:>12.0f} {per_million:>14.2f} {bytes_per_series:>14.0f} {r['errors']:>7}  {r['first_error'][:60]}")
PY
}

printf '%-16s %12s %14s %14s %7s\n' system samples/s "cpu-s/1M" "B/series(RSS)" errors
PORT_GRPC=$((PORT + 1))
"$BIN/mimir-host" -plugins.dir="$BIN" -target=all \
  -server.http-listen-address=127.0.0.1 -server.http-listen-port=$PORT \
  -server.grpc-listen-address=127.0.0.1 -server.grpc-listen-port=$PORT_GRPC \
  -auth.multitenancy-enabled=false -ingester.data-dir="$WORK/mimir" -log.level=warn \
  -distributor.ingestion-rate-limit=1e12 -distributor.ingestion-burst-size=1000000000 \
  -ingester.max-global-series-per-user=0 &
run mimir-host "http://127.0.0.1:$PORT/ready" "http://127.0.0.1:$PORT/api/v1/push" $!

echo 'global: {scrape_interval: 1h}' > "$WORK/prometheus.yml"
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prometheus" \
  --web.listen-address=127.0.0.1:$PORT --web.enable-remote-write-receiver --log.level=warn 2>/dev/null &
run prometheus "http://127.0.0.1:$PORT/-/ready" "http://127.0.0.1:$PORT/api/v1/write" $!

victoria-metrics -storageDataPath="$WORK/victoria" -httpListenAddr=127.0.0.1:$PORT -loggerLevel=ERROR 2>/dev/null &
run victoria-metrics "http://127.0.0.1:$PORT/health" "http://127.0.0.1:$PORT/api/v1/write" $!
