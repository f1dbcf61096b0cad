#pragma once
/// Block coordinate descent: the `training: block_update:` key. Each step updates one block
/// of the network (a module or a range of top-level layers), the blocks taken in turn; the
/// simulated step is one given step. Only that block computes weight gradients and updates;
/// layers above it pass the gradient down (dX, no dW); layers below it run no backward at
/// all, so what they would have kept for it is freed after the forward (docs/techniques.md).
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/binder.h"
#include "sim/ir/ir.h"

namespace bpsim::workload {

struct NetSpec;
struct NetPlan;

struct BlockUpdateSpec {
  /// The blocks in schedule order: a module's name (as named_modules() writes it, nested
  /// ones too) or a top-level layer's, or `A..B`, the top-level layers from A's first to
  /// B's last. Empty: off (every layer updates).
  std::vector<std::string> blocks;
  uint64_t step = 0;  ///< the step simulated: it updates blocks[step mod blocks]
};

const config::Binder<BlockUpdateSpec>& block_update_binder();

/// The top-level layers [first, end) of the block the spec's step updates. Throws
/// InputError (key `training.block_update.blocks`) for a name that is neither a module nor
/// a top-level layer, an empty or reversed range.
struct BlockRange {
  size_t index = 0;  ///< which of the blocks
  size_t first = 0, end = 0;
};
BlockRange block_of_step(const BlockUpdateSpec& b, const NetSpec& net);

/// Marks the plan's nodes outside the step's block `frozen` and recomputes `needs_grad`
/// from the block's weights alone (a node needs a gradient when its output depends on a
/// weight the step updates). Nothing when the key is off.
void apply_block_update(const BlockUpdateSpec& b, const NetSpec& net, NetPlan& plan);

/// memory.figures: the block updated, the parameter bytes updated and frozen, and the
/// optimizer state the frozen blocks keep resident for their own turns (not read this step).
void block_update_figures(const BlockUpdateSpec& b, const NetSpec& net, const NetPlan& plan, OpGraph& g);

}  // namespace bpsim::workload
