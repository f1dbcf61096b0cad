#pragma once
/// An on-chip SRAM buffer: capacity, banks, ports and bandwidth; it times accesses and
/// counts them as energy actions of its own instance, priced from the energy table's
/// reference points (64-bit reads and writes at 8 KiB, 32 KiB and 1 MiB, Horowitz 2014).
#include <cstdint>
#include <memory>
#include <string>

#include "sim/core/energy.h"
#include "sim/core/params.h"

namespace bpsim::memory {

/// Zero until parsed, not defaulted: sram_schema() declares the defaults.
struct SramSpec {
  uint64_t capacity_bytes{};
  unsigned banks{}, ports{};
  unsigned bytes_per_cycle{};  ///< per port
};

/// The parameters a model embeds for each of its buffers (a group).
std::shared_ptr<const config::Schema> sram_schema();
SramSpec sram_spec_from(const config::Values& v);
/// The table's reference actions (sram.read_64b_8kib, …).
std::vector<ActionDecl> sram_reference_actions();
/// The SRAM leakage unit, one KiB of capacity ("sram.kib"): leakage grows with the cells.
ActionDecl sram_leakage_unit();
/// `bytes` of SRAM as a leaking part of `component` (e.g. "systolic.sram").
LeakingPart sram_leakage(const std::string& component, uint64_t bytes);
/// pJ per 64-bit access of a buffer of `capacity_bytes`: log-linear interpolation over the
/// capacity between the table's points (extrapolated along the nearest segment outside).
double sram_access_pj(const EnergyTable& table, uint64_t capacity_bytes, bool write);

class Sram {
 public:
  /// Registers the instance's prices (`<name>.read_64b`, `<name>.write_64b`) in `prices`.
  Sram(std::string name, const SramSpec& spec, EnergyTable& prices);
  /// Cycles to move `bytes` through all ports and banks at full bandwidth.
  uint64_t access_cycles(uint64_t bytes) const;
  /// Counts an access into `actions` (64-bit words, rounded up) and the byte counters.
  void count(uint64_t bytes, bool write, ActionCounts& actions);
  const SramSpec& spec() const { return m_spec; }
  uint64_t read_bytes() const { return m_read; }
  uint64_t write_bytes() const { return m_write; }
  const std::string& name() const { return m_name; }

 private:
  std::string m_name;
  SramSpec m_spec;
  uint64_t m_read = 0, m_write = 0;
};

}  // namespace bpsim::memory
