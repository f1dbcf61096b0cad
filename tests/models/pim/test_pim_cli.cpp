// The pim model through the real executable: the shipped binary MLP example at small
// batches (command counts scale as derived), its sweep axes via --set, and bad input.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/models/pim/pim_cli_util.h"

using namespace bpsim::test;

namespace {
const std::string kExample = std::string(BPSIM_SOURCE_DIR) + "/configs/examples/binary_mlp_pim.yaml";

nlohmann::json run_example(const Scratch& s, const std::string& dir, const std::string& sets) {
  return run_report(s, kExample, dir, sets);
}
}  // namespace

TEST_CASE("pim cli: binary MLP example at batch 16 and 32 with derived command counts", "[pim][cli]") {
  const Scratch s("pim_cli_mlp");
  // The Ambit-XNOR mapping with charge-domain readout (the default weight-selected one is
  // test_pim_forward_cli.cpp's).
  const std::string ax = " --set accelerator.forward_mapping=ambit_xnor --set accelerator.readout=charge";
  const auto a = run_example(s, "b16", "--set workload.batch=16" + ax);
  const auto b = run_example(s, "b32", "--set workload.batch=32" + ax);
  // fc2.fwd: 16 samples × 4096 outputs × K = 4096. Tile Mt = 16, Nt = 65536/16 = 4096:
  // 1 tile (lane utilisation 1). The op writes fp32 outputs: the integer count is read out,
  // by successive approximation. A sense resolves 8 cells (test_pim_charge.cpp): kc
  // operands and 2^b − 1 reference cells, kc = 3, b = 2, 6 cells → S = ⌈4096/3⌉ = 1366.
  //  layout: 4096 x rows + 4096 w rows, 1 PSM each; combine copies (S−1)·b = 2730 partial
  //    rows: 10922 PSM.
  //  XNOR: 4096 × (5 AAP + 2 AP). Per slice 2 senses, each of 6 fresh copies (12 AAP).
  //    Combine: 1365 adds of w = 2 + ⌈log2 1366⌉ = 13 bits (7·13 + 1 = 92 AAP, 13 AP
  //    each); a count, so no threshold.
  //  senses: 1366 slices × 2 = 2732.
  const auto& ca = op_named(a, "fc2.fwd")["extra"];
  CHECK(ca["tiles"] == 1);
  CHECK(ca["lane_utilization"] == Approx(1.0));
  CHECK(ca["forward"]["readout"] == "sar");
  CHECK(ca["commands"]["psm_rows"] == 8192 + 2730);
  CHECK(ca["commands"]["aap"] == 5 * 4096 + 1366 * 12 + 1365 * 92);
  CHECK(ca["commands"]["ap"] == 2 * 4096 + 1365 * 13);
  CHECK(ca["commands"]["senses"] == 2732);
  // Batch 32: Nt = 2048, 2 tiles; every command count doubles.
  const auto& cb = op_named(b, "fc2.fwd")["extra"];
  CHECK(cb["tiles"] == 2);
  for (const char* k : {"psm_rows", "aap", "ap", "senses", "act", "pre", "charge_shares"})
    CHECK(cb["commands"][k].get<uint64_t>() == 2 * ca["commands"][k].get<uint64_t>());
}

TEST_CASE("pim cli: banks and max_rows_per_step are --set sweep axes", "[pim][cli]") {
  const Scratch s("pim_cli_axes");
  const std::string ax = " --set accelerator.forward_mapping=ambit_xnor --set accelerator.readout=charge";
  const auto base = run_example(s, "base", "--set workload.batch=16" + ax);
  const auto rows = run_example(s, "rows", "--set workload.batch=16 --set accelerator.max_rows_per_step=4" + ax);
  const auto banks = run_example(s, "banks", "--set workload.batch=16 --set accelerator.banks=4" + ax);
  // Charge-sharing steps of fc2.fwd: 2732 senses of 6 cells (above), one step of ≤ 16 rows
  // each, or ⌈6/4⌉ = 2 with 4 rows per step.
  CHECK(op_named(base, "fc2.fwd")["extra"]["commands"]["charge_shares"] == 2732);
  CHECK(op_named(rows, "fc2.fwd")["extra"]["commands"]["charge_shares"] == 2732 * 2);
  // Fewer banks: the same commands, more rounds, so more compute cycles.
  const auto& e0 = op_named(base, "fc2.fwd")["extra"];
  const auto& e1 = op_named(banks, "fc2.fwd")["extra"];
  CHECK(e1["commands"] == e0["commands"]);
  CHECK(e1["compute_cycles"].get<uint64_t>() > e0["compute_cycles"].get<uint64_t>());
}

TEST_CASE("pim cli: bad device parameters exit 2 naming the key", "[pim][cli]") {
  const Scratch s("pim_cli_bad");
  auto bad = [&](const std::string& set, const std::string& what) {
    const CliResult r = run_bpsim("run " + kExample + " -q -o " + (s / "x") + " --set " + set);
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains(what));
  };
  bad("accelerator.banks=64", "accelerator.banks");
  bad("accelerator.max_rows_per_step=2000", "accelerator.max_rows_per_step");
  bad("accelerator.gradient_bits=40", "unsupported width 40");
  // 4096 subarrays of 16 rows: 11 reserved leave 5 data rows; with 4 rows per step the
  // device parses, but fc2.dx's 20-bit accumulator and an 8-bit gradient and its sign
  // row (29 rows) do not fit.
  bad("accelerator.subarrays_per_bank=4096 --set accelerator.max_rows_per_step=4", "does not fit");
}

TEST_CASE("pim cli: bitwise ops alone with Ambit AAP/AP counts", "[pim][cli]") {
  const Scratch s("pim_cli_bitwise");
  const CliResult r =
      run_bpsim("run " + std::string(BPSIM_SOURCE_DIR) + "/configs/examples/pim_bitwise.yaml -q -o " + (s / "o"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto rep = nlohmann::json::parse(slurp(s / "o/report.json"));
  // 2^20 bits = 16 rows of 65,536 lanes. Per row (Ambit): AND/OR 4 AAP, XOR and XNOR
  // 5 AAP + 2 AP, NOT 2 AAP (DCC).
  const struct {
    const char* op;
    uint64_t aap, ap, cycles;
  } want[] = {// Cycles: 8 rows per rank on 8 banks at once, one round bounded by tFAW (26 tCK per
              // 4 raised wordlines): AND raises 10 per row (8 ACTs, the TRA's 2 more rows):
              // 8·10 = 80 → 20·26 = 520; XOR and XNOR 21 (12 ACTs, 3 TRAs, 3 two-row
              // destinations): 168 → 42·26 = 1092; NOT 4 (4 ACTs): 32 → 208.
              {"and", 64, 0, 520},
              {"or", 64, 0, 520},
              {"xor", 80, 32, 1092},
              {"xnor", 80, 32, 1092},
              {"not", 32, 0, 208}};
  for (const auto& w : want) {
    INFO(w.op);
    const auto& e = op_named(rep, w.op)["extra"];
    CHECK(e["commands"]["aap"] == w.aap);
    CHECK(e["commands"]["ap"] == w.ap);
    CHECK(e["compute_cycles"] == w.cycles);
    // Nothing crosses the interface; a host would read both 128 KiB operands (one for NOT)
    // and write the 128 KiB result.
    CHECK(e["interface_bytes"] == 0);
    CHECK(e["host_baseline"]["read_bytes"] == (std::string(w.op) == "not" ? 131072 : 262144));
    CHECK(e["host_baseline"]["write_bytes"] == 131072);
  }
}
