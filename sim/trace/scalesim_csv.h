#pragma once
/// SCALE-Sim v2 topology CSV files as a workload source: the conv form (Layer name, IFMAP
/// Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides[, stride
/// w]) and the GEMM form (Layer, M, N, K). Each row becomes one forward GEMM op with
/// SCALE-Sim's own im2col dims: output ⌈(H − Fh + s)/s⌉, M = output pixels, K = Fh·Fw·C,
/// N = filters; depth-wise rows ("DP" in the name) become one op per channel, as there.
#include <iosfwd>
#include <memory>
#include <string>

#include "sim/ir/ir.h"

namespace bpsim::trace {

struct ScalesimOptions {
  workload::DType dtype = workload::DType::int8;
  /// Samples: every M (output pixels, or the GEMM form's rows) is multiplied by it, as a
  /// batched im2col would; weights are shared.
  uint64_t batch = 1;
  /// Also the backward GEMMs, the way SCALE-Sim users write them as GEMM rows by hand:
  /// after all forward ops, per op in reverse order, dX[M×K] = dY[M×N]·Wᵀ[N×K] (GEMM m = M,
  /// n = K, k = N) then dW[K×N] = Xᵀ[K×M]·dY[M×N] (m = K, n = N, k = M), each with its own
  /// gradient tensors; the first layer's dX is kept, as those hand-written files do. Both
  /// depend on their forward op and on the dX before them (the gradient they read).
  bool backward = false;
};

/// Errors (wrong column count, non-numbers, zero sizes, filter larger than the input) are
/// InputErrors naming `file`, the line and the column.
std::shared_ptr<workload::OpGraph> read_scalesim_csv(std::istream& in, const std::string& file,
                                                     const ScalesimOptions& opt = {});
std::shared_ptr<workload::OpGraph> read_scalesim_csv_file(const std::string& path, const ScalesimOptions& opt = {});

}  // namespace bpsim::trace
