// Conservation laws (sim/engine/laws.h): each one holds on a consistent record or report
// and fires, naming the law, the op and both sides, on a deliberately broken one.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "sim/engine/accelerator.h"
#include "sim/engine/laws.h"

using namespace bpsim;
using Catch::Contains;

namespace {

// A 4×4 array (16 MACs/cycle) on a bus of 8 bytes/cycle.
const LawBounds kBounds{16.0, 8.0};

/// fc.fwd: 1600 MACs asked, 1200 executed (400 skipped for output sparsity, 300 of the
/// executed gated), in 100 cycles ≥ 1200/16 = 75 (compute) and ≥ (640+160)/8 = 100 (bus),
/// reading 640 DRAM bytes where its tensors hold 600.
OpRecord good_op() {
  OpRecord r;
  r.name = "fc.fwd";
  r.phase = "forward";
  r.cycles = 100;
  r.macs = 1600;
  r.macs_executed = 1200;
  r.macs_skipped = 400;
  r.skip_reason = "output_sparsity";
  r.macs_gated = 300;
  r.dram_read_bytes = 640;
  r.dram_write_bytes = 160;
  r.compulsory_read_bytes = 600;
  r.stall_cycles = 10;
  return r;
}

/// A report of that one op: phases sum to totals, energy to its breakdown.
nlohmann::json good_report() {
  nlohmann::json counts = {{"macs", 1600},           {"macs_executed", 1200},   {"macs_skipped", 400},
                           {"macs_gated", 300},      {"dram_read_bytes", 640},  {"dram_write_bytes", 160},
                           {"onchip_read_bytes", 0}, {"onchip_write_bytes", 0}, {"stall_cycles", 10}};
  nlohmann::json totals = counts;
  totals["cycles"] = 100;
  // At 1 GHz: 1200 / (16 × 100) = 0.75 of the MAC slots; 800 B / 100 ns = 8 GB/s, the peak.
  totals["utilisation"] = 0.75;
  totals["dram_gbps"] = 8.0;
  totals["seconds"] = 1e-7;
  totals["energy_pj"] = 30.0;
  nlohmann::json phase = totals;
  phase["energy_breakdown_pj"] = {{"toy.mac", 20.0}, {"toy.leakage", 10.0}};
  return {{"clock_ghz", 1.0},
          {"totals", totals},
          {"phases", {{"forward", phase}}},
          {"energy_breakdown_pj", {{"toy.mac", 20.0}, {"toy.leakage", 10.0}}},
          {"memory", {{"peak_bytes", 5000}, {"saved_after_forward_bytes", 1000}}},
          {"roofline", {{"peak_macs_per_cycle", 16.0}, {"peak_dram_gbps", 8.0}}},
          {"stats", {{"toy", {{"folds", 7}}}}}};
}

void check(const nlohmann::json& rep) { laws::check_report(rep, kBounds, 640, 160); }

}  // namespace

TEST_CASE("laws: a consistent op and report pass", "[core][laws]") {
  CHECK_NOTHROW(laws::check_op(good_op(), kBounds));
  CHECK_NOTHROW(check(good_report()));
}

TEST_CASE("laws: each per-op law fires on a broken record", "[core][laws]") {
  OpRecord r = good_op();
  r.macs_skipped = 300;  // 1200 + 300 ≠ 1600
  CHECK_THROWS_WITH(laws::check_op(r, kBounds), Contains("'mac_balance'") && Contains("op 'fc.fwd'") &&
                                                    Contains("macs 1600") &&
                                                    Contains("macs_executed 1200 + macs_skipped 300"));

  r = good_op();
  r.skip_reason.clear();
  CHECK_THROWS_WITH(laws::check_op(r, kBounds), Contains("'skip_reason'") && Contains("400 MACs skipped"));

  r = good_op();
  r.macs_gated = 1201;
  CHECK_THROWS_WITH(laws::check_op(r, kBounds),
                    Contains("'gated_within_executed'") && Contains("1201 > macs_executed 1200"));

  r = good_op();
  r.cycles = 73;  // 1200 / 16 = 75 cycles at least (one cycle of rounding allowed: 74)
  r.dram_read_bytes = r.compulsory_read_bytes = r.dram_write_bytes = 0;
  CHECK_THROWS_WITH(laws::check_op(r, kBounds),
                    Contains("'compute_bound'") && Contains("cycles 73 < macs_executed 1200"));
  // 74 cycles pass compute_bound's whole-cycle allowance but not the utilisation the
  // report would show: 1200 / (16 × 74) = 1.0135.
  r.cycles = 74;
  r.stall_cycles = 0;
  CHECK_THROWS_WITH(laws::check_op(r, kBounds),
                    Contains("'utilisation_at_most_one'") && Contains("op 'fc.fwd'") && Contains("> 1"));
  r.cycles = 75;
  CHECK_NOTHROW(laws::check_op(r, kBounds));

  r = good_op();
  r.stall_cycles = 101;
  CHECK_THROWS_WITH(laws::check_op(r, kBounds),
                    Contains("'stall_within_cycles'") && Contains("stall_cycles 101 > cycles 100"));

  r = good_op();
  r.cycles = 99;  // bandwidth_bound allows 99 + 1 ≥ 800 / 8; the achieved 800 / 99 = 8.08 B per cycle does not
  CHECK_THROWS_WITH(laws::check_op(r, kBounds), Contains("'bandwidth_at_most_peak'") && Contains("dram_gbps 8.08"));

  r = good_op();
  r.cycles = 98;  // (640 + 160) / 8 = 100 cycles of bus at least
  CHECK_THROWS_WITH(laws::check_op(r, kBounds), Contains("'bandwidth_bound'") && Contains("DRAM bytes 800"));

  r = good_op();
  r.dram_read_bytes = 599;
  r.dram_write_bytes = 0;
  CHECK_THROWS_WITH(laws::check_op(r, kBounds), Contains("'compulsory_reads'") && Contains("599 < 600"));

  r = good_op();
  r.macs_executed = r.macs_skipped = r.macs_gated = r.macs = 0;
  r.macs = r.macs_executed = 10;
  r.skip_reason.clear();
  const LawBounds none{0.0, 8.0};  // an accelerator that declares no MAC units
  CHECK_THROWS_WITH(laws::check_op(r, none), Contains("'compute_bound'") && Contains("declares no MAC units"));
}

TEST_CASE("laws: each whole-run law fires on a broken report", "[core][laws]") {
  nlohmann::json rep = good_report();
  rep["phases"]["forward"]["macs_executed"] = 1100;
  CHECK_THROWS_WITH(check(rep), Contains("'phases_sum_to_totals'") && Contains("totals.macs_executed") &&
                                    Contains("sum over phases 1100 != total 1200"));

  rep = good_report();
  rep["totals"]["energy_pj"] = 31.0;
  CHECK_THROWS_WITH(check(rep), Contains("'energy_breakdown'") && Contains("totals.energy_pj"));

  rep = good_report();
  rep["phases"]["forward"]["energy_breakdown_pj"]["toy.mac"] = 19.0;
  CHECK_THROWS_WITH(check(rep), Contains("'energy_breakdown'") && Contains("phases.forward.energy_pj"));

  rep = good_report();
  rep["totals"]["cycles"] = 60;  // the run's 1200 MACs need 75 cycles
  CHECK_THROWS_WITH(check(rep), Contains("'compute_bound'") && Contains("the run"));

  rep = good_report();
  CHECK_THROWS_WITH(laws::check_report(rep, kBounds, 704, 160),
                    Contains("'dram_bytes_attributed'") && Contains("ops read 640") && Contains("moved 704"));

  rep = good_report();
  rep["memory"]["peak_bytes"] = 999;
  CHECK_THROWS_WITH(check(rep), Contains("'peak_holds_saved'") && Contains("999 < saved_after_forward_bytes 1000"));

  rep = good_report();
  rep["stats"]["toy"]["ratio"] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(check(rep), Contains("'finite_non_negative'") && Contains("report.stats.toy.ratio"));
  rep = good_report();
  rep["totals"]["seconds"] = -1e-9;
  CHECK_THROWS_WITH(check(rep), Contains("'finite_non_negative'") && Contains("report.totals.seconds"));
  // The figures as written, in totals, a phase and an op entry.
  rep = good_report();
  rep["totals"]["utilisation"] = 1.01;
  CHECK_THROWS_WITH(check(rep), Contains("'utilisation_at_most_one'") && Contains("the run"));
  rep = good_report();
  rep["phases"]["forward"]["dram_gbps"] = 8.1;
  CHECK_THROWS_WITH(check(rep), Contains("'bandwidth_at_most_peak'") && Contains("phases.forward"));
  rep = good_report();
  rep["phases"]["forward"]["stall_cycles"] = 101;
  rep["totals"]["stall_cycles"] = 101;
  CHECK_THROWS_WITH(check(rep), Contains("'stall_within_cycles'") && Contains("phases.forward"));
  rep = good_report();
  rep["ops"] = {{{"name", "fc.fwd"},
                 {"cycles", 5},
                 {"stall_cycles", 6},
                 {"utilisation", nullptr},
                 {"dram_gbps", 0.0},
                 {"onchip_gbps", 0.0},
                 {"macs_per_dram_byte", nullptr},
                 {"gmacs_per_s", 0.0}}};  // an entry as written, with its figures
  CHECK_THROWS_WITH(check(rep), Contains("'stall_within_cycles'") && Contains("op 'fc.fwd'"));
  // An entry as the report holds it in memory, without figures: they are derived from its
  // counts. 1700 MACs in 100 cycles on 16 MAC slots: 1700 / 1600 = 1.0625 > 1; 900 DRAM
  // bytes in 100 ns = 9 GB/s > 8.
  nlohmann::json held = {{"name", "fc.fwd"},       {"cycles", 100},          {"stall_cycles", 0},
                         {"macs_executed", 1700},  {"dram_read_bytes", 640}, {"dram_write_bytes", 160},
                         {"onchip_read_bytes", 0}, {"onchip_write_bytes", 0}};
  rep = good_report();
  rep["ops"] = nlohmann::json::array({held});
  CHECK_THROWS_WITH(check(rep), Contains("'utilisation_at_most_one'") && Contains("op 'fc.fwd'") &&
                                    Contains("utilisation 1.0625 > 1"));
  held["macs_executed"] = 1200;
  held["dram_read_bytes"] = 740;
  rep["ops"] = nlohmann::json::array({held});
  CHECK_THROWS_WITH(check(rep),
                    Contains("'bandwidth_at_most_peak'") && Contains("op 'fc.fwd'") && Contains("dram_gbps 9"));
  held["dram_read_bytes"] = 640;
  rep["ops"] = nlohmann::json::array({held});
  CHECK_NOTHROW(check(rep));
  rep = good_report();
  rep["totals"]["utilisation"] = nullptr;  // undefined (no MAC units): nothing to bound
  CHECK_NOTHROW(check(rep));

  rep = good_report();
  rep["stats"]["toy"]["delta"] = -3;
  CHECK_THROWS_WITH(check(rep), Contains("'finite_non_negative'") && Contains("report.stats.toy.delta"));
}
