#!/usr/bin/env bash
# Benchmark of the pim model: a binary MLP 784-4096-4096-10 training step at batch 256
# (forward XNOR-accumulates, sign-conditioned dX/dW, latent-weight updates). Target: < 1 s.
# Usage: scripts/bench_pim.sh [build-dir]   (default: build)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
cmake --build "$build" --target bpsim_tests -j2 >/dev/null
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
start=$(date +%s.%N)
"$build/bpsim_tests" "pim: binary MLP 784-4096-4096-10 batch 256 step under 1 s" 2>&1 | grep -E "binary MLP step|passed|failed" || true
end=$(date +%s.%N)
echo "process wall (incl. start-up): $(echo "$end - $start" | bc) s"
