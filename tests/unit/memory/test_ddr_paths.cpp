// DDR policies and presets beyond the basic read timing, derived by hand from the
// DDR4-2400 preset (tRCD = CL = CWL = 16, tBL = 4, tRAS 39, tRP 16, tRC 55, tCCD_L 6,
// tRTP 9, tWTR_L 9), and the energy actions the memory system declares and prices.
#include <catch2/catch.hpp>

#include <set>

#include "sim/core/energy.h"
#include "sim/memory/dram_system.h"
#include "tests/unit/memory/ddr_test_util.h"

using namespace bpsim;
using namespace bpsim::memory;
using namespace bpsim::memory::testing;

TEST_CASE("ddr: closed-page precharges after every access, so a second read re-activates", "[memory]") {
  Rig r({"memory.page_policy=closed"});
  auto& [s, c, ch, m] = r;
  auto done = drain(ch, {rd(0, addr(0, 0, 0, 5, 0)), rd(1, addr(0, 0, 0, 5, 1))}, m);
  // First: ACT 0, RD 16, data ends 36; auto-precharge at max(tRAS 39, RD + tRTP 25) = 39.
  // Second (same row, but closed): ACT at max(tRC 55, 39 + tRP 55) = 55, RD 71, end 91.
  CHECK(done[0] == 36);
  CHECK(done[1] == 91);
  CHECK(c.act == 2);
  CHECK(c.pre == 2);
  CHECK(c.row_misses == 2);
  CHECK(c.row_hits == 0);
}

TEST_CASE("ddr: a read after a write to the same bank group waits tWTR_L after the write data", "[memory]") {
  Rig r;
  auto& [s, c, ch, m] = r;
  auto done = drain(ch, {wr(0, addr(0, 0, 0, 5, 0)), rd(1, addr(0, 0, 0, 5, 1))}, m);
  // ACT 0; WR at tRCD 16, data from 16 + CWL = 32 to 36. The read may not issue before
  // 36 + tWTR_L 9 = 45 (tCCD_L alone would allow 22): data ends 45 + CL + tBL = 65.
  CHECK(done[0] == 36);
  CHECK(done[1] == 65);
  CHECK(c.wr == 1);
  CHECK(c.rd == 1);
  CHECK(c.write_bytes == 64);
  CHECK(c.read_bytes == 64);
}

TEST_CASE("ddr: FCFS serves a row conflict in order where FR-FCFS serves the pending hit first", "[memory]") {
  // Requests: row 5 col 0, row 9 col 0, row 5 col 1 (same bank).
  const std::vector<DdrRequest> reqs = {rd(0, addr(0, 0, 0, 5, 0)), rd(1, addr(0, 0, 0, 9, 0)),
                                        rd(2, addr(0, 0, 0, 5, 1))};
  Rig fr;
  auto done_fr = drain(fr.ch, reqs, fr.m);
  // FR-FCFS: the hit on row 5 (id 2) goes at RD 16 + tCCD_L 6 = 22, data end 42; then the
  // conflict: PRE at tRAS 39, ACT 55, RD 71, end 91. Two ACTs.
  CHECK(done_fr[2] == 42);
  CHECK(done_fr[1] == 91);
  CHECK(fr.c.act == 2);
  Rig fcfs({"memory.scheduler=fcfs"});
  auto done_fcfs = drain(fcfs.ch, reqs, fcfs.m);
  // FCFS: row 9 first (end 91 as above), then row 5 again: PRE no earlier than ACT 55 +
  // tRAS 39 = 94, ACT at max(94 + 16, 55 + tRC 55) = 110, RD 126, end 146. Three ACTs.
  CHECK(done_fcfs[1] == 91);
  CHECK(done_fcfs[2] == 146);
  CHECK(fcfs.c.act == 3);
}

TEST_CASE("ddr: presets give their published peak bandwidth and capacity", "[memory]") {
  // DDR4-2400: 64 B per tBL = 4 cycles of 0.833 ns = 19.21 GB/s; 2 ranks × 16 banks ×
  // 64 Ki rows × 8 KiB pages = 16 GiB.
  DdrSpec d24 = preset();
  CHECK(d24.peak_bytes_per_s() == Approx(64 / (4 * 0.833e-9)));
  CHECK(d24.capacity_bytes() == (uint64_t(16) << 30));
  // DDR4-3200: 3200 MT/s × 8 B = 25.6 GB/s.
  DdrSpec d32 = ddr_spec_from(preset_values("ddr4_3200.yaml"));
  CHECK(d32.peak_bytes_per_s() == Approx(25.6e9));
  // HBM2 (JESD235): 8 channels × 128 bit × 2 Gb/s per pin = 256 GB/s; 8 × 16 banks ×
  // 32 Ki rows × 1 KiB = 4 GiB (a 4-high stack of 8 Gb dies).
  DdrSpec hbm = ddr_spec_from(preset_values("hbm2.yaml"));
  CHECK(hbm.peak_bytes_per_s() == Approx(256e9));
  CHECK(hbm.capacity_bytes() == (uint64_t(4) << 30));
}

TEST_CASE("ddr: unknown and mistyped memory keys are input errors with the key path", "[memory]") {
  CHECK_THROWS_WITH(preset({"memory.tcl=16"}), Catch::Contains("memory.tcl: unknown key"));
  CHECK_THROWS_WITH(preset({"memory.cl=fast"}), Catch::Contains("memory.cl"));
  CHECK_THROWS_WITH(preset({"memory.mapping=RoRaBaCoBg"}), Catch::Contains("memory.mapping"));
  CHECK_THROWS_WITH(preset({"memory.scheduler=lifo"}), Catch::Contains("memory.scheduler"));
  CHECK_THROWS_AS(preset({"memory.queue_depth=0"}), InputError);
}

TEST_CASE("ddr: every action the memory system counts is declared and priced", "[memory]") {
  std::set<std::string> declared;
  for (const ActionDecl& a : memory_actions()) declared.insert(a.name);
  const DramActions& dram = dram_actions();
  EnergyTable prices;
  auto mem = make_memory_system(preset_values("ddr4_2400.yaml"), prices, "dram_actions");
  mem->transfer(0, 1 << 20, false, 0);
  mem->transfer(1 << 20, 4096, true, 0);
  const ActionCounts counted = mem->take_actions();
  CHECK(counted.size() == 5);
  for (const auto& [name, n] : counted) {
    INFO(name);
    CHECK(declared.count(name) == 1);
  }
  for (const Action* a : {&dram.act, &dram.pre, &dram.rd_burst, &dram.wr_burst, &dram.ref}) {
    INFO(a->name());
    CHECK(counted.count(*a) > 0);
    CHECK(prices.has(*a));
  }
  // PRE energy (DRAMPower): 8 devices × 1.2 V × (IDD0 48 − IDD2N 34) mA × tRP 16 × 0.833 ns.
  CHECK(prices.pj(dram.pre) == Approx(8 * 1.2 * 14 * 16 * 0.833));
  CHECK(prices.leakage_mw().at("dram") == Approx(825.6));  // 16 devices × 1.2 V × 43 mA
}
