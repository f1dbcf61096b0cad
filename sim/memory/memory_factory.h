#pragma once
/// What the engine needs from the memory system: its schema, its energy actions and
/// leakage units, and a constructor.
#include <memory>
#include <string>
#include <vector>

#include "sim/core/energy.h"
#include "sim/core/params.h"
#include "sim/memory/memory_system.h"

namespace bpsim::memory {

class DramSystem;

/// The whole `memory:` section.
std::shared_ptr<const config::Schema> memory_schema();
/// Every energy action the memory system and SRAM buffers count.
std::vector<ActionDecl> memory_actions();
/// Leakage units of the DRAM system ("dram", its background power, priced from the
/// preset's IDD3N) and of SRAM ("sram.kib").
std::vector<ActionDecl> memory_leakage_units();
/// The DRAM system's background power, charged for the whole run when the accelerator's
/// kind declares MemoryUse::dram (a model that never touches DRAM is not charged).
LeakingPart dram_background();
/// Registers the DRAM prices derived from the preset's IDD currents into `prices` (what
/// make_memory_system does, without building the device: per-op energy estimates made before
/// the run); returns the bytes of one burst.
uint64_t price_memory(const config::Values& memory, EnergyTable& prices);
/// Builds the memory system (an sc_module) before sc_start; registers DRAM prices
/// derived from IDD currents into `prices`.
std::unique_ptr<DramSystem> make_memory_system(const config::Values& memory, EnergyTable& prices,
                                               const std::string& name);

}  // namespace bpsim::memory
