#pragma once
/// The `accelerator:` parameters of the mesh model, each declared once and bound to its
/// field of MeshSpec (spec, then construct: everything is checked here).
#include <cstdint>
#include <memory>

#include "models/mesh/noc.h"
#include "models/mesh/synthetic.h"
#include "sim/core/enum_names.h"
#include "sim/core/params.h"

namespace bpsim::mesh {

enum class Mode { synthetic, training };
inline constexpr config::EnumName<Mode> kModeNames[] = {{Mode::training, "training"}, {Mode::synthetic, "synthetic"}};
enum class Multicast { tree, unicast };
inline constexpr config::EnumName<Multicast> kMulticastNames[] = {{Multicast::tree, "tree"},
                                                                  {Multicast::unicast, "unicast"}};
/// Where layer m's backward (dX = Wᵀ·dY, computed at layer m−1's clusters) finds its weights
/// (cluster_memory.h): a copy of Wᵀ refreshed after every update, or a fixed random matrix B.
/// Not a parameter: it follows the op graph (the workload's `training: feedback:`), a dX
/// that reads the layer's `<layer>.feedback` tensor instead of its weight.
enum class BackwardWeights { transport, feedback_alignment };
inline constexpr config::EnumName<BackwardWeights> kBackwardWeightsNames[] = {
    {BackwardWeights::transport, "transport"}, {BackwardWeights::feedback_alignment, "feedback_alignment"}};

// Fields are zero until parsed, not defaulted: mesh_schema() declares the defaults.

/// One cluster: P elements (neurons), local SRAM, a message generator with a control store.
struct ClusterConfig {
  unsigned elements{};  ///< P
  uint64_t sram_bytes{};
  unsigned range_units{};          ///< control-store entries the logic module evaluates per cycle
  unsigned header_bytes{};         ///< message header: source coordinates, layer, phase
  unsigned max_control_entries{};  ///< control-store capacity (destination clusters)
};

struct MeshSpec {
  NocConfig noc;
  TrafficConfig traffic;
  ClusterConfig cluster;
  Mode mode{};
  Multicast multicast{};
  double clock_ghz{};
  double input_density{};  ///< share of non-zero network inputs
  bool rtl_backend{};      ///< backend: rtl — the logic module runs on the Verilated router
};

/// Flits of one event message: the header and one value of `value_bytes`.
inline unsigned message_flits(const MeshSpec& s, unsigned value_bytes) {
  return (s.cluster.header_bytes + value_bytes + s.noc.flit_bytes - 1) / s.noc.flit_bytes;
}

std::shared_ptr<const config::Schema> mesh_schema();
/// Throws InputError (with location and key path) for cross-parameter problems.
MeshSpec parse_mesh_spec(const config::Values& v);

}  // namespace bpsim::mesh
