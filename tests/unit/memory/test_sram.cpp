// SRAM energy: a buffer of any capacity priced from Horowitz's 45 nm points.
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
