#include "sim/memory/memory_factory.h"

#include <fmt/format.h>

#include "sim/memory/dram_system.h"
#include "sim/memory/sram.h"

namespace bpsim::memory {

std::shared_ptr<const config::Schema> memory_schema() { return ddr_schema(); }

std::vector<ActionDecl> memory_actions() {
  std::vector<ActionDecl> a = {{"dram.act", "one row activation (one rank)"},
          {"dram.pre", "one precharge (one rank)"},
          {"dram.rd_burst", "one read burst over the channel"},
          {"dram.wr_burst", "one write burst over the channel"},
          {"dram.ref", "one refresh command (one rank)"}};
  for (auto& r : sram_reference_actions()) a.push_back(r);
  return a;
}

std::vector<ActionDecl> memory_leakage_units() {
  return {{"dram", "the DRAM system's background power (priced from the preset's IDD3N)"}, sram_leakage_unit()};
}

LeakingPart dram_background() { return {"dram", "dram", 1}; }

std::unique_ptr<DramSystem> make_memory_system(const config::Values& memory, EnergyTable& prices,
                                                 const std::string& name) {
  const DdrSpec spec = ddr_spec_from(memory);
  const DdrEnergy e = DdrEnergy::from(spec);
  const std::string src = fmt::format("DRAMPower formula from the IDD currents of memory preset '{}'", spec.name);
  prices.set_price("dram.act", e.act_pj, src);
  prices.set_price("dram.pre", e.pre_pj, src);
  prices.set_price("dram.rd_burst", e.rd_pj, src);
  prices.set_price("dram.wr_burst", e.wr_pj, src);
  prices.set_price("dram.ref", e.ref_pj, src);
  prices.set_leakage("dram", e.background_mw, src + " (IDD3N background)");
  return std::make_unique<DramSystem>(name.c_str(), spec);
}

}  // namespace bpsim::memory
