#pragma once
/// The cuDNN workspace PyTorch takes from its caching allocator around one convolution on a
/// CUDA GPU (framework: pytorch_cuda): a measured table, because the size is that of the
/// engine cuDNN's heuristics pick for the shape on that GPU (torch.backends.cudnn.benchmark
/// off, PyTorch's default), with no formula in the layer's shape (e.g. 21,365,247 B for
/// ResNet-18's 512-channel 3×3 weight gradient at batch 32). docs/workloads.md, "Peak memory".
#include <cstdint>
#include <optional>

#include "sim/ir/ir.h"

namespace bpsim::workload {

/// Requested bytes of the one workspace each pass allocates just before its cuDNN call and
/// frees right after it (at::native::run_conv_plan); 0 = no workspace. The pass's output
/// (Y, dX or dW) is allocated before it.
struct ConvWorkspace {
  uint64_t forward = 0, backward_data = 0, backward_weight = 0;
};

/// The measured workspaces of a convolution (shape as the op carries it, elements of
/// `dtype`), or nothing when that shape and dtype were not measured.
std::optional<ConvWorkspace> cudnn_conv_workspace(const ConvShape& c, DType dtype);

/// What the table was measured with, for messages and docs.
const char* cudnn_table_provenance();

}  // namespace bpsim::workload
