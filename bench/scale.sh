#!/usr/bin/env bash
# Scale-out on this machine: the mixed load of bench/load.lua (tiles, items, 10% event writes)
# through nginx, a load balancer on loopback, in front of
#   1 tessera on SQLite, 1 tessera on PostgreSQL, 2 tessera on one PostgreSQL;
# then event writes alone (PUT, If-Match: *) on each; then the read-after-write delay across the
# two servers (a write acknowledged by A, polled on B; bench/read_after_write.py), idle and under
# the mixed load. Prints one line per run: requests/s, p50/p99, write rate, non-2xx answers.
#   bash bench/scale.sh     (env: DURATION (mixed load, s; 60), WRITE_SECS (20), CONNS (32),
#                            EVENTS (500), SAMPLES (200))
# PostgreSQL is a throwaway cluster (durable defaults: fsync on) in a temporary directory, run as
# the postgres user when this runs as root. Everything listens on 127.0.0.1, on free ports.
# Bounded in time; stops everything it started.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-60}
WRITE_SECS=${WRITE_SECS:-20}
CONNS=${CONNS:-32}
EVENTS=${EVENTS:-500}
SAMPLES=${SAMPLES:-200}
TOKEN=scale-test-token-0123456789
for tool in wrk nginx python3 curl; do
  command -v $tool >/dev/null || { echo "$tool is not installed (apt-get install wrk nginx-light python3 curl)" >&2; exit 1; }
done
INITDB=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1)
[ -n "$INITDB" ] || { echo "PostgreSQL is not installed (apt-get install postgresql postgresql-15-postgis-3)" >&2; exit 1; }
PGBIN=$(dirname "$INITDB")
(cd "$ROOT" && cargo build --release --quiet)
BIN=$ROOT/target/release/tessera

WORK=$(mktemp -d /tmp/tessera-scale.XXXXXX)
chmod 755 "$WORK"
SERVER_PIDS=()
NGINX_PID=
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
stop_servers() {
  for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  SERVER_PIDS=()
  if [ -n "$NGINX_PID" ]; then kill "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; NGINX_PID=; fi
}
cleanup() {
  stop_servers
  as_pg "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/pg"
[ "$(id -u)" = 0 ] && chown postgres: "$WORK/pg"
as_pg "$PGBIN/initdb" --no-sync -D "$WORK/pg/data" -A trust -U postgres >/dev/null
PGPORT=$(free_port)
as_pg "$PGBIN/pg_ctl" -D "$WORK/pg/data" -o "-p $PGPORT -k $WORK/pg -c listen_addresses=127.0.0.1" \
  -l "$WORK/pg/log" -w start >/dev/null

PORTS=()
# start_servers N sqlite|postgres NAME: N servers on one store, each checked healthy.
start_servers() {
  local n=$1 store=$2 name=$3 args
  if [ "$store" = postgres ]; then
    as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres "$name"
    args=(--events-db "postgres://postgres@127.0.0.1:$PGPORT/$name")
  else
    args=(--data "$WORK/$name")
  fi
  PORTS=()
  for i in $(seq "$n"); do
    local port
    port=$(free_port)
    RUST_LOG=warn TESSERA_WRITE_TOKEN=$TOKEN "$BIN" serve --listen "127.0.0.1:$port" "${args[@]}" \
      > "$WORK/$name-$i.log" 2>&1 &
    SERVER_PIDS+=($!)
    PORTS+=("$port")
    for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
    curl -sf "http://127.0.0.1:$port/health" >/dev/null || { cat "$WORK/$name-$i.log"; exit 1; }
  done
}

# start_nginx: a load balancer on a free port in front of PORTS (round robin, keepalive).
start_nginx() {
  local ng=$WORK/nginx upstreams=""
  mkdir -p "$ng"
  chmod 777 "$ng"
  for p in "${PORTS[@]}"; do upstreams+="server 127.0.0.1:$p; "; done
  NGINX_PORT=$(free_port)
  cat > "$ng/nginx.conf" <<EOF
worker_processes 1;
error_log $ng/error.log warn;
pid $ng/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $ng/body; proxy_temp_path $ng/proxy; fastcgi_temp_path $ng/fastcgi;
  uwsgi_temp_path $ng/uwsgi; scgi_temp_path $ng/scgi;
  upstream tessera { $upstreams keepalive 64; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://tessera;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
    }
  }
}
EOF
  nginx -p "$ng" -c "$ng/nginx.conf" -g 'daemon off;' &
  NGINX_PID=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$NGINX_PORT/health" >/dev/null && break; sleep 0.1; done
}

# The events the writes rewrite, created through the balancer; every server must hold them.
load_events() {
  python3 - "$EVENTS" > "$WORK/events.json" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps({"type": "FeatureCollection", "features": [
    {"type": "Feature", "id": f"load-{i}",
     "geometry": {"type": "Point", "coordinates": [36.0 + (i % 50) * 0.02, 35.5 + (i // 50) * 0.05]},
     "properties": {"time": "2024-03-01", "kind": "shelling", "title": f"load test event {i}",
                    "location_precision": "town", "sources": ["load test"]}} for i in range(n)]}))
PY
  curl -sf -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/geo+json" \
    --data-binary @"$WORK/events.json" "http://127.0.0.1:$NGINX_PORT/collections/events/items"
  for p in "${PORTS[@]}"; do
    for _ in $(seq 100); do
      [ "$(curl -s "http://127.0.0.1:$p/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')" -ge "$EVENTS" ] && break
      sleep 0.1
    done
  done
}

# run LABEL SECONDS MODE: wrk through nginx; one summary line.
run() {
  local label=$1 secs=$2 mode=$3 out
  out=$(timeout $((secs + 30)) wrk -t1 -c"$CONNS" -d"${secs}s" --latency -s "$ROOT/bench/load.lua" \
    "http://127.0.0.1:$NGINX_PORT" -- "$TOKEN" "$EVENTS" 0.1 "$mode" | grep LOAD)
  python3 - "$label" "$mode" <<PY
import re, sys
out = """$out"""
f = dict(re.findall(r"(\w+)=([\d.]+)", out))
statuses = re.search(r"statuses (.*)", out).group(1)
print(f"RUN {sys.argv[1]:<28} {sys.argv[2]:<6} rps={float(f['rps']):>8.1f} p50_ms={float(f['p50_ms']):>7.2f} "
      f"p99_ms={float(f['p99_ms']):>7.2f} writes_per_s={float(f['write_rps']):>7.1f} statuses {statuses}")
PY
}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), tessera $(cd "$ROOT" && git rev-parse --short HEAD)"
echo "mixed load ${DURATION}s, writes alone ${WRITE_SECS}s, $CONNS connections, wrk -t1, nginx 1 worker"

start_servers 1 sqlite sqlite1
start_nginx
load_events
run "1 server, SQLite" "$DURATION" mixed
run "1 server, SQLite" "$WRITE_SECS" writes
stop_servers

start_servers 1 postgres pg1
start_nginx
load_events
run "1 server, PostgreSQL" "$DURATION" mixed
run "1 server, PostgreSQL" "$WRITE_SECS" writes
stop_servers

start_servers 2 postgres pg2
start_nginx
load_events
run "2 servers, one PostgreSQL" "$DURATION" mixed
run "2 servers, one PostgreSQL" "$WRITE_SECS" writes
A=http://127.0.0.1:${PORTS[0]}
B=http://127.0.0.1:${PORTS[1]}
echo "read-after-write, A -> B, idle: $(python3 "$ROOT/bench/read_after_write.py" "$A" "$B" "$TOKEN" "$SAMPLES")"
timeout $((DURATION + 30)) wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$ROOT/bench/load.lua" \
  "http://127.0.0.1:$NGINX_PORT" -- "$TOKEN" "$EVENTS" 0.1 mixed > /dev/null &
WRK=$!
sleep 2
echo "read-after-write, A -> B, under the mixed load: $(python3 "$ROOT/bench/read_after_write.py" "$A" "$B" "$TOKEN" "$SAMPLES")"
kill $WRK 2>/dev/null || true
wait $WRK 2>/dev/null || true
echo "server errors logged: $(cat "$WORK"/*.log | grep -c -E 'ERROR|panicked' || true)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
