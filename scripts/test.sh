#!/usr/bin/env bash
# The test command: builds (incrementally) and runs every test with ctest; each Catch2 test
# case runs in its own process because SystemC elaborates once per process.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BPSIM_BUILD_DIR:-build}
bash scripts/build.sh
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${BPSIM_JOBS:-$(nproc)}" "$@"
# The Python package (README "Python"): built in its own tree (build-py), installed into a
# throw-away virtual environment and tested against this build's bpsim. Not with ctest
# arguments (a selection of ctest cases), nor with BPSIM_SKIP_PYTHON=1.
if [ $# -eq 0 ] && [ "${BPSIM_SKIP_PYTHON:-0}" != 1 ]; then
  bash scripts/test_python.sh
fi
