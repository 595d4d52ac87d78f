#!/usr/bin/env bash
# tessera beside its peers, in one run, on one machine, on the same data and tile list.
#
#   bash bench/run.sh              # install peers (apt/pip/npm; martin only if BUILD_MARTIN=1), measure, report
#   SKIP_INSTALL=1 bash bench/run.sh
#
# Env: PIN (1: servers on CPU 0, wrk on CPU 1, see bench/pin.sh); RUNS (3) repeats of each
# single-thread measurement; PASSES (3) passes over the 630 tiles in each; WRK_RUNS (3) x
# WRK_SECS (10) s of wrk per HTTP measurement; WORK (/tmp/tessera-bench);
# TESSERA_LOG, tessera's RUST_LOG (default info,tessera::access=warn: no line per request).
# Everything runs on 127.0.0.1, each step ends by itself, and servers are stopped by PID.
# The peers' own scripts come from ../shared/bench and are copied into $WORK (they read the data
# in $WORK/data beside them); nothing of theirs is committed here. The data is made by this
# project's bench/synth.py, so tessera and every peer read the same files.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared/bench}
WORK=${WORK:-/tmp/tessera-bench}
RUNS=${RUNS:-3}
export PASSES=${PASSES:-3} WRK_RUNS=${WRK_RUNS:-3} WRK_SECS=${WRK_SECS:-10}
PY=${PY:-/tmp/peers/venv/bin/python}
MARTIN=${MARTIN:-/tmp/peers/martin/bin/martin}
mkdir -p "$WORK/logs"
LOG="$WORK/logs/run-$(date -u +%Y%m%dT%H%M%SZ).log"
exec > >(tee "$LOG") 2>&1
echo "# tessera bench $(date -u +%FT%TZ) on $(uname -srm), $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB; loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# tessera $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
  SKIP_MARTIN=$([ "${BUILD_MARTIN:-0}" = 1 ] && echo 0 || echo 1) bash "$SHARED/install_peers.sh" || echo "# install_peers.sh failed: continuing with what is installed"
fi

# The peers' scripts read ../data beside them: copy them into $WORK with the data.
rm -rf "$WORK/peers" && cp -r "$SHARED/peers" "$WORK/peers"
[ -f "$WORK/data/events.geojson" ] || python3 "$ROOT/bench/synth.py" --out "$WORK/data"
cp "$ROOT/bench/layers.toml" "$WORK/data/layers.toml"
DATA=$WORK/data

step() { echo; echo "######## $* ($(date -u +%T), loadavg $(cut -d' ' -f1 /proc/loadavg))"; }

step "build tessera (release)"
(cd "$ROOT" && cargo build --release --quiet && cargo bench --bench tile_list --no-run --quiet) || exit 1
BIN=$ROOT/target/release/tessera

for i in $(seq "$RUNS"); do
  step "run $i/$RUNS: tessera PNG + MVT, one thread"
  (cd "$ROOT" && TESSERA_BENCH_DIR=$DATA TESSERA_MVT_OUT=$WORK/out/tessera cargo bench --quiet --bench tile_list 2>/dev/null) | sed "s/^/RUN$i /"
  step "run $i/$RUNS: Mapnik PNG, one thread"
  if [ -x "$PY" ]; then $PY "$WORK/peers/mapnik_render.py" --passes "$PASSES" --out /tmp/peers/out/mapnik | sed "s/^/RUN$i mapnik /"; else echo "no $PY: Mapnik skipped"; fi
  step "run $i/$RUNS: geojson-vt + vt-pbf MVT, one thread"
  node "$WORK/peers/geojsonvt_bench.js" --passes "$PASSES" --out /tmp/peers/out/geojsonvt | sed "s/^/RUN$i geojsonvt /"
done

step "PostGIS ST_AsMVT, one backend ($RUNS runs)"
bash "$WORK/peers/postgis_bench.sh" "$RUNS" 2>&1 | grep -E "run [0-9]+:|postgres |rows:" | sed "s/^/postgis /"

. "$WORK/peers/lib.sh"
. "$ROOT/bench/pin.sh"
pin_setup "$WORK/pin"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done; }
trap cleanup EXIT

# start_tessera PORT ARGS...: starts tessera on the bench data, prints the start-up time. The
# request log is off (TESSERA_LOG, default info,tessera::access=warn), as nginx's access_log and
# martin's RUST_LOG=warn are; bench/cached.sh measures it on as well.
start_tessera() {
  local port=$1; shift
  local s e
  rm -rf "$WORK/tessera-data"
  s=$(date +%s.%N)
  RUST_LOG=${TESSERA_LOG:-info,tessera::access=warn} $SERVER_CPU "$BIN" serve --listen 127.0.0.1:$port --geodata "$DATA" --data "$WORK/tessera-data" "$@" > "$WORK/logs/tessera-$port.log" 2>&1 &
  TPID=$!; PIDS+=("$TPID")
  wait_port "$port" 600
  e=$(date +%s.%N)
  echo "STARTUP tessera $(echo "$e - $s" | bc) s; RSS after start $(awk '/VmRSS/{print $2}' /proc/$TPID/status) kB"
}
stop_pid() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

step "cached PNG tiles: tessera (cache warm) vs nginx serving the same PNGs from disk"
# The answers that warm tessera's cache are written to $WORK/static, and nginx serves those very
# bytes (runs before 2026-12-01 07:00 UTC served Mapnik's PNGs, a third smaller than tessera's).
start_tessera 18100
rm -rf "$WORK/static"
while IFS=/ read -r z x y; do
  mkdir -p "$WORK/static/$z/$x"
  curl -s -o "$WORK/static/$z/$x/$y.png" "http://127.0.0.1:18100/tiles/$z/$x/$y.png"
done < "$DATA/tiles_z8-12.txt"
curl -s "http://127.0.0.1:18100/health"; echo
wrk_bench tessera-cached-png http://127.0.0.1:18100 /tiles/ .png
echo "MEMORY tessera after cached-PNG load: RSS $(awk '/VmRSS/{print $2}' /proc/$TPID/status) kB, peak $(awk '/VmHWM/{print $2}' /proc/$TPID/status) kB"
stop_pid "$TPID"
TILE_ROOT=$WORK/static bash "$WORK/peers/static_bench.sh" 2>&1 | grep -E "MEDIAN nginx|nginx version" | sed "s/^/static /"

step "uncached vector tiles from GeoJSON: tessera --cache-mb 0 vs martin"
start_tessera 18101 --cache-mb 0
wrk_bench tessera-mvt-nocache http://127.0.0.1:18101 /tiles/ .mvt
echo "MEMORY tessera after uncached-MVT load: RSS $(awk '/VmRSS/{print $2}' /proc/$TPID/status) kB, peak $(awk '/VmHWM/{print $2}' /proc/$TPID/status) kB"
stop_pid "$TPID"
if [ -x "$MARTIN" ]; then
  s=$(date +%s.%N)
  RUST_LOG=warn $SERVER_CPU "$MARTIN" --listen-addresses 127.0.0.1:13000 --cache-size 0 "$DATA/districts.geojson" "$DATA/roads.geojson" "$DATA/events.geojson" > "$WORK/logs/martin.log" 2>&1 &
  MPID=$!; PIDS+=("$MPID")
  wait_port 13000 600
  e=$(date +%s.%N)
  echo "STARTUP martin $(echo "$e - $s" | bc) s; RSS after start $(awk '/VmRSS/{print $2}' /proc/$MPID/status) kB"
  wrk_bench martin-geojson-nocache http://127.0.0.1:13000 /districts,roads,events/ ""
  echo "MEMORY martin after GeoJSON load: RSS $(awk '/VmRSS/{print $2}' /proc/$MPID/status) kB, peak $(awk '/VmHWM/{print $2}' /proc/$MPID/status) kB"
  stop_pid "$MPID"
else
  echo "martin not built at $MARTIN (BUILD_MARTIN=1 builds it, ~8 min): skipped"
fi

step "report"
"$PY" "$ROOT/bench/report.py" "$LOG" "$WORK/out/tessera" /tmp/peers/out/geojsonvt 2>/dev/null || python3 "$ROOT/bench/report.py" "$LOG"
echo "# log: $LOG"
