#pragma once
/// Feedback alignment (Lillicrap et al. 2016) and direct feedback alignment (Nøkland 2016):
/// the `training: feedback:` key. The backward's dX GEMMs read a fixed random matrix B
/// instead of the layer's Wᵀ (FA), or each layer's dX is the output error times its own B
/// (DFA), so no backward GEMM depends on another's result (docs/techniques.md).
#include <cstdint>
#include <optional>
#include <string>

#include "sim/core/binder.h"
#include "sim/ir/ir.h"

namespace bpsim::workload {

struct NetSpec;
struct NetPlan;

enum class FeedbackKind { backprop, fa, dfa };
inline constexpr config::EnumName<FeedbackKind> kFeedbackKindNames[] = {
    {FeedbackKind::backprop, "backprop"}, {FeedbackKind::fa, "fa"}, {FeedbackKind::dfa, "dfa"}};

/// Where B comes from at each backward: kept in memory beside the weights, or drawn again
/// from the layer's seed just before the dX that reads it (a generator op, its elements
/// alive only through that dX).
enum class FeedbackStorage { stored, regenerated };
inline constexpr config::EnumName<FeedbackStorage> kFeedbackStorageNames[] = {
    {FeedbackStorage::stored, "stored"}, {FeedbackStorage::regenerated, "regenerated"}};

struct FeedbackSpec {
  FeedbackKind kind{};  ///< backprop: off
  FeedbackStorage storage{};
  std::optional<DType> dtype;  ///< B's element type; empty: the dtype the layer's dX computes in
};

/// Integer operations to draw one element of B from its seed: a 32-bit xorshift step
/// (three shifts, three XORs; Marsaglia 2003) and one conversion to the element type.
inline constexpr uint64_t kFeedbackRngOpsPerElement = 7;

/// Bytes of a seed per layer when B is regenerated (one 64-bit seed).
inline constexpr uint64_t kFeedbackSeedBytes = 8;

const config::Binder<FeedbackSpec>& feedback_binder();

/// Refuses (InputError naming the layer and `training.feedback.kind`) a network where the
/// chosen rule is not defined: DFA through attention, residual or product merges, a tensor
/// feeding several layers, or without a network output.
void check_feedback(const FeedbackSpec& f, const NetPlan& plan);

/// The dX GEMM of a weight layer under the rule, and B's elements.
struct FeedbackGemm {
  GemmDims gemm;  ///< FA: the layer's own dX GEMM; DFA: [batch × E_in] = e[batch × E_out]·B[E_out × E_in]
  uint64_t b_elements = 0;
};
/// `own`: the layer's backprop dX GEMM; `weights`: elements of its W; `batch`, and per sample
/// the layer's input elements and the output error's elements (DFA).
FeedbackGemm feedback_gemm(const FeedbackSpec& f, const GemmDims& own, uint64_t weights, uint64_t batch,
                           uint64_t in_per_sample, uint64_t err_per_sample);

/// Bytes of `elements` of B in dtype `d` (binary: packed, 8 per byte, rounded up).
uint64_t feedback_bytes(uint64_t elements, DType d);

/// The step's figures under `memory.figures`: the B bytes stored (or the seed bytes and the
/// generator's operations when regenerated) and the longest chain of dependent backward
/// ops (the backward's depth: 2 per layer under backprop or FA, a constant under DFA).
void feedback_figures(const FeedbackSpec& f, OpGraph& g);

}  // namespace bpsim::workload
