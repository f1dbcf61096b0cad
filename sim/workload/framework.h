#pragma once
/// What a framework adds to a step's memory beyond the ops' own tensors (NetSpec::framework):
/// for `pytorch_cuda`, PyTorch eager autograd's node-granular frees and the temporary buffers
/// its CUDA kernels take from the caching allocator, so that peak_bytes is what
/// torch.cuda.max_memory_allocated() measures. docs/workloads.md, "Peak memory", gives each
/// rule with its origin.
#include <cstdint>

#include "sim/ir/ir.h"
#include "sim/workload/spec.h"

namespace bpsim::workload {

/// The global buffers PyTorch's CUDA sum kernel (at::native::gpu_reduce_kernel, torch 2.11)
/// takes from the caching allocator while it reduces a contiguous rows × n tensor over its
/// rows, as autograd does for a Linear's bias gradient: partial sums in the float
/// accumulator (whatever the dtype) and one semaphore per block column, as the launch
/// configuration of Reduce.cuh's setReduceConfig gives them for that layout. Requested
/// bytes; the allocator rounds each up to 512.
struct ReductionStaging {
  uint64_t buffer = 0, semaphores = 0;
  uint64_t bytes() const { return buffer + semaphores; }
};
/// Zero when the kernel does not split the rows across blocks. `elem_bytes` matters only
/// past 2^31 bytes (64-bit indexing: the kernel runs on halves of the rows, one at a time).
ReductionStaging reduction_staging(uint64_t rows, uint64_t n, uint64_t elem_bytes, const GpuSpec& gpu);

/// cuBLAS and cuBLASLt workspaces a training process keeps on an sm_90 GPU: 32 MiB per
/// (cuBLAS handle, stream), one for the Python thread and one for autograd's device thread,
/// plus 1 MiB of cuBLASLt (default CUBLAS_WORKSPACE_CONFIG, CUBLASLT_WORKSPACE_SIZE). Taken
/// once per process at the first GEMM, so not part of a step's peak_bytes (a warmed-up
/// measurement holds them in its baseline); a cold first step peaks this much higher.
uint64_t cublas_process_workspace_bytes();

/// What torch.optim's step (the default foreach implementation) allocates beyond the
/// parameters, gradients and state: for Adam and AdamW, _multi_tensor_adam's
/// `_foreach_sqrt(exp_avg_sqs)`, one temporary of each second moment's size and dtype, alive
/// through the step's last update; 0 for SGD and momentum (their foreach updates run in place
/// with no weight decay). Measured (torch 2.11, H200): 2,417,205,248 B for 1.21 B bf16
/// parameters with bf16 moments, 4,834,410,496 B with fp32 ones.
uint64_t optimizer_step_transient_bytes(const OpGraph& g);

/// Throws InputError when net.framework cannot account the policy's step: sparse_storage,
/// reversible and confidence_skip rewrite the step into something PyTorch eager autograd
/// does not run (the checkpointing kinds are torch.utils.checkpoint's).
void check_framework_policy(const NetSpec& net, const std::string& policy);

/// Applies net.framework to a built step (no-op for none): sets g.memory.framework, adds
/// the workspace tensors to the ops that allocate them and the holds of node-granular frees.
void apply_framework(OpGraph& g, const NetSpec& net);

}  // namespace bpsim::workload
