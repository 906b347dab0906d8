#!/usr/bin/env bash
# Runs leakgate's fuzz targets (fuzz/, cargo-fuzz + libFuzzer on a nightly toolchain), each for a
# given time, and prints the executions of each from libFuzzer's final stats.
#
#   bench/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      (default: 60 s, every target)
#
# Everything it writes stays under target/fuzz/ (build output, seed corpora generated from the
# pattern pack at run time, the growing corpora, crashes, logs): the pack's examples look like
# real tokens, and target/ is what the project's self-scan allows. A crash stops the target and
# is kept as target/fuzz/artifacts/<target>/crash-*; reproduce it with
#   cargo +nightly fuzz run -O -a -s none --codegen-units 4 --target-dir target/fuzz <target> <file>
# Environment: FUZZ_NICE (default 10), FUZZ_FLAGS (extra libFuzzer flags, e.g. "-runs=1000000").
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "bench/fuzz.sh: needs a nightly toolchain and cargo-fuzz (cargo install cargo-fuzz)" >&2
    exit 2
fi
build=(-O -a -s none --codegen-units 4 --target-dir target/fuzz)
nice_level="${FUZZ_NICE:-10}"
nice -n "$nice_level" cargo +nightly fuzz build "${build[@]}"
if [ "$#" -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list | grep -vx seeds)
else
    targets=("$@")
fi
bin=target/fuzz/x86_64-unknown-linux-gnu/release
# Seeds are written afresh for each run (two runs may go on side by side over different targets).
seeds="target/fuzz/seeds.$$"
trap 'rm -rf "$seeds"' EXIT
LEAKGATE_FUZZ_SEEDS="$seeds" "$bin/seeds"
mkdir -p target/fuzz/logs
printf '%-16s %14s %10s %s\n' target executions seconds result
status=0
for t in "${targets[@]}"; do
    mkdir -p "target/fuzz/corpus/$t" "target/fuzz/artifacts/$t"
    log="target/fuzz/logs/$t.log"
    result=ok
    # shellcheck disable=SC2086 # FUZZ_FLAGS is a list of flags
    if ! nice -n "$nice_level" cargo +nightly fuzz run "${build[@]}" "$t" \
        "target/fuzz/corpus/$t" "$seeds/$t" -- \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="target/fuzz/artifacts/$t/" ${FUZZ_FLAGS:-} >"$log" 2>&1; then
        result="FAILED (see $log)"
        status=1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    time=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
    printf '%-16s %14s %10s %s\n' "$t" "${runs:-?}" "${time:-?}" "$result"
done
exit "$status"
