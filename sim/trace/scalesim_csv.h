#pragma once
/// SCALE-Sim v2 topology CSV files as a workload source: the conv form (Layer name, IFMAP
/// Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides[, stride
/// w]) and the GEMM form (Layer, M, N, K). Each row becomes one forward GEMM op with
/// SCALE-Sim's own im2col dims: output ⌈(H − Fh + s)/s⌉, M = output pixels, K = Fh·Fw·C,
/// N = filters; depth-wise rows ("DP" in the name) become one op per channel, as there.
///
/// With `backward`, the backward GEMMs follow, the way SCALE-Sim users write them by hand,
/// last layer first: for a forward M×K·K×N, dX = M×N·N×K (gemm {m: M, n: K, k: N}, phase
/// backward_data) and dW = K×M·M×N (gemm {m: K, n: N, k: M}, phase backward_weight); a conv
/// row uses its im2col M, N, K (its dX is the im2col gradient, before col2im). Backward ops
/// are plain GEMMs; each depends on its forward op and on the dX before it.
#include <iosfwd>
#include <memory>
#include <string>

#include "sim/workload/ir.h"

namespace bpsim::trace {

/// Errors (wrong column count, non-numbers, zero sizes, filter larger than the input) are
/// InputErrors naming `file`, the line and the column.
std::shared_ptr<workload::OpGraph> read_scalesim_csv(std::istream& in, const std::string& file,
                                                     workload::DType dtype = workload::DType::int8,
                                                     bool backward = false);
std::shared_ptr<workload::OpGraph> read_scalesim_csv_file(const std::string& path,
                                                          workload::DType dtype = workload::DType::int8,
                                                          bool backward = false);

}  // namespace bpsim::trace
