#pragma once
/// What accelerator models see of the memory system. Tile-level models move whole
/// operand blocks with `transfer` (time skipping); per-request models (the `traffic`
/// generator) use the TLM-2.0 target socket of the concrete DRAM module.
#include <cstdint>
#include <string>

#include "sim/core/energy.h"
#include "sim/core/stats.h"

namespace bpsim::memory {

/// The DRAM system's energy vocabulary: its commands (priced from the preset's IDD
/// currents) and its background power, the one leakage unit it is charged in.
struct DramActions {
  Vocabulary vocabulary{"dram"};
  const Action act = vocabulary.add("act", "one row activation (one rank)");
  const Action pre = vocabulary.add("pre", "one precharge (one rank)");
  const Action rd_burst = vocabulary.add("rd_burst", "one read burst over the channel");
  const Action wr_burst = vocabulary.add("wr_burst", "one write burst over the channel");
  const Action ref = vocabulary.add("ref", "one refresh command (one rank)");
  Vocabulary units{""};
  const Action background = units.add("dram", "the DRAM system's background power (priced from the preset's IDD3N)");
};
const DramActions& dram_actions();

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
  /// The counters the memory system registered in m_stats, as they stand now, into `group`.
  void report_stats(StatGroup& group) const { m_stats.write_to(group); }
  /// Bytes read / written over the DRAM interface since construction.
  virtual uint64_t read_bytes() const = 0;
  virtual uint64_t write_bytes() const = 0;

 protected:
  StatGroup m_stats;  ///< registered once, by reference, at construction
};

}  // namespace bpsim::memory
