#!/usr/bin/env bash
# From a fresh Debian 12 machine: install packages, build, and run an example simulation.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
CONFIG=${1:-configs/examples/ddr4_stream.yaml}
./build/bpsim run "$CONFIG" --out "out/$(basename "$CONFIG" .yaml)" --force
