#pragma once
/// Turns a network into the op graph of one training step (forward, backward, update)
/// under a memory policy, and accounts its memory as PyTorch eager autograd would.
#include <string>
#include <vector>

#include "sim/workload/ir.h"
#include "sim/workload/spec.h"

namespace bpsim::workload {

struct Policy {
  enum class Kind { none, checkpoint, checkpoint_sequential, full_recompute };
  Kind kind = Kind::none;
  unsigned segments = 0;  ///< checkpoint_sequential
  std::string name() const;
};

/// Segment id of each of n top-level layers under `policy` (-1: not checkpointed).
/// Throws InputError for more segments than layers.
std::vector<int> checkpoint_segments(const Policy& policy, size_t n);

/// Builds the step. Throws InputError for shape mismatches (naming the layer and both
/// shapes) and impossible policies (more segments than layers).
OpGraph build_step(const NetSpec& net, const Policy& policy);

/// Liveness walk: fills g.memory.saved_after_forward_bytes and peak_bytes. Weights, the
/// network input and optimizer state are persistent and not counted; a tensor lives from
/// the op that writes it to the last op that reads it; weight gradients live to the end.
void account_memory(OpGraph& g);

}  // namespace bpsim::workload
