#!/usr/bin/env bash
# Configures and builds bpsim into ./build (or $BPSIM_BUILD_DIR). ccache is used when present.
# $BPSIM_CMAKE_ARGS: extra configure arguments (word-split), e.g. the sanitized build's compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BPSIM_BUILD_DIR:-build}
JOBS=${BPSIM_JOBS:-$(nproc)}
# Objects compile the same in any checkout (build-tree paths live in one generated file), so
# let ccache share them between clones: debug info's directory is not part of the key.
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=${BPSIM_BUILD_TYPE:-RelWithDebInfo} ${BPSIM_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
