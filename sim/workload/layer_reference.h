#pragma once
/// The layer reference (`bpsim list --layers`, docs/layers.md): every kind a spec's `layers:`
/// map may name, what it adds to the training step's op graph, and the keys the spec parser
/// validates it against — the very declarations it validates with (spec.cpp), so the
/// reference cannot drift from the parser.
#include <memory>
#include <string>
#include <vector>

#include "sim/core/params.h"

namespace bpsim::workload {

struct LayerKindInfo {
  std::string kind;
  bool group = false;                          ///< residual, sequential, repeat: hold a `layers:` list of their own
  std::shared_ptr<const config::Schema> keys;  ///< its description is the op-graph effect
};

/// Every layer kind and group (`repeat`, written as a key), in the reference's order.
std::vector<LayerKindInfo> layer_reference();

}  // namespace bpsim::workload
