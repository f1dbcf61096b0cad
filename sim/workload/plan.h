#pragma once
/// The network as a graph of primitive layers with per-sample shapes, checked once
/// before any op is emitted (residual groups become `add` nodes with two inputs).
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "sim/workload/spec.h"

namespace bpsim::workload {

using Shape = std::vector<uint64_t>;

std::string shape_str(const Shape& s);
uint64_t product(const Shape& s);

struct Node {
  const LayerSpec* l = nullptr;  ///< for `add`: the residual
  std::string kind;              ///< the primitive's kind, or "add"
  std::vector<int> in;           ///< producer node ids; -1 is the network input
  Shape in_shape, out_shape;     ///< per sample (in_shape: of the first input)
  size_t top = 0;                ///< index of the top-level layer it belongs to
  bool params = false;           ///< owns weights
  bool needs_grad = false;       ///< its output depends on a weight (one the step updates)
  bool frozen = false;           ///< owns weights the step does not update (training.block_update)
  int tied = -1;                 ///< linear with a tied weight: the embedding node that owns it
};

struct NetPlan {
  std::vector<Node> nodes;      ///< in a valid forward order
  std::deque<LayerSpec> owned;  ///< layers made while planning (projection shortcuts)
  std::vector<int> top_last;    ///< last node of each top-level layer
  int output = -1;
};

/// Infers shapes, builds the node graph. Throws InputError naming the layer and shapes.
NetPlan plan_network(const NetSpec& net);

}  // namespace bpsim::workload
