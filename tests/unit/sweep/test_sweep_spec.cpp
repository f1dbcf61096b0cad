// Sweep expansion: cartesian axes, zipped groups, exclusions, stable hashes, errors.
#include <catch2/catch.hpp>

#include "sim/core/error.h"
#include "sim/sweep/sweep_spec.h"
#include "tests/cli/cli_harness.h"

using namespace bpsim;
using namespace bpsim::sweep;
using bpsim::test::Scratch;

namespace {
const char* const kBase = "accelerator: {kind: traffic, rows: 1}\nrun: {seed: 1}\n";
}

TEST_CASE("sweep: axes form a cartesian product, first axis slowest", "[sweep]") {
  Scratch s("sweep_axes");
  s.file("base.yaml", kBase);
  std::string f = s.file("s.yaml", "base: base.yaml\naxes:\n  run.seed: [1, 2, 3]\n  accelerator.rows: [8, 16]\n");
  SweepSpec sp = load_sweep(f, {});
  REQUIRE(sp.points.size() == 6);  // 3 × 2
  CHECK(sp.axis_names == std::vector<std::string>{"run.seed", "accelerator.rows"});
  CHECK(sp.points[0].assignments() == std::vector<std::string>{"run.seed=1", "accelerator.rows=8"});
  CHECK(sp.points[1].assignments() == std::vector<std::string>{"run.seed=1", "accelerator.rows=16"});
  CHECK(sp.points[5].assignments() == std::vector<std::string>{"run.seed=3", "accelerator.rows=16"});
  for (size_t i = 0; i < sp.points.size(); ++i)
    for (size_t j = 0; j < i; ++j) CHECK(sp.points[i].hash != sp.points[j].hash);
  // Same file, same hashes: the key that makes sweeps resumable.
  CHECK(load_sweep(f, {}).points[4].hash == sp.points[4].hash);
  // A fixed override changes every resolved config, hence every hash.
  CHECK(load_sweep(f, {"run.name=x"}).points[4].hash != sp.points[4].hash);
}

TEST_CASE("sweep: zip groups vary together, exclude drops matching points", "[sweep]") {
  Scratch s("sweep_zip");
  s.file("base.yaml", kBase);
  std::string f = s.file("s.yaml",
                         "base: base.yaml\n"
                         "axes: {run.seed: [1, 2]}\n"
                         "zip:\n  - {accelerator.rows: [8, 16, 32], accelerator.cols: [4, 8, 16]}\n"
                         "exclude:\n  - {run.seed: 2, accelerator.rows: 16}\n");
  SweepSpec sp = load_sweep(f, {});
  REQUIRE(sp.points.size() == 5);  // 2 × 3 − 1 excluded
  CHECK(sp.points[1].assignments() ==
        std::vector<std::string>{"run.seed=1", "accelerator.rows=16", "accelerator.cols=8"});
  for (const auto& p : sp.points) CHECK_FALSE((p.axes[0].second.scalar == "2" && p.axes[1].second.scalar == "16"));
  CHECK(sp.points[4].index == 4);
}

TEST_CASE("sweep: errors", "[sweep]") {
  Scratch s("sweep_err");
  s.file("base.yaml", kBase);
  auto err = [&](const std::string& text) {
    std::string f = s.file("e.yaml", text);
    try {
      load_sweep(f, {});
    } catch (const InputError& e) {
      return std::string(e.what()).substr(f.size());
    }
    return std::string("no error");
  };
  CHECK(err("axes: {run.seed: [1]}\n") == ":1:1: missing required key 'base' (the config every point starts from)");
  CHECK(err("base: base.yaml\naxis: {run.seed: [1]}\n") ==
        ":2:1: axis: unknown key (did you mean 'axes'?) (valid: base, set, axes, zip, exclude)");
  CHECK(err("base: base.yaml\naxes: {run.seed: 3}\n") == ":2:18: axes.run.seed: expected a list, found a scalar");
  CHECK(err("base: base.yaml\naxes: {run.seed: []}\n") == ":2:18: axes.run.seed: an axis needs at least one value");
  CHECK(err("base: base.yaml\nzip: [{run.seed: [1, 2], run.name: [a]}]\n") ==
        ":2:36: zip[0].run.name: zipped lists must have the same length (2 before, 1 here)");
  CHECK(err("base: nope.yaml\n").find(":1:7: base: no such file: ") == 0);
  CHECK(err("base: base.yaml\naxes: {run.seed: [1]}\nexclude: [{run.seed: 1}]\n") ==
        ":1:1: exclude: every point is excluded; nothing to run");
}
