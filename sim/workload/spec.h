#pragma once
/// A network description (configs/workloads/*.yaml) parsed and checked into plain data.
/// Composite layers (transformer_block, attention, basic_block, bottleneck) are expanded
/// here into primitives plus `residual` and `sequence` groups, so the builder only knows
/// primitives; `sequential` groups (nn.Sequential) are flattened into the list that holds
/// them and kept as a module tree for the checkpoint policies.
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

enum class Optimizer { sgd, momentum, adam };
inline constexpr config::EnumName<Optimizer> kOptimizerNames[] = {
    {Optimizer::sgd, "sgd"}, {Optimizer::momentum, "momentum"}, {Optimizer::adam, "adam"}};

struct NetSpec {
  std::string name;
  DType dtype = DType::fp32;
  uint64_t batch = 1;
  std::vector<uint64_t> input_shape;  ///< per sample
  Optimizer optimizer = Optimizer::sgd;
  /// Top-level layers (`repeat` groups expanded, `sequential` groups flattened).
  std::vector<LayerSpec> layers;
  /// The top level of the module tree (the units of checkpointing policies); empty for a
  /// network made in code: then every layer is a module (module_tree).
  std::vector<ModuleSpec> modules;
};

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
