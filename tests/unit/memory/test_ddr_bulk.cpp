// The bulk path tile-level models use: the commands a streaming access of those bytes
// causes, and a completion time from the same timing parameters (DDR4-2400 preset:
// tBL 4, tRCD = CL = CWL = 16, tRFC 420, tREFI 9364, 0.833 ns cycles, 8 KiB rows).
#include <catch2/catch.hpp>

#include "sim/memory/dram_system.h"
#include "tests/unit/memory/ddr_test_util.h"

using namespace bpsim;
using namespace bpsim::memory;
using namespace bpsim::memory::testing;

namespace {
/// 1 MiB = 16,384 bursts of 64 B; bus bound 4 cycles each = 65,536 cycles, stretched by
/// refresh to ceil(65,536 × 9364 / (9364 − 420)) = 68,614; plus the first access's
/// tRCD + CL + tBL = 36 (reads) or tRCD + CWL + tBL = 36 (writes; CWL = CL here).
constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kMiBCycles = 68614 + 36;
}  // namespace

TEST_CASE("ddr bulk: a streaming MiB counts rows touched, bursts and bytes", "[memory]") {
  DdrSpec s = preset();
  DramSystem dram("bulk_counts", s);
  const uint64_t end_ps = dram.transfer(0, kMiB, false, 0);
  CHECK(end_ps == uint64_t(double(kMiBCycles) * 833.0));
  const DdrCounters& c = dram.counters();
  CHECK(c.rd == 16384);
  CHECK(c.act == kMiB / 8192);  // each 8 KiB row opened once (bank groups interleave 4 rows)
  CHECK(c.pre == c.act);
  CHECK(c.read_bytes == kMiB);
  CHECK(dram.read_bytes() == kMiB);
  CHECK(dram.write_bytes() == 0);
  // A misaligned 128 B write touches bursts 1 and 2 and bank groups 1 and 2: 2 rows.
  dram.transfer(64, 128, true, end_ps);
  CHECK(c.wr == 2);
  CHECK(c.act == kMiB / 8192 + 2);
}

TEST_CASE("ddr bulk: successive transfers serialize, an idle gap starts later", "[memory]") {
  DramSystem dram("bulk_serial", preset());
  const uint64_t a = dram.transfer(0, kMiB, false, 0);
  const uint64_t b = dram.transfer(kMiB, kMiB, false, 0);
  // The second stream starts when the first one's bursts are issued (its tail latency of
  // 36 cycles overlaps): end = (68,650 − 36) + 68,650 cycles.
  CHECK(a == uint64_t(double(kMiBCycles) * 833.0));
  CHECK(b == uint64_t(double(2 * kMiBCycles - 36) * 833.0));
  // Issued after both finish (137,264 cycles = 114.3 µs): starts at its issue time
  // (200 µs = 240,097 cycles, rounded up), ends one MiB-duration later.
  const uint64_t c = dram.transfer(0, kMiB, true, 200'000'000);
  CHECK(c == uint64_t(double(240097 + kMiBCycles) * 833.0));
}

TEST_CASE("ddr bulk: refreshes over the elapsed time, per rank", "[memory]") {
  DramSystem dram("bulk_ref", preset());
  dram.transfer(0, 16 * kMiB, false, 0);
  // 16 MiB: ceil(262,144 × 4 × 9364 / 8944) + 36 = 1,097,852 cycles;
  // floor(1,097,808 / 9364) = 117 intervals × 2 ranks = 234 refreshes.
  const ActionCounts a = dram.take_actions();
  CHECK(a.count(dram_actions().ref) == 234);
  CHECK(a.count(dram_actions().rd_burst) == 262144);
  // take_actions hands out deltas, only those that are not zero: nothing new since the last call.
  const ActionCounts again = dram.take_actions();
  CHECK(again.empty());
}

TEST_CASE("ddr bulk: activation-bound when every burst opens a new row", "[memory]") {
  // RoCoRaBaBgCh puts bank group, bank and rank (5 bits) below the column, so 32
  // consecutive bursts touch 32 rows. The ACT bound is max(tRRD_S 4, tFAW/4 = 6.5) cycles
  // per ACT: 32 × 6.5 = 208, above the bus bound 32 × tBL = 128; × 9364/8944 → ceil(217.8)
  // = 218, + 36 = 254. (The bulk path applies tFAW per channel, not per rank: conservative
  // by up to the rank count when activations spread over ranks.)
  DramSystem dram("bulk_act", preset({"memory.mapping=RoCoRaBaBgCh"}));
  CHECK(dram.transfer(0, 32 * 64, false, 0) == uint64_t(254 * 833.0));
  CHECK(dram.counters().act == 32);
}

TEST_CASE("ddr bulk: HBM2 channels keep their own busy time", "[memory]") {
  // hbm2 preset: 8 channels, mapping RoRaBaCoBgCh puts the 3 channel bits right above the
  // 64 B burst offset, so burst n is in channel n mod 8. tBL 2, tRCD = CL = 14, tCK 1 ns.
  DramSystem dram("bulk_hbm", ddr_spec_from(preset_values("hbm2.yaml")));
  const AddressMapper m(dram.spec());
  CHECK(m.channel_bursts(0, 64 * 20, 0) == 3);  // bursts 0, 8, 16
  CHECK(m.channel_bursts(0, 64 * 20, 3) == 3);  // 3, 11, 19
  CHECK(m.channel_bursts(0, 64 * 20, 4) == 2);  // 4, 12
  CHECK(m.channel_bursts(64 * 5, 64, 5) == 1);
  // One burst: ceil(max(tBL 2, ACT bound max(tRRD_S 4, tFAW 30 / 4)) × 3900 / 3640) = ceil(7.5
  // × 1.0714) = 9 cycles, + tRCD + CL + tBL = 30: 39 cycles = 39 ns.
  CHECK(dram.transfer(0, 64, false, 0) == 39000);
  CHECK(dram.transfer(64, 64, false, 0) == 39000);  // channel 1 was idle: no wait
  // Channel 0 again: starts when its first burst left (39 − 30 = 9), ends 9 + 39 = 48.
  CHECK(dram.transfer(512, 64, false, 0) == 48000);
}
