// Early exit, confidence-based partial update and distillation with a clustered student
// (docs/techniques.md), through specs and `bpsim run` on the systolic array and the mesh,
// each number derived by hand on one small network.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/cli/report_json.h"

using namespace bpsim::test;
using Catch::Contains;

namespace {

/// batch 8, input 16: fc1 (16→32), relu r1, fc2 (32→32), relu r2, fc3 (32→4), cross-entropy.
/// Forward MACs per sample: fc1 512, fc2 1024, fc3 128.
std::string small_spec(const Scratch& s, const std::string& training = "") {
  return s.file("small.yaml",
                "name: small\nbatch: 8\ninput: { shape: [16] }\nloss: cross_entropy\nlayers:\n"
                "  - { kind: linear, name: fc1, out_features: 32 }\n  - { kind: relu, name: r1 }\n"
                "  - { kind: linear, name: fc2, out_features: 32 }\n  - { kind: relu, name: r2 }\n"
                "  - { kind: linear, name: fc3, out_features: 4 }\n" +
                    training);
}

/// A config on `arch` (a preset of configs/arch/); the systolic array computes in the spec's dtype.
std::string config(const Scratch& s, const std::string& arch, const std::string& workload) {
  const std::string dir = std::string(BPSIM_SOURCE_DIR) + "/configs/";
  const bool systolic = arch.find("systolic") != std::string::npos;
  return s.file("cfg_" + arch, "include: [" + dir + "arch/" + arch + ", " + dir + "memory/ddr4_2400.yaml, " + dir +
                                   "energy/45nm.yaml" + (systolic ? ", " + dir + "energy/45nm/systolic.yaml" : "") +
                                   "]\n" + (systolic ? "accelerator: {dtype: workload}\n" : "") +
                                   "workload: " + workload + "\nrun: {seed: 1}\n");
}

/// `bpsim workload SPEC --json`: the op graph with each op's elements and FLOPs.
nlohmann::json graph_of(const std::string& spec) {
  const CliResult r = run_bpsim("workload " + spec + " --json");
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(r.out);
}

nlohmann::json run_ok(const Scratch& s, const std::string& cfg, const std::string& out, const std::string& extra = "") {
  const CliResult r = run_bpsim("run " + cfg + " -q --force --out " + (s / out) + " " + extra);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(slurp(s / out + "/report.json"));
}

double figure(const nlohmann::json& rep, const std::string& name) { return rep["memory"]["figures"][name]; }

}  // namespace

TEST_CASE("early exit: heads priced, later layers run for the samples that stay, by hand", "[cli][training][exit]") {
  Scratch s("exit_hand");
  const std::string spec = small_spec(s, "training:\n  early_exit: { after: [r1], fraction: [0.25] }\n");
  for (const char* arch : {"systolic_32x32_int8.yaml", "mesh_8x8.yaml"}) {
    INFO(arch);
    const auto rep = run_ok(s, config(s, arch, "{spec: " + spec + "}"), std::string("o_") + arch);
    // 0.25 of 8 samples = 2 leave after r1; 6 stay for fc2 and fc3.
    CHECK(figure(rep, "exit0_samples") == 2);
    CHECK(figure(rep, "exit_final_samples") == 6);
    CHECK(op_of(rep, "fc1.fwd")["macs"] == 8 * 512);
    CHECK(op_of(rep, "fc2.fwd")["macs"] == 6 * 1024);
    CHECK(op_of(rep, "fc3.fwd")["macs"] == 6 * 128);
    CHECK(op_of(rep, "fc2.dx")["macs"] == 6 * 1024);
    CHECK(op_of(rep, "fc2.dw")["macs"] == 6 * 1024);
    // fc1's weight gradient: all 8 samples (the head's gradient reaches every one).
    CHECK(op_of(rep, "fc1.dw")["macs"] == 8 * 512);
    // The head: linear 32→4 on the 8 samples reaching it, forward, dX and dW: 3·8·128.
    CHECK(op_of(rep, "exit0.fc.fwd")["macs"] == 8 * 128);
    CHECK(op_of(rep, "exit0.fc.dx")["macs"] == 8 * 128);
    CHECK(op_of(rep, "exit0.fc.dw")["macs"] == 8 * 128);
    CHECK(figure(rep, "exit_head_macs") == 3 * 8 * 128);
    // Trunk MACs removed: 2 samples × (fc2 + fc3) × (forward, dX, dW) = 2·1152·3.
    CHECK(figure(rep, "exit_trunk_macs_saved") == 2 * 1152 * 3);
    // The head's input gradient joins the trunk's: one add over 8 samples × 32 features,
    // 6·32 of them sums (the 2 leaving samples' rows are the head's gradient alone).
    const auto graph = graph_of(spec);
    CHECK(op_of(graph, "exit0.grad_add")["flops"] == 6 * 32);
    // And the head's weights are updated.
    CHECK(op_of(rep, "exit0.fc.weight.update")["phase"] == "update");
  }
}

TEST_CASE("early exit: off, the step is plain backprop, drawn exits add up to the batch", "[cli][training][exit]") {
  Scratch s("exit_off");
  const std::string cfg = config(s, "systolic_32x32_int8.yaml", "{spec: " + small_spec(s) + "}");
  const auto plain = run_ok(s, cfg, "plain");
  CHECK(op_of(plain, "fc2.fwd")["macs"] == 8 * 1024);
  CHECK_FALSE(plain["memory"]["figures"].contains("exit_heads"));
  const auto drawn = run_ok(s, cfg, "drawn", "--set 'workload.training.early_exit.after=[r1, r2]'");
  const double left = figure(drawn, "exit0_samples") + figure(drawn, "exit1_samples");
  CHECK(left + figure(drawn, "exit_final_samples") == 8);
  CHECK(op_of(drawn, "fc3.fwd")["macs"] == figure(drawn, "exit_final_samples") * 128);
  // Same seed, same draw.
  CHECK(run_ok(s, cfg, "drawn2", "--set 'workload.training.early_exit.after=[r1, r2]'")["memory"] == drawn["memory"]);
}

TEST_CASE("early exit: what it cannot take is refused with the key", "[cli][training][exit]") {
  Scratch s("exit_bad");
  const std::string cfg = config(s, "systolic_32x32_int8.yaml", "{spec: " + small_spec(s) + "}");
  auto refused = [&](const std::string& set, const std::string& msg) {
    const CliResult r = run_bpsim("run " + cfg + " -q --force --out " + (s / "o") + " " + set);
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains(msg));
  };
  refused("--set 'workload.training.early_exit.after=[nope]'", "training.early_exit.after: no top-level layer");
  refused("--set 'workload.training.early_exit.after=[fc3]'", "ends the network");
  refused("--set 'workload.training.early_exit.after=[r2, r1]'", "forward order");
  refused("--set 'workload.training.early_exit.after=[r1]' --set 'workload.training.early_exit.fraction=[1]'",
          "training.early_exit.fraction: the shares leave no sample");
  refused("--set 'workload.training.early_exit.after=[r1]' --set 'workload.training.early_exit.fraction=[0.1, 0.2]'",
          "one share per exit");
}

TEST_CASE("confidence_skip partial: confident samples still train the last layers, by hand",
          "[cli][training][partial]") {
  Scratch s("partial_hand");
  for (const char* arch : {"systolic_32x32_int8.yaml"}) {
    INFO(arch);
    const std::string pol = "{kind: confidence_skip, allowable_error: 0.5, mode: partial, partial_layers: ";
    const auto one = run_ok(s, config(s, arch, "{spec: " + small_spec(s) + ", policy: " + pol + "1}}"), "one");
    const double k = figure(one, "skipped_samples");  // from the seeded draw
    REQUIRE(k > 0);
    REQUIRE(k < 8);
    const auto kept = uint64_t(8 - k);
    // partial_layers 1: fc3's dW runs for all 8 samples, its dX and everything below for the kept.
    CHECK(op_of(one, "fc3.dw")["macs"] == 8 * 128);
    CHECK(op_of(one, "fc3.dx")["macs"] == kept * 128);
    CHECK(op_of(one, "fc2.dw")["macs"] == kept * 1024);
    CHECK(op_of(one, "fc1.dw")["macs"] == kept * 512);
    // Saved: k/8 of fc3.dx (1024) + fc2.dx (8192) + fc2.dw (8192) + fc1.dw (4096) = k·2688.
    CHECK(figure(one, "backward_macs_saved") == k * 2688);
    CHECK(one["memory"]["policy"] == "confidence_skip(0.5, partial 1)");
    // partial_layers 2: fc2's dW and all of fc3 run for all; fc2.dx and fc1.dw for the kept:
    // k/8·(8192 + 4096) = k·1536.
    const auto two = run_ok(s, config(s, arch, "{spec: " + small_spec(s) + ", policy: " + pol + "2}}"), "two");
    CHECK(figure(two, "skipped_samples") == k);  // the same draw
    CHECK(op_of(two, "fc2.dw")["macs"] == 8 * 1024);
    CHECK(op_of(two, "fc3.dx")["macs"] == 8 * 128);
    CHECK(op_of(two, "fc2.dx")["macs"] == kept * 1024);
    CHECK(figure(two, "backward_macs_saved") == k * 1536);
    // skip mode removes every backward MAC of those samples: k/8·(1024·2 + 8192·2 + 4096) = k·2816.
    const auto skip = run_ok(
        s, config(s, arch, "{spec: " + small_spec(s) + ", policy: {kind: confidence_skip, allowable_error: 0.5}}"),
        "skip");
    CHECK(figure(skip, "backward_macs_saved") == k * 2816);
  }
}

TEST_CASE("confidence_skip partial: bad combinations are refused with the key", "[cli][training][partial]") {
  Scratch s("partial_bad");
  auto refused = [&](const std::string& pol, const std::string& msg) {
    const std::string cfg = config(s, "systolic_32x32_int8.yaml", "{spec: " + small_spec(s) + ", policy: " + pol + "}");
    const CliResult r = run_bpsim("run " + cfg + " -q --force --out " + (s / "o"));
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains(msg));
  };
  refused("{kind: confidence_skip, mode: partial}", "workload.policy.partial_layers: mode partial: give how many");
  refused("{kind: confidence_skip, partial_layers: 2}", "workload.policy.partial_layers: applies to mode: partial");
  refused("{kind: confidence_skip, mode: partial, partial_layers: 4}", "the network 'small' has 3");
  // The mesh sends a layer's backward messages for every sample its forward mapped: a dX for
  // fewer samples is refused there (skip and partial alike), not priced as the full one.
  const std::string mesh = config(s, "mesh_8x8.yaml",
                                  "{spec: " + small_spec(s) +
                                      ", policy: {kind: confidence_skip, allowable_error: 0.5, mode: partial, "
                                      "partial_layers: 1}}");
  const CliResult r = run_bpsim("run " + mesh + " -q --force --out " + (s / "m"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("op 'fc2.dx' runs for fewer samples than its forward"));
}

TEST_CASE("distill: teacher forward, soft-target loss and clustered student weights, by hand",
          "[cli][training][distill]") {
  Scratch s("distill_hand");
  // Teacher: 16 → 64 → relu → 4, forward MACs per sample 16·64 + 64·4 = 1280.
  const std::string teacher = s.file("teacher.yaml",
                                     "name: teacher\nbatch: 1\ninput: { shape: [16] }\nlayers:\n"
                                     "  - { kind: linear, name: t1, out_features: 64 }\n  - { kind: relu }\n"
                                     "  - { kind: linear, name: t2, out_features: 4 }\n");
  const std::string spec =
      small_spec(s, "training:\n  distill: { teacher: teacher.yaml, temperature: 2, clusters: 16 }\n");
  const std::string cfg = config(s, "systolic_32x32_int8.yaml", "{spec: " + spec + "}");
  const auto rep = run_ok(s, cfg, "o");
  // The teacher runs at the student's batch, 8: 8·1280 MACs, forward only.
  CHECK(figure(rep, "distill_teacher_macs") == 8 * 1280);
  CHECK(op_of(rep, "teacher.t1.fwd")["macs"] == 8 * 16 * 64);
  for (const auto& o : rep["ops"])
    if (o["name"].get<std::string>().rfind("teacher.", 0) == 0) CHECK(o["phase"] == "forward");
  // Soft targets and the KL term over 8 × 4 logits; its gradient added into the loss's.
  const auto graph = graph_of(spec);
  // (`bpsim workload --json` lists FLOPs: softmax 5 per logit, the KL gradient 3.)
  CHECK(op_of(graph, "distill.teacher_soft")["flops"] == 5 * 32);
  CHECK(op_of(graph, "distill.kl_bwd")["flops"] == 3 * 32);
  CHECK(op_of(rep, "distill.grad_add")["phase"] == "backward_data");
  // 16 clusters: 4-bit indices. Dense fp32 weights 4·(512 + 1024 + 128) = 6656 bytes; stored
  // (512 + 1024 + 128)·4/8 = 832 bytes of indices + 3 codebooks of 16·4 bytes = 1024.
  CHECK(figure(rep, "distill_index_bits") == 4);
  CHECK(figure(rep, "distill_dense_weight_bytes") == 6656);
  CHECK(figure(rep, "distill_stored_weight_bytes") == 1024);
  // Decoded per GEMM reading the weights: fc1 forward 512 (no dX: its input is the network's),
  // fc2 forward and dX 2·1024, fc3 2·128 = 2816.
  CHECK(figure(rep, "distill_decoded_weights") == 2816);
  CHECK(op_of(graph, "fc2.weight.decode")["flops"] == 1024);  // one lookup per weight
  // The optimizer (sgd: 2 FLOPs a value) updates the 16 codebook entries, from the
  // per-cluster sums of dW.
  CHECK(op_of(graph, "fc2.weight.codebook.update")["flops"] == 2 * 16);
  CHECK(op_of(graph, "fc2.weight.cluster_grad")["flops"] == 1024);
  // The student's GEMMs are unchanged.
  CHECK(op_of(rep, "fc2.fwd")["macs"] == 8 * 1024);
  // The console names these figures as the policy's and the techniques' (memory.figures holds
  // both), not as the memory policy's alone: this step's policy is none.
  const CliResult c = run_bpsim("run " + cfg + " --out " + s / "console");
  REQUIRE(c.code == 0);
  CHECK_THAT(c.out, Catch::Contains("  policy and technique figures: ") && Catch::Contains("distill index bits 4"));
  CHECK_THAT(c.out, !Catch::Contains("  policy figures"));
}

TEST_CASE("distill: what it cannot take is refused with the key", "[cli][training][distill]") {
  Scratch s("distill_bad");
  const std::string wrong = s.file("wrong.yaml",
                                   "name: wrong\ninput: { shape: [16] }\nlayers:\n"
                                   "  - { kind: linear, out_features: 5 }\n");
  const std::string cfg = config(s, "systolic_32x32_int8.yaml", "{spec: " + small_spec(s) + "}");
  auto refused = [&](const std::string& c, const std::string& set, const std::string& msg) {
    const CliResult r = run_bpsim("run " + c + " -q --force --out " + (s / "o") + " " + set);
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains(msg));
  };
  refused(cfg, "--set workload.training.distill.teacher=" + wrong,
          "training.distill.teacher: the teacher 'wrong' gives outputs of shape [5]");
  refused(cfg, "--set workload.training.distill.teacher=" + (s / "missing.yaml"), "training.distill.teacher");
  refused(cfg, "--set workload.training.distill.teacher=" + wrong + " --set workload.loss=none",
          "needs its hard-label loss");
  // The mesh cannot join the teacher's and the student's outputs in the KL term.
  const std::string t4 =
      s.file("t4.yaml", "name: t4\ninput: { shape: [16] }\nlayers:\n  - { kind: linear, out_features: 4 }\n");
  refused(config(s, "mesh_8x8.yaml", "{spec: " + small_spec(s) + "}"), "--set workload.training.distill.teacher=" + t4,
          "op 'distill.kl' joins 2 branches");
}
