#!/usr/bin/env bash
# Memory over a soak (issue 19 item 7): the release binary with the default settings (256 MiB
# tile cache) under random tile load (bench/soak.lua: zooms 6-14 over the region and around
# it, every format) for SOAK_SECS (default 600), with UNREAD clients (default 1,000, over 20
# loopback addresses) that ask for a 1.5 MB items page and never read it during the second
# half. The server's RSS, its tile cache and the open connections are sampled every SAMPLE_SECS
# (default 30); the report gives the largest RSS, the largest RSS above the cache's own bytes,
# and the last RSS sampled before the unread clients started. Loopback only, bounded in
# time, stops the server it started.
#   bash bench/soak.sh          (env: BIN, PORT, SOAK_SECS, SAMPLE_SECS, CONNS, UNREAD, SERVER_ARGS)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PORT:-18330}
SOAK_SECS=${SOAK_SECS:-600}
CONNS=${CONNS:-16}
UNREAD=${UNREAD:-1000}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
if [ -z "${BIN:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet)
  BIN="$ROOT/target/release/tessera"
fi
DATA=$(mktemp -d)
ulimit -n 20000
# shellcheck disable=SC2086
RUST_LOG=warn "$BIN" serve --listen 127.0.0.1:$PORT --data "$DATA/data" --geodata "$ROOT/geodata" \
  ${SERVER_ARGS:-} > "$DATA/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
BASE=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -sf "$BASE/health" >/dev/null && break; sleep 0.1; done

T0=$(date +%s)
elapsed() { echo $(( $(date +%s) - T0 )); }
# Each sample is stamped with the time it was taken (not the time it was due), with the
# connections open to the server from this machine.
sample() {
  local t rss health conns
  t=$(elapsed)
  rss=$(awk '/VmRSS/{print $2}' /proc/$PID/status)
  health=$(curl -s --max-time 20 "$BASE/health" || true)
  conns=$(ss -Htn state established "( dport = :$PORT )" 2>/dev/null | wc -l)
  echo "$health" | python3 -c 'import json,sys
t, rss, conns = sys.argv[1:4]
try:
    d = json.load(sys.stdin); cached, tiles, rendered = d["cached_bytes"] // 1024, d["cached_tiles"], d["tiles_rendered"]
except Exception:
    cached, tiles, rendered = "?", "?", "?"
print(f"t={t}s RSS {rss} kB, tile cache {cached} kB, {tiles} tiles, {rendered} rendered, {conns} connections")' "$t" "$rss" "$conns"
}
SAMPLE_SECS=${SAMPLE_SECS:-30}
echo "binary: $BIN ${SERVER_ARGS:-} (default cache: 256 MiB = 262144 kB)"
sample | tee "$DATA/samples.txt"
( i=1; while [ $((i * SAMPLE_SECS)) -le "$SOAK_SECS" ]; do
    sleep $(( i * SAMPLE_SECS - $(elapsed) > 0 ? i * SAMPLE_SECS - $(elapsed) : 0 )); sample; i=$((i + 1))
  done ) | tee -a "$DATA/samples.txt" &
SAMPLER=$!
timeout $((SOAK_SECS + 30)) wrk -t1 -c"$CONNS" -d"${SOAK_SECS}s" -s "$ROOT/bench/soak.lua" "$BASE" > "$DATA/wrk.txt" 2>&1 &
WRK=$!
sleep $((SOAK_SECS / 2))
UNREAD_AT=$(elapsed)
if [ "$UNREAD" -gt 0 ]; then
  echo "unread clients from t=${UNREAD_AT}s"
  timeout $((SOAK_SECS - UNREAD_AT + 30)) python3 "$ROOT/bench/unread.py" $PORT "/collections/world-countries/items?limit=10000" \
    "$UNREAD" 20 $((SOAK_SECS - UNREAD_AT - 5)) > "$DATA/unread.txt" 2>&1 &
  UNREADER=$!
fi
wait $WRK || true
[ -n "${UNREADER:-}" ] && { wait "$UNREADER" || true; cat "$DATA/unread.txt"; }
wait $SAMPLER 2>/dev/null || true
grep SOAK "$DATA/wrk.txt" || tail -3 "$DATA/wrk.txt"
python3 - "$DATA/samples.txt" "$UNREAD_AT" <<'PY'
import re, sys
pat = re.compile(r"t=(\d+)s RSS (\d+) kB, tile cache (\S+) kB")
rows = [(int(m[1]), int(m[2]), int(m[3]) if m[3].isdigit() else None) for m in map(pat.search, open(sys.argv[1])) if m]
unread_at = int(sys.argv[2])
peak = max(r[1] for r in rows)
over = max(r[1] - r[2] for r in rows if r[2] is not None)
before = [r for r in rows if r[0] < unread_at]
print(f"peak RSS {peak // 1024} MiB; largest RSS above the cached tiles {over // 1024} MiB; "
      f"RSS at t={before[-1][0]}s (the last sample before the unread clients, t={unread_at}s) {before[-1][1] // 1024} MiB, "
      f"at the end {rows[-1][1] // 1024} MiB")
PY
echo "health: $(curl -s "$BASE/health")"
echo "panics in the log: $(grep -c panicked "$DATA/server.log" || true)"
