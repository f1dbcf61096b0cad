#pragma once
/// A network description (configs/workloads/*.yaml) parsed and checked into plain data.
/// Composite layers (transformer_block, attention, basic_block, bottleneck) are expanded
/// here into primitives plus `residual` and `sequence` groups, so the builder only knows
/// primitives; `sequential` groups (nn.Sequential) are flattened into the list that holds
/// them and kept as a module tree for the checkpoint policies.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/binder.h"
#include "sim/core/config_node.h"
#include "sim/core/enum_names.h"
#include "sim/core/params.h"
#include "sim/ir/ir.h"
#include "sim/workload/training.h"

namespace bpsim::workload {

/// How attention_core computes softmax(QKᵀ/√d)·V: explicit ops (the s×s probabilities are a
/// tensor), or one fused scaled-dot-product kernel of PyTorch's SDPA (scores stay on chip):
/// flash, memory-efficient, or cuDNN's (SDPA's first choice on Hopper GPUs in PyTorch 2.11);
/// or Reformer's LSH attention (queries and keys hashed into buckets, attention within sorted
/// chunks; docs/techniques.md "LSH attention").
enum class AttnImpl { explicit_, flash, mem_efficient, cudnn, lsh };
inline constexpr config::EnumName<AttnImpl> kAttnImplNames[] = {{AttnImpl::explicit_, "explicit"},
                                                                {AttnImpl::flash, "flash"},
                                                                {AttnImpl::mem_efficient, "mem_efficient"},
                                                                {AttnImpl::cudnn, "cudnn"},
                                                                {AttnImpl::lsh, "lsh"}};

/// Where explicit attention's causal mask lives: a buffer made once outside the step, or a
/// bool s×s tensor built in each block's forward and kept by its masked_fill.
enum class CausalMask { none, kept };
inline constexpr config::EnumName<CausalMask> kCausalMaskNames[] = {{CausalMask::none, "none"},
                                                                    {CausalMask::kept, "kept"}};

/// q, k and v from one projection (GPT-2's c_attn) or three (HF Llama's, BERT's q/k/v_proj).
enum class QkvProjection { fused, separate };
inline constexpr config::EnumName<QkvProjection> kQkvProjectionNames[] = {{QkvProjection::fused, "fused"},
                                                                          {QkvProjection::separate, "separate"}};

struct LayerSpec {
  /// Primitives: linear | conv2d | maxpool | avgpool | relu | gelu | dropout | flatten |
  /// layernorm | batchnorm | softmax | embedding | binary_linear | binary_conv2d |
  /// attention_core; groups: residual | sequence.
  std::string kind;
  std::string name;
  Location loc;
  /// A system's device that runs every op of the layer (docs/system.md "Placement and
  /// scheduling"); "": the group's, else placement.default. Ignored by a one-device run.
  std::string device;
  uint64_t out_features = 0;                     ///< linear, binary_*; conv2d: filters; embedding: dim
  uint64_t kernel = 1, stride = 1, padding = 0;  ///< conv2d, pools (square windows)
  uint64_t groups = 1;                           ///< conv2d
  bool global = false;                           ///< avgpool over the whole map (adaptive 1×1)
  bool bias = true;                              ///< linear, conv2d
  double weight_density = 1;                     ///< linear, conv2d: fraction of weights kept (pruning)
  WeightFormat weight_format{};                  ///< linear, conv2d: how the kept weights are stored (dense)
  unsigned index_bits = 16;                      ///< linear, conv2d (csr, triplet): bits per index
  double density = 0.5;                          ///< relu: fraction of outputs that are non-zero
  double p = 0.1;                                ///< dropout probability (attention_core: on the probabilities)
  uint64_t heads = 1;                            ///< attention_core
  bool causal = false;                           ///< attention_core
  AttnImpl attention = AttnImpl::explicit_;      ///< attention_core
  CausalMask causal_mask = CausalMask::none;     ///< attention_core (explicit, causal)
  uint64_t kv_heads = 0;                         ///< attention_core: key/value heads (0 = heads)
  bool rope = false;                             ///< attention_core: rotary embedding on q and k
  uint64_t bucket_size = 64;                     ///< attention_core, lsh: chunk length c (tokens per chunk)
  uint64_t rounds = 1;                           ///< attention_core, lsh: hash rounds (n_hashes)
  uint64_t vocab = 0;                            ///< embedding
  /// sequence from attention/transformer_block: the input's last dimension must be this.
  uint64_t hidden = 0;
  /// residual from basic_block/bottleneck: when the branch changes the shape, the
  /// shortcut becomes a strided 1×1 conv + batchnorm (torchvision's downsample).
  bool project = false;
  /// linear: the name of an earlier embedding whose table is also this layer's weight
  /// (tied input and output embeddings, as GPT-2 and Llama 3.2 do); empty: its own weight.
  std::string tied;
  /// position_embedding: rows looked up by torch.arange(tokens) made in the forward (an
  /// nn.Embedding; the int64 ids are kept for its backward) rather than the table added whole.
  bool lookup = false;
  std::vector<LayerSpec> body;      ///< residual, sequence; attention_core: separate q, k, v projections
  std::vector<LayerSpec> shortcut;  ///< residual; empty = identity
};

/// A module as PyTorch sees the network: a top-level layer, or a `sequential` group of
/// modules. The spec's layers are flat (NetSpec::layers); a module covers the run of them
/// [first, end). Checkpoint policies split a level of this tree (docs/workloads.md).
struct ModuleSpec {
  std::string name;  ///< qualified as named_modules() writes it ("layer1", "layer1.0")
  Location loc;
  size_t first = 0, end = 0;         ///< top-level layers it covers
  bool group = false;                ///< a `sequential` (its modules in `children`)
  std::vector<ModuleSpec> children;  ///< a group's modules, in order
};

enum class Optimizer { sgd, momentum, adam, adamw };
inline constexpr config::EnumName<Optimizer> kOptimizerNames[] = {
    {Optimizer::sgd, "sgd"}, {Optimizer::momentum, "momentum"}, {Optimizer::adam, "adam"}, {Optimizer::adamw, "adamw"}};

/// torch.autocast's lower-precision dtype, or none (docs/workloads.md, "Mixed precision").
enum class Autocast { none, bf16, fp16 };
inline constexpr config::EnumName<Autocast> kAutocastNames[] = {
    {Autocast::none, "none"}, {Autocast::bf16, "bf16"}, {Autocast::fp16, "fp16"}};

/// The loss the step's backward starts from (docs/workloads.md "Losses"). `none`: no loss op,
/// an external gradient of the output's size (`out.backward(torch.ones_like(out))`);
/// float_sum / float_mean: `out.float().sum()` / `.mean()`.
enum class Loss { none, sum, mean, float_sum, float_mean, cross_entropy, mse };
inline constexpr config::EnumName<Loss> kLossNames[] = {{Loss::none, "none"},
                                                        {Loss::sum, "sum"},
                                                        {Loss::mean, "mean"},
                                                        {Loss::float_sum, "float_sum"},
                                                        {Loss::float_mean, "float_mean"},
                                                        {Loss::cross_entropy, "cross_entropy"},
                                                        {Loss::mse, "mse"}};

/// Whose memory accounting the step's figures follow (sim/workload/framework.h): the ops'
/// own tensors (none), or PyTorch eager autograd on a CUDA GPU with its library buffers.
enum class Framework { none, pytorch_cuda };
inline constexpr config::EnumName<Framework> kFrameworkNames[] = {{Framework::none, "none"},
                                                                  {Framework::pytorch_cuda, "pytorch_cuda"}};

/// Whether the step's figures also go through a model of PyTorch's CUDA caching allocator
/// (sim/workload/caching_allocator.h): none, or caching (block and segment bytes).
enum class Allocator { none, caching };
inline constexpr config::EnumName<Allocator> kAllocatorNames[] = {{Allocator::none, "none"},
                                                                  {Allocator::caching, "caching"}};

/// The GPU a `pytorch_cuda` step runs on: what sizes CUDA kernels' grids, and through them
/// the buffers the kernels allocate. Defaults: an NVIDIA H200 (sm_90).
struct GpuSpec {
  uint64_t sms = 132;              ///< streaming multiprocessors
  uint64_t threads_per_sm = 2048;  ///< resident threads per SM
};
/// The `gpu:` keys, declared once (the spec's and the workload section's).
const config::Binder<GpuSpec>& gpu_binder();

struct NetSpec {
  std::string name;
  DType dtype = DType::fp32;
  uint64_t batch = 1;
  std::vector<uint64_t> input_shape;  ///< per sample
  Optimizer optimizer = Optimizer::sgd;
  Loss loss = Loss::none;
  /// Element type of the optimizer's state tensors (momentum, Adam's moments).
  DType state_dtype = DType::fp32;
  /// An fp32 copy of every bf16/fp16 parameter that the optimizer updates (mixed-precision
  /// optimizers: apex O2, Megatron, DeepSpeed), written back to the parameter after each step.
  bool master_weights = false;
  /// Forward under torch.autocast in this dtype (the parameters stay in `dtype`, fp32).
  Autocast autocast = Autocast::none;
  /// GradScaler: the loss scaled before backward, the gradients unscaled (and checked for
  /// inf/NaN) before the update.
  bool loss_scale = false;
  Framework framework = Framework::none;
  Allocator allocator = Allocator::none;
  GpuSpec gpu;
  /// Training techniques beyond the memory policy (docs/techniques.md); all off by default.
  TrainingSpec training;
  /// Top-level layers (`repeat` groups expanded, `sequential` groups flattened).
  std::vector<LayerSpec> layers;
  /// The top level of the module tree (the units of checkpointing policies); empty for a
  /// network made in code: then every layer is a module (module_tree).
  std::vector<ModuleSpec> modules;
};

/// The spec's top-level keys other than `layers` (for `bpsim list`), and those of the map
/// form of `optimizer:`.
std::shared_ptr<const config::Schema> net_spec_schema();
std::shared_ptr<const config::Schema> optimizer_schema();

/// Why a loss other than `none` is refused under autocast: PyTorch runs the losses in fp32
/// there (autocast's fp32 op list), which emit_loss.cpp does not model yet.
inline constexpr const char* kAutocastLossRefusal =
    "a loss under autocast is not modelled yet (PyTorch computes it in fp32); use loss: none with autocast";

/// The top-level modules: `net.modules`, or one per layer when it is empty.
std::vector<ModuleSpec> module_tree(const NetSpec& net);

/// Parses a spec file's root map. Throws InputError naming file:line:col and key path, also
/// past the `layers` limit (sim/core/limits.h) once `repeat` groups are expanded.
NetSpec parse_net_spec(const config::Node& root);

/// Parses a `layers:` list (used by parse_net_spec and the inline `workload: layers:` form)
/// into flat layers `out` and, when given, the list's modules.
void parse_layer_list(const config::Node& list, const std::string& path, std::vector<LayerSpec>& out,
                      std::vector<ModuleSpec>* modules = nullptr);

}  // namespace bpsim::workload
