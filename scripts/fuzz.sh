#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz, clang++, ./build-fuzz or $BPSIM_FUZZ_BUILD_DIR)
# and fuzzes each TARGET for SECONDS (default 60) with its seed corpus and dictionary, after
# replaying its regression inputs (tests/fuzz/regressions/TARGET/). Targets: config trace
# chakra scalesim sweep yaml (default: all). Inputs that crash, hang (10 s) or take more than
# 2 GiB land in $BPSIM_FUZZ_OUT/TARGET/crashes/RUN (default /tmp/bpsim-fuzz, RUN the start
# time), outside the source tree, next to the run's log and the corpus it grew; the seed
# corpus in the tree is left as is. Exits non-zero when any target found one.
# $BPSIM_FUZZ_ARGS: extra libFuzzer flags, e.g. for long runs that go on past findings:
# "-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1" (each is still saved).
# usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
ALL_TARGETS=(config trace chakra scalesim sweep yaml)
SECONDS_EACH=60
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then SECONDS_EACH=$1; shift; fi
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=("${ALL_TARGETS[@]}")
for t in "${TARGETS[@]}"; do
  [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || { echo "fuzz: unknown target '$t' (targets: ${ALL_TARGETS[*]})" >&2; exit 2; }
done
BUILD_DIR=${BPSIM_FUZZ_BUILD_DIR:-build-fuzz}
OUT=${BPSIM_FUZZ_OUT:-/tmp/bpsim-fuzz}
JOBS=${BPSIM_JOBS:-$(nproc)}

export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
# Debug: assertions stay on; the harnesses' own flags add -O1 and the sanitizers.
cmake -S . -B "$BUILD_DIR" -DBPSIM_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" --target "${TARGETS[@]/#/fuzz_}"

# Limits of every run: a hang is an input taking 10 s, an OOM one taking 2 GiB.
LIMITS=(-timeout=10 -rss_limit_mb=2048)
failed=()
for t in "${TARGETS[@]}"; do
  exe=$BUILD_DIR/tests/fuzz/fuzz_$t
  dir=$OUT/$t
  mkdir -p "$dir/corpus"
  regressions=(tests/fuzz/regressions/$t/*)
  if [[ -e ${regressions[0]} ]]; then
    echo "fuzz: $t: replaying ${#regressions[@]} regression input(s)"
    if ! "$exe" "${LIMITS[@]}" "${regressions[@]}" >"$dir/regressions.log" 2>&1; then
      echo "fuzz: $t: a regression input fails again (log: $dir/regressions.log)" >&2
      failed+=("$t")
      continue
    fi
  fi
  crashes=$dir/crashes/$(date +%Y%m%d-%H%M%S)
  mkdir -p "$crashes"
  echo "fuzz: $t: ${SECONDS_EACH} s (log: $dir/fuzz.log)"
  # A finding fails the target whether libFuzzer stopped on it or (with -ignore_*) went on.
  # shellcheck disable=SC2086
  if ! "$exe" "${LIMITS[@]}" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
      -dict="tests/fuzz/$t.dict" -artifact_prefix="$crashes/" ${BPSIM_FUZZ_ARGS:-} \
      "$dir/corpus" "tests/fuzz/corpus/$t" >"$dir/fuzz.log" 2>&1 || [[ -n $(ls -A "$crashes") ]]; then
    echo "fuzz: $t: FAILED; inputs in $crashes/, tail of the log:" >&2
    tail -n 40 "$dir/fuzz.log" >&2
    failed+=("$t")
    continue
  fi
  rmdir "$crashes"  # nothing found: no empty folder left behind
  # The final figures: libFuzzer's DONE line and stats, or fork mode's last status line.
  { grep -E '^stat::(number_of_executed_units|average_exec_per_sec)|^#[0-9]+[[:space:]]+DONE' "$dir/fuzz.log" ||
    grep -E '^#[0-9]+: cov:' "$dir/fuzz.log" | tail -n 1; } | sed "s/^/fuzz: $t: /"
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#TARGETS[@]} target(s) ran ${SECONDS_EACH} s each without a crash"
