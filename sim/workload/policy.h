#pragma once
/// Cost-based recomputation policies (threshold, evaluation, optimal): which primitive
/// layers (plan nodes) are recomputed in backward instead of stored.
///
/// A recompute plan is one segment id per node (-1: stored). Consecutive nodes with the
/// same id form a segment that is re-run, from its stored input, when backward reaches
/// its last node — what torch.utils.checkpoint does for the ops it wraps: the segment's
/// internal tensors are not kept, its input and output stay with whoever else reads them.
/// The legacy policies (checkpoint, checkpoint_sequential, full_recompute) are the same
/// mechanism with whole top-level layers as segments.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/core/error.h"
#include "sim/workload/ir.h"
#include "sim/workload/plan.h"
#include "sim/workload/spec.h"

namespace bpsim::workload {

struct Policy;

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
  OpGraph base;                    ///< nothing recomputed, memory accounted
  std::vector<int> op_node;        ///< per op of `base`: its plan node (-1 loss, update)
  std::vector<NodeCost> nodes;     ///< saved measured by building with each node alone recomputed
};
/// `measure_saved`: also build once per storing node to measure NodeCost::saved.
StepAnalysis analyse_step(const NetSpec& net, const NetPlan& plan, const CostModel& cost, bool measure_saved = true);

/// Segment ids from a per-node choice: consecutive chosen nodes share one segment; a view
/// (no ops) between two chosen nodes joins them.
std::vector<int> segments_of(const std::vector<bool>& chosen, const std::vector<NodeCost>& costs);

/// The per-node recompute plan of threshold, evaluation and optimal. Throws InputError
/// for a budget no plan it considers can meet (the message gives the least peak reached).
std::vector<int> plan_recompute(const NetSpec& net, const NetPlan& plan, const Policy& policy);

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
  std::vector<double> cost;      ///< recompute cost per stage
  std::vector<uint64_t> stored;  ///< bytes kept when the stage runs normally
  std::vector<uint64_t> out;     ///< bytes of the stage's output
  std::vector<bool> out_kept_stored;  ///< the output is in `stored` (something after the forward reads it)
  std::vector<bool> out_kept_after;   ///< something after the stage reads its output (the next stage's backward)
  std::vector<std::vector<uint64_t>> kept;  ///< kept[i][j], j ≤ n
  /// Bytes of gradients and weight gradients live while the stage's backward runs (the
  /// same under every plan); 0 when only activations are modelled.
  std::vector<uint64_t> grad;
  size_t size() const { return cost.size(); }
};

/// The chain of `plan`: its nodes when they form a chain, else its top-level layers (which
/// always do); `stage` receives each node's stage.
ChainModel chain_model(const NetPlan& plan, const StepAnalysis& a, std::vector<size_t>& stage);

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

/// reversible: the top-level layers that can be RevNet couplings (Gomez et al. 2017:
/// y1 = x1 + F(x2), y2 = x2 + G(y1)): residual groups with identity shortcuts whose
/// output has their input's shape and whose nodes read only the block's input or each
/// other (basic blocks and bottlenecks without a projection, transformer blocks). A ReLU
/// after the final addition (torchvision's blocks) is taken into F and G, as RevNet does.
/// The first layer is left out: its input is the network input, kept anyway.
std::vector<bool> reversible_blocks(const NetPlan& plan);

/// After a build with each reversible block as its own recompute segment: the block's
/// input is not kept but rebuilt from its output (the next block's rebuilt input, or the
/// kept forward copy) by an inverse op (two subtractions over the activation, recompute
/// phase) ahead of the block's re-run forward, which stands for the F and G evaluations
/// of the inverse. Non-invertible layers store as usual. Fills g.memory.figures
/// (reversible_blocks, inverse_flops).
void apply_reversible(OpGraph& g, const NetPlan& plan, const std::vector<int>& op_node, const std::vector<bool>& rev);

/// Puts `before[k]` ahead of op k and `after[k]` behind it (k: index in g.ops), then
/// renumbers every op and derives its deps as the builder does: the last earlier op that
/// wrote each tensor it reads.
void splice_ops(OpGraph& g, std::vector<std::vector<Op>> before, std::vector<std::vector<Op>> after);

/// sparse_storage: every activation kept for backward (the logits the loss reads at once
/// excepted) is stored as its non-zero values plus one `index_bits` offset each when that
/// is smaller than dense: an encode op (elementwise, one FLOP per element) right after the
/// op that wrote it, and a decode op just before its first backward reader, which then
/// reads the decoded copy. Fills g.memory.figures: sparse_tensors, sparse_bytes_saved
/// (dense − compressed, summed), sparse_encode_flops, sparse_decode_flops.
void apply_sparse_storage(OpGraph& g, const NetPlan& plan, const Policy& policy);

/// confidence_skip: which samples skip their backward. Samples are taken in order of
/// confidence, highest first, while the gradient mass they drop, Σ (1 − c) (a softmax
/// cross-entropy gradient's size), stays within `allowable_error` of the batch's; at least
/// one sample is kept. Returns the count skipped; `threshold` receives the least confidence
/// skipped (1 when none).
size_t choose_skipped(std::vector<double> confidences, double allowable_error, double& threshold);

/// Per-sample confidences of one batch, drawn with the policy's seed.
std::vector<double> sample_confidences(const Policy& policy, uint64_t batch);

/// Backward work of `skipped` of the batch's samples removed: backward GEMMs lose those
/// rows (per-head batched ones, those instances), elementwise and reduction backward ops
/// scale by the kept share, and so do activation gradients; the loss is still computed for
/// every sample and the weight update runs with the kept samples' gradients.
void apply_sample_skip(OpGraph& g, uint64_t skipped);

/// The whole policy: draw, choose, apply; fills g.memory.figures (confidence_threshold,
/// skipped_samples, skipped_fraction, backward_macs_saved, backward_flops_saved).
void apply_confidence_skip(OpGraph& g, const Policy& policy);

}  // namespace bpsim::workload
