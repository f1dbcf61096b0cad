#pragma once
/// Convolution inputs on the array: which ifmap bytes a conv's input operand (its im2col
/// matrix, or that matrix transposed for dW) reads from DRAM when an on-chip line buffer
/// builds the im2col stream, against reading the lowered matrix as it stands. Pure C++.
#include <cstdint>
#include <string>

#include "models/systolic/systolic_params.h"

namespace bpsim::systolic {

/// What the input operand of a GEMM-shaped op is, seen from the conv it belongs to. dX reads
/// dY itself (no duplicates), so only the forward and dW operands are im2col matrices.
enum class ConvView {
  none,         ///< not a conv, dX, or dims that do not match the shape (the GEMM view is read)
  forward,      ///< A[M×K] = im2col(X): rows (n, p, q), columns (r, s, c), c fastest
  weight_grad,  ///< A[K×M] = im2col(X)ᵀ: dW = Xᵀ·dY
};
ConvView conv_view(const workload::Op& op);

/// The order of the im2col columns (the reduction), which sets the taps a fold of K holds:
/// rsc (kernel row, column, channel fastest: SCALE-Sim's layout, a fold holds a few taps of
/// many channels) or crs (channel slowest, PyTorch's unfold: a fold holds whole windows of a
/// few channels). The weights are loaded in whichever order the line buffer feeds.
enum class TapOrder { rsc, crs };

/// Distinct ifmap elements read by im2col rows [m0, m1) and columns [k0, k1) of a conv (rows
/// ordered (n, p, q), columns in `order`). Padding positions are not fetched. Exact: the
/// ranges are cut into boxes and their images united per axis.
uint64_t touched_elements(const workload::ConvShape& c, uint64_t m0, uint64_t m1, uint64_t k0, uint64_t k1,
                          TapOrder order = TapOrder::rsc);
/// Distinct ifmap bytes the whole conv reads.
uint64_t conv_unique_bytes(const workload::ConvShape& c, unsigned elem_bytes);
/// Line buffer for `channels` channels: the R rows one output row reads plus the `stride`
/// rows that arrive while it is computed (at most H), each W × channels elements.
/// (Channels a fold of `kc` columns spans: channels_spanned.)
uint64_t line_buffer_bytes(const workload::ConvShape& c, uint64_t channels, unsigned elem_bytes);
/// The most channels `kc` consecutive im2col columns in `order` can reach.
uint64_t channels_spanned(const workload::ConvShape& c, uint64_t kc, TapOrder order);

struct ConvInputPlan {
  ConvView view = ConvView::none;
  bool line_buffer = false;        ///< the line buffer builds the stream (else the GEMM view is read)
  uint64_t lowered_bytes = 0;      ///< M·K·elem: the GEMM view of the operand
  uint64_t unique_bytes = 0;       ///< distinct ifmap bytes the op reads
  uint64_t window_bytes = 0;       ///< line buffer one fold needs
  TapOrder order = TapOrder::rsc;  ///< the column order of the chosen pass
  /// DRAM bytes of one full pass over the input operand (every fold once): the unique bytes
  /// when the whole ifmap fits the input buffer, else each fold's own distinct bytes, else
  /// (window too large, or conv_input: im2col) the lowered bytes.
  uint64_t pass_bytes = 0;
  std::string note;  ///< why the lowered matrix is read, when the line buffer was asked for
};

/// The input operand's DRAM plan for one instance of `op` on array `s` (its folds, dataflow
/// and usable input buffer). view none: pass_bytes = lowered_bytes. timing: scalesim keeps
/// SCALE-Sim's rsc columns; otherwise the order with the smaller pass is taken.
ConvInputPlan plan_conv_input(const workload::Op& op, const SystolicSpec& s, unsigned elem_bytes);

}  // namespace bpsim::systolic
