// bpsim run on the traffic model through the whole DRAM path (TLM socket, controller
// queue, command scheduler): the per-bank indexed scheduler reproduces the commands of the
// queue scan it replaced. The expected figures are that scan's, read from report.json of
// the same runs on main at 9a43e3b (before the index); they are not derivable by hand,
// which the unit test's command-by-command comparison (test_ddr_scheduler.cpp) covers.
// What does follow by hand, and holds in every row: rd + wr = the 20,000 requests (one
// column command each); row hits + misses + conflicts = 20,000 (each request is classified
// once); under the closed-page policy every request opens and closes its own row, so
// act = pre = rd = misses = 20,000 and there are no hits; a read-only stream has wr = 0;
// DDR4 refreshes = ⌊2 ranks × cycles / tREFI⌋ (tREFI 9,364 cycles: 152,018 → 32,
// 271,396 → 57, 98,667 → 21).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;

namespace {

struct Expected {
  const char* what;
  std::string config;  ///< text of the config file
  uint64_t cycles, act, pre, rd, wr, ref, hits, misses, conflicts, queue_full;
  double latency;  ///< avg_latency_cycles as the report rounds it
};

std::string traffic(const std::string& memory_file, const std::string& accelerator, const std::string& memory,
                    unsigned seed) {
  const std::string dir = std::string(BPSIM_SOURCE_DIR) + "/configs/";
  return "include: [" + dir + "memory/" + memory_file + ", " + dir +
         "energy/45nm.yaml]\naccelerator: {kind: traffic, " + accelerator + "}\nmemory: {" + memory +
         "}\nrun: {seed: " + std::to_string(seed) + "}\n";
}

}  // namespace

TEST_CASE("cli run: the indexed DRAM scheduler issues the queue scan's commands", "[cli][ddr_scheduler]") {
  const Expected cases[] = {
      {"random, FR-FCFS, queue 8",
       traffic("ddr4_2400.yaml", "pattern: random, read_fraction: 0.67, rate_per_ns: 0, requests: 20000",
               "queue_depth: 8", 1),
       152018, 20023, 19991, 13438, 6562, 32, 0, 488, 19512, 111682, 80.5236},
      {"stream, closed page",
       traffic("ddr4_2400.yaml", "pattern: stream, read_fraction: 1.0, rate_per_ns: 0, requests: 20000",
               "page_policy: closed", 1),
       271396, 20000, 20000, 20000, 0, 57, 0, 20000, 0, 239401, 454.0206},
      {"stream with writes, queue 16",
       traffic("ddr4_2400.yaml", "pattern: stream, read_fraction: 0.6, rate_per_ns: 0, requests: 20000",
               "queue_depth: 16", 1),
       98667, 203, 191, 12050, 7950, 21, 19797, 203, 0, 24165, 95.4871},
      {"HBM2 random, FCFS",
       traffic("hbm2.yaml", "pattern: random, read_fraction: 0.5, rate_per_ns: 0, requests: 20000", "scheduler: fcfs",
               3),
       80990, 20000, 19873, 10151, 9849, 160, 0, 2615, 17385, 80027, 516.6972},
  };
  Scratch s("ddr_scheduler");
  for (const Expected& e : cases) {
    INFO(e.what);
    const std::string cfg = s.file("t.yaml", e.config);
    const CliResult r = run_bpsim("run " + cfg + " --quiet --force --out " + (s / "out"));
    INFO(r.err);
    REQUIRE(r.code == 0);
    const auto rep = nlohmann::json::parse(slurp(s / "out/report.json"));
    const auto& m = rep["stats"]["memory"];
    CHECK(rep["totals"]["cycles"] == e.cycles);
    CHECK(m["act_count"] == e.act);
    CHECK(m["pre_count"] == e.pre);
    CHECK(m["rd_count"] == e.rd);
    CHECK(m["wr_count"] == e.wr);
    CHECK(m["ref_count"] == e.ref);
    CHECK(m["row_hits"] == e.hits);
    CHECK(m["row_misses"] == e.misses);
    CHECK(m["row_conflicts"] == e.conflicts);
    CHECK(m["queue_full_stall_cycles"] == e.queue_full);
    CHECK(m["avg_latency_cycles"].get<double>() == Approx(e.latency).epsilon(1e-9));
  }
}

TEST_CASE("cli run: a request arriving as the DRAM scheduler wakes is decided at that cycle", "[cli][ddr_scheduler]") {
  // HBM2 (tCK 1 ns, tRCD = CL = 14, tBL 2; channels in the lowest address bits above the
  // 64 B burst): a stream sends request i to channel i at 14 i ns, one per tRCD. Each idle
  // channel opens its row at once: ACT at 14 i, RD at 14 i + 14, data ends 14 i + 30. So
  // request i arrives exactly when the scheduler wakes for request i − 1's RD; the tie rule
  // (docs: README, "The memory system") has that decision see it, ACT at 14 i, not 14 i + 1.
  // Every request: 30 cycles = 30 ns; the run ends with the last data at 14 × 7 + 30 = 128;
  // 8 × 64 B in 128 ns = 4 GB/s. (Before the rule, main at 5d5870c gave 30.25: two ACTs
  // one cycle late, as the kernel happened to order the two same-time wake-ups.)
  Scratch s("ddr_tie");
  const std::string cfg =
      s.file("t.yaml",
             traffic("hbm2.yaml", "pattern: stream, read_fraction: 1.0, rate_per_ns: 0.07142857142857142, requests: 8",
                     "scheduler: fr_fcfs", 1));
  const CliResult r = run_bpsim("run " + cfg + " --quiet --force --out " + (s / "out"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto rep = nlohmann::json::parse(slurp(s / "out/report.json"));
  const auto& m = rep["stats"]["memory"];
  CHECK(rep["totals"]["cycles"] == 128);
  CHECK(m["act_count"] == 8);
  CHECK(m["rd_count"] == 8);
  CHECK(m["avg_latency_cycles"].get<double>() == 30.0);
  const auto& extra = rep["ops"][0]["extra"];
  CHECK(extra["avg_latency_ns"].get<double>() == Approx(30.0).epsilon(1e-12));
  CHECK(extra["achieved_bandwidth_gbps"].get<double>() == Approx(4.0).epsilon(1e-12));
}
