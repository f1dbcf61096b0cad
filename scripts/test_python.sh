#!/usr/bin/env bash
# The Python package's tests (README, "Python"): builds bpsim._core (python/setup.py: its own
# position-independent build tree, build-py/, reused between runs, objects shared through
# ccache), installs the package into a fresh virtual environment over Debian's python3 and its
# packages (no package index), and runs tests/python with it: the package's unit tests, every
# example config run twice in one process against the CLI's report.json byte for byte
# (BPSIM_PY_QUICK=1 shrinks the three slow mesh examples alike on both sides; unset it for the
# full sizes), and the quickstart notebook. Needs build/bpsim (scripts/build.sh) to compare with.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export BPSIM_EXE=${BPSIM_EXE:-$ROOT/${BPSIM_BUILD_DIR:-build}/bpsim}
export BPSIM_PY_QUICK=${BPSIM_PY_QUICK:-1}
VENV=$(mktemp -d -t bpsim-venv.XXXXXX)
trap 'rm -rf "$VENV"' EXIT
/usr/bin/python3 -m venv --system-site-packages "$VENV"
"$VENV/bin/pip" install --no-build-isolation --no-index --quiet ./python
# From outside the source tree, so that the installed package is the one imported.
cd "$VENV"
for t in "$ROOT"/tests/python/test_*.py; do
  echo "== $(basename "$t")"
  "$VENV/bin/python" "$t"
done
echo "test_python: ok"
