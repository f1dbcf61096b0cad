#pragma once
/// Turns a network into the op graph of one training step (forward, backward, update)
/// under a memory policy, and accounts its memory as PyTorch eager autograd would.
#include <string>
#include <vector>

#include "sim/workload/ir.h"
#include "sim/workload/plan.h"
#include "sim/workload/policy.h"
#include "sim/workload/spec.h"

namespace bpsim::workload {

struct Policy {
  enum class Kind {
    none, checkpoint, checkpoint_sequential, full_recompute, threshold, evaluation, optimal, sparse_storage,
    confidence_skip, reversible
  };
  Kind kind = Kind::none;
  unsigned segments = 0;   ///< checkpoint_sequential
  double threshold = 0;    ///< threshold: a node whose recompute cost / stored bytes exceeds it is stored
  uint64_t budget_bytes = 0;  ///< evaluation, optimal: the peak to fit
  CostModel cost;          ///< threshold, evaluation, optimal: what recomputing costs
  /// sparse_storage: fraction of non-zero elements in stored activations; negative: each
  /// ReLU output at its layer's density, other activations dense.
  double density = -1;
  unsigned index_bits = 16;  ///< sparse_storage: bits per stored offset (index delta)
  /// confidence_skip: per-sample confidence ~ Beta(a, b), or, when `histogram` is given,
  /// drawn from its equal-width bins over [0, 1] (weights); the allowable share of the
  /// gradient mass (Σ 1 − confidence) that skipped samples may drop; the seed of the draw.
  double beta_a = 8, beta_b = 2;
  std::vector<double> histogram;
  double allowable_error = 0.05;
  uint64_t seed = 1;
  std::string name() const;
};

/// Parses a policy name as the CLI writes it; false for an unknown name.
bool policy_kind_from_string(const std::string& s, Policy::Kind& out);
/// Every policy name, in Policy::Kind order.
std::vector<std::string> policy_kinds();
/// "none, checkpoint, …" for messages.
std::string policy_kind_names();

/// Segment id of each of n top-level layers under `policy` (-1: not checkpointed).
/// Throws InputError for more segments than layers.
std::vector<int> checkpoint_segments(const Policy& policy, size_t n);

/// Builds the step. Throws InputError for shape mismatches (naming the layer and both
/// shapes) and impossible policies (more segments than layers).
OpGraph build_step(const NetSpec& net, const Policy& policy);

/// Builds the step with a per-node recompute plan (policy.h: segment id per plan node,
/// -1 stored). `op_node`, when given, receives per op the plan node whose forward,
/// recompute or backward emitted it (-1: the loss and the optimizer updates).
OpGraph build_with_segments(const NetSpec& net, const NetPlan& plan, const std::vector<int>& node_seg,
                            std::vector<int>* op_node = nullptr);

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
/// the op that writes it to the last op that reads it; weight gradients live to the end.
void account_memory(OpGraph& g);

}  // namespace bpsim::workload
