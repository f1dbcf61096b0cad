// Issue #24 items 7 and 11 from the user's side: the enkf learner, per-group mixed precision
// and the energy_optimal policy, each through a spec, a config and `bpsim run`, with figures
// derived by hand on a small network.
#include <catch2/catch.hpp>

#include <functional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/cli/report_json.h"

using namespace bpsim::test;
using Catch::Contains;

namespace {

const std::string kConfigs = std::string(BPSIM_SOURCE_DIR) + "/configs/";

std::string systolic_includes() {
  return "include: [" + kConfigs + "arch/systolic_32x32_int8.yaml, " + kConfigs + "memory/ddr4_2400.yaml, " + kConfigs +
         "energy/45nm.yaml, " + kConfigs + "energy/45nm/systolic.yaml]\naccelerator: {dtype: workload}\n";
}

/// Four samples of 8 features through fc1 (8 → 4, no bias) and fc2 (4 → 2, no bias).
std::string two_layer_spec(const Scratch& s, const std::string& dtype, const std::string& training = "") {
  const std::string tag = training.empty() ? "" : "_" + std::to_string(std::hash<std::string>{}(training));
  return s.file("net_" + dtype + tag + ".yaml",
                "name: two\nbatch: 4\ndtype: " + dtype + "\ninput: { shape: [8] }\noptimizer: sgd\n" + training +
                    "layers:\n  - { kind: linear, name: fc1, out_features: 4, bias: false "
                    "}\n  - { kind: linear, name: fc2, out_features: 2, bias: false }\n");
}

/// The systolic config of two_layer_spec in `dtype`.
std::string systolic_config(const Scratch& s, const std::string& dtype) {
  return s.file("sys_" + dtype + ".yaml", systolic_includes() + "workload: {spec: " + two_layer_spec(s, dtype) + "}\n");
}

/// The op named `name` of `spec`'s step as `bpsim trace export` writes it (with its FLOPs,
/// which report.json does not carry).
nlohmann::json traced_op(const Scratch& s, const std::string& spec, const std::string& name) {
  const std::string out = s / (name + ".jsonl");
  const CliResult r = run_bpsim("trace export " + spec + " -o " + out);
  INFO(r.err);
  REQUIRE(r.code == 0);
  std::istringstream lines(slurp(out));
  for (std::string line; std::getline(lines, line);) {
    const nlohmann::json j = nlohmann::json::parse(line);
    if (j.value("name", "") == name) return j;
  }
  FAIL("no op " << name);
  return {};
}

nlohmann::json run_report(const std::string& cfg, const Scratch& s, const std::string& out, const std::string& sets) {
  const CliResult r = run_bpsim("run " + cfg + " -q --out " + (s / out) + " " + sets);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(slurp(s / out + "/report.json"));
}

}  // namespace

TEST_CASE("enkf: N forward passes and the ensemble update, no backward", "[cli][enkf][training]") {
  Scratch s("enkf_cli");
  const std::string spec = two_layer_spec(s, "fp32");
  const std::string cfg = systolic_config(s, "fp32");
  const std::string enkf = "--set 'workload.training.learner={kind: enkf, ensemble: 3, weight_bits: 8}'";
  const auto rep = run_report(cfg, s, "stored", enkf);
  // Forward per member: fc1 4·4·8 = 128 MACs, fc2 4·2·4 = 32; three members: 480.
  // Update: D = 4 samples × 2 outputs = 8; gram and projection N²·D = 9·8 = 72 each; the
  // members' update Θ·M per weight P·N² (fc1 P = 32: 288, fc2 P = 8: 72). Σ 480 + 504 = 984.
  const auto& f = rep["memory"]["figures"];
  CHECK(f["enkf_forward_macs"] == 480);
  CHECK(f["enkf_update_macs"] == 72 + 72 + 288 + 72);
  CHECK(rep["totals"]["macs"] == 984);
  CHECK(rep["phases"]["forward"]["macs"] == 480);
  CHECK(!rep["phases"].contains("backward_data"));
  CHECK(!rep["phases"].contains("backward_weight"));
  // Stored members: 3 × 40 weights × 8 bits = 120 B.
  CHECK(f["enkf_state_bytes"] == 120);
  CHECK(op_of(rep, "fc1.weight.enkf_update")["macs"] == 288);
  // The solve on the vector unit: Cholesky N³/6 → ⌈27/6⌉ = 5, solves N³ = 27 MACs, 2 FLOPs
  // each, and the mixing matrix 2N² = 18: 2·(27 + 5) + 18 = 82 FLOPs.
  const std::string traced =
      two_layer_spec(s, "fp32", "training: {learner: {kind: enkf, ensemble: 3, weight_bits: 8}}\n");
  CHECK(traced_op(s, traced, "enkf.solve")["flops"] == 82);
  // Peak: the three outputs (8 fp32 = 32 B each) with the deviation and residual
  // (D·N·4 = 96 B each) while the residual op runs: 3·32 + 2·96 = 288 B. After the forward
  // only the outputs are kept: 96 B.
  CHECK(rep["memory"]["peak_bytes"] == 288);
  CHECK(rep["memory"]["saved_after_forward_bytes"] == 96);

  // Seeded: the mean weights (40 B) and three 8-byte seeds; every member draws its weights
  // (perturb: 3 FLOPs per weight) and the update is one pass per weight tensor on the
  // vector unit: N·P·4 FLOPs (draw and scale, multiply-add).
  const auto seeded =
      run_report(cfg, s, "seeded",
                 "--set 'workload.training.learner={kind: enkf, ensemble: 3, weight_bits: 8, perturbations: seeded}'");
  CHECK(seeded["memory"]["figures"]["enkf_state_bytes"] == 40 + 24);
  const std::string seeded_spec = two_layer_spec(
      s, "fp32", "training: {learner: {kind: enkf, ensemble: 3, weight_bits: 8, perturbations: seeded}}\n");
  CHECK(traced_op(s, seeded_spec, "ens2.fc1.weight.perturb")["flops"] == 3 * 32);
  CHECK(traced_op(s, seeded_spec, "fc1.weight.enkf_update")["flops"] == 3 * 32 * 4);
  CHECK(seeded["memory"]["figures"]["enkf_update_macs"] == 72 + 72);

  // The mesh runs stored members at its dtype's width, each member's layers on clusters of
  // their own; narrower weights and seeded copies are refused, naming the key.
  const std::string mesh = s.file("mesh.yaml", preset_includes("mesh_8x8.yaml") + "workload: {spec: " + spec + "}\n");
  CliResult r = run_bpsim("run " + mesh + " -q --out " + (s / "mesh") +
                          " --set 'workload.training.learner={kind: enkf, ensemble: 3, weight_bits: 32}'");
  INFO(r.err);
  CHECK(r.code == 0);
  r = run_bpsim("run " + mesh + " -q --out " + (s / "mesh8") + " " + enkf);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("training.learner.weight_bits"));
  r = run_bpsim("run " + mesh + " -q --out " + (s / "mesh_seeded") +
                " --set 'workload.training.learner={kind: enkf, weight_bits: 32, perturbations: seeded}'");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("training.learner.perturbations: seeded"));
  // A memory policy has nothing to do without a backward; weights wider than the forward's
  // dtype cannot be computed with: both refused at the key.
  r = run_bpsim("run " + cfg + " -q --out " + (s / "ckpt") + " " + enkf + " --set workload.policy.kind=checkpoint");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("training.learner") && Contains("checkpoint"));
  r = run_bpsim("run " + cfg + " -q --out " + (s / "wide") + " --set workload.dtype=bf16" +
                " --set 'workload.training.learner={kind: enkf, weight_bits: 32}'");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("training.learner") && Contains("weight_bits 32"));
}

TEST_CASE("enkf: a binary network's forward passes run in the DRAM arrays", "[cli][enkf][pim]") {
  Scratch s("enkf_pim");
  const auto rep = run_report(kConfigs + "examples/binary_mlp_pim.yaml", s, "o",
                              "--set 'workload.training.learner={kind: enkf, ensemble: 2, weight_bits: 1}'");
  // binary-mlp-4096 (784 → 4096 → 4096 → 10, batch 256): every member's XNOR layers run in
  // DRAM (row activations), 256·(784·4096 + 4096·4096 + 4096·10) MACs per member.
  const auto fc2 = op_of(rep, "ens1.fc2.fwd");
  CHECK(fc2["macs"] == 256ull * 4096 * 4096);
  CHECK(fc2["extra"]["row_activations"].get<uint64_t>() > 0);
  CHECK(rep["memory"]["figures"]["enkf_forward_macs"] == 2.0 * 256 * (784 * 4096 + 4096 * 4096 + 4096 * 10));
}

TEST_CASE("precision: a fraction of a layer's neurons in a wider dtype", "[cli][precision][training]") {
  Scratch s("precision_cli");
  const std::string cfg = systolic_config(s, "int8");
  const std::string mp = "--set 'workload.training.precision={fraction: 0.5, dtype: fp16, layers: [fc2]}'";
  const auto rep = run_report(cfg, s, "mp", mp);
  // fc2 (K = 4, N = 2 neurons, M = 4 samples): ⌈0.5·2⌉ = 1 neuron in fp16.
  // Forward Y = X·W splits N: 4·1·4 = 16 MACs each part; dW = Xᵀ·dY splits N: 4·1·4 = 16;
  // dX = dY·Wᵀ splits its reduction (the neurons): 4·4·1 = 16 each, then one add of
  // the two partial dX (4·4 = 16 elements).
  CHECK(op_of(rep, "fc2.fwd.wide")["macs"] == 16);
  CHECK(op_of(rep, "fc2.fwd.narrow")["macs"] == 16);
  CHECK(op_of(rep, "fc2.dx.wide")["macs"] == 16);
  CHECK(op_of(rep, "fc2.dw.narrow")["macs"] == 16);
  const std::string mp_spec =
      two_layer_spec(s, "int8", "training: {precision: {fraction: 0.5, dtype: fp16, layers: [fc2]}}\n");
  CHECK(traced_op(s, mp_spec, "fc2.dx.sum")["flops"] == 16);
  CHECK(rep["memory"]["figures"]["precision_wide_macs"] == 48);
  // The PEs (dtype: workload) are fp16, each MAC priced at its own type: the 48 wide MACs at
  // systolic.mac_fp16 = 2.0 pJ (configs/energy/45nm/systolic.yaml): 96 pJ.
  CHECK(rep["energy_breakdown_pj"]["systolic.mac_fp16"].get<double>() == Approx(48 * 2.0));
  // The whole step without it: the same MACs, none of them fp16.
  const auto plain = run_report(cfg, s, "plain", "");
  CHECK(plain["totals"]["macs"] == rep["totals"]["macs"]);
  CHECK(!plain["energy_breakdown_pj"].contains("systolic.mac_fp16"));
  // On int8 PEs the fp16 part cannot run: refused, naming the op.
  const CliResult r = run_bpsim("run " + cfg + " -q --out " + (s / "int8") + " --set accelerator.dtype=int8 " + mp);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("fc2.fwd.wide") && Contains("cannot compute fp16"));
  // A layer the network does not have, or a dtype no wider than the network's: refused.
  CliResult bad = run_bpsim("run " + cfg + " -q --out " + (s / "bad") +
                            " --set 'workload.training.precision={fraction: 0.5, layers: [fc9]}'");
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Contains("training.precision.layers") && Contains("fc9"));
  bad = run_bpsim("run " + cfg + " -q --out " + (s / "bad2") +
                  " --set 'workload.training.precision={fraction: 0.5, dtype: int8}'");
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Contains("training.precision.dtype"));
  // The mesh carries one dtype: refused there, naming the key.
  const std::string mesh =
      s.file("mesh.yaml", preset_includes("mesh_8x8.yaml") + "workload: {spec: " + two_layer_spec(s, "fp32") + "}\n");
  const CliResult m = run_bpsim("run " + mesh + " -q --out " + (s / "mesh") +
                                " --set 'workload.training.precision={fraction: 0.5, dtype: fp32}' --set "
                                "workload.dtype=bf16");
  CHECK(m.code == 2);
  CHECK_THAT(m.err, Contains("training.precision"));
}

TEST_CASE("energy_optimal: the least-energy plan under a budget, or refused", "[cli][energy_policy]") {
  Scratch s("energy_policy_cli");
  const std::string cfg = kConfigs + "examples/energy_policy_mlp.yaml";
  // A budget every plan meets: nothing recomputed, the step of policy none.
  const auto none = run_report(cfg, s, "none", "--set workload.policy.kind=none");
  const auto loose =
      run_report(cfg, s, "loose", "--set 'workload.policy={kind: energy_optimal, budget_bytes: 1000000000}'");
  CHECK(loose["memory"]["figures"]["recompute_energy_estimate_pj"] == 0);
  CHECK(loose["totals"]["energy_pj"] == none["totals"]["energy_pj"]);
  // The example's budget: both fit it; energy_optimal spends less energy than optimal,
  // which minimises the array's cycle estimate (it leaves out the DRAM's time).
  const auto en = run_report(cfg, s, "en", "--set workload.policy.kind=energy_optimal");
  const auto opt = run_report(cfg, s, "opt", "--set workload.policy.kind=optimal");
  const uint64_t budget = 4000000;
  CHECK(en["memory"]["peak_bytes"].get<uint64_t>() <= budget);
  CHECK(opt["memory"]["peak_bytes"].get<uint64_t>() <= budget);
  CHECK(en["totals"]["energy_pj"].get<double>() < opt["totals"]["energy_pj"].get<double>());
  CHECK(en["memory"]["figures"]["recompute_energy_estimate_pj"].get<double>() > 0);
  // Where the model gives no energy estimate (mesh), or there is no accelerator at all
  // (`bpsim workload`), it is refused at the key.
  CliResult r = run_bpsim("run " + kConfigs + "examples/mlp_train_mesh.yaml -q --out " + (s / "mesh") +
                          " --set 'workload.policy={kind: energy_optimal, budget_bytes: 1000000}'");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("workload.policy.kind") && Contains("energy estimate"));
  r = run_bpsim("workload " + kConfigs + "workloads/mlp.yaml --policy energy_optimal --budget 1000000");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("energy estimate"));
}
