// DDR timing, derived by hand from the DDR4-2400 preset (configs/memory/ddr4_2400.yaml):
// tRCD = CL = 16, tBL = 4, tCCD_S/L = 4/6, tRRD_S = 4, tFAW = 26, tRFC = 420, tREFI = 9364.
#include <catch2/catch.hpp>

#include "sim/memory/dram_system.h"
#include "tests/unit/memory/ddr_test_util.h"

using namespace bpsim;
using namespace bpsim::memory;
using namespace bpsim::memory::testing;

TEST_CASE("ddr: address mapping decodes fields", "[memory]") {
  DdrSpec s = preset();
  AddressMapper m(s);
  DdrAddress a = m.decode(addr(1, 2, 3, 777, 100));
  CHECK(a.rank == 1);
  CHECK(a.bank_group == 2);
  CHECK(a.bank == 3);
  CHECK(a.row == 777);
  CHECK(a.column == 100);
  // A row holds 1024 columns × 8 B = 8 KiB = 128 bursts; with 4 bank groups interleaved
  // below the column bits, 32 KiB of consecutive bytes open 4 rows (one per bank group).
  CHECK(m.rows_touched(0, 32768) == 4);
  CHECK(m.rows_touched(0, 64) == 1);
  CHECK(m.rows_touched(0, 256) == 4);    // 4 bursts, each in another bank group
  CHECK(m.rows_touched(0, 65536) == 8);  // two sets of 4 rows
  CHECK(m.rows_touched(32768 - 64, 128) == 2);
}

TEST_CASE("ddr: closed-bank read costs tRCD + CL + tBL, a row hit tCCD_L later", "[memory]") {
  Rig r;
  auto& [s, c, ch, m] = r;
  auto done = drain(ch, {rd(0, addr(0, 0, 0, 5, 0)), rd(1, addr(0, 0, 0, 5, 1))}, m);
  CHECK(done[0] == 16 + 16 + 4);      // ACT at 0, RD at tRCD = 16, data ends CL + tBL later
  CHECK(done[1] == 16 + 6 + 16 + 4);  // same bank group: second RD tCCD_L = 6 after the first
  CHECK(c.act == 1);
  CHECK(c.row_misses == 1);
  CHECK(c.row_hits == 1);
}

TEST_CASE("ddr: a different row in the same bank is a conflict, PRE after tRAS", "[memory]") {
  Rig r;
  auto& [s, c, ch, m] = r;
  auto done = drain(ch, {rd(0, addr(0, 0, 0, 5, 0)), rd(1, addr(0, 0, 0, 9, 0))}, m);
  // Row 5: ACT 0, RD 16. PRE no earlier than max(tRAS = 39, RD + tRTP = 25) = 39;
  // ACT row 9 at max(39 + tRP = 55, tRC = 55) = 55; RD at 71; data ends 71 + 16 + 4 = 91.
  CHECK(done[1] == 91);
  CHECK(c.row_conflicts == 1);
  CHECK(c.pre == 1);
}

TEST_CASE("ddr: tFAW admits four activations per window", "[memory]") {
  Rig r;
  auto& [s, c, ch, m] = r;
  // Five rows in five banks of rank 0, bank groups 0,1,2,3,0.
  auto done = drain(ch,
                    {rd(0, addr(0, 0, 0, 1, 0)), rd(1, addr(0, 1, 0, 1, 0)), rd(2, addr(0, 2, 0, 1, 0)),
                     rd(3, addr(0, 3, 0, 1, 0)), rd(4, addr(0, 0, 1, 1, 0))},
                    m);
  // ACTs at 0, 4, 8, 12 (tRRD_S); the fifth waits for tFAW: 0 + 26 = 26. Its RD at 26 + 16
  // = 42 and data end 42 + 16 + 4 = 62 (the earlier RDs at 16, 20, 24, 28 do not collide).
  CHECK(done[3] == 12 + 16 + 16 + 4);
  CHECK(done[4] == 62);
}

TEST_CASE("ddr: an idle device refreshes every tREFI per rank", "[memory]") {
  DdrSpec s = preset();
  DdrCounters c;
  DdrChannel ch(s, c);
  // Two ranks, staggered by half an interval: rank 0 due at 0.5, 1.5, … 9.5 tREFI (10 in
  // [0, 10 tREFI)), rank 1 at 1, 2, … 9 tREFI (9, the one due at 10 tREFI not yet) = 19.
  ch.idle_until(10 * uint64_t(s.trefi));
  CHECK(c.ref == 19);
}

TEST_CASE("ddr: streaming reads reach peak × (1 − tRFC/tREFI) and the bulk path agrees", "[memory]") {
  Rig r;
  auto& [s, c, ch, m] = r;
  const uint64_t n = 40000;  // 2.5 MB: ~17 refresh intervals
  std::vector<DdrRequest> reqs;
  for (uint64_t i = 0; i < n; ++i) reqs.push_back(rd(i, i * 64));
  auto done = drain(ch, reqs, m);
  uint64_t end = 0;
  for (auto& [id, t] : done) end = std::max(end, t);
  // Bus bound: one burst per tBL = 4 cycles (bank groups alternate, so tCCD_S = 4 applies);
  // refresh removes tRFC of every tREFI: 4 n / (1 − 420/9364) = 167,513 cycles.
  const double expect = 4.0 * n / (1.0 - 420.0 / 9364.0);
  CHECK(double(end) == Approx(expect).epsilon(0.02));
  CHECK(c.row_hits > n * 99 / 100);  // 128 bursts per row visit: 4 of every 512 miss
  DramSystem dram("dram", s);
  // The bulk path (transfer, on an idle device from t = 0) returns picoseconds: tCK = 833 ps.
  CHECK(double(dram.transfer(0, n * 64, false, 0)) / 833.0 == Approx(double(end)).epsilon(0.03));
}

TEST_CASE("ddr: DRAMPower command energies from IDD currents", "[memory]") {
  DdrEnergy e = DdrEnergy::from(preset());
  // 8 devices × VDD 1.2 V × (IDD0 48 − IDD3N 43) mA × tRAS 39 × 0.833 ns = 1559.4 pJ
  CHECK(e.act_pj == Approx(8 * 1.2 * 5 * 39 * 0.833));
  // 8 × 1.2 × (IDD4R 135 − 43) × tBL 4 × 0.833 = 2942.9 pJ per 64 B burst
  CHECK(e.rd_pj == Approx(8 * 1.2 * 92 * 4 * 0.833));
  // 8 × 1.2 × (IDD5B 250 − 43) × tRFC 420 × 0.833
  CHECK(e.ref_pj == Approx(8 * 1.2 * 207 * 420 * 0.833));
  // background: 8 devices × 2 ranks × 1.2 V × 43 mA = 825.6 mW
  CHECK(e.background_mw == Approx(825.6));
}

TEST_CASE("ddr: preset errors name the key", "[memory]") {
  CHECK_THROWS_WITH(preset({"memory.trc=40"}),
                    Catch::Contains("memory.trc: tRC (40) must be at least tRAS + tRP (55)"));
  CHECK_THROWS_WITH(preset({"memory.mapping=RoRaBaCoBgXx"}), Catch::Contains("memory.mapping: unknown field 'Xx'"));
  CHECK_THROWS_WITH(preset({"memory.mapping=RoRoBaCoBgCh"}), Catch::Contains("memory.mapping: field Ro appears twice"));
  CHECK_THROWS_WITH(preset({"memory.ranks=3"}), Catch::Contains("memory.ranks: must be a power of two"));
  CHECK_THROWS_WITH(preset({"memory.trefi=100"}), Catch::Contains("memory.trefi: tREFI must exceed tRFC"));
  CHECK_THROWS_WITH(preset({"memory.idd0=10"}),
                    Catch::Contains("memory.idd0: IDD0, IDD4R, IDD4W and IDD5B must each be at least IDD3N"));
  CHECK_THROWS_WITH(preset({"memory.page_policy=lazy"}),
                    Catch::Contains("memory.page_policy: 'lazy' is not valid (expected one of: open, closed)"));
}
