#pragma once
/// The policies that rewrite a built step rather than choose what to recompute:
/// reversible (inverse ops), sparse_storage (encode and decode ops) and confidence_skip
/// (backward work of skipped samples removed). Their kinds are registered in their files.
#include <cstdint>
#include <vector>

#include "sim/ir/ir.h"
#include "sim/workload/plan.h"

namespace bpsim::workload {

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
struct SparseStorage {
  double density = -1;       ///< fraction of non-zero elements; negative: each ReLU's density, others dense
  unsigned index_bits = 16;  ///< bits per stored offset (index delta)
};
void apply_sparse_storage(OpGraph& g, const NetPlan& plan, const SparseStorage& p);

/// confidence_skip: which samples skip their backward. Samples are taken in order of
/// confidence, highest first, while the gradient mass they drop, Σ (1 − c) (a softmax
/// cross-entropy gradient's size), stays within `allowable_error` of the batch's; at least
/// one sample is kept. Returns the count skipped; `threshold` receives the least confidence
/// skipped (1 when none).
size_t choose_skipped(std::vector<double> confidences, double allowable_error, double& threshold);

/// confidence_skip's parameters: per-sample confidence ~ Beta(beta_a, beta_b), or, when
/// `histogram` is given, drawn from its equal-width bins over [0, 1] (weights); the share
/// of the gradient mass (Σ 1 − confidence) that skipped samples may drop; the draw's seed.
/// `mode`: what a confident sample still gets. skip: no backward at all. partial: the
/// backward and update of the last `partial_layers` layers with weights (and the layers after
/// the first of them), so only the classifier end learns from it (docs/techniques.md,
/// "Confidence-based partial update").
enum class ConfidenceMode { skip, partial };
struct ConfidenceSkip {
  double beta_a = 8, beta_b = 2;
  std::vector<double> histogram;
  double allowable_error = 0.05;
  uint64_t seed = 1;
  ConfidenceMode mode = ConfidenceMode::skip;
  uint64_t partial_layers = 0;  ///< partial mode: at least 1
};

/// Per-sample confidences of one batch, drawn with the policy's seed.
std::vector<double> sample_confidences(const ConfidenceSkip& p, uint64_t batch);

/// One op run for `kept` of the graph's `batch` samples instead of all: its GEMM loses the
/// other samples' rows (per-head batched GEMMs those instances; dX = dY·Wᵀ and forward
/// GEMMs have them in M, dW = Xᵀ·dY in K, im2col rows for convolutions), other work scales
/// by kept/batch, except a backward reduction's outputs (a bias gradient keeps its size).
/// Adds the MACs and FLOPs it removed to `macs` and `flops`.
void shrink_op_samples(Op& o, uint64_t kept, uint64_t batch, double& macs, double& flops);

/// Backward work of `skipped` of the batch's samples removed: backward GEMMs lose those
/// rows (per-head batched ones, those instances), elementwise and reduction backward ops
/// scale by the kept share, and so do activation gradients; the loss is still computed for
/// every sample and the weight update runs with the kept samples' gradients. `full`, when
/// given, marks ops (by index) that still run for every sample (confidence_skip's partial
/// mode); the gradients they write keep their size.
void apply_sample_skip(OpGraph& g, uint64_t skipped, const std::vector<bool>& full = {});

/// The whole policy: draw, choose, apply; fills g.memory.figures (confidence_threshold,
/// skipped_samples, skipped_fraction, backward_macs_saved, backward_flops_saved; in partial
/// mode also partial_layers). `plan` and `op_node` (each op's plan node) place the partial
/// update's layers; skip mode needs neither.
void apply_confidence_skip(OpGraph& g, const ConfidenceSkip& p, const NetPlan* plan = nullptr,
                           const std::vector<int>* op_node = nullptr);

}  // namespace bpsim::workload
