#!/usr/bin/env bash
# Cached PNG tiles: tessera with a warm cache beside nginx serving the very same PNG bytes from
# disk, measured in turns within one run (so that the ratio holds even on a busy machine).
#
#   bash bench/cached.sh        (env: PIN (1, see bench/pin.sh), ROUNDS (3), WRK_SECS (10), WRK_CONNS (16), WORK, BIN, BASELINE, PERF=1)
#
# tessera runs twice: with the request log off (`RUST_LOG=info,tessera::access=warn`, as nginx
# runs with `access_log off`) and with it on (the default, to a file). The PNGs nginx serves are
# those tessera answered while its cache was warmed, written to $WORK/static/z/x/y.png, so both
# servers send the same bytes. nginx runs with the settings of ../shared/bench/peers/static_bench.sh
# (one worker, sendfile, keep-alive, open_file_cache). wrk: one thread, WRK_CONNS connections,
# tiles.lua picking tiles at random from the 630-tile list. Besides wrk's figures, each run
# reports the server's CPU time per request (cpu_us), which a busy machine disturbs far less
# than requests/s. PERF=1 records a profile of the quiet
# tessera during its last run (perf report --no-children in $WORK/perf.txt). BASELINE=path runs
# another tessera binary (an older build, say) in the same turns, log off. Everything is on
# 127.0.0.1; servers are stopped by PID.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared/bench}
WORK=${WORK:-/tmp/tessera-bench}
ROUNDS=${ROUNDS:-3}
BIN=${BIN:-$ROOT/target/release/tessera}
export WRK_SECS=${WRK_SECS:-10} WRK_CONNS=${WRK_CONNS:-16} WRK_RUNS=1
QUIET_LOG="info,tessera::access=warn"
[ -f "$SHARED/peers/lib.sh" ] || { echo "no $SHARED/peers/lib.sh: set SHARED to the shared bench directory" >&2; exit 1; }
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "needs wrk and nginx" >&2; exit 1; }
[ -x "$BIN" ] || (cd "$ROOT" && cargo build --release --quiet) || exit 1
mkdir -p "$WORK/logs"
rm -rf "$WORK/peers" && cp -r "$SHARED/peers" "$WORK/peers"
[ -f "$WORK/data/events.geojson" ] || python3 "$ROOT/bench/synth.py" --out "$WORK/data"
cp "$ROOT/bench/layers.toml" "$WORK/data/layers.toml"
DATA=$WORK/data
. "$WORK/peers/lib.sh"
. "$ROOT/bench/pin.sh"
pin_setup "$WORK/pin"
mkdir -p /tmp/peers
RESULTS=$WORK/logs/cached-$(date -u +%Y%m%dT%H%M%SZ).txt

echo "# cached PNG bench $(date -u +%FT%TZ) on $(uname -srm), $(nproc) cores; loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# tessera $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src || echo ' (modified)'); $(nginx -v 2>&1); $(wrk -v 2>&1 | head -1)"

PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done; rm -rf "$WORK/tessera-data-"* "$WORK/static"; }
trap cleanup EXIT

# start_tessera PORT LOG: tessera on the bench data with RUST_LOG=LOG, its cache warmed over the
# tile list; the answers are kept under $WORK/static for nginx.
start_tessera() {
  local port=$1 log=$2 bin=${3:-$BIN}
  rm -rf "$WORK/tessera-data-$port"
  RUST_LOG=$log $SERVER_CPU "$bin" serve --listen 127.0.0.1:$port --geodata "$DATA" --data "$WORK/tessera-data-$port" \
    > "$WORK/logs/tessera-$port.log" 2>&1 &
  PIDS+=($!)
  wait_port "$port" 600 || exit 1
  while IFS=/ read -r z x y; do
    mkdir -p "$WORK/static/$z/$x"
    curl -sf -o "$WORK/static/$z/$x/$y.png" "http://127.0.0.1:$port/tiles/$z/$x/$y.png" || echo "warm-up failed: $z/$x/$y"
  done < "$DATA/tiles_z8-12.txt"
}
rm -rf "$WORK/static"
start_tessera 18170 "$QUIET_LOG"; QUIET_PID=${PIDS[-1]}
start_tessera 18171 info; LOGGED_PID=${PIDS[-1]}
[ -n "${BASELINE:-}" ] && start_tessera 18172 "$QUIET_LOG" "$BASELINE" && BASELINE_PID=${PIDS[-1]}
echo "warm: $(curl -s http://127.0.0.1:18170/health)"

NG=$WORK/nginx
mkdir -p "$NG/tmp"
cat > "$NG/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $NG/nginx.pid;
error_log $NG/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on; tcp_nopush off; tcp_nodelay on;
  keepalive_requests 1000000; keepalive_timeout 60;
  open_file_cache max=10000 inactive=60s;
  types { image/png png; }
  client_body_temp_path $NG/tmp/body; proxy_temp_path $NG/tmp/proxy;
  fastcgi_temp_path $NG/tmp/fcgi; uwsgi_temp_path $NG/tmp/uwsgi; scgi_temp_path $NG/tmp/scgi;
  server {
    listen 127.0.0.1:18189;
    root $WORK/static;
    location / { try_files \$uri =404; }
  }
}
EOF
nginx -c "$NG/nginx.conf" -e "$NG/error.log" & PIDS+=($!); NGINX_PID=$!
wait_port 18189 || exit 1
first=$(head -1 "$DATA/tiles_z8-12.txt")
cmp <(curl -s "http://127.0.0.1:18170/tiles/$first.png") <(curl -s "http://127.0.0.1:18189/$first.png") \
  && echo "same bytes from both: $first.png"

# cpu_ticks PID: CPU time (user + system, in clock ticks) of PID and its children (nginx's worker).
cpu_ticks() {
  local total=0 p
  for p in "$1" $(pgrep -P "$1"); do
    total=$((total + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
  done
  echo "$total"
}
TICK_US=$((1000000 / $(getconf CLK_TCK)))
# measure NAME PID URL PREFIX: one wrk run, its RESULT line with the server's CPU time per request
# (cpu_us): on a busy machine requests/s follow the CPU share each server gets, the CPU it
# spends per request much less.
measure() {
  local before after line
  before=$(cpu_ticks "$2")
  line=$(wrk_bench "$1" "$3" "$4" .png | grep RESULT)
  after=$(cpu_ticks "$2")
  local requests=${line##*requests=}; requests=${requests%% *}
  echo "$line cpu_us=$(( (after - before) * TICK_US / (requests > 0 ? requests : 1) ))" | tee -a "$RESULTS"
}

for r in $(seq "$ROUNDS"); do
  echo "## round $r/$ROUNDS (loadavg $(cut -d' ' -f1 /proc/loadavg))"
  if [ "${PERF:-0}" = 1 ] && [ "$r" = "$ROUNDS" ]; then
    perf record -F 999 -g -p "$QUIET_PID" -o "$WORK/perf.data" -- sleep "$WRK_SECS" >/dev/null 2>&1 &
    PERF_PID=$!
  fi
  measure tessera-quiet "$QUIET_PID" http://127.0.0.1:18170 /tiles/
  [ -n "${PERF_PID:-}" ] && wait "$PERF_PID"
  measure nginx-static "$NGINX_PID" http://127.0.0.1:18189 /
  measure tessera-logged "$LOGGED_PID" http://127.0.0.1:18171 /tiles/
  : > "$WORK/logs/tessera-18171.log"
  [ -n "${BASELINE:-}" ] && measure baseline-quiet "$BASELINE_PID" http://127.0.0.1:18172 /tiles/
done
python3 - "$RESULTS" <<'PY'
import statistics, sys
rows = {}
for ln in open(sys.argv[1]):
    name = ln.split()[0]
    rows.setdefault(name, []).append(dict(kv.split("=") for kv in ln.split() if "=" in kv))
keys = ("rps", "p50_ms", "p99_ms", "cpu_us")
med = {n: {k: statistics.median(float(r[k]) for r in rs) for k in keys} for n, rs in rows.items()}
for n, m in med.items():
    bad = max(int(r["errors"]) + int(r["non2xx3xx"]) for r in rows[n])
    print(f"MEDIAN {n} over {len(rows[n])} runs: rps={m['rps']:.0f} p50_ms={m['p50_ms']:.3f} "
          f"p99_ms={m['p99_ms']:.3f} cpu_us_per_request={m['cpu_us']:.0f} errors+non2xx={bad}")
ng = med.get("nginx-static")
for n in ("tessera-quiet", "tessera-logged", "baseline-quiet"):
    if ng and n in med:
        print(f"RATIO {n} / nginx: requests/s {med[n]['rps'] / ng['rps']:.2f}x, "
              f"CPU per request {med[n]['cpu_us'] / ng['cpu_us']:.2f}x")
PY
echo "after: $(curl -s http://127.0.0.1:18170/health)"
if [ -n "${PERF_PID:-}" ]; then
  perf report -i "$WORK/perf.data" --no-children --percent-limit 0.7 --stdio 2>/dev/null | grep -v "^$" > "$WORK/perf.txt"
  echo "# profile: $WORK/perf.txt"
fi
