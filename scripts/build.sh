#!/usr/bin/env bash
# Configures and builds bpsim into ./build (or $BPSIM_BUILD_DIR). ccache is used when present.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BPSIM_BUILD_DIR:-build}
JOBS=${BPSIM_JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=${BPSIM_BUILD_TYPE:-RelWithDebInfo} >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
