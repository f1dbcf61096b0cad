#pragma once
/// Early exit in training (BranchyNet, Teerapittayanon et al. 2016): exit heads after chosen
/// layers or modules, each trained jointly with the trunk on every sample that reaches it; a
/// share of the batch leaves at each exit and skips the later layers' forward and backward
/// (docs/techniques.md, "Early exit in training"). The `training: early_exit:` key.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/binder.h"
#include "sim/core/error.h"
#include "sim/ir/ir.h"

namespace bpsim::workload {

struct NetSpec;
struct NetPlan;

/// `after`: the top-level layers or modules (by name, in forward order) each exit head reads.
/// `fraction`: the share of the batch leaving at each exit (one per exit); when absent, each
/// sample reaching an exit draws a confidence as confidence_skip does (Beta(beta_a, beta_b),
/// seeded by run.seed and the exit's index) and leaves when it is at least `threshold`.
/// `classes`: the heads' outputs (0: the network output's last dimension). Off when `after`
/// is empty.
struct EarlyExit {
  std::vector<std::string> after;
  std::vector<double> fraction;
  uint64_t classes = 0;
  double threshold = 0.9;
  double beta_a = 8, beta_b = 2;
  uint64_t seed = 1;  ///< run.seed (the loader sets it)
  Location where;     ///< where the early_exit map was written, for messages
  bool on() const { return !after.empty(); }
};

/// The `early_exit:` keys.
const config::Binder<EarlyExit>& early_exit_binder();

/// Where each node's backward starts in a built step: the gradient of its output it reads
/// (0: none) and the index of its first backward op (after its segment's recompute).
struct BackwardEntry {
  uint32_t dy = 0;
  size_t op = 0;
};

/// splice_ops (policy_rewrites.h) that keeps `op_node` in step (inserted ops: -1) and moves
/// each entry's op index to where its op now is.
void splice_training_ops(OpGraph& g, std::vector<std::vector<Op>> before, std::vector<std::vector<Op>> after,
                         std::vector<int>& op_node, std::vector<BackwardEntry>& entries);

/// Applies early exit to a step built from `net` and `plan` (before the memory policy's
/// rewrites): the trunk's ops after each exit shrink to the samples that stay (forward,
/// recompute and backward; the final loss too), the heads' forward, loss, backward and update
/// ops are spliced in (their input gradient added into the trunk's), and `op_node` follows
/// (head ops: -1), and so do `entries` (the ops they point at, moved). Fills
/// g.memory.figures (exit_*). Throws InputError naming the key.
void apply_early_exit(OpGraph& g, const NetSpec& net, const NetPlan& plan, std::vector<int>& op_node,
                      std::vector<BackwardEntry>& entries);

}  // namespace bpsim::workload
