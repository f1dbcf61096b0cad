#include "sim/memory/memory_factory.h"

#include <fmt/format.h>

#include "sim/memory/dram_system.h"
#include "sim/memory/sram.h"

namespace bpsim::memory {

std::shared_ptr<const config::Schema> memory_schema() { return ddr_schema(); }

const DramActions& dram_actions() {
  static const DramActions a;
  return a;
}

namespace {
std::vector<ActionDecl> joined(std::vector<ActionDecl> a, const std::vector<ActionDecl>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
}  // namespace

std::vector<ActionDecl> memory_actions() {
  return joined(dram_actions().vocabulary.decls(), sram_actions().vocabulary.decls());
}

std::vector<ActionDecl> memory_leakage_units() {
  return joined(dram_actions().units.decls(), sram_actions().units.decls());
}

LeakingPart dram_background() { return {"dram", dram_actions().background}; }

namespace {
void price_dram(const DdrSpec& spec, EnergyTable& prices) {
  const DdrEnergy e = DdrEnergy::from(spec);
  const std::string src = fmt::format("DRAMPower formula from the IDD currents of memory preset '{}'", spec.name);
  const DramActions& a = dram_actions();
  prices.set_price(a.act, e.act_pj, src);
  prices.set_price(a.pre, e.pre_pj, src);
  prices.set_price(a.rd_burst, e.rd_pj, src);
  prices.set_price(a.wr_burst, e.wr_pj, src);
  prices.set_price(a.ref, e.ref_pj, src);
  prices.set_leakage(a.background, e.background_mw, src + " (IDD3N background)");
}
}  // namespace

uint64_t price_memory(const config::Values& memory, EnergyTable& prices) {
  const DdrSpec spec = ddr_spec_from(memory);
  price_dram(spec, prices);
  return spec.burst_bytes();
}

std::unique_ptr<DramSystem> make_memory_system(const config::Values& memory, EnergyTable& prices,
                                               const std::string& name) {
  const DdrSpec spec = ddr_spec_from(memory);
  price_dram(spec, prices);
  return std::make_unique<DramSystem>(name.c_str(), spec);
}

}  // namespace bpsim::memory
