#pragma once
/// What the engine needs from the memory system: its schema, its energy actions and a
/// constructor.
#include <memory>
#include <string>
#include <vector>

#include "sim/core/energy.h"
#include "sim/core/params.h"
#include "sim/memory/memory_system.h"

namespace bpsim::memory {

/// The whole `memory:` section.
std::shared_ptr<const config::Schema> memory_schema();
/// Every energy action the memory system and SRAM buffers count.
std::vector<ActionDecl> memory_actions();
/// Builds the memory system (an sc_module) before sc_start; registers DRAM prices
/// derived from IDD currents into `prices`.
std::unique_ptr<MemorySystem> make_memory_system(const config::Values& memory, EnergyTable& prices,
                                                 const std::string& name);

}  // namespace bpsim::memory
