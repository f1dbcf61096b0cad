#pragma once
/// Cost-based recomputation policies (threshold, evaluation, optimal): which primitive
/// layers (plan nodes) are recomputed in backward instead of stored.
///
/// A recompute plan is one segment id per node (-1: stored). Consecutive nodes with the
/// same id form a segment that is re-run, from its stored input, when backward reaches
/// its last node — what torch.utils.checkpoint does for the ops it wraps: the segment's
/// internal tensors are not kept, its input and output stay with whoever else reads them.
/// checkpoint, checkpoint_sequential and full_recompute are the same mechanism with whole
/// top-level layers as segments (policy_checkpoint.cpp).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/core/error.h"
#include "sim/ir/ir.h"
#include "sim/workload/plan.h"
#include "sim/workload/spec.h"

namespace bpsim::workload {

/// Recompute cost of one op: FLOPs (2 per MAC plus the op's other arithmetic) or a
/// roofline estimate in cycles, max(FLOPs / flops_per_cycle, bytes moved / bytes_per_cycle),
/// bytes moved being every tensor the op reads and writes. `custom`, when set, replaces
/// both: a caller that knows the target accelerator can give its own per-op estimate.
struct CostModel {
  enum class Kind { flops, roofline };
  Kind kind = Kind::flops;
  double flops_per_cycle = 0, bytes_per_cycle = 0;  ///< roofline
  OpCostFn custom;
  double operator()(const OpGraph& g, const Op& o) const;
  std::string name() const;
};

/// A budget that no plan the policy considers can meet (InputError: exit code 2).
class BudgetError : public InputError {
 public:
  using InputError::InputError;
};

/// What recomputing one node costs and what storing it takes, measured on the step built
/// without recomputation.
struct NodeCost {
  double cost = 0;    ///< Σ CostModel over the node's forward ops
  uint64_t size = 0;  ///< bytes of the tensors its forward writes that backward reads
  /// Bytes fewer kept after the forward when this node alone is recomputed (it may be
  /// negative: recomputing a dropout frees its 1-byte mask but keeps its input alive).
  int64_t saved = 0;
  bool has_ops = false;  ///< false for views (flatten)
};

/// Per node, from the graph built with nothing recomputed and its op → node map
/// (build_with_segments). Fills cost, size and has_ops.
std::vector<NodeCost> node_costs(const OpGraph& base, const std::vector<int>& op_node, size_t nodes,
                                 const CostModel& cost);

/// Everything the recompute policies know about a network before choosing.
struct StepAnalysis {
  OpGraph base;                 ///< nothing recomputed, memory accounted
  std::vector<int> op_node;     ///< per op of `base`: its plan node (-1 loss, update)
  std::vector<NodeCost> nodes;  ///< saved measured by building with each node alone recomputed
};
/// `measure_saved`: also build once per storing node to measure NodeCost::saved.
StepAnalysis analyse_step(const NetSpec& net, const NetPlan& plan, const CostModel& cost, bool measure_saved = true);

/// Segment ids from a per-node choice: consecutive chosen nodes share one segment; a view
/// (no ops) between two chosen nodes joins them.
std::vector<int> segments_of(const std::vector<bool>& chosen, const std::vector<NodeCost>& costs);

/// threshold: a node is recomputed (a segment of its own) when its recompute cost per byte
/// it frees is at most `threshold`; others are stored.
std::vector<int> threshold_plan(const StepAnalysis& b, double threshold);

/// evaluation: nodes in order of stored bytes per unit of recompute cost join the
/// recomputed set until the peak fits `budget`. Throws BudgetError when it never does.
std::vector<int> evaluation_plan(const NetSpec& net, const NetPlan& plan, const StepAnalysis& b, uint64_t budget);

/// optimal: the least-cost plan for `budget` from chain_optimal, or evaluation's plan when
/// that fits for less. Throws BudgetError (giving the least peak reached) when none fits.
std::vector<int> optimal_plan(const NetSpec& net, const NetPlan& plan, const StepAnalysis& a, uint64_t budget,
                              const CostModel& cost);

/// Σ `cost` over the recompute-phase ops of a built step.
double recompute_cost(const OpGraph& g, const CostModel& cost);

/// A chain of stages (plan nodes, or top-level layers) as the optimal DP sees it, all
/// measured on the step built without recomputation. A stage run normally keeps `stored`;
/// a recomputed segment [i, j) keeps `kept[i][j]` (its tensors that backward ops after the
/// segment read, with the forward copy: its output, mostly) and its input, the output of
/// stage i − 1 (`out`), unless that is kept anyway. When backward reaches a segment, what
/// the stages after it kept is gone and what the stages before it kept is still there; the
/// segment, recomputed, holds about Σ stored of its stages again (Chen et al. 2016's
/// accounting, with the later stages' memory already released).
struct ChainModel {
  std::vector<double> cost;                 ///< recompute cost per stage
  std::vector<uint64_t> stored;             ///< bytes kept when the stage runs normally
  std::vector<uint64_t> out;                ///< bytes of the stage's output
  std::vector<bool> out_kept_stored;        ///< the output is in `stored` (something after the forward reads it)
  std::vector<bool> out_kept_after;         ///< something after the stage reads its output (the next stage's backward)
  std::vector<std::vector<uint64_t>> kept;  ///< kept[i][j], j ≤ n
  /// Bytes of gradients and weight gradients live while the stage's backward runs (the
  /// same under every plan); 0 when only activations are modelled.
  std::vector<uint64_t> grad;
  size_t size() const { return cost.size(); }
};

/// The chain of `plan`: its nodes when they form a chain, else its top-level layers (which
/// always do); `stage` receives each node's stage.
ChainModel chain_model(const NetPlan& plan, const StepAnalysis& b, std::vector<size_t>& stage);

/// Bytes a recompute plan (segment id per stage, -1 stored) keeps after the forward —
/// exactly what account_memory finds on a chain of nodes.
uint64_t chain_kept(const ChainModel& m, const std::vector<int>& seg);

/// The model's peak of a plan: over stages in backward order, what the stages up to a
/// stored stage keep, or what the stages before a segment keep plus its input plus Σ stored
/// of its stages, each plus the stage's `grad`; at least chain_kept.
uint64_t chain_memory(const ChainModel& m, const std::vector<int>& seg);

/// Least-cost plan whose chain_memory fits `budget`, exact by dynamic programming over
/// prefixes (Pareto fronts of kept bytes and cost); empty when none fits.
std::vector<int> chain_optimal(const ChainModel& m, uint64_t budget);

}  // namespace bpsim::workload
