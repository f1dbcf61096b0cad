// The binary forward's mappings, readouts and charge-domain margin through the executable: a
// tiny spec counted by hand, auto's per-layer choice on the shipped binary MLP example, and a
// rows_per_sense past the sense margin refused.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/models/pim/pim_cli_util.h"

using namespace bpsim::test;

namespace {
const std::string kExample = std::string(BPSIM_SOURCE_DIR) + "/configs/examples/binary_mlp_pim.yaml";

/// One binary layer of `out` outputs over `in` inputs at batch 8, on the shipped pim preset.
std::string tiny(const Scratch& s, unsigned in, unsigned out) {
  return s.file("tiny.yaml", pim_includes() + "workload:\n  name: tiny\n  batch: 8\n  input: {shape: [" +
                                 std::to_string(in) +
                                 "]}\n  optimizer: sgd\n  layers:\n"
                                 "    - {kind: binary_linear, name: fc1, out_features: " +
                                 std::to_string(out) + "}\n");
}
}  // namespace

TEST_CASE("pim forward cli: weight-selected tiny layer, integer count read bit-serially", "[pim][cli][charge]") {
  const Scratch s("pim_fwd_tiny");
  const auto rep = run_report(s, tiny(s, 8, 4), "o", "--set accelerator.readout=bit_serial");
  const auto& e = op_named(rep, "fc1.fwd")["extra"];
  // The workload writes fc1's output in fp32 (32 × 4 B > 32 bits): the count is read out.
  CHECK(e["forward"]["mapping"] == "weight_selected");
  CHECK(e["forward"]["readout"] == "bit_serial");
  CHECK(e["forward"]["integer_readout"] == true);
  CHECK(e["forward"]["rows_per_sense"] == 0);  // nothing sensed in the charge domain
  // M = 8 samples in the lanes of one row, one output per tile: 4 tiles, K = 8 in one
  // slice. X laid out in min(32 units, 4 items) = 4 copies of 8 rows: 32 PSM and 32 NOTs
  // (2 AAP each). Per tile a popcount of the 8 weight-selected rows: 4 one-bit, 2 two-bit
  // and 1 three-bit add, n-bit add = 7n + 1 AAP + n AP: 84 AAP, 11 AP. No XNOR.
  CHECK(e["tiles"] == 4);
  CHECK(e["lanes_used"] == 8);
  CHECK(e["commands"]["psm_rows"] == 32);
  CHECK(e["commands"]["aap"] == 32 * 2 + 4 * 84);
  CHECK(e["commands"]["ap"] == 4 * 11);
  CHECK(e["commands"]["senses"] == 0);
  // Activations: PSM 2, NOT 4, each AAP 2, each AP 1: 64 + 128 + 672 + 44.
  CHECK(e["row_activations"] == 64 + 128 + 4 * (84 * 2 + 11));
}

TEST_CASE("pim forward cli: auto picks per layer and says why", "[pim][cli][charge]") {
  const Scratch s("pim_fwd_auto");
  // The example sets auto; the preset's default is weight_selected.
  const auto ws =
      run_report(s, kExample, "ws", "--set workload.batch=16 --set accelerator.forward_mapping=weight_selected");
  const auto au = run_report(s, kExample, "au", "--set workload.batch=16");
  for (const char* name : {"fc1.fwd", "fc2.fwd", "fc3.fwd"}) {
    INFO(name);
    const auto& f = op_named(au, name)["extra"]["forward"];
    CHECK_THAT(f["why"].get<std::string>(), Catch::Contains("auto, fewer estimated cycles: weight_selected"));
    // Lanes hold 16 samples in weight_selected (one row address for all lanes), 16 × Nt
    // (sample, output) pairs in ambit_xnor: at 4096 (fc1, fc2) and 10 (fc3) outputs the
    // lane-packed mapping wins; auto's op never takes longer than the configured one.
    CHECK(f["mapping"] == "ambit_xnor");
    CHECK(op_named(au, name)["cycles"].get<uint64_t>() < op_named(ws, name)["cycles"].get<uint64_t>());
    CHECK(op_named(ws, name)["extra"]["forward"]["mapping"] == "weight_selected");
  }
}

TEST_CASE("pim forward cli: a sense past the margin is refused", "[pim][cli][charge]") {
  const Scratch s("pim_fwd_margin");
  // Defaults (C_c 24 fF, C_b 96 fF, 1.2 V, σ 10 mV): 9 cells give 92.3 mV per count, the
  // reference 46.2 mV = 4.6σ away: Φ(−4.62) = 1.96e-6 > 1e-6. 8 cells are the limit.
  const CliResult r = run_bpsim("run " + tiny(s, 8, 4) + " -q -o " + (s / "x") + " --set accelerator.rows_per_sense=9");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("accelerator.rows_per_sense") && Catch::Contains("at most 8 cells") &&
                        Catch::Contains("error rate"));
  // A looser target admits it: Φ(−4.62) ≤ 1e-5.
  run_report(s, tiny(s, 8, 4), "ok", "--set accelerator.rows_per_sense=9 --set accelerator.target_sense_error=1e-5");
}
