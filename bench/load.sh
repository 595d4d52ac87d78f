#!/usr/bin/env bash
# A mixed load against the release binary on loopback for DURATION seconds (default 180):
# cached and uncached tiles, items queries and event writes (bench/load.lua), with the
# server's memory sampled every 10 s. Reports requests/s, p50/p99, errors, and memory at start
# and end. Bounded in time; stops the server it started.
#   bash bench/load.sh            (env: DURATION, CONNS, PORT)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-180}
CONNS=${CONNS:-16}
PORT=${PORT:-18300}
TOKEN=load-test-token-0123456789
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
(cd "$ROOT" && cargo build --release --quiet)
DATA=$(mktemp -d)
TESSERA_WRITE_TOKEN=$TOKEN "$ROOT/target/release/tessera" serve --listen 127.0.0.1:$PORT --data "$DATA" \
  --geodata "$ROOT/geodata" > "$DATA/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
rss() { awk '/VmRSS/{print $2}' /proc/$PID/status; }
echo "start: RSS $(rss) kB"
( for i in $(seq $((DURATION / 10))); do sleep 10; echo "t=$((i * 10))s RSS $(rss) kB"; done ) &
SAMPLER=$!
timeout $((DURATION + 30)) wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$ROOT/bench/load.lua" "http://127.0.0.1:$PORT" -- "$TOKEN" | grep -E "LOAD|Requests/sec"
wait $SAMPLER 2>/dev/null || true
echo "end: RSS $(rss) kB, peak $(awk '/VmHWM/{print $2}' /proc/$PID/status) kB"
echo "server health: $(curl -s http://127.0.0.1:$PORT/health)"
echo "panics in the server log: $(grep -c panicked "$DATA/server.log" || true)"
