# Sourced by bench/run.sh and bench/cached.sh: with PIN=1 (the default when the machine has two
# or more cores and `taskset`), every server measured over HTTP (tessera, nginx, martin) runs on
# CPU 0 and wrk on CPU 1, as if the load came from another machine. Unpinned, on two cores, the
# server's threads and wrk's take turns on both, and wrk's own waits for a core show up in the
# latencies it reports: tessera's cached-tile p99 was 2.2-3.1 ms unpinned and 0.6-1.3 ms pinned
# (docs/benchmarks.md, 2026-12-01). PIN=0 runs everything where the kernel puts it.
#
# pin_setup DIR: writes `wrk` and `nginx` wrappers into DIR and puts DIR first on PATH (the
# peers' scripts call both by name); sets SERVER_CPU, the prefix that starts a server on CPU 0.
pin_setup() {
  local dir=$1 cmd
  SERVER_CPU=""
  if [ "${PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    mkdir -p "$dir"
    for cmd in wrk nginx; do
      command -v "$cmd" >/dev/null || continue
      local cpu=0; [ "$cmd" = wrk ] && cpu=1
      printf '#!/bin/sh\nexec taskset -c %s %s "$@"\n' "$cpu" "$(command -v "$cmd")" > "$dir/$cmd"
      chmod +x "$dir/$cmd"
    done
    export PATH="$dir:$PATH"
    SERVER_CPU="taskset -c 0"
    echo "# pinned: servers on CPU 0, wrk on CPU 1 (PIN=0 to not pin)"
  else
    echo "# not pinned"
  fi
}
