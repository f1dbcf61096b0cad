#pragma once
/// On-chip SRAM energy: the energy table's reference points (64-bit reads and writes at
/// 8 KiB, 32 KiB and 1 MiB, Horowitz 2014) from which a buffer of any capacity is priced,
/// and the leakage unit its capacity is charged in.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/energy.h"

namespace bpsim::memory {

/// The table's SRAM vocabulary: one read and one write per reference point
/// (sram.read_64b_8kib, …), and the leakage unit, one KiB of capacity ("sram.kib").
struct SramActions {
  SramActions();
  Vocabulary vocabulary{"sram"};
  std::vector<Action> read_64b, write_64b;  ///< per reference point, smallest first
  Vocabulary units{"sram"};
  const Action kib = units.add("kib", "one KiB of SRAM capacity");
};
const SramActions& sram_actions();
/// `bytes` of SRAM as a leaking part of `component` (e.g. "systolic.sram"): leakage grows
/// with the cells.
LeakingPart sram_leakage(const std::string& component, uint64_t bytes);
/// pJ per 64-bit access of a buffer of `capacity_bytes`: log-linear interpolation over the
/// capacity between the table's points (extrapolated along the nearest segment outside).
double sram_access_pj(const EnergyTable& table, uint64_t capacity_bytes, bool write);

}  // namespace bpsim::memory
