#!/usr/bin/env bash
# A mixed load against the release binary on loopback for DURATION seconds (default 240):
# cached and uncached tiles, items queries and event writes (see bench/load.lua), with the
# server's memory and tile-cache size sampled every 10 s. Reports requests/s, p50/p99, errors
# and answers by status, and memory at start and end. Bounded in time; stops the server it
# started.
#   bash bench/load.sh            (env: DURATION, CONNS, PORT, EVENTS, WRITE_SHARE, SERVER_ARGS)
# SERVER_ARGS go to `tessera serve`, e.g. SERVER_ARGS="--cache-mb 64" so that the cache
# reaches its bound within the run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-240}
CONNS=${CONNS:-16}
PORT=${PORT:-18300}
EVENTS=${EVENTS:-500}
WRITE_SHARE=${WRITE_SHARE:-0.1}
TOKEN=load-test-token-0123456789
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
(cd "$ROOT" && cargo build --release --quiet)
DATA=$(mktemp -d)
# shellcheck disable=SC2086
TESSERA_WRITE_TOKEN=$TOKEN "$ROOT/target/release/tessera" serve \
  --listen 127.0.0.1:$PORT --data "$DATA" --geodata "$ROOT/geodata" ${SERVER_ARGS:-} > "$DATA/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done

# The events that the writes rewrite, created in one batch.
python3 - "$EVENTS" > "$DATA/events.json" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps({"type": "FeatureCollection", "features": [
    {"type": "Feature", "id": f"load-{i}",
     "geometry": {"type": "Point", "coordinates": [36.0 + (i % 50) * 0.02, 35.5 + (i // 50) * 0.05]},
     "properties": {"time": "2024-03-01", "kind": "shelling", "title": f"load test event {i}",
                    "location_precision": "town", "sources": ["load test"]}} for i in range(n)]}))
PY
curl -sf -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/geo+json" \
  --data-binary @"$DATA/events.json" "http://127.0.0.1:$PORT/collections/events/items"

rss() { awk '/VmRSS/{print $2}' /proc/$PID/status; }
cached() { curl -s "http://127.0.0.1:$PORT/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["cached_bytes"] // 1024)'; }
echo "server: tessera serve ${SERVER_ARGS:-} ($EVENTS events rewritten by the writes)"
echo "start: RSS $(rss) kB, tile cache $(cached) kB"
( for i in $(seq $((DURATION / 10))); do sleep 10; echo "t=$((i * 10))s RSS $(rss) kB, tile cache $(cached) kB"; done ) &
SAMPLER=$!
timeout $((DURATION + 30)) wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$ROOT/bench/load.lua" \
  "http://127.0.0.1:$PORT" -- "$TOKEN" "$EVENTS" "$WRITE_SHARE" | grep -E "LOAD|Requests/sec"
wait $SAMPLER 2>/dev/null || true
echo "end: RSS $(rss) kB, peak $(awk '/VmHWM/{print $2}' /proc/$PID/status) kB, tile cache $(cached) kB"
echo "server health: $(curl -s http://127.0.0.1:$PORT/health)"
echo "events stored: $(curl -s "http://127.0.0.1:$PORT/collections/events/items?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["numberMatched"])')"
echo "panics in the server log: $(grep -c panicked "$DATA/server.log" || true)"
