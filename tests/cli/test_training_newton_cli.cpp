// Newton steps by blocks (training: newton: {kind: kfac}) from the user's side: K-FAC's factor,
// inversion and preconditioning GEMMs of each weight layer derived by hand on a small MLP
// through `bpsim workload` and `bpsim run` (systolic), the inverting and the other steps, the
// state kept, and the refusals (the mesh, a binary layer).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/cli/report_json.h"
#include "tests/cli/training_harness.h"

using namespace bpsim::test;
using Catch::Contains;

namespace {

/// Batch 2, 8 inputs → fc1(16) → ReLU → fc2(12) → ReLU → fc3(4), fp32, SGD.
std::string spec(const Scratch& s, const std::string& name, const std::string& training) {
  return tiny_mlp_spec(s, name, "sgd", training);
}

}  // namespace

TEST_CASE("newton: K-FAC's GEMMs per layer, by hand", "[cli][newton]") {
  Scratch s("kfac");
  const auto w = workload_json(spec(s, "k", "{newton: {kind: kfac, inverse_interval: 10, step: 0}}"));
  // fc2: X [2 × 16] with the bias's column of ones: a = 17; dY [2 × 12]: g = 12; M = 2 rows.
  CHECK(op_of(w, "fc2.kfac_a_factor")["macs"] == 17 * 17 * 2);  // XᵀX
  CHECK(op_of(w, "fc2.kfac_g_factor")["macs"] == 12 * 12 * 2);  // dYᵀdY
  // Step 0 of an interval of 10 inverts: n·n·⌈n/2⌉ (≈ n³/2: Cholesky n³/6, its triangle's
  // inverse n³/6, L⁻ᵀL⁻¹ n³/6): 17·17·9 = 2601 and 12·12·6 = 864.
  CHECK(op_of(w, "fc2.kfac_a_inverse")["macs"] == 2601);
  CHECK(op_of(w, "fc2.kfac_g_inverse")["macs"] == 864);
  // [dW db] [12 × 17] → G⁻¹·D: 12·17·12 = 2448; then ·A⁻¹: 12·17·17 = 3468.
  CHECK(op_of(w, "fc2.kfac_precondition_g")["macs"] == 2448);
  CHECK(op_of(w, "fc2.kfac_precondition_a")["macs"] == 3468);
  // Per layer (a, g): fc1 (9, 16), fc2 (17, 12), fc3 (13, 4).
  // Factors: 2·(81 + 256) + 2·(289 + 144) + 2·(169 + 16) = 674 + 866 + 370 = 1910.
  CHECK(w["figures"]["newton_factor_macs"] == 1910);
  // Inverses: 9·9·5 + 16·16·8 + 2601 + 864 + 13·13·7 + 4·4·2 = 405 + 2048 + 3465 + 1183 + 32 = 7133.
  CHECK(w["figures"]["newton_inverse_macs"] == 7133);
  CHECK(w["figures"]["newton_inverse_macs_per_step"] == Approx(713.3));
  // Preconditioning g·a·(g + a): 16·9·25 + 12·17·29 + 4·13·17 = 3600 + 5916 + 884 = 10400.
  CHECK(w["figures"]["newton_precondition_macs"] == 10400);
  // Kept in fp32 between steps: A, G and their inverses, 2·4·(a² + g²) per layer:
  // 8·(337 + 433 + 185) = 7640 B.
  CHECK(w["figures"]["newton_state_bytes"] == 7640);
  // The update then reads the preconditioned gradient, written in place.
  CHECK(op_of(w, "fc2.kfac_precondition_a")["writes"][0] == op_of(w, "fc2.dw")["writes"][0]);
  CHECK(op_of(w, "fc2.kfac_precondition_a")["writes"][1] == op_of(w, "fc2.db")["writes"][0]);
}

TEST_CASE("newton: a step between inversions reads the kept inverses", "[cli][newton]") {
  Scratch s("kfac_mid");
  const auto w = workload_json(spec(s, "k", "{newton: {kind: kfac, inverse_interval: 10, step: 3}}"));
  CHECK_FALSE(has_op(w, "fc2.kfac_a_inverse"));
  CHECK(w["figures"]["newton_inverts"] == 0);
  CHECK(w["figures"]["newton_inverse_macs"] == 0);
  CHECK(w["figures"]["newton_inverse_macs_per_step"] == Approx(713.3));
  CHECK(op_of(w, "fc2.kfac_precondition_a")["macs"] == 3468);
}

TEST_CASE("newton: priced on the systolic array, refused on the mesh and for a binary layer", "[cli][newton]") {
  Scratch s("kfac_run");
  const std::string bp = spec(s, "bp", "{}");
  const std::string cfg = s.file("c.yaml", preset_includes("systolic_32x32_int8.yaml") +
                                               "accelerator: {dtype: workload}\nworkload: {spec: " + bp +
                                               ", training: {newton: {kind: kfac}}}\n");
  const CliResult r = run_bpsim("run " + cfg + " -q --out " + (s / "o"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto rep = nlohmann::json::parse(slurp(s / "o/report.json"));
  CHECK(op_of(rep, "fc3.kfac_precondition_a")["macs"] == 4 * 13 * 13);
  // backward_weight: dW 2·(8·16 + 16·12 + 12·4) = 736, factors 1910, inverses 7133,
  // precondition 10400.
  CHECK(rep["phases"]["backward_weight"]["macs"] == 736 + 1910 + 7133 + 10400);
  const std::string mesh = s.file(
      "m.yaml", preset_includes("mesh_8x8.yaml") + "workload: {spec: " + bp + ", training: {newton: {kind: kfac}}}\n");
  const CliResult m = run_bpsim("run " + mesh + " -q --out " + (s / "m"));
  CHECK(m.code == 2);
  CHECK_THAT(m.err, Contains("workload.training.newton.kind: kfac"));
  const std::string bin = s.file("b.yaml",
                                 "name: b\nbatch: 8\ninput: { shape: [64] }\noptimizer: sgd\ntraining: {newton: "
                                 "{kind: kfac}}\nlayers:\n  - { kind: binary_linear, name: fc1, out_features: 16 }\n");
  const CliResult b = run_bpsim("workload " + bin);
  CHECK(b.code == 2);
  CHECK_THAT(b.err, Contains("training.newton.kind: kfac") && Contains("binary"));
}
