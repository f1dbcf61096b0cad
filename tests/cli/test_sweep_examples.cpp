// The example sweeps in configs/sweeps/ run to the end with every point ok, and their
// results show what each sweep is there to show.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;
using nlohmann::json;

namespace {
std::vector<json> run_example_sweep(const Scratch& s, const std::string& name) {
  const CliResult r = run_bpsim("sweep " + std::string(BPSIM_SOURCE_DIR) + "/configs/sweeps/" + name +
                                ".yaml -j 2 --out " + (s / "out"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  std::vector<json> rows;
  std::istringstream in(slurp(s / "out/results.jsonl"));
  for (std::string line; std::getline(in, line);) rows.push_back(json::parse(line));
  for (const json& row : rows) {
    INFO(row.dump());
    CHECK(row["status"] == "ok");
  }
  return rows;
}
}  // namespace

TEST_CASE("example sweep: systolic size × dataflow × gating on ResNet-18", "[sweep][examples]") {
  Scratch s("sweep_sys_r18");
  const std::vector<json> rows = run_example_sweep(s, "systolic_resnet18");
  REQUIRE(rows.size() == 36);  // 4 array sizes (zipped with their buffers) × 3 dataflows × 3 modes
  // Every point is a different step: no two give the same cycles and energy (skip at element
  // granularity equalled gate point for point; the sweep gives skip row-structured masks).
  std::set<std::pair<uint64_t, double>> distinct;
  for (const json& r : rows)
    distinct.emplace(r["totals"]["cycles"].get<uint64_t>(), r["totals"]["energy_pj"].get<double>());
  CHECK(distinct.size() == rows.size());
  // Per (size, dataflow): the same MACs whatever the mode; gating adds gated MACs and never
  // removes cycles; a bigger array is never slower on the same dataflow (more PEs per fold).
  std::map<std::string, std::map<std::string, json>> by_design;  // "rows/df" → mode → totals
  for (const json& r : rows)
    by_design[r["axes"]["accelerator.rows"].dump() + "/" + r["axes"]["accelerator.dataflow"].get<std::string>()]
             [r["axes"]["accelerator.output_sparsity.mode"].get<std::string>()] = r["totals"];
  REQUIRE(by_design.size() == 12);
  for (const auto& [design, modes] : by_design) {
    INFO(design);
    CHECK(modes.at("gate")["macs"] == modes.at("off")["macs"]);
    CHECK(modes.at("off")["macs_gated"] == 0);
    CHECK(modes.at("gate")["macs_gated"].get<uint64_t>() > 0);
    CHECK(modes.at("gate")["cycles"].get<uint64_t>() >= modes.at("off")["cycles"].get<uint64_t>());
    // skip takes the wholly masked output rows out of the schedule: fewer MACs run, fewer cycles.
    CHECK(modes.at("skip")["macs_executed"].get<uint64_t>() < modes.at("gate")["macs_executed"].get<uint64_t>());
    CHECK(modes.at("skip")["cycles"].get<uint64_t>() < modes.at("gate")["cycles"].get<uint64_t>());
  }
  for (const char* df : {"ws", "os", "is"})
    for (const char* m : {"16", "32", "64"}) {
      const std::string bigger = std::to_string(2 * std::stoi(m));
      CHECK(by_design[bigger + "/" + df]["off"]["cycles"].get<uint64_t>() <
            by_design[std::string(m) + "/" + df]["off"]["cycles"].get<uint64_t>());
    }
}

TEST_CASE("example sweep: memory policy × batch on GPT-2-small", "[sweep][examples]") {
  Scratch s("sweep_gpt2");
  const std::vector<json> rows = run_example_sweep(s, "gpt2_policy_batch");
  REQUIRE(rows.size() == 25);  // 5 policies × 5 batch sizes
  std::map<int64_t, std::map<std::string, json>> by_batch;
  for (const json& r : rows) {
    json t = r["totals"];
    t["peak_bytes"] = r["memory"]["peak_bytes"];
    t["recompute_macs"] = r["recompute_macs"];
    by_batch[r["axes"]["workload.batch"].get<int64_t>()][r["axes"]["workload.policy.kind"].get<std::string>()] = t;
  }
  for (const auto& [batch, p] : by_batch) {
    INFO("batch " << batch);
    // Every MAC of GPT-2's blocks is in a GEMM whose backward costs two forwards (dX, dW), so
    // the step without recompute is 3F. Checkpointing every block recomputes the whole
    // forward: F = 1/3 of 3F. checkpoint_sequential (2 segments) runs its last segment
    // without checkpointing (PyTorch's rule), so it recomputes half the forward: 1/6.
    const double base = p.at("none")["macs"].get<double>();
    CHECK(p.at("none")["recompute_macs"] == 0);
    CHECK(p.at("checkpoint")["recompute_macs"].get<double>() == Approx(base / 3));
    CHECK(p.at("full_recompute")["recompute_macs"].get<double>() == Approx(base / 3));
    CHECK(p.at("checkpoint_sequential")["recompute_macs"].get<double>() == Approx(base / 6));
    // Peak memory falls as more is recomputed.
    CHECK(p.at("checkpoint")["peak_bytes"].get<uint64_t>() <
          p.at("checkpoint_sequential")["peak_bytes"].get<uint64_t>());
    CHECK(p.at("checkpoint_sequential")["peak_bytes"].get<uint64_t>() < p.at("none")["peak_bytes"].get<uint64_t>());
    // Reversible blocks rebuild their inputs: less kept than none, some recompute, and
    // never more than re-running the whole forward.
    CHECK(p.at("reversible")["peak_bytes"].get<uint64_t>() < p.at("none")["peak_bytes"].get<uint64_t>());
    CHECK(p.at("reversible")["recompute_macs"].get<double>() > 0);
    CHECK(p.at("reversible")["recompute_macs"].get<double>() <= base / 3);
  }
  // Without a policy the activations grow linearly with the batch: peak(16) ≥ 8 · peak(2)·(1 − 5 %)
  // (weights, gradients and optimizer state are persistent and not in the peak).
  CHECK(by_batch[16]["none"]["peak_bytes"].get<double>() >= 0.95 * 8 * by_batch[2]["none"]["peak_bytes"].get<double>());
}

TEST_CASE("example sweep: PIM banks × rows per charge-sharing step on a binary MLP", "[sweep][examples]") {
  Scratch s("sweep_pim");
  const std::vector<json> rows = run_example_sweep(s, "pim_banks_rows");
  REQUIRE(rows.size() == 16);                             // 4 bank counts × 4 rows-per-step values
  std::map<int64_t, std::map<int64_t, uint64_t>> cycles;  // banks → rows per step → cycles
  for (const json& r : rows)
    cycles[r["axes"]["accelerator.banks"].get<int64_t>()][r["axes"]["accelerator.max_rows_per_step"].get<int64_t>()] =
        r["totals"]["cycles"].get<uint64_t>();
  // The same commands spread over more banks finish sooner; a step that connects more rows
  // needs ⌈K/rows⌉ accumulate steps per K-slice instead of more, so never more time.
  for (const auto& [banks, by_rows] : cycles) {
    uint64_t prev = UINT64_MAX;
    for (const auto& [r, c] : by_rows) {
      INFO("banks " << banks << ", rows " << r);
      CHECK(c <= prev);
      prev = c;
    }
  }
  for (int64_t r : {4, 8, 16, 32}) {
    CHECK(cycles[4][r] < cycles[2][r]);
    CHECK(cycles[8][r] < cycles[4][r]);
    CHECK(cycles[16][r] < cycles[8][r]);
  }
}

TEST_CASE("example sweep: whole memory preset files as an include axis", "[sweep][examples]") {
  Scratch s("sweep_presets");
  const std::vector<json> rows = run_example_sweep(s, "memory_presets");
  REQUIRE(rows.size() == 6);                                     // 3 preset files × 2 patterns
  std::map<std::string, std::map<std::string, double>> seconds;  // pattern → preset file → run time
  for (const json& r : rows)
    seconds[r["axes"]["accelerator.pattern"].get<std::string>()][r["axes"]["include"].get<std::string>()] =
        r["totals"]["seconds"].get<double>();
  for (const auto& [pattern, by_preset] : seconds) {
    INFO(pattern);
    REQUIRE(by_preset.size() == 3);  // each file, as the sweep writes it, is one value
    // The same 20000 requests: DDR4-3200 moves them on a faster clock (0.625 ns against
    // 0.833 ns, timings scaled in ns), and HBM2 spreads them over 8 channels instead of 1.
    CHECK(by_preset.at("../memory/ddr4_3200.yaml") < by_preset.at("../memory/ddr4_2400.yaml"));
    CHECK(by_preset.at("../memory/hbm2.yaml") < by_preset.at("../memory/ddr4_3200.yaml"));
  }
}
