#pragma once
/// Memory accounting of a step as PyTorch eager autograd allocates it: a tensor lives from
/// the op that writes it to the last op that reads it.
#include <cstdint>
#include <vector>

#include "sim/ir/ir.h"

namespace bpsim::workload {

/// Bytes live while each op runs (its outputs allocated, nothing it frees yet freed): the
/// liveness walk of account_memory, op by op.
std::vector<uint64_t> memory_timeline(const OpGraph& g);

/// The liveness walk's allocation events, by op: tensors allocated just before it runs and
/// freed just after (a trace writes them as alloc/free records).
struct LiveEvents {
  std::vector<std::vector<uint32_t>> alloc_before, free_after;
};
LiveEvents live_events(const OpGraph& g);

/// Liveness walk: fills g.memory.saved_after_forward_bytes and peak_bytes. Weights, the
/// network input and optimizer state are persistent and not counted; a tensor lives from
/// the op that writes it to the last op that reads (or holds, Op::holds) it; weight
/// gradients live to the end.
void account_memory(OpGraph& g);

}  // namespace bpsim::workload
