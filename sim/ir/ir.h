#pragma once
/// The training-step op graph: what every accelerator model consumes. Plain data, no
/// SystemC. Built from a workload spec (sim/workload/builder) or read from a trace.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/checked.h"
#include "sim/core/enum_names.h"

namespace bpsim::workload {

class MaskBitmap;  // sim/ir/mask_bitmap.h

enum class Phase { forward, backward_data, backward_weight, recompute, update };
constexpr int kNumPhases = 5;
const char* to_string(Phase p);
bool phase_from_string(const std::string& s, Phase& out);

/// What kind of work an op is; accelerators map each kind differently.
enum class OpKind {
  gemm,           ///< (M×K)·(K×N), possibly `batch` independent instances
  conv,           ///< convolution; `gemm` holds its im2col dims, `conv` its shape
  xnor_gemm,      ///< binary GEMM: XNOR + popcount over K
  elementwise,    ///< relu, gelu, add, dropout, their backward, …
  reduction,      ///< sums over an axis (bias gradient, pooling backward)
  normalization,  ///< batchnorm / layernorm forward and backward
  softmax,
  pool,
  embedding,  ///< gather forward, scatter-add backward
  bitwise,    ///< and/or/xor/xnor/not over N bits (PIM checks)
  optimizer,  ///< weight update with optimizer-state traffic
};
const char* to_string(OpKind k);
bool op_kind_from_string(const std::string& s, OpKind& out);

enum class DType { fp32, bf16, fp16, int8, binary };
const char* to_string(DType d);
bool dtype_from_string(const std::string& s, DType& out);
/// The dtype choices of a config parameter (Binder::choice), in `bpsim list` order: fp32,
/// bf16, fp16, int8, then binary when `binary`.
std::vector<config::EnumName<DType>> dtype_names(bool binary);
/// Storage bits per element (binary = 1).
unsigned dtype_bits(DType d);

/// GEMM view of an op: out[M×N] = Σ_K a[M×K]·b[K×N], `batch` independent instances.
struct GemmDims {
  uint64_t m = 0, n = 0, k = 0;
  uint64_t batch = 1;
  /// Throws InputError when M·N·K·batch overflows 64 bits (readers check their dims first).
  uint64_t macs() const { return product_or_throw("gemm M·N·K·batch", {m, n, k, batch}); }
};

/// Convolution shape (NCHW), kept next to the im2col GEMM dims for models that want it.
struct ConvShape {
  uint64_t n = 0, c = 0, h = 0, w = 0;  ///< input batch, channels, height, width
  uint64_t k = 0, r = 0, s = 0;         ///< filters, kernel height, kernel width
  uint64_t stride = 1, pad = 0, groups = 1;
  uint64_t p = 0, q = 0;  ///< output height, width
};

/// Which outputs of an op are not needed (output sparsity). density = fraction needed.
struct OutputMask {
  enum class Source { none, relu, pruned, nm, random, bitmap };
  Source source = Source::none;
  double density = 1.0;
  unsigned nm_n = 0, nm_m = 0;  ///< N:M structured: n needed out of every m
  std::string bitmap_file;      ///< explicit bitmap (traces)
  /// The bitmap's contents, loaded once by whoever read the op (the trace reader).
  std::shared_ptr<const MaskBitmap> bitmap;
  bool active() const { return source != Source::none; }
};
const char* to_string(OutputMask::Source s);

enum class TensorRole { input, weight, activation, saved, gradient, weight_gradient, optimizer_state, workspace, mask };
const char* to_string(TensorRole r);

struct Tensor {
  uint32_t id = 0;
  std::string name;
  uint64_t bytes = 0;
  TensorRole role = TensorRole::activation;
  /// An integer tensor packed at this many bits per element (0: the graph's dtype). The
  /// output of a binary layer's xnor_gemm is its integer pre-activation 2·popcount − K:
  /// ⌈log2(K + 1)⌉ + 1 bits, what an in-DRAM multi-bit readout must deliver.
  unsigned bits = 0;
};

struct Op {
  uint32_t id = 0;
  std::string name;   ///< unique, e.g. "block3.fc1.fwd"
  std::string layer;  ///< layer it belongs to, e.g. "block3.fc1"
  Phase phase = Phase::forward;
  OpKind kind = OpKind::gemm;
  std::string detail;  ///< sub-kind: "relu", "relu_bwd", "adam", "xor", …
  DType dtype = DType::fp32;
  GemmDims gemm;                        ///< gemm, conv, xnor_gemm
  ConvShape conv;                       ///< conv only
  uint64_t elements = 0;                ///< elementwise-like ops: elements produced
  uint64_t macs = 0;                    ///< multiply-accumulates the op asks for
  uint64_t flops = 0;                   ///< other arithmetic (elementwise, normalisation, optimizer)
  std::vector<uint32_t> reads, writes;  ///< tensor ids
  std::vector<uint32_t> deps;           ///< op ids that must finish first
  /// Tensors kept alive through this op without being read: the liveness walk frees them
  /// after it at the earliest (a framework that frees a backward node's saved tensors only
  /// when the whole node has run; sim/workload/framework.h). Models ignore it.
  std::vector<uint32_t> holds;
  OutputMask out_mask;
  /// gemm, conv: the weight operand is stored compact (values + index, weight_format csr or
  /// bitmap): the share of its positions kept (1: dense) and the index bytes read with it. A
  /// model that skips zero weights runs the kept ones only; one that cannot decodes the index.
  double weight_density = 1;
  uint64_t weight_index_bytes = 0;
};

/// What PyTorch's caching allocator reads for the step (allocator: caching,
/// sim/workload/caching_allocator.h): block and segment bytes where MemorySummary's figures are
/// the tensors' requested bytes. The step figures are relative to `baseline_bytes`.
struct AllocatorSummary {
  std::string kind = "caching";
  unsigned warmup_steps = 0;               ///< steps replayed before the measured one
  uint64_t saved_after_forward_bytes = 0;  ///< memory_allocated() after the forward, less the baseline
  uint64_t peak_bytes = 0;                 ///< max_memory_allocated() over the step, less the baseline
  uint64_t baseline_bytes = 0;             ///< blocks allocated when the step starts (weights, input, state)
  uint64_t reserved_bytes = 0;             ///< memory_reserved() after the step: every segment, absolute
  uint64_t segments = 0;                   ///< cudaMalloc'd segments then
};

/// Memory accounting of the step, beyond weights and the network input.
struct MemorySummary {
  std::string policy = "none";
  uint64_t saved_after_forward_bytes = 0;
  uint64_t peak_bytes = 0;
  /// Policy-specific figures for the report (e.g. sparse_bytes_saved), by name.
  std::map<std::string, double> figures{};
  /// Whose allocations the figures count: "none" (the ops' own tensors, each freed after its
  /// last reader) or a framework's (sim/workload/framework.h), e.g. "pytorch_cuda".
  std::string framework = "none";
  /// The caching allocator's figures, when the step asks for them (allocator: caching).
  std::optional<AllocatorSummary> allocator{};
};

struct OpGraph {
  std::string name;
  DType dtype = DType::fp32;
  uint64_t batch = 1;
  std::vector<Tensor> tensors;  ///< indexed by id
  std::vector<Op> ops;          ///< indexed by id, in a valid execution order
  MemorySummary memory;
  uint64_t total_macs() const;
};

/// Appends a tensor to `g` (the next id) and returns its id (importers, technique rewrites).
uint32_t add_tensor(OpGraph& g, const std::string& name, uint64_t bytes, TensorRole role);

/// An estimate of what one op of a graph costs on a target (its cycles, or FLOPs).
using OpCostFn = std::function<double(const OpGraph&, const Op&)>;

}  // namespace bpsim::workload
