#pragma once
/// On-chip SRAM buffers, as every model declares them: leakage by capacity (one unit per
/// KiB) and access energy priced from the energy table's reference points (64-bit reads
/// and writes at 8 KiB, 32 KiB and 1 MiB, Horowitz 2014).
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/energy.h"

namespace bpsim::memory {

/// The table's reference actions (sram.read_64b_8kib, …).
std::vector<ActionDecl> sram_reference_actions();
/// The SRAM leakage unit, one KiB of capacity ("sram.kib"): leakage grows with the cells.
ActionDecl sram_leakage_unit();
/// `bytes` of SRAM as a leaking part of `component` (e.g. "systolic.sram").
LeakingPart sram_leakage(const std::string& component, uint64_t bytes);
/// pJ per 64-bit access of a buffer of `capacity_bytes`: log-linear interpolation over the
/// capacity between the table's points (extrapolated along the nearest segment outside).
double sram_access_pj(const EnergyTable& table, uint64_t capacity_bytes, bool write);

}  // namespace bpsim::memory
