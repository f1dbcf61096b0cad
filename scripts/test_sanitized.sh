#!/usr/bin/env bash
# The sanitized test run (CI runs it after the normal tests): builds everything with clang 14
# and -fsanitize=address,undefined into ./build-asan (or $BPSIM_ASAN_DIR) and runs the ctest
# suite there; any AddressSanitizer, LeakSanitizer or UndefinedBehaviorSanitizer finding fails
# its test. Extra arguments go to the main ctest run (e.g. -R 'config'); the mpirun test
# always runs after it, on its own.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BPSIM_ASAN_DIR:-build-asan}
BPSIM_BUILD_DIR=$BUILD_DIR BPSIM_CMAKE_ARGS="-DCMAKE_CXX_COMPILER=clang++-14 -DBPSIM_SANITIZE=ON" \
  bash scripts/build.sh
SYMBOLIZER=external_symbolizer_path=$(command -v llvm-symbolizer-14 || true)
# SystemC runs SC_THREADs on stacks of its own (QuickThreads): keep ASan's fake stacks
# (use-after-return) off, as they cannot follow a stack switch. Leak checking is on, with no
# suppressions, except under mpirun: Open MPI leaks from plugins it unloads before the leak
# report, so those leaks cannot be told from ours (ASan and UBSan still check that test).
ASAN=detect_stack_use_after_return=0:$SYMBOLIZER
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:$SYMBOLIZER
MPI_TESTS=mpirun
JOBS=${BPSIM_JOBS:-$(nproc)}
ASAN_OPTIONS=$ASAN:detect_leaks=1 ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" -E "$MPI_TESTS" "$@"
ASAN_OPTIONS=$ASAN:detect_leaks=0 ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" -R "$MPI_TESTS"
