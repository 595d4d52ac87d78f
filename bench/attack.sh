#!/usr/bin/env bash
# What a new visitor waits for under two attacks on the release binary (issue 19): a flood of
# large feature pages, then slowloris. A probe asks for /health on a new connection every
# 0.5 s from another loopback address (127.0.0.2) and the script reports its latency idle,
# under each attack, and after; with the pages' answers by status and the server's log lines.
# Loopback only, bounded in time, stops the server it started.
#   bash bench/attack.sh        (env: BIN, PORT, PAGE_CONNS, PAGE_SECS, LORIS_SOCKETS, LORIS_SECS)
# BIN is the binary to attack (default: this checkout's release build).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PORT:-18320}
PAGE_CONNS=${PAGE_CONNS:-50}
PAGE_SECS=${PAGE_SECS:-15}
LORIS_SOCKETS=${LORIS_SOCKETS:-1000}
LORIS_SECS=${LORIS_SECS:-40}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
if [ -z "${BIN:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet)
  BIN="$ROOT/target/release/tessera"
fi
DATA=$(mktemp -d)
ulimit -n 20000
RUST_LOG=info "$BIN" serve --listen 127.0.0.1:$PORT --data "$DATA/data" --geodata "$ROOT/geodata" \
  > "$DATA/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
BASE=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -sf "$BASE/health" >/dev/null && break; sleep 0.1; done

# /health from 127.0.0.2 on a new connection every 0.5 s for $1 seconds: its latencies (s).
probe() {
  local end=$((SECONDS + $1))
  while [ $SECONDS -lt "$end" ]; do
    curl -s -o /dev/null --interface 127.0.0.2 --max-time 60 -w '%{http_code} %{time_total}\n' "$BASE/health" || echo "000 60"
    sleep 0.5
  done
}
# Median, 90th percentile and maximum of the probe's latencies, in ms, and its failures.
summary() {
  python3 -c '
import sys
rows = [l.split() for l in sys.stdin if l.strip()]
t = sorted(float(r[1]) * 1000 for r in rows)
bad = sum(1 for r in rows if r[0] != "200")
pick = lambda q: t[min(len(t) - 1, int(q * len(t)))]
print(f"{sys.argv[1]}: /health from a new visitor, {len(t)} probes: median {pick(0.5):.1f} ms, p90 {pick(0.9):.1f} ms, max {t[-1]:.1f} ms, not 200: {bad}")
' "$1"
}

echo "binary: $BIN"
probe 5 | summary "idle"
PAGE="$BASE/collections/world-countries/items?limit=10000"
wrk -t2 -c"$PAGE_CONNS" -d"${PAGE_SECS}s" -H 'Accept-Encoding: gzip' "$PAGE" > "$DATA/wrk.txt" 2>&1 &
WRK=$!
sleep 1
probe $((PAGE_SECS - 2)) | summary "under $PAGE_CONNS clients asking for 1.5 MB pages (gzip)"
wait $WRK || true
echo "  pages: $(grep -E 'requests in' "$DATA/wrk.txt" | xargs), $(grep -E 'Non-2xx' "$DATA/wrk.txt" || echo 'no answer other than 2xx')"
echo "  log lines during the flood: $(wc -l < "$DATA/server.log") ($(grep -c ERROR "$DATA/server.log" || true) at ERROR)"
probe 3 | summary "after"
python3 "$ROOT/bench/slowloris.py" 127.0.0.1 $PORT "$LORIS_SOCKETS" "$LORIS_SECS" > "$DATA/loris.txt" &
LORIS=$!
sleep 2
probe $((LORIS_SECS - 4)) | summary "under $LORIS_SOCKETS trickling connections from one address"
wait $LORIS || true
echo "  $(cat "$DATA/loris.txt")"
probe 3 | summary "after"
echo "server: RSS $(awk '/VmRSS/{print $2}' /proc/$PID/status) kB, peak $(awk '/VmHWM/{print $2}' /proc/$PID/status) kB"
echo "health: $(curl -s "$BASE/health")"
echo "panics in the log: $(grep -c panicked "$DATA/server.log" || true)"
