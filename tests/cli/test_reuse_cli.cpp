// Result reuse (run.reuse): an op whose cost a key fully determines takes an identical
// earlier op's cost; the report is the same bytes with reuse on and off, and run_stats.json
// counts what was reused.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/ir/ir.h"
#include "tests/cli/cli_harness.h"

using namespace bpsim::test;
using nlohmann::json;

namespace {
/// Four linear layers of one shape (16 → 16, batch 8): 24 ops, of which 11 GEMMs — 4 forward
/// (8×16·16×16), 3 input gradients (the first layer needs none; 8×16·16×16 in phase
/// backward_data) and 4 weight gradients (16×8·8×16).
std::string four_layers(const std::string& arch, const std::string& accelerator) {
  return preset_includes(arch) + "accelerator: " + accelerator +
         "\nworkload:\n  input: {shape: [16]}\n  batch: 8\n  layers: [{kind: linear, out_features: 16}, "
         "{kind: linear, out_features: 16}, {kind: linear, out_features: 16}, {kind: linear, out_features: 16}]\n";
}

struct Run {
  json stats;
  std::string report, ops, html, out;
};

Run run_with(const Scratch& s, const std::string& cfg, const std::string& reuse, const std::string& sets = "") {
  const std::string dir = s / ("out_" + reuse);
  const CliResult r = run_bpsim("run " + cfg + " -q --set run.reuse=" + reuse + sets + " --out " + dir);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return {json::parse(slurp(dir + "/run_stats.json")), slurp(dir + "/report.json"), slurp(dir + "/ops.csv"),
          slurp(dir + "/report.html"), r.out.substr(0, r.out.find("report: "))};
}

/// Runs `cfg` with reuse on and off: the same report, ops.csv, report.html and console.
std::pair<json, json> on_and_off(const Scratch& s, const std::string& cfg, const std::string& sets = "") {
  const Run on = run_with(s, cfg, "on", sets), off = run_with(s, cfg, "off", sets);
  CHECK(on.report == off.report);
  CHECK(on.ops == off.ops);
  CHECK(on.html == off.html);
  CHECK(on.out == off.out);
  CHECK(off.stats["reuse"] == "off");
  CHECK(off.stats["reused_ops"] == 0);
  CHECK(off.stats["reuse_eligible_ops"] == 0);
  return {on.stats, off.stats};
}
}  // namespace

TEST_CASE("reuse: identical GEMMs cost once, the report is the same bytes", "[cli][reuse]") {
  Scratch s("reuse_sys");
  const std::string cfg =
      s.file("c.yaml", four_layers("systolic_32x32_int8.yaml", "{kind: systolic, dtype: workload}"));
  const auto [on, off] = on_and_off(s, cfg);
  CHECK(on["reuse"] == "on");
  CHECK(on["ops"] == 24);
  CHECK(off["ops"] == 24);
  // Eligible: the 11 GEMMs (vector ops are always costed). Distinct keys: one forward shape,
  // one input-gradient shape, one weight-gradient shape, so 3 are costed and 11 − 3 = 8
  // reused (3 + 2 + 3).
  CHECK(on["reuse_eligible_ops"] == 11);
  CHECK(on["reused_ops"] == 8);
  CHECK(on["reuse_hit_rate"].get<double>() == Approx(8.0 / 24.0));
  // The DRAM transfers are simulated for every op, reused or not: layers of one shape can
  // take different cycles as the memory's state differs (the test would be vacuous if the
  // reused ops just copied their cycles).
  const json report = json::parse(slurp(s / "out_on/report.json"));
  std::set<uint64_t> fwd_cycles;
  for (const json& o : report["ops"])
    if (o["phase"] == "forward") fwd_cycles.insert(o["cycles"].get<uint64_t>());
  CHECK(fwd_cycles.size() > 1);
}

TEST_CASE("reuse: masks that draw from the RNG are never reused, exact ones are", "[cli][reuse]") {
  Scratch s("reuse_mask");
  const std::string cfg =
      s.file("c.yaml", four_layers("systolic_32x32_int8.yaml", "{kind: systolic, dtype: workload}"));
  // Element granularity at density 0.5: each GEMM draws its dead rows (Binomial), so reusing
  // one would move every later draw: no GEMM is eligible.
  const auto drawn = on_and_off(
      s, cfg,
      " --set 'accelerator.output_sparsity={mode: gate, granularity: element, pattern: density, density: 0.5}'");
  CHECK(drawn.first["reuse_eligible_ops"] == 0);
  // Row granularity: a count, no draw; the resolved mask is part of the key, the hits are the
  // dense step's.
  const auto rows = on_and_off(
      s, cfg, " --set 'accelerator.output_sparsity={mode: skip, granularity: row, pattern: density, density: 0.5}'");
  CHECK(rows.first["reuse_eligible_ops"] == 11);
  CHECK(rows.first["reused_ops"] == 8);
}

TEST_CASE("reuse: the mesh and the in-DRAM array cost every op", "[cli][reuse]") {
  Scratch s("reuse_mesh");
  // The mesh's ops go through its network, whose state (routers, the firing draws) no key
  // captures: none is eligible, and the report is the same either way.
  const auto mesh = on_and_off(s, s.file("m.yaml", four_layers("mesh_8x8.yaml", "{kind: mesh}")));
  CHECK(mesh.first["ops"] == 24);
  CHECK(mesh.first["reuse_eligible_ops"] == 0);
  const std::string pim = std::string(BPSIM_SOURCE_DIR) + "/configs/examples/binary_mlp_pim.yaml";
  const auto p = on_and_off(s, pim);
  CHECK(p.first["ops"].get<uint64_t>() > 0);
  CHECK(p.first["reuse_eligible_ops"] == 0);
}

TEST_CASE("reuse: the key is not echoed into the report, a bad value is refused", "[cli][reuse]") {
  Scratch s("reuse_key");
  const std::string cfg =
      s.file("c.yaml", four_layers("systolic_32x32_int8.yaml", "{kind: systolic, dtype: workload}"));
  // Default (on) and an explicit on give the same report as the run without the key.
  const CliResult d = run_bpsim("run " + cfg + " -q --out " + (s / "d"));
  REQUIRE(d.code == 0);
  const Run off = run_with(s, cfg, "off");
  CHECK(slurp(s / "d/report.json") == off.report);
  CHECK(json::parse(slurp(s / "d/run_stats.json"))["reuse"] == "on");
  CHECK_THAT(off.report, !Catch::Contains("reuse"));
  const CliResult bad = run_bpsim("run " + cfg + " -q --set run.reuse=maybe --out " + (s / "b"));
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Catch::Contains("run.reuse") && Catch::Contains("maybe"));
}

TEST_CASE("reuse: the systolic GEMM key covers every op field (a new field fails here)", "[reuse]") {
  // The systolic array's reuse key (shape_key, models/systolic/systolic_model.cpp) is every
  // field of an op that its GEMM cost reads: kind, phase, dtype, gemm, conv and the mask made
  // of out_mask. A field added to these structs may be read by the cost too; until someone
  // has decided (and put it into the key when it is read, then updated the sizes here), a
  // stale key would reuse a wrong cost without a word. Sizes of x86-64 with libstdc++, the
  // platform the project builds on; elsewhere the check is not made. Decided: Op's
  // weight_density and weight_index_bytes (compact weights, 440 → 456 bytes) are read by the
  // cost but not keyed; an op with either (density < 1 or index bytes > 0) is never reused.
#if defined(__x86_64__) && defined(__GLIBCXX__)
  CHECK(sizeof(bpsim::workload::Op) == 456);
  CHECK(sizeof(bpsim::workload::GemmDims) == 32);
  CHECK(sizeof(bpsim::workload::ConvShape) == 96);
  CHECK(sizeof(bpsim::workload::OutputMask) == 72);
#endif
}
