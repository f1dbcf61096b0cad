// dX output masks through `bpsim run`: the ReLU → dropout chain of the shipped MLP, and the
// mask sets measured in PyTorch (traces/masks, scripts/capture_masks.py), derived by hand.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/cli/report_json.h"

using namespace bpsim::test;
using Catch::Contains;

namespace {

const std::string kSrc = BPSIM_SOURCE_DIR;

nlohmann::json run_ok(const Scratch& s, const std::string& config, const std::string& tag, const std::string& sets) {
  const CliResult r = run_bpsim("run " + config + " --quiet --out " + (s / tag) + " " + sets);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(slurp(s / tag + "/report.json"));
}

/// Zero bits (unneeded outputs) among the first `bits` of a packed bitmap file.
uint64_t zero_bits(const std::string& file, uint64_t bits) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(bytes.size() == (bits + 7) / 8);
  uint64_t ones = 0;
  for (uint64_t b = 0; b < bits; ++b) ones += (uint8_t(bytes[b / 8]) >> (b % 8)) & 1u;
  return bits - ones;
}

}  // namespace

TEST_CASE("masks: the MLP's ReLU → dropout chain gates its dX MACs", "[cli][masks][systolic]") {
  Scratch s("masks_chain");
  const std::string cfg = kSrc + "/configs/examples/mlp_train_systolic.yaml";
  const std::string gate =
      "--set accelerator.output_sparsity.pattern=from_op --set accelerator.output_sparsity.mode=gate "
      "--set accelerator.output_sparsity.granularity=";
  // configs/workloads/mlp.yaml: linear4.dx and linear7.dx write 64×1024 outputs (batch ×
  // the layer's input features), K = 1024 and 10. Each feeds dropout (p = 0.1) then ReLU
  // (density 0.5): needed 0.5 · 0.9 = 0.45 of them, masked 0.55.
  //   element: round(0.55 · 65536) = 36045 outputs each → 36045 · (1024 + 10) = 37270530 MACs
  //   row:     round(0.55 · 64) = 35 rows of 1024 → 35840 outputs → 35840 · 1034 = 37058560
  //   col:     round(0.55 · 1024) = 563 columns of 64 → 36032 outputs → 36032 · 1034 = 37257088
  // No other GEMM has a mask (the dW GEMMs' weights are dense), so these are the totals.
  const std::pair<const char*, uint64_t> cases[] = {{"element", 37270530}, {"row", 37058560}, {"col", 37257088}};
  for (const auto& [g, gated] : cases) {
    INFO(g);
    const nlohmann::json rep = run_ok(s, cfg, g, gate + g);
    CHECK(rep["totals"]["macs_gated"] == gated);
    CHECK(op_of(rep, "linear4.dx")["macs_gated"] == gated / 1034 * 1024);
  }
}

TEST_CASE("masks: the shipped MLP mask set gates its zeros × K", "[cli][masks][systolic]") {
  Scratch s("masks_mlp");
  const nlohmann::json rep = run_ok(s, kSrc + "/configs/examples/mlp_masks_systolic.yaml", "o", "");
  // Gate at element granularity: every unneeded output's K MACs are gated, at its position.
  // The zero counts (35736 and 37080, as the manifest notes) are counted here from the files.
  const std::string dir = kSrc + "/traces/masks/mlp/";
  const uint64_t z4 = zero_bits(dir + "linear4.dx.bits", 64 * 1024), z7 = zero_bits(dir + "linear7.dx.bits", 64 * 1024);
  CHECK(z4 == 35736);
  CHECK(z7 == 37080);
  CHECK(op_of(rep, "linear4.dx")["macs_gated"] == z4 * 1024);  // 36593664
  CHECK(op_of(rep, "linear7.dx")["macs_gated"] == z7 * 10);    // 370800
  CHECK(op_of(rep, "linear4.dx")["extra"]["masked_outputs"] == z4);
  CHECK(rep["totals"]["macs_gated"] == z4 * 1024 + z7 * 10);
  // Row skipping removes only wholly unneeded rows: with about 45% of each row needed,
  // none of the 64 is empty, so nothing is skipped and everything masked is still gated.
  const nlohmann::json skip =
      run_ok(s, kSrc + "/configs/examples/mlp_masks_systolic.yaml", "skip",
             "--set accelerator.output_sparsity.mode=skip --set accelerator.output_sparsity.granularity=row");
  CHECK(skip["totals"]["macs_skipped"] == 0);
}

TEST_CASE("masks: the shipped LeNet-5 mask set reaches conv and linear dX GEMMs", "[cli][masks][systolic]") {
  Scratch s("masks_lenet");
  const std::string dir = kSrc + "/traces/masks/lenet5/";
  const nlohmann::json rep = run_ok(s, kSrc + "/configs/examples/lenet5_train_systolic.yaml", "o",
                                    "--set workload.masks=" + dir + "masks.yaml");
  // conv2.dx in column form: M = 16 samples · 10 · 10 positions = 1600, N = 6 · 5 · 5 = 150,
  // K = 16 filters; fc1/fc2/fc3.dx: M = 16, N = 400/120/84, K = 120/84/10.
  const uint64_t conv2 = zero_bits(dir + "conv2.dx.bits", 1600 * 150), fc1 = zero_bits(dir + "fc1.dx.bits", 16 * 400),
                 fc2 = zero_bits(dir + "fc2.dx.bits", 16 * 120), fc3 = zero_bits(dir + "fc3.dx.bits", 16 * 84);
  CHECK(op_of(rep, "conv2.dx")["macs_gated"] == conv2 * 16);
  CHECK(op_of(rep, "fc1.dx")["macs_gated"] == fc1 * 120);
  CHECK(op_of(rep, "fc2.dx")["macs_gated"] == fc2 * 84);
  CHECK(op_of(rep, "fc3.dx")["macs_gated"] == fc3 * 10);
  // 38269 · 16 + 2604 · 120 + 895 · 84 + 696 · 10 = 612304 + 312480 + 75180 + 6960.
  CHECK(rep["totals"]["macs_gated"] == 1006924);
}

TEST_CASE("masks: a mask set that does not fit the step is refused with its file and layer", "[cli][masks]") {
  Scratch s("masks_bad");
  std::ofstream(s / "l.bits", std::ios::binary) << std::string(64 * 1024 / 8, '\xFF');
  const std::string cfg = kSrc + "/configs/examples/mlp_train_systolic.yaml";
  auto refused = [&](const std::string& entry, const std::string& what) {
    const std::string set = s.file("set.yaml", "network: mlp\nmasks:\n  - " + entry + "\n");
    const CliResult r = run_bpsim("run " + cfg + " --quiet --out " + (s / "o") + " --set workload.masks=" + set);
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("set.yaml:3:") && Contains(what));
    CHECK_FALSE(std::filesystem::exists(s / "o/report.json"));
  };
  refused("{layer: linear5, rows: 64, cols: 1024, bitmap: l.bits}",
          "layer 'linear5' has no dX GEMM in this step (layers with one: linear7, linear4)");
  refused("{layer: linear7, rows: 128, cols: 512, bitmap: l.bits}",
          "the mask is 128×512, op 'linear7.dx' writes 64×1024 outputs");
  refused("{layer: linear7, rows: 64, cols: 2048, bitmap: l.bits}", "layer 'linear7'");
  const CliResult none =
      run_bpsim("run " + cfg + " --quiet --out " + (s / "o") + " --set workload.masks=" + s / "x.yaml");
  CHECK(none.code == 2);
}

TEST_CASE("masks: bpsim list shows the workload section's keys, masks among them", "[cli][masks]") {
  const CliResult l = run_bpsim("list");
  REQUIRE(l.code == 0);
  CHECK_THAT(l.out, Contains("workload (the workload: section, with a network spec):\n") &&
                        Contains("\n  masks (string, optional): measured dX masks"));
}

TEST_CASE("masks: a trace's bitmap on a dX op gates as the mask set does", "[cli][masks][systolic][trace]") {
  Scratch s("masks_trace");
  // The MLP's step as a trace, with linear4.dx's mask replaced by the measured bitmap.
  const CliResult e = run_bpsim("trace export " + kSrc + "/configs/workloads/mlp.yaml -o " + (s / "step.jsonl"));
  INFO(e.err);
  REQUIRE(e.code == 0);
  std::ifstream in(s / "step.jsonl");
  std::ofstream out(s / "masked.jsonl");
  bool found = false;
  for (std::string line; std::getline(in, line);) {
    nlohmann::json j = nlohmann::json::parse(line);
    if (j.contains("op") && j["name"] == "linear4.dx") {  // the op, not its tensor of that name
      j["mask"] = {{"source", "bitmap"}, {"bitmap", kSrc + "/traces/masks/mlp/linear4.dx.bits"}};
      found = true;
    }
    out << j.dump() << "\n";
  }
  out.close();
  REQUIRE(found);
  const std::string cfg = kSrc + "/configs/examples/mlp_masks_systolic.yaml";
  const nlohmann::json t = run_ok(s, cfg, "trace", "--trace " + (s / "masked.jsonl") + " --set run.report_ops=all");
  const nlohmann::json m = run_ok(s, cfg, "set", "");
  // 35736 unneeded outputs × K = 1024, at the same positions by either path.
  CHECK(op_of(t, "linear4.dx")["macs_gated"] == 35736 * 1024);
  CHECK(op_of(t, "linear4.dx") == op_of(m, "linear4.dx"));
  // linear7.dx keeps the trace's chain density: round(0.55 · 65536) = 36045 outputs × K = 10.
  CHECK(op_of(t, "linear7.dx")["macs_gated"] == 36045 * 10);
}
