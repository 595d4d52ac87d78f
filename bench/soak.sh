#!/usr/bin/env bash
# Memory over a soak (issue 19 item 7): the release binary with the default settings (256 MiB
# tile cache) under random tile load (bench/soak.lua: zooms 6-14 over the region and around
# it, every format) for SOAK_SECS (default 600), with UNREAD clients (default 1,000, over 20
# loopback addresses) that ask for a 1.5 MB items page and never read it during the second
# half. The server's RSS and its tile cache are sampled every 10 s; the report gives the
# largest RSS, and the largest RSS above the cache's own bytes. Loopback only, bounded in
# time, stops the server it started.
#   bash bench/soak.sh          (env: BIN, PORT, SOAK_SECS, CONNS, UNREAD, SERVER_ARGS)
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

sample() {
  local rss cached
  rss=$(awk '/VmRSS/{print $2}' /proc/$PID/status)
  cached=$(curl -s --max-time 20 "$BASE/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["cached_bytes"] // 1024)' 2>/dev/null || echo "?")
  echo "t=${1}s RSS ${rss} kB, tile cache ${cached} kB"
}
echo "binary: $BIN ${SERVER_ARGS:-} (default cache: 256 MiB = 262144 kB)"
sample 0 | tee "$DATA/samples.txt"
( for i in $(seq $((SOAK_SECS / 10))); do sleep 10; sample $((i * 10)); done ) | tee -a "$DATA/samples.txt" &
SAMPLER=$!
timeout $((SOAK_SECS + 30)) wrk -t1 -c"$CONNS" -d"${SOAK_SECS}s" -s "$ROOT/bench/soak.lua" "$BASE" > "$DATA/wrk.txt" 2>&1 &
WRK=$!
sleep $((SOAK_SECS / 2))
if [ "$UNREAD" -gt 0 ]; then
  timeout $((SOAK_SECS / 2 + 30)) python3 "$ROOT/bench/unread.py" $PORT "/collections/world-countries/items?limit=10000" \
    "$UNREAD" 20 $((SOAK_SECS / 2 - 10)) > "$DATA/unread.txt" 2>&1 &
  UNREADER=$!
fi
wait $WRK || true
[ -n "${UNREADER:-}" ] && { wait "$UNREADER" || true; cat "$DATA/unread.txt"; }
wait $SAMPLER 2>/dev/null || true
grep SOAK "$DATA/wrk.txt" || tail -3 "$DATA/wrk.txt"
python3 - "$DATA/samples.txt" <<'PY'
import re, sys
rows = [tuple(int(v) if v.isdigit() else None for v in re.findall(r"t=(\d+)s RSS (\d+) kB, tile cache (\S+) kB", l)[0])
        for l in open(sys.argv[1]) if "RSS" in l]
peak = max(r[1] for r in rows)
over = max(r[1] - r[2] for r in rows if r[2] is not None)
half = [r for r in rows if r[0] <= rows[-1][0] // 2]
print(f"peak RSS {peak // 1024} MiB; largest RSS above the cached tiles {over // 1024} MiB; "
      f"RSS at the half (before the unread clients) {half[-1][1] // 1024} MiB, at the end {rows[-1][1] // 1024} MiB")
PY
echo "health: $(curl -s "$BASE/health")"
echo "panics in the log: $(grep -c panicked "$DATA/server.log" || true)"
