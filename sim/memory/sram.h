#pragma once
/// On-chip SRAM: the energy table's reference points (64-bit reads and writes at 8 KiB,
/// 32 KiB and 1 MiB, Horowitz 2014), the leakage unit capacity is charged in, and the one
/// buffer component every model's on-chip SRAM is (OnChipBuffer): priced by capacity,
/// leaking by capacity, counted through its owner's action handles.
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
/// pJ per 64-bit access of a buffer of `capacity_bytes`: log-linear interpolation over the
/// capacity between the table's points (extrapolated along the nearest segment outside).
double sram_access_pj(const EnergyTable& table, uint64_t capacity_bytes, bool write);

/// One on-chip SRAM buffer of a model (systolic operand buffers, mesh cluster SRAM). Its
/// owner declares the 64-bit read and write actions in its own vocabulary (so `bpsim list`
/// and the report keep the owner's names); the buffer prices them at its capacity, counts
/// them, and names its cells as a leaking part.
class OnChipBuffer {
 public:
  /// `component`: what its leakage is reported as ("<component>.leakage"; buffers of one
  /// component add up). `banks`: an access reaches one bank, so a bank's capacity sets the
  /// price (a double buffer is 2 banks); all banks leak. `write_64b` may be null for a
  /// buffer whose writes are not counted (then write() is a bug).
  OnChipBuffer(std::string component, uint64_t capacity_bytes, const Action& read_64b, const Action* write_64b,
               unsigned banks = 1);
  const std::string& component() const { return m_component; }
  uint64_t capacity_bytes() const { return m_capacity; }
  /// What one access reaches: capacity / banks.
  uint64_t bank_bytes() const { return m_capacity / m_banks; }
  /// pJ per 64-bit access at bank_bytes() (sram_access_pj).
  double access_pj(const EnergyTable& table, bool write) const;
  /// Sets the read (and write) action's price in `table` to access_pj; call before the run.
  void price(EnergyTable& table) const;
  /// Counts the 64-bit accesses that move `bytes` (rounded up to whole words).
  void read(ActionCounts& counts, uint64_t bytes) const;
  void write(ActionCounts& counts, uint64_t bytes) const;
  /// Its cells as a leaking part of component() ("sram.kib" × capacity in KiB × `copies`,
  /// e.g. one per cluster used): leakage grows with the cells, accessed or not.
  LeakingPart leaking_part(double copies = 1) const;

 private:
  std::string m_component;
  uint64_t m_capacity;
  const Action* m_read;
  const Action* m_write;
  unsigned m_banks;
};

}  // namespace bpsim::memory
