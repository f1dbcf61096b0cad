#!/usr/bin/env bash
# The test command: builds (incrementally) and runs every test with ctest; each Catch2 test
# case runs in its own process because SystemC elaborates once per process.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BPSIM_BUILD_DIR:-build}
bash scripts/build.sh
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${BPSIM_JOBS:-$(nproc)}" "$@"
