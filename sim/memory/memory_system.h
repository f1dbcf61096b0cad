#pragma once
/// What accelerator models see of the memory system. Tile-level models move whole
/// operand blocks with `transfer` (time skipping); per-request models (the `traffic`
/// generator) use the TLM-2.0 target socket of the concrete DRAM module.
#include <cstdint>
#include <string>

#include "sim/core/energy.h"

namespace bpsim {
class StatGroup;
}

namespace bpsim::memory {

class MemorySystem {
 public:
  virtual ~MemorySystem() = default;
  /// Moves `bytes` contiguous bytes at `addr`, issued no earlier than `issue_ps`;
  /// returns the time (ps) the last byte completes. Counts commands and bytes.
  virtual uint64_t transfer(uint64_t addr, uint64_t bytes, bool is_write, uint64_t issue_ps) = 0;
  /// Peak interface bandwidth, bytes per second.
  virtual double peak_bytes_per_s() const = 0;
  virtual uint64_t capacity_bytes() const = 0;
  /// Energy actions ("dram.act", "dram.rd_burst", …) counted since the last call, so that
  /// models can attribute them to the op that caused them.
  virtual ActionCounts take_actions() = 0;
  virtual void report_stats(StatGroup& group) const = 0;
  /// Bytes read / written over the DRAM interface since construction.
  virtual uint64_t read_bytes() const = 0;
  virtual uint64_t write_bytes() const = 0;
};

}  // namespace bpsim::memory
