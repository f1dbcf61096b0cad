#pragma once
/// A network description (configs/workloads/*.yaml) parsed and checked into plain data.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/config_node.h"
#include "sim/workload/ir.h"

namespace bpsim::workload {

struct LayerSpec {
  std::string kind;  ///< linear | conv2d | maxpool | relu | gelu | dropout | flatten
  std::string name;
  Location loc;
  uint64_t out_features = 0;   ///< linear; conv2d: filters
  uint64_t kernel = 1, stride = 1, padding = 0;  ///< conv2d, maxpool (square windows)
  bool bias = true;            ///< linear
  double weight_density = 1;   ///< linear: fraction of weights kept (pruning)
  double density = 0.5;        ///< relu: fraction of outputs that are non-zero
  double p = 0.1;              ///< dropout probability
};

enum class Optimizer { sgd, momentum, adam };

struct NetSpec {
  std::string name;
  DType dtype = DType::fp32;
  uint64_t batch = 1;
  std::vector<uint64_t> input_shape;  ///< per sample
  Optimizer optimizer = Optimizer::sgd;
  std::vector<LayerSpec> layers;      ///< `repeat` groups expanded
};

/// Parses a spec file's root map. Throws InputError naming file:line:col and key path.
NetSpec parse_net_spec(const config::Node& root);

}  // namespace bpsim::workload
