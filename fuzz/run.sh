#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each, one process at a time, starting
# from the committed corpus, and reports executions, coverage and crashes.
#
#   fuzz/run.sh [SECONDS] [TARGET...]      default: 60 seconds, every target
#
# Environment:
#   FUZZ_MERGE=1           afterwards, merge the inputs that add coverage into fuzz/corpus/<target>/
#   FUZZ_SANITIZER=address build with AddressSanitizer (default none: the crate forbids unsafe code,
#                          so a sanitizer would mostly slow the run; Rust's own checks and
#                          debug assertions stay on)
#
# New inputs go to fuzz/target/corpus/<target>/ (not committed); crashes to
# fuzz/artifacts/<target>/. Exits non-zero when a target crashed. Needs cargo-fuzz
# (`cargo install cargo-fuzz`); it runs on the stable toolchain: RUSTC_BOOTSTRAP=1 lets stable
# rustc take the sanitizer flags that cargo-fuzz passes.
set -euo pipefail

cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(geojson event tile_path query)
fi
case $seconds in '' | *[!0-9]*) echo "usage: fuzz/run.sh [SECONDS] [TARGET...]" >&2; exit 2 ;; esac

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2
    exit 2
fi

export RUSTC_BOOTSTRAP=1
sanitizer=${FUZZ_SANITIZER:-none}
triple=$(rustc -vV | sed -n 's/^host: //p')
echo "building the fuzz targets (sanitizer: $sanitizer, debug assertions on)..."
cargo fuzz build --release --debug-assertions --sanitizer "$sanitizer" >/dev/null
bin=target/$triple/release

# Longest input per target: layer files and bodies need room, paths and queries do not.
max_len() {
    case $1 in
        geojson | event) echo 8192 ;;
        tile_path) echo 256 ;;
        *) echo 1024 ;;
    esac
}

status=0
summary=()
for t in "${targets[@]}"; do
    if [ ! -x "$bin/$t" ]; then
        echo "no fuzz target '$t' (see fuzz/fuzz_targets/)" >&2
        exit 2
    fi
    work=target/corpus/$t
    mkdir -p "$work" "artifacts/$t" "corpus/$t"
    log=target/$t.log
    echo "== $t: ${seconds}s"
    started=$SECONDS
    set +e
    "$bin/$t" "$work" "corpus/$t" \
        -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
        -dict="dict/$t.dict" -artifact_prefix="artifacts/$t/" -print_final_stats=1 >"$log" 2>&1
    code=$?
    set -e
    took=$((SECONDS - started))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    units=$(find "$work" "corpus/$t" -type f | wc -l)
    line="$t: ${took}s, ${runs:-?} executions (${rate:-?}/s), coverage ${cov:-?} edges, ${units} corpus inputs"
    if [ $code -ne 0 ]; then
        crash=$(grep -o "artifacts/$t/[a-z]*-[0-9a-f]*" "$log" | tail -1)
        line="$line, CRASH ${crash:-(see $log)}"
        grep -m1 -A3 'panicked at' "$log" || tail -20 "$log"
        status=1
    fi
    echo "$line"
    summary+=("$line")
    if [ "${FUZZ_MERGE:-0}" = 1 ] && [ $code -eq 0 ]; then
        "$bin/$t" -merge=1 -max_len="$(max_len "$t")" "corpus/$t" "$work" >"target/$t.merge.log" 2>&1
        echo "   merged: corpus/$t now holds $(find "corpus/$t" -type f | wc -l) inputs"
    fi
done

echo
echo "summary (logs in fuzz/target/<target>.log):"
printf '  %s\n' "${summary[@]}"
exit $status
