// Training memory per cluster on the mesh, from the user's side: a spec through `bpsim run`,
// the per-cluster account in network.cluster_memory, DRAM spill traffic per op and in total,
// the W^T refresh, and the refusal when a layer's working set does not fit.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/cli/report_json.h"

using namespace bpsim::test;
using Catch::Contains;

namespace {

/// B samples of 64 features → linear(32) → ReLU → linear(16), fp32, Adam. Every layer fits
/// one 256-element cluster.
std::string mlp_spec(const Scratch& s, int batch) {
  return s.file("mlp" + std::to_string(batch) + ".yaml",
                "name: small_mlp\nbatch: " + std::to_string(batch) +
                    "\ninput: { shape: [64] }\noptimizer: adam\nlayers:\n  - { kind: linear, out_features: 32 }\n"
                    "  - { kind: relu }\n  - { kind: linear, out_features: 16 }\n");
}

std::string config(const Scratch& s, const std::string& name, const std::string& workload, const std::string& accel) {
  return s.file(name + ".yaml",
                preset_includes("mesh_8x8.yaml") + "accelerator: " + accel + "\nworkload: " + workload + "\n");
}

nlohmann::json run_report(const Scratch& s, const std::string& cfg, const std::string& out) {
  CliResult r = run_bpsim("run " + cfg + " -q --out " + (s / out));
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(slurp(s / out + "/report.json"));
}

nlohmann::json layer_of(const nlohmann::json& rep, const std::string& name) {
  for (const auto& l : rep["network"]["cluster_memory"]["layers"])
    if (l["layer"] == name) return l;
  FAIL("no layer " << name);
  return {};
}

}  // namespace

TEST_CASE("mesh memory: everything fits, the per-cluster bytes are a hand sum and no DRAM is used",
          "[cli][mesh][mesh_memory]") {
  Scratch s("mm_fits");
  const auto rep =
      run_report(s, config(s, "fits", "{spec: " + mlp_spec(s, 2) + "}", "{cluster: {sram_kib: 512}}"), "o");
  // linear0 (64 → 32), one cluster: W = 32 · 64 · 4 B = 8192; dW 8192; Adam's two fp32
  // states 2 · 8192 = 16384; stored X = 2 samples · 64 · 4 B = 512; W^T of linear2 (its
  // 32 inputs live here) = 32 · 16 · 4 B = 2048. Sum: 35,328 B.
  const auto l0 = layer_of(rep, "linear0")["largest_cluster"];
  CHECK(l0["weights"] == 8192);
  CHECK(l0["weight_gradients"] == 8192);
  CHECK(l0["optimizer_state"] == 16384);
  CHECK(l0["saved_inputs"] == 512);
  CHECK(l0["backward_weights"] == 2048);
  CHECK(l0["total"] == 35328);
  // linear2 (32 → 16): W 2048 + dW 2048 + Adam 4096 + X 2 · 32 · 4 = 256; nothing comes back
  // into it. Sum: 8448 B.
  CHECK(layer_of(rep, "linear2")["largest_cluster"]["total"] == 8448);
  CHECK(rep["network"]["cluster_memory"]["spilled_bytes"] == 0);
  CHECK(rep["totals"]["dram_read_bytes"] == 0);
  CHECK(rep["totals"]["dram_write_bytes"] == 0);
  // No DRAM in use: no DRAM background leakage either.
  CHECK(!rep["energy_breakdown_pj"].contains("dram.leakage"));
}

TEST_CASE("mesh memory: stored activations that do not fit go to DRAM, written in forward and read in backward",
          "[cli][mesh][mesh_memory]") {
  Scratch s("mm_spill");
  // Batch 64: linear0's stored X is 64 · 64 · 4 B = 16,384 B, its cluster 8192 + 8192 +
  // 16384 + 16384 + 2048 = 51,200 B. In 40 KiB (40,960 B) 10,240 B must go, all of them
  // stored inputs (spilled first). linear2 (2048 + 2048 + 4096 + 64 · 32 · 4 = 8192: 16,384 B) fits.
  const std::string spec = mlp_spec(s, 64);
  const auto rep = run_report(s, config(s, "spill", "{spec: " + spec + "}", "{cluster: {sram_kib: 40}}"), "o");
  const auto l0 = layer_of(rep, "linear0");
  CHECK(l0["largest_cluster"]["total"] == 51200);
  CHECK(l0["spilled"]["saved_inputs"] == 10240);
  CHECK(l0["spilled"]["total"] == 10240);
  CHECK(layer_of(rep, "linear2")["spilled"]["total"] == 0);
  // DRAM bytes = spilled × 2: written when the input arrives (linear0.fwd: the network
  // input has no other writer), read by the weight gradient.
  CHECK(rep["totals"]["dram_write_bytes"] == 10240);
  CHECK(rep["totals"]["dram_read_bytes"] == 10240);
  CHECK(op_of(rep, "linear0.fwd")["dram_write_bytes"] == 10240);
  CHECK(op_of(rep, "linear0.dw")["dram_read_bytes"] == 10240);
  // The transfers do not overlap compute: the op waits for them.
  CHECK(op_of(rep, "linear0.dw")["extra"]["spill_stall_cycles"] > 0);
  CHECK(rep["stats"]["mesh"]["cluster"]["spill_stall_cycles"] ==
        op_of(rep, "linear0.fwd")["extra"]["spill_stall_cycles"].get<uint64_t>() +
            op_of(rep, "linear0.dw")["extra"]["spill_stall_cycles"].get<uint64_t>());
  CHECK(rep["energy_breakdown_pj"].contains("dram.leakage"));
  // Their commands: 10,240 B in 64 B bursts (DDR4 x64, BL8) = 160 reads and 160 writes,
  // priced in the breakdown.
  CHECK(rep["stats"]["memory"]["rd_count"] == 160);
  CHECK(rep["stats"]["memory"]["wr_count"] == 160);
  CHECK(rep["energy_breakdown_pj"]["dram.rd_burst"].get<double>() > 0);
  CHECK(rep["energy_breakdown_pj"]["dram.wr_burst"].get<double>() > 0);
  // With 64 KiB everything fits again: the same step without DRAM, and fewer cycles.
  const auto fits = run_report(s, config(s, "fits", "{spec: " + spec + "}", "{cluster: {sram_kib: 64}}"), "f");
  CHECK(fits["totals"]["dram_read_bytes"] == 0);
  CHECK(fits["totals"]["cycles"] < rep["totals"]["cycles"]);
}

TEST_CASE("mesh memory: checkpointing moves the stored input's DRAM write to the recompute, not its size",
          "[cli][mesh][mesh_memory]") {
  Scratch s("mm_ckpt");
  // linear2's X (the ReLU's output, 64 · 32 · 4 = 8192 B) is recomputed under full
  // recomputation. Its cluster still holds it when its dW runs: on a mesh each layer has
  // its own SRAM, so the peak per cluster is at the layer's backward whatever the policy.
  // 8 KiB clusters: linear2 holds 2048 + 2048 + 4096 + 8192 = 16,384 B, 8192 B over: its
  // whole stored input. (linear0's W + dW = 16 KiB does not fit 8 KiB: use 5 features.)
  const std::string spec = s.file("m.yaml",
                                  "name: m\nbatch: 64\ninput: { shape: [5] }\noptimizer: adam\nlayers:\n"
                                  "  - { kind: linear, out_features: 32 }\n  - { kind: relu }\n"
                                  "  - { kind: linear, out_features: 16 }\n");
  const auto none =
      run_report(s, config(s, "none", "{spec: " + spec + ", policy: {kind: none}}", "{cluster: {sram_kib: 8}}"), "n");
  const auto ckpt = run_report(
      s, config(s, "ckpt", "{spec: " + spec + ", policy: {kind: full_recompute}}", "{cluster: {sram_kib: 8}}"), "c");
  CHECK(layer_of(none, "linear2")["spilled"]["saved_inputs"] == 8192);
  CHECK(layer_of(ckpt, "linear2")["spilled"]["saved_inputs"] == 8192);
  CHECK(op_of(none, "relu1.fwd")["dram_write_bytes"] == 8192);
  CHECK(op_of(ckpt, "relu1.fwd")["dram_write_bytes"] == 0);
  CHECK(op_of(ckpt, "relu1.recompute")["dram_write_bytes"] == 8192);
  CHECK(op_of(ckpt, "linear2.dw")["dram_read_bytes"] == 8192);
}

TEST_CASE("mesh memory: feedback alignment keeps B at the clusters but sends no W^T refresh",
          "[cli][mesh][mesh_memory][feedback]") {
  Scratch s("mm_fa");
  const std::string spec = mlp_spec(s, 2);
  // The mesh follows the workload's learning rule (training.feedback): no key of its own.
  const auto tr = run_report(s, config(s, "tr", "{spec: " + spec + "}", "{}"), "t");
  const auto fa = run_report(s, config(s, "fa", "{spec: " + spec + ", training: {feedback: {kind: fa}}}", "{}"), "f");
  const auto rg = run_report(
      s, config(s, "rg", "{spec: " + spec + ", training: {feedback: {kind: fa, storage: regenerated}}}", "{}"), "r");
  CHECK(tr["network"]["cluster_memory"]["backward_weights"] == "transport");
  CHECK(fa["network"]["cluster_memory"]["backward_weights"] == "feedback_alignment");
  // Both hold a 32 × 16 matrix at linear0's cluster (2048 B): W^T or the fixed B; a B drawn
  // from its seed at the dX is not stored.
  CHECK(layer_of(tr, "linear0")["largest_cluster"]["backward_weights"] == 2048);
  CHECK(layer_of(fa, "linear0")["largest_cluster"]["backward_weights"] == 2048);
  CHECK(layer_of(rg, "linear0")["largest_cluster"]["backward_weights"] == 0);
  CHECK(layer_of(rg, "linear0")["refresh_bytes"] == 0);
  // Transport rewrites it after linear2's update: 2048 B in messages of 256 B of weights
  // plus an 8 B header, 16 B flits: 8 messages of ⌈264 / 16⌉ = 17 flits.
  CHECK(layer_of(tr, "linear0")["refresh_bytes"] == 2048);
  CHECK(layer_of(fa, "linear0")["refresh_bytes"] == 0);
  CHECK(op_of(tr, "linear2.weight.update")["extra"]["refresh_bytes"] == 2048);
  CHECK(tr["stats"]["mesh"]["cluster"]["refresh_bytes"] == 2048);
  CHECK(fa["stats"]["mesh"]["cluster"]["refresh_bytes"] == 0);
  CHECK(!op_of(fa, "linear2.weight.update")["extra"].contains("refresh_bytes"));
  CHECK(tr["network"]["packets"].get<uint64_t>() - fa["network"]["packets"].get<uint64_t>() == 8);
  CHECK(tr["stats"]["mesh"]["noc"]["injected_flits"].get<uint64_t>() -
            fa["stats"]["mesh"]["noc"]["injected_flits"].get<uint64_t>() ==
        8 * 17);
}

TEST_CASE("mesh memory: a cluster that cannot hold a layer's weights and gradients is refused with the need",
          "[cli][mesh][mesh_memory]") {
  Scratch s("mm_refuse");
  // linear0's working set: W + dW = 2 · 32 · 64 · 4 B = 16,384 B; 8 KiB holds 8192. The
  // rest could spill, these cannot: every message and every dW MAC touches them.
  CliResult r = run_bpsim("run " + config(s, "small", "{spec: " + mlp_spec(s, 2) + "}", "{cluster: {sram_kib: 8}}") +
                          " -q --out " + (s / "o"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("accelerator.cluster.sram_kib") && Contains("largest need is 16384 bytes") &&
                        Contains("layer 'linear0'") && Contains("it holds 8192"));
}
