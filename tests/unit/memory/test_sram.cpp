// SRAM energy: a buffer of any capacity priced from Horowitz's 45 nm points, and the one
// on-chip buffer component (OnChipBuffer) every model's SRAM is.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include "sim/core/config_node.h"
#include "sim/engine/engine.h"
#include "sim/memory/sram.h"

using namespace bpsim;
using namespace bpsim::memory;

namespace {
EnergyTable table_45nm() {
  config::Node n = config::load_file(std::string(BPSIM_SOURCE_DIR) + "/configs/energy/45nm.yaml");
  return EnergyTable::parse(*n.find("energy"), "energy", all_known_actions(), all_known_leakage());
}
}  // namespace

TEST_CASE("sram: access energy interpolates log-linearly in capacity", "[memory][sram]") {
  EnergyTable t = table_45nm();
  CHECK(sram_access_pj(t, 8 * 1024, false) == Approx(10.0));
  CHECK(sram_access_pj(t, 32 * 1024, false) == Approx(20.0));
  CHECK(sram_access_pj(t, 1024 * 1024, false) == Approx(100.0));
  // 16 KiB is halfway (in log2) between 8 and 32 KiB: (10 + 20) / 2 = 15 pJ.
  CHECK(sram_access_pj(t, 16 * 1024, false) == Approx(15.0));
  // 256 KiB: log2 from 15 (32 KiB) to 20 (1 MiB) is 3/5 of the way: 20 + 0.6 × 80 = 68 pJ.
  CHECK(sram_access_pj(t, 256 * 1024, true) == Approx(68.0));
}

TEST_CASE("sram: an on-chip buffer prices, counts and leaks by its capacity", "[memory][sram]") {
  EnergyTable t = table_45nm();
  Vocabulary v{"toy"};
  const Action rd = v.add("buf_read_64b", "64-bit read"), wr = v.add("buf_write_64b", "64-bit write");
  // Price = log-linear in capacity between Horowitz's points (8 KiB 10 pJ, 32 KiB 20 pJ,
  // 1 MiB 100 pJ): pJ(c) = y0 + (y1 − y0) · (log2 c − log2 c0) / (log2 c1 − log2 c0).
  // 16 KiB, one bank: 10 + 10 · (14 − 13)/(15 − 13) = 15 pJ.
  const OnChipBuffer small("toy.sram", 16 * 1024, rd, &wr);
  small.price(t);
  CHECK(t.pj(rd) == Approx(15.0));
  CHECK(t.pj(wr) == Approx(15.0));
  // 512 KiB double-buffered (2 banks): an access reaches a 256 KiB half,
  // 20 + 80 · (18 − 15)/(20 − 15) = 68 pJ; single-banked, 512 KiB: 20 + 80 · 4/5 = 84 pJ.
  const OnChipBuffer halves("toy.sram", 512 * 1024, rd, &wr, 2);
  CHECK(halves.bank_bytes() == 256 * 1024);
  halves.price(t);
  CHECK(t.pj(rd) == Approx(68.0));
  CHECK(OnChipBuffer("toy.sram", 512 * 1024, rd, &wr).access_pj(t, true) == Approx(84.0));
  // Accesses are whole 64-bit words: 17 bytes are 3 reads.
  ActionCounts n;
  halves.read(n, 17);
  halves.write(n, 16);
  CHECK(n.count(rd) == 3);
  CHECK(n.count(wr) == 2);
  // Every bank leaks: 512 KiB per copy, in sram.kib; 3 copies (e.g. clusters) 1536 KiB.
  const LeakingPart p = halves.leaking_part(3);
  CHECK(p.component == "toy.sram");
  CHECK(p.unit == "sram.kib");
  CHECK(p.count == Approx(1536.0));
  // A buffer declared without a write action counts none.
  const OnChipBuffer read_only("toy.sram", 8 * 1024, rd, nullptr);
  CHECK_THROWS_AS(read_only.write(n, 8), std::logic_error);
}
