#pragma once
/// A network description (configs/workloads/*.yaml) parsed and checked into plain data.
/// Composite layers (transformer_block, attention, basic_block, bottleneck) are expanded
/// here into primitives plus `residual` and `sequence` groups, so the builder only knows
/// primitives.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/config_node.h"
#include "sim/core/enum_names.h"
#include "sim/ir/ir.h"

namespace bpsim::workload {

/// How attention_core computes softmax(QKᵀ/√d)·V: explicit ops (the s×s probabilities are a
/// tensor), or one fused scaled-dot-product kernel of PyTorch's SDPA (scores stay on chip):
/// flash, memory-efficient, or cuDNN's (SDPA's first choice on Hopper GPUs in PyTorch 2.11).
enum class AttnImpl { explicit_, flash, mem_efficient, cudnn };
inline constexpr config::EnumName<AttnImpl> kAttnImplNames[] = {{AttnImpl::explicit_, "explicit"},
                                                                {AttnImpl::flash, "flash"},
                                                                {AttnImpl::mem_efficient, "mem_efficient"},
                                                                {AttnImpl::cudnn, "cudnn"}};

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
  uint64_t out_features = 0;                     ///< linear, binary_*; conv2d: filters; embedding: dim
  uint64_t kernel = 1, stride = 1, padding = 0;  ///< conv2d, pools (square windows)
  uint64_t groups = 1;                           ///< conv2d
  bool global = false;                           ///< avgpool over the whole map (adaptive 1×1)
  bool bias = true;                              ///< linear, conv2d
  double weight_density = 1;                     ///< linear, conv2d: fraction of weights kept (pruning)
  double density = 0.5;                          ///< relu: fraction of outputs that are non-zero
  double p = 0.1;                                ///< dropout probability (attention_core: on the probabilities)
  uint64_t heads = 1;                            ///< attention_core
  bool causal = false;                           ///< attention_core
  AttnImpl attention = AttnImpl::explicit_;      ///< attention_core
  CausalMask causal_mask = CausalMask::none;     ///< attention_core (explicit, causal)
  uint64_t kv_heads = 0;                         ///< attention_core: key/value heads (0 = heads)
  bool rope = false;                             ///< attention_core: rotary embedding on q and k
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

enum class Optimizer { sgd, momentum, adam };
inline constexpr config::EnumName<Optimizer> kOptimizerNames[] = {
    {Optimizer::sgd, "sgd"}, {Optimizer::momentum, "momentum"}, {Optimizer::adam, "adam"}};

struct NetSpec {
  std::string name;
  DType dtype = DType::fp32;
  uint64_t batch = 1;
  std::vector<uint64_t> input_shape;  ///< per sample
  Optimizer optimizer = Optimizer::sgd;
  /// Top-level layers (`repeat` groups expanded): the units of checkpointing policies.
  std::vector<LayerSpec> layers;
};

/// Parses a spec file's root map. Throws InputError naming file:line:col and key path, also
/// past the `layers` limit (sim/core/limits.h) once `repeat` groups are expanded.
NetSpec parse_net_spec(const config::Node& root);

/// Parses a `layers:` list (used by parse_net_spec and the inline `workload: layers:` form).
void parse_layer_list(const config::Node& list, const std::string& path, std::vector<LayerSpec>& out);

}  // namespace bpsim::workload
