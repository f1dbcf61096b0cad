#!/usr/bin/env bash
# Installs the build tree into a temporary prefix (cmake --install) and runs the installed
# bpsim from another working folder: a shipped example (relative includes, a trace sample),
# a user's own config naming the shipped presets and spec by their configs/-relative paths,
# `bpsim list` reading the installed presets, and a missing preset refused with exit 2.
# Usage: test_install.sh BUILD_DIR (the ctest case install.prefix_runs_examples).
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d -t bpsim-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
work=$tmp/work
mkdir -p "$work"
fail() { echo "test_install: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install failed"; }
for f in bin/bpsim share/bpsim/configs/memory/ddr4_2400.yaml share/bpsim/configs/examples/mlp_train_systolic.yaml \
  share/bpsim/traces/masks/mlp/masks.yaml share/bpsim/scripts/plot_compare.py share/doc/bpsim/LICENSE \
  share/doc/bpsim/NOTICE share/doc/bpsim/README.md share/doc/bpsim/docs/layers.md; do
  [ -e "$prefix/$f" ] || fail "not installed: $f"
done
# The plot scripts' Python package (pure Python), where the checkout has one.
if [ -d "$src/python/bpsim" ]; then
  [ -e "$prefix/share/bpsim/python/bpsim/__init__.py" ] || fail "not installed: share/bpsim/python/bpsim"
fi
# A module the build loads at run time from bpsim's folder (MPI sweeps) goes next to it.
for m in "$build"/libbpsim_*.so; do
  [ -e "$m" ] || continue
  [ -e "$prefix/bin/$(basename "$m")" ] || fail "not installed next to bpsim: $(basename "$m")"
done

bpsim=$prefix/bin/bpsim
data=$prefix/share/bpsim/configs
cd "$work"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1

# totals of a report, for comparing two runs of one step
totals() { python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["totals"], sort_keys=True))' "$1"; }

# 1. A shipped example, by its installed path: includes ../memory/…, masks ../../traces/….
"$bpsim" run "$data/examples/mlp_masks_systolic.yaml" --out masks >/dev/null
"$build/bpsim" run "$src/configs/examples/mlp_masks_systolic.yaml" --out masks_src >/dev/null
[ "$(totals masks/report.json)" = "$(totals masks_src/report.json)" ] || fail "installed example's totals differ"

# 2. A config of the user's own, in this folder, naming the shipped presets and spec by their
#    paths under configs/ (the fallback of sim/core/config_node.h, resolve_config_path): the
#    same step as the shipped mlp_train_systolic example, so the same totals.
cat >mine.yaml <<'YAML'
include: [arch/systolic_32x32_int8.yaml, memory/ddr4_2400.yaml, energy/45nm.yaml, energy/45nm/systolic.yaml]
accelerator:
  dtype: workload
  output_sparsity: { mode: skip, granularity: row, pattern: density, density: 0.5 }
workload:
  spec: workloads/mlp.yaml
  policy: { kind: none }
run:
  seed: 1
YAML
"$bpsim" run mine.yaml --out mine >/dev/null
"$bpsim" run "$data/examples/mlp_train_systolic.yaml" --out shipped >/dev/null
[ "$(totals mine/report.json)" = "$(totals shipped/report.json)" ] || fail "user config's totals differ from the example's"

# 3. The installed binary reads the installed tree, not the checkout it was built from: a
#    preset that exists only under the prefix is listed and can be included.
sed 's/^\(  name: \).*/\1installed-probe/' "$data/memory/ddr4_2400.yaml" >"$data/memory/zz_probe.yaml"
grep -q "name: installed-probe" "$data/memory/zz_probe.yaml" || fail "probe preset has no name line"
# (into a file: `grep -q` in a pipe stops reading at the match, and under pipefail the list's
# SIGPIPE would fail the line once the list outgrows the pipe's buffer)
"$bpsim" list >list.txt
grep -q "zz_probe.yaml: installed-probe" list.txt || fail "bpsim list does not show the installed presets"
sed 's#memory/ddr4_2400.yaml#memory/zz_probe.yaml#' mine.yaml >probe.yaml
"$bpsim" validate probe.yaml >/dev/null || fail "a preset under the prefix cannot be included"

# 4. A preset that exists nowhere: exit 2, the message naming the path as written.
sed 's#memory/ddr4_2400.yaml#memory/no_such_preset.yaml#' mine.yaml >missing.yaml
set +e
"$bpsim" validate missing.yaml >/dev/null 2>err.txt
code=$?
set -e
[ "$code" = 2 ] || fail "missing preset: exit $code, expected 2"
grep -q "no_such_preset.yaml" err.txt || fail "missing preset: message does not name it: $(cat err.txt)"
echo "test_install: ok ($prefix)"
