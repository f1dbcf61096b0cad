// Feedback alignment (training: feedback:) from the user's side: a spec through `bpsim
// workload` and `bpsim run`, the dX GEMMs and the B matrices derived by hand on a small MLP,
// the same graph priced on the systolic array and the mesh, and the refusals (DFA on the
// mesh and through a residual, a non-sign B on the in-DRAM array, the mesh's removed key).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/cli/report_json.h"
#include "tests/cli/training_harness.h"

using namespace bpsim::test;
using Catch::Contains;

namespace {

/// Batch 2, 8 inputs → fc1(16) → ReLU → fc2(12) → ReLU → fc3(4), fp32, SGD, with the given
/// `training:` map.
std::string spec(const Scratch& s, const std::string& name, const std::string& training) {
  return tiny_mlp_spec(s, name, "sgd", training);
}

std::string tensor_name(const nlohmann::json& w, uint64_t id) { return w["tensors"][id]["name"]; }

uint64_t tensor_bytes(const nlohmann::json& w, const std::string& name) {
  for (const auto& t : w["tensors"])
    if (t["name"] == name) return t["bytes"];
  FAIL("no tensor " << name);
  return 0;
}

std::string systolic_config(const Scratch& s, const std::string& name, const std::string& workload) {
  return s.file(name + ".cfg.yaml", preset_includes("systolic_32x32_int8.yaml") +
                                        "accelerator: {dtype: workload}\nworkload: " + workload + "\n");
}

nlohmann::json run_report(const Scratch& s, const std::string& cfg, const std::string& out) {
  const CliResult r = run_bpsim("run " + cfg + " -q --out " + (s / out));
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(slurp(s / out + "/report.json"));
}

}  // namespace

TEST_CASE("feedback: FA reads B of W^T's shape in every dX, the MACs stay, no dX for the input layer",
          "[cli][feedback]") {
  Scratch s("fb_fa");
  const auto bp = workload_json(spec(s, "bp", "{}"));
  const auto fa = workload_json(spec(s, "fa", "{feedback: {kind: fa}}"));
  // dX = dY·B with B [out × in] as W^T: fc3.dx 2·12·4 = 96 MACs, fc2.dx 2·16·12 = 384, as
  // backprop's; fc1 takes the network input and computes no dX, so it has no B.
  CHECK(op_of(fa, "fc3.dx")["macs"] == 96);
  CHECK(op_of(fa, "fc2.dx")["macs"] == 384);
  CHECK(op_of(bp, "fc2.dx")["macs"] == 384);
  CHECK(tensor_name(fa, op_of(fa, "fc2.dx")["reads"][1]) == "fc2.feedback");
  CHECK(tensor_name(bp, op_of(bp, "fc2.dx")["reads"][1]) == "fc2.weight");
  CHECK(tensor_name(fa, op_of(fa, "fc2.dx")["reads"][0]) == "r2.dx");  // still the chain: dY of fc2
  // B stored beside W in fp32: 12·4·4 + 16·12·4 = 192 + 768 = 960 B; two matrices.
  CHECK(tensor_bytes(fa, "fc3.feedback") == 192);
  CHECK(tensor_bytes(fa, "fc2.feedback") == 768);
  CHECK(fa["figures"]["feedback_matrices"] == 2);
  CHECK(fa["figures"]["feedback_matrix_bytes"] == 960);
  CHECK(fa["figures"]["feedback_seed_bytes"] == 0);
  // The backward chain is backprop's: loss.bwd → fc3.dx → r2.bwd → fc2.dx → r1.bwd → fc1.dw.
  CHECK(fa["figures"]["backward_depth"] == 6);
  // B is persistent like W (not in the step's peak); the activations kept are backprop's.
  CHECK(fa["peak_bytes"] == bp["peak_bytes"]);
  CHECK(fa["saved_after_forward_bytes"] == bp["saved_after_forward_bytes"]);
  // int8 B: a quarter of the bytes.
  const auto q = workload_json(spec(s, "q", "{feedback: {kind: fa, dtype: int8}}"));
  CHECK(q["figures"]["feedback_matrix_bytes"] == 240);
}

TEST_CASE("feedback: DFA sends the output error to every layer through B [outputs × the layer's inputs]",
          "[cli][feedback]") {
  Scratch s("fb_dfa");
  const auto d = workload_json(spec(s, "dfa", "{feedback: {kind: dfa}}"));
  // e = loss.grad [2 × 4]. fc2.dx = e·B2, B2 [4 × 16]: 2·16·4 = 128 MACs (backprop's
  // dY·W^T: 384); fc3.dx = e·B3, B3 [4 × 12]: 96, as FA's.
  CHECK(op_of(d, "fc2.dx")["macs"] == 128);
  CHECK(op_of(d, "fc2.dx")["gemm"]["k"] == 4);
  CHECK(op_of(d, "fc3.dx")["macs"] == 96);
  CHECK(tensor_name(d, op_of(d, "fc2.dx")["reads"][0]) == "loss.grad");
  CHECK(tensor_name(d, op_of(d, "fc3.dx")["reads"][0]) == "loss.grad");
  CHECK(op_of(d, "fc2.dx")["gemm"]["m"] == 2);
  CHECK(op_of(d, "fc2.dx")["gemm"]["n"] == 16);
  // B bytes: (4·12 + 4·16)·4 = 448.
  CHECK(d["figures"]["feedback_matrix_bytes"] == 448);
  // No dX reads another's result: the longest chain is loss.bwd → fc2.dx → r1.bwd → fc1.dw.
  CHECK(d["figures"]["backward_depth"] == 4);
}

TEST_CASE("feedback: a regenerated B is drawn before its dX, 7 operations per element, 8 B of seed per layer",
          "[cli][feedback]") {
  Scratch s("fb_regen");
  const auto r = workload_json(spec(s, "rg", "{feedback: {kind: fa, storage: regenerated}}"));
  // fc3's B has 12·4 = 48 elements (336 operations), fc2's 16·12 = 192 (1344): 1680 in all.
  CHECK(op_of(r, "fc3.feedback_gen")["flops"] == 336);
  CHECK(op_of(r, "fc2.feedback_gen")["flops"] == 1344);
  CHECK(r["figures"]["feedback_generate_ops"] == 1680);
  CHECK(r["figures"]["feedback_seed_bytes"] == 16);
  CHECK(r["figures"]["feedback_matrix_bytes"] == 0);
  // A regenerated B is a workspace, alive from its generator to its dX (the liveness walk
  // counts it); a stored B is persistent like W.
  CHECK(r["tensors"][op_of(r, "fc2.dx")["reads"][1].get<uint64_t>()]["role"] == "workspace");
  const auto fa = workload_json(spec(s, "fa", "{feedback: {kind: fa}}"));
  CHECK(fa["tensors"][op_of(fa, "fc2.dx")["reads"][1].get<uint64_t>()]["role"] == "weight");
}

TEST_CASE("feedback: priced on the systolic array and the mesh, DFA refused on the mesh", "[cli][feedback]") {
  Scratch s("fb_run");
  const std::string bp = spec(s, "bp", "{}");
  // A config's workload.training overrides the spec's.
  const auto base = run_report(s, systolic_config(s, "sb", "{spec: " + bp + "}"), "sb");
  const auto dfa =
      run_report(s, systolic_config(s, "sd", "{spec: " + bp + ", training: {feedback: {kind: dfa}}}"), "sd");
  CHECK(op_of(dfa, "fc2.dx")["macs"] == 128);
  CHECK(op_of(base, "fc2.dx")["macs"] == 384);
  CHECK(dfa["memory"]["figures"]["backward_depth"] == 4);
  // --set reaches the key too.
  const CliResult set = run_bpsim("run " + systolic_config(s, "ss", "{spec: " + bp + "}") + " -q --out " + (s / "ss") +
                                  " --set workload.training.feedback.kind=fa");
  CHECK(set.code == 0);
  const std::string mesh_cfg = s.file("mesh.yaml", preset_includes("mesh_8x8.yaml") + "workload: {spec: " + bp +
                                                       ", training: {feedback: {kind: dfa}}}\n");
  const CliResult m = run_bpsim("run " + mesh_cfg + " -q --out " + (s / "m"));
  CHECK(m.code == 2);
  CHECK_THAT(m.err, Contains("workload.training.feedback.kind: dfa") && Contains("fc3"));
}

TEST_CASE("feedback: refusals name the key and the layer", "[cli][feedback]") {
  Scratch s("fb_refuse");
  // DFA through a residual merge: no rule for the skip path.
  const std::string res =
      s.file("res.yaml",
             "name: r\nbatch: 2\ninput: { shape: [8] }\ntraining: {feedback: {kind: dfa}}\nlayers:\n"
             "  - { kind: linear, name: fc1, out_features: 8 }\n"
             "  - { kind: residual, name: blk, layers: [ { kind: linear, out_features: 8 }, { kind: relu } ] }\n"
             "  - { kind: linear, name: out, out_features: 4 }\n");
  const CliResult r = run_bpsim("workload " + res);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("training.feedback.kind: dfa") && Contains("merges two branches"));
  // FA through the same network is defined (B per weight layer, the merge passes dY on).
  CHECK(run_bpsim("workload " + s.file("res_fa.yaml", slurp(res).replace(slurp(res).find("dfa"), 3, "fa"))).code == 0);
  // An unknown kind.
  const CliResult k = run_bpsim("workload " + spec(s, "k", "{feedback: {kind: dfaa}}"));
  CHECK(k.code == 2);
  CHECK_THAT(k.err, Contains("training.feedback.kind"));
  // The mesh's own key is gone: the learning rule is the workload's.
  const std::string cfg =
      s.file("m.yaml",
             preset_includes("mesh_8x8.yaml") +
                 "accelerator: {backward_weights: feedback_alignment}\nworkload: {spec: " + spec(s, "m", "{}") + "}\n");
  const CliResult m = run_bpsim("validate " + cfg);
  CHECK(m.code == 2);
  CHECK_THAT(m.err, Contains("backward_weights"));
}

TEST_CASE("feedback: a binary layer's B is signs on the in-DRAM array, a real-valued B is refused there",
          "[cli][feedback][pim]") {
  Scratch s("fb_pim");
  const std::string bin = s.file("bin.yaml",
                                 "name: b\ndtype: fp32\nbatch: 8\ninput: { shape: [64] }\noptimizer: sgd\nlayers:\n"
                                 "  - { kind: binary_linear, name: fc1, out_features: 64 }\n"
                                 "  - { kind: batchnorm, name: bn1 }\n"
                                 "  - { kind: binary_linear, name: fc2, out_features: 16 }\n");
  const auto w = workload_json(s.file("binfa.yaml", slurp(bin) + "training: {feedback: {kind: fa}}\n"));
  CHECK(tensor_bytes(w, "fc2.feedback") == 64 * 16 / 8);  // signs, packed 8 per byte
  const auto cfg = [&](const std::string& name, const std::string& training) {
    return s.file(name + ".cfg.yaml",
                  preset_includes("pim_ddr4.yaml") + "workload: {spec: " + bin + ", training: " + training + "}\n");
  };
  const auto rep = run_report(s, cfg("p", "{feedback: {kind: fa}}"), "p");
  CHECK(op_of(rep, "fc2.dx")["macs"] == 8 * 64 * 16);
  const CliResult r = run_bpsim("run " + cfg("q", "{feedback: {kind: fa, dtype: fp32}}") + " -q --out " + (s / "q"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("workload.training.feedback.dtype") && Contains("fc2"));
}
