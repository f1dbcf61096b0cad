#pragma once
/// What one op cost on an accelerator: the record a model fills and the framework prices,
/// checks against the conservation laws and writes to the report (docs/report.md).
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/core/energy.h"

namespace bpsim {

/// What one op cost. Energy is priced later from `actions` (counting ≠ pricing).
struct OpRecord {
  std::string name;
  std::string phase;  ///< workload::to_string(Phase)
  std::string kind;   ///< workload::to_string(OpKind), or a model's own ("traffic")
  std::string layer;  ///< the workload layer the op belongs to ("conv1" for "conv1.fwd"); "" when unknown
  uint64_t start_cycle = 0;
  uint64_t cycles = 0;
  uint64_t macs = 0;           ///< asked for by the workload
  uint64_t macs_executed = 0;  ///< issued to compute units (gated ones included)
  uint64_t macs_skipped = 0;   ///< not issued, for `skip_reason`: macs = executed + skipped (a law)
  uint64_t macs_gated = 0;     ///< issued but power-gated (≤ executed)
  std::string skip_reason;     ///< why MACs were skipped ("output_sparsity", "zero_activations")
  /// Bytes of the tensors the op reads that live in DRAM and that it must therefore read
  /// at least once (0 where the model keeps them on chip or computes inside DRAM).
  uint64_t compulsory_read_bytes = 0;
  uint64_t dram_read_bytes = 0, dram_write_bytes = 0;
  uint64_t onchip_read_bytes = 0, onchip_write_bytes = 0;
  /// Cycles of the op in which its compute units waited instead of computing, as the model
  /// counts them (docs/report.md, "Stall cycles"): ≤ cycles (a law).
  uint64_t stall_cycles = 0;
  ActionCounts actions;
  nlohmann::json extra = nlohmann::json::object();  ///< model-specific per-op figures
  /// More figures of `extra`, shared by the ops of one shape that a model costs once (the
  /// systolic array's memo) rather than copied into each op: the report shows the op's
  /// extra as these keys and `extra`'s together (a model keeps the two sets disjoint).
  std::shared_ptr<const nlohmann::json> shared_extra;
};

/// The op's extra as the report shows it: `extra` with `shared_extra`'s keys added.
inline nlohmann::json reported_extra(const OpRecord& r) {
  if (!r.shared_extra) return r.extra;
  nlohmann::json j = *r.shared_extra;
  for (const auto& [k, v] : r.extra.items()) j[k] = v;
  return j;
}

}  // namespace bpsim
