// Sparse weights from the user's side (docs/techniques.md "In-situ pruning with compact
// indexing, sparse evolutionary training"): compact formats sized by hand through
// `bpsim workload`, the systolic array's zero-weight-row skipping and the mesh's kept-synapse
// messages through `bpsim run`, SET's prune-and-regrow ops, bad values refused with the key.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/cli/report_json.h"

using namespace bpsim::test;
using Catch::Contains;

namespace {

/// fp32, batch 2, 64 features; fc1 (64 → 32, no bias) with `keys`, a ReLU, fc2 (32 → 10); Adam.
std::string spec(const Scratch& s, const std::string& name, const std::string& keys, const std::string& training = "") {
  return s.file(name + ".yaml", "name: " + name + "\ndtype: fp32\nbatch: 2\ninput: {shape: [64]}\noptimizer: adam\n" +
                                    training +
                                    "layers:\n"
                                    "  - {kind: linear, name: fc1, out_features: 32, bias: false, " +
                                    keys +
                                    "}\n"
                                    "  - {kind: relu, density: 1}\n"
                                    "  - {kind: linear, name: fc2, out_features: 10}\n");
}

nlohmann::json workload(const std::string& file) {
  CliResult r = run_bpsim("workload " + file + " --json");
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(r.out);
}

std::string run_config(const Scratch& s, const std::string& arch, const std::string& spec_file,
                       const std::string& accel = "") {
  return s.file(arch + ".run.yaml", preset_includes(arch + ".yaml") +
                                        (accel.empty() ? "" : "accelerator: " + accel + "\n") +
                                        "workload: {spec: " + spec_file + "}\n");
}

}  // namespace

TEST_CASE("cli sparse weights: compact formats sized by the kept weights", "[cli][workload][sparse_weights]") {
  Scratch s("sw_fmt");
  // fc1's weight: 32 × 64 = 2048 positions, density 0.25 → 512 kept, 512 × 4 B = 2048 B of values.
  // CSR, 8-bit column indices: 512 B of indices + 33 row pointers × 4 B = 644 B.
  const auto csr = workload(spec(s, "csr", "weight_density: 0.25, weight_format: csr, index_bits: 8"));
  CHECK(csr["figures"]["compact_weight_bytes"] == 2048 + 644);
  CHECK(csr["figures"]["compact_index_bytes"] == 644);
  CHECK(csr["figures"]["compact_dense_weight_bytes"] == 8192);
  // Bitmap: a bit per position, 2048 / 8 = 256 B. Triplet: two 8-bit indices per kept weight, 1024 B.
  CHECK(workload(spec(s, "bm", "weight_density: 0.25, weight_format: bitmap"))["figures"]["compact_index_bytes"] ==
        256);
  CHECK(workload(spec(
            s, "tr",
            "weight_density: 0.25, weight_format: triplet, index_bits: 8"))["figures"]["compact_index_bytes"] == 1024);
  // The gradient and Adam's two moments hold the 512 kept values, 2048 B each (8192 B dense).
  for (const auto& t : csr["tensors"])
    if (t["name"] == "fc1.weight.grad" || t["name"] == "fc1.weight.state0" || t["name"] == "fc1.weight.state1")
      CHECK(t["bytes"] == 2048);
  // The update touches the 512 kept values only: Adam's 12 operations each = 6144.
  CHECK(op_of(csr, "fc1.weight.update")["flops"] == 6144);
  // Dense storage keeps every position: no compact figures, the update over all 2048.
  const auto dense = workload(spec(s, "dn", "weight_density: 0.25"));
  CHECK_FALSE(dense.contains("figures"));
  CHECK(op_of(dense, "fc1.weight.update")["flops"] == 2048 * 12);
  // The peak (weights and state are not counted; the step's gradients are): fc1's gradient
  // is 8192 B dense and 2048 B compact, so the compact step peaks 6144 B lower.
  CHECK(dense["peak_bytes"].get<uint64_t>() - csr["peak_bytes"].get<uint64_t>() == 6144);
}

TEST_CASE("cli sparse weights: the systolic array skips zero weight rows, the mesh kept synapses",
          "[cli][sparse_weights][systolic][mesh]") {
  Scratch s("sw_run");
  // density 0.02: round(0.02 × 2048) = 41 kept, δ = 41/2048. A fold of the 32×32 array covers
  // 32 columns; a weight row there is all zero with probability (1 − δ)^32 = 0.5235.
  const std::string f = spec(s, "sp", "weight_density: 0.02, weight_format: csr");
  CliResult r = run_bpsim("run " + run_config(s, "systolic_32x32_bf16", f, "{dtype: fp32, weight_skip: row}") +
                          " -q --out " + (s / "row"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto rep = nlohmann::json::parse(slurp(s / "row/report.json"));
  // Forward [2 × 64]·[64 × 32]: ⌈64 × (1 − 0.5235)⌉ = 31 of 64 rows kept: 2·31·32 = 1984 MACs
  // of 2·64·32 = 4096, 2112 skipped.
  const auto fwd = op_of(rep, "fc1.fwd");
  CHECK(fwd["macs"] == 4096);
  CHECK(fwd["macs_executed"] == 1984);
  CHECK(fwd["macs_skipped"] == 2112);
  CHECK(fwd["skip_reason"] == "zero_weights");
  // fc1 reads the network input (no dX); fc2 is dense, so its dX skips nothing.
  CHECK(op_of(rep, "fc2.dx")["macs_skipped"] == 0);
  // With weight_skip: off every MAC runs, the zeros multiplied.
  CliResult o =
      run_bpsim("run " + run_config(s, "systolic_32x32_bf16", f, "{dtype: fp32}") + " -q --out " + (s / "off"));
  REQUIRE(o.code == 0);
  CHECK(op_of(nlohmann::json::parse(slurp(s / "off/report.json")), "fc1.fwd")["macs_executed"] == 4096);
  // The mesh: every pruned synapse's MAC skipped where the message lands, 4096 × δ = 82 kept
  // (rounded per destination tile, so within one MAC per tile of it).
  CliResult m = run_bpsim("run " + run_config(s, "mesh_8x8", f) + " -q --out " + (s / "mesh"));
  INFO(m.err);
  REQUIRE(m.code == 0);
  const auto mrep = nlohmann::json::parse(slurp(s / "mesh/report.json"));
  const auto mf = op_of(mrep, "fc1.fwd");
  CHECK(mf["macs"] == 4096);
  CHECK(mf["macs_executed"].get<double>() == Approx(82).margin(4));
  CHECK_THAT(mf["skip_reason"].get<std::string>(), Contains("zero_weights"));
  // Dense storage of the same layer: every synapse's message is sent, so more messages.
  const std::string d = spec(s, "dn", "weight_density: 0.02");
  CliResult md = run_bpsim("run " + run_config(s, "mesh_8x8", d) + " -q --out " + (s / "mesh_dense"));
  REQUIRE(md.code == 0);
  const auto dense_fwd = op_of(nlohmann::json::parse(slurp(s / "mesh_dense/report.json")), "fc1.fwd");
  CHECK(dense_fwd["macs_executed"] == 4096);
  CHECK(mf["extra"]["messages"].get<uint64_t>() < dense_fwd["extra"]["messages"].get<uint64_t>());
}

TEST_CASE("cli sparse weights: SET prunes and regrows after the update", "[cli][workload][sparse_weights][set]") {
  Scratch s("sw_set");
  const auto w = workload(spec(s, "set", "weight_density: 0.25, weight_format: csr",
                               "training: {prune_regrow: {fraction: 0.5, interval: 10}}\n"));
  // fc1 keeps 512: ζ = 0.5 prunes 256 and regrows 256. Prune: |w|, selection, compare: 4 × 512.
  const auto p = op_of(w, "fc1.weight.prune");
  CHECK(p["phase"] == "update");
  CHECK(p["flops"] == 2048);
  // Regrow: 2 × 256 draws and index checks; it rewrites the CSR weight and Adam's two moments.
  const auto g = op_of(w, "fc1.weight.regrow");
  CHECK(g["flops"] == 512);
  CHECK(g["reads"].size() == 3);
  CHECK(g["writes"] == g["reads"]);
  CHECK(w["figures"]["set_pruned_per_round"] == 256);
  CHECK(w["figures"]["set_flops_per_round"] == 2048 + 512);
  CHECK(w["figures"]["set_interval_steps"] == 10);
  // fc2 is dense (weight_density 1): nothing pruned there.
  for (const auto& o : w["ops"]) CHECK(o["name"] != "fc2.weight.prune");
  // A config's workload.training overrides the spec's (here: turns it on for a dense-format spec).
  const std::string plain = spec(s, "pl", "weight_density: 0.25");
  const std::string cfg = s.file("c.yaml", preset_includes("systolic_32x32_bf16.yaml") + "workload: {spec: " + plain +
                                               ", training: {prune_regrow: {fraction: 0.25}}}\n");
  CliResult r = run_bpsim("run " + cfg + " --set accelerator.dtype=fp32 -q --out " + (s / "o"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  // Dense storage: 512 kept of 2048 positions, ζ = 0.25: 128 pruned and regrown; the ops run
  // on the array's vector unit in the update phase.
  const auto rep = nlohmann::json::parse(slurp(s / "o/report.json"));
  CHECK(rep["memory"]["figures"]["set_pruned_per_round"] == 128);
  CHECK(op_of(rep, "fc1.weight.regrow")["phase"] == "update");
  CHECK(op_of(rep, "fc1.weight.prune")["cycles"].get<uint64_t>() > 0);
}

TEST_CASE("cli sparse weights: bad values stop with the key", "[cli][workload][sparse_weights]") {
  Scratch s("sw_bad");
  CliResult i = run_bpsim("workload " + spec(s, "i", "weight_density: 0.5, weight_format: csr, index_bits: 5"));
  CHECK(i.code == 2);
  CHECK_THAT(i.err, Contains("fc1") && Contains("index_bits: 5 bits cannot index 64"));
  CliResult f = run_bpsim("workload " + spec(s, "f", "weight_format: coo"));
  CHECK(f.code == 2);
  CHECK_THAT(f.err, Contains("layers[0].weight_format") && Contains("triplet"));
  CliResult n =
      run_bpsim("workload " + spec(s, "n", "weight_density: 1", "training: {prune_regrow: {fraction: 0.3}}\n"));
  CHECK(n.code == 2);
  CHECK_THAT(n.err, Contains("training.prune_regrow") && Contains("weight_density < 1"));
  CliResult z =
      run_bpsim("workload " + spec(s, "z", "weight_density: 0.5", "training: {prune_regrow: {interval: 3}}\n"));
  CHECK(z.code == 2);
  CHECK_THAT(z.err, Contains("fraction"));
  // ζ = 0 prunes and regrows nothing, so a round would be priced for no work: refused.
  CliResult zero =
      run_bpsim("workload " + spec(s, "z0", "weight_density: 0.5", "training: {prune_regrow: {fraction: 0}}\n"));
  CHECK(zero.code == 2);
  CHECK_THAT(zero.err, Contains("training.prune_regrow.fraction"));
  // The in-DRAM array's host runs real-valued layers as dense GEMMs: a compact weight is refused.
  CliResult p =
      run_bpsim("validate " + run_config(s, "pim_ddr4", spec(s, "pm", "weight_density: 0.5, weight_format: csr")));
  CHECK(p.code == 2);
  CHECK_THAT(p.err, Contains("fc1") && Contains("weight_format: dense"));
  // Row skipping needs the weights' rows on the reduction: refused with inputs stationary.
  CliResult is = run_bpsim("validate " + run_config(s, "systolic_32x32_bf16", spec(s, "is", "weight_density: 0.5"),
                                                    "{dtype: fp32, dataflow: is, weight_skip: row}"));
  CHECK(is.code == 2);
  CHECK_THAT(is.err, Contains("accelerator.weight_skip") && Contains("ws or os"));
}
