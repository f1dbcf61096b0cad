// Block coordinate descent (training: block_update:) from the user's side: which backward
// ops each step of a three-block schedule keeps, derived by hand on a small MLP through
// `bpsim workload` and `bpsim run` (systolic and mesh), what the forward still keeps, and
// the refusals.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/cli/report_json.h"
#include "tests/cli/training_harness.h"

using namespace bpsim::test;
using Catch::Contains;

namespace {

/// Batch 2, 8 inputs → fc1(16) → ReLU → fc2(12) → ReLU → fc3(4), fp32, Adam; blocks
/// [fc1..r1, fc2..r2, fc3], the step given.
std::string spec(const Scratch& s, const std::string& name, const std::string& training) {
  return tiny_mlp_spec(s, name, "adam", training);
}

std::string step(int n) { return "{block_update: {blocks: [fc1..r1, fc2..r2, fc3], step: " + std::to_string(n) + "}}"; }

}  // namespace

TEST_CASE("block_update: the middle block's step: dX above it, dW and update in it, nothing below",
          "[cli][block_update]") {
  Scratch s("bcd_mid");
  const auto w = workload_json(spec(s, "s1", step(1)));  // step 1 of 3: blocks[1] = fc2..r2
  // Above the block (fc3): dX only, 2·12·4 = 96 MACs; no dW, no update.
  CHECK(op_of(w, "fc3.dx")["macs"] == 96);
  CHECK_FALSE(has_op(w, "fc3.dw"));
  CHECK_FALSE(has_op(w, "fc3.weight.update"));
  // The block (fc2): dW = 16·12·2 = 384 MACs and its updates; no dX, nothing below needs it.
  CHECK(op_of(w, "fc2.dw")["macs"] == 384);
  CHECK(has_op(w, "fc2.weight.update"));
  CHECK(has_op(w, "fc2.bias.update"));
  CHECK_FALSE(has_op(w, "fc2.dx"));
  // Below (fc1, r1): no backward at all.
  CHECK_FALSE(has_op(w, "fc1.dw"));
  CHECK_FALSE(has_op(w, "r1.bwd"));
  // 12 ops: 5 forward, loss.bwd, fc3.dx, r2.bwd, fc2.dw, fc2.db, two updates.
  CHECK(w["ops"].size() == 12);
  // Parameters: fc2 (16·12 + 12)·4 = 816 B updated; fc1 (8·16 + 16)·4 = 576 and fc3
  // (12·4 + 4)·4 = 208 frozen, 784 B, whose two fp32 Adam moments stay resident: 1568 B.
  CHECK(w["figures"]["block_update_block"] == 1);
  CHECK(w["figures"]["updated_parameter_bytes"] == 816);
  CHECK(w["figures"]["frozen_parameter_bytes"] == 784);
  CHECK(w["figures"]["frozen_optimizer_state_bytes"] == 1568);
}

TEST_CASE("block_update: what the forward keeps follows the block", "[cli][block_update]") {
  Scratch s("bcd_keep");
  // Backprop keeps r1's output (2·16·4 = 128 B: r1.bwd and fc2.dw), r2's (2·12·4 = 96 B:
  // r2.bwd and fc3.dw) and the loss's 32 B: 256 B after the forward.
  CHECK(workload_json(spec(s, "bp", "{}"))["saved_after_forward_bytes"] == 256);
  // Step 2 updates fc3 alone: its dW reads r2's output (96 B) and the loss keeps 32 B;
  // r1's output has no reader left (no r1.bwd, no fc2.dw) and is freed in the forward.
  const auto top = workload_json(spec(s, "s2", step(2)));
  CHECK(top["saved_after_forward_bytes"] == 128);
  CHECK_FALSE(has_op(top, "fc2.dx"));  // nothing below fc3 needs a gradient
  CHECK(op_of(top, "fc3.dw")["macs"] == 96);
  // Step 3 wraps to blocks[0] = fc1..r1: the whole chain of dX runs above it (fc3.dx,
  // fc2.dx = 2·16·12 = 384 MACs), every ReLU output is kept, only fc1 updates.
  const auto wrap = workload_json(spec(s, "s3", step(3)));
  CHECK(wrap["figures"]["block_update_block"] == 0);
  CHECK(op_of(wrap, "fc2.dx")["macs"] == 384);
  CHECK_FALSE(has_op(wrap, "fc2.dw"));
  CHECK(op_of(wrap, "fc1.dw")["macs"] == 256);
  CHECK(wrap["saved_after_forward_bytes"] == 256);
}

TEST_CASE("block_update: priced on the systolic array and the mesh, the key set from a config", "[cli][block_update]") {
  Scratch s("bcd_run");
  const std::string bp = spec(s, "bp", "{}");
  for (const char* arch : {"systolic_32x32_int8.yaml", "mesh_8x8.yaml"}) {
    const std::string accel = std::string(arch).rfind("systolic", 0) == 0 ? "accelerator: {dtype: workload}\n" : "";
    const std::string cfg = s.file(std::string("c_") + arch, preset_includes(arch) + accel + "workload: {spec: " + bp +
                                                                 ", training: " + step(2) + "}\n");
    const CliResult r = run_bpsim("run " + cfg + " -q --out " + (s / (std::string("o_") + arch)));
    INFO(r.err);
    REQUIRE(r.code == 0);
    const auto rep = nlohmann::json::parse(slurp(s / (std::string("o_") + arch) + "/report.json"));
    // fc3's dW alone in the backward_weight phase: 96 MACs.
    CHECK(rep["phases"]["backward_weight"]["macs"] == 96);
    CHECK(rep["memory"]["figures"]["block_update_block"] == 2);
  }
}

TEST_CASE("block_update: an unknown block or a reversed range is refused with the key", "[cli][block_update]") {
  Scratch s("bcd_bad");
  const CliResult u = run_bpsim("workload " + spec(s, "u", "{block_update: {blocks: [fc9]}}"));
  CHECK(u.code == 2);
  CHECK_THAT(u.err, Contains("training.block_update.blocks[0]") && Contains("fc9"));
  const CliResult v = run_bpsim("workload " + spec(s, "v", "{block_update: {blocks: [fc1, fc3..fc2], step: 1}}"));
  CHECK(v.code == 2);
  CHECK_THAT(v.err, Contains("training.block_update.blocks[1]") && Contains("ends before it starts"));
}

TEST_CASE("block_update: on the in-DRAM array a frozen binary layer's weight signs stay in DRAM",
          "[cli][block_update][pim]") {
  Scratch s("bcd_pim");
  const std::string bin = s.file("bin.yaml",
                                 "name: b\ndtype: fp32\nbatch: 8\ninput: { shape: [64] }\noptimizer: sgd\ntraining: "
                                 "{block_update: {blocks: [fc1..bn1, fc2], step: 1}}\nlayers:\n"
                                 "  - { kind: binary_linear, name: fc1, out_features: 64 }\n"
                                 "  - { kind: batchnorm, name: bn1 }\n"
                                 "  - { kind: binary_linear, name: fc2, out_features: 16 }\n");
  const std::string cfg = s.file("p.yaml", preset_includes("pim_ddr4.yaml") + "workload: {spec: " + bin + "}\n");
  const CliResult r = run_bpsim("run " + cfg + " -q --out " + (s / "o"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto rep = nlohmann::json::parse(slurp(s / "o/report.json"));
  // fc1 is frozen (no update this step): its signs were written into its weight row by the
  // SGD update of its last turn, so binarising it costs nothing, as for an updated layer.
  CHECK(op_of(rep, "fc1.wsign")["cycles"] == 0);
  CHECK(op_of(rep, "fc1.wsign")["dram_read_bytes"] == 0);
  // fc2 alone: dW = 64·16·8 = 8192 MACs; fc1 runs no backward.
  CHECK(rep["phases"]["backward_weight"]["macs"] == 8192);
}
