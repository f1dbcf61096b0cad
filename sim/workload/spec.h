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
  uint64_t vocab = 0;                            ///< embedding
  /// sequence from attention/transformer_block: the input's last dimension must be this.
  uint64_t hidden = 0;
  /// residual from basic_block/bottleneck: when the branch changes the shape, the
  /// shortcut becomes a strided 1×1 conv + batchnorm (torchvision's downsample).
  bool project = false;
  std::vector<LayerSpec> body;      ///< residual, sequence
  std::vector<LayerSpec> shortcut;  ///< residual; empty = identity
};

enum class Optimizer { sgd, momentum, adam };
inline constexpr config::EnumName<Optimizer> kOptimizerNames[] = {
    {Optimizer::sgd, "sgd"}, {Optimizer::momentum, "momentum"}, {Optimizer::adam, "adam"}};

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

struct NetSpec {
  std::string name;
  DType dtype = DType::fp32;
  uint64_t batch = 1;
  std::vector<uint64_t> input_shape;  ///< per sample
  Optimizer optimizer = Optimizer::sgd;
  Loss loss = Loss::none;
  /// Top-level layers (`repeat` groups expanded): the units of checkpointing policies.
  std::vector<LayerSpec> layers;
};

/// Parses a spec file's root map. Throws InputError naming file:line:col and key path, also
/// past the `layers` limit (sim/core/limits.h) once `repeat` groups are expanded.
NetSpec parse_net_spec(const config::Node& root);

/// Parses a `layers:` list (used by parse_net_spec and the inline `workload: layers:` form).
void parse_layer_list(const config::Node& list, const std::string& path, std::vector<LayerSpec>& out);

}  // namespace bpsim::workload
