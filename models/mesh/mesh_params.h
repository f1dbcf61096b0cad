#pragma once
/// The `accelerator:` parameters of the mesh model, declared once, and their translation
/// into plain structs (spec, then construct: everything is checked here).
#include <cstdint>
#include <memory>

#include "models/mesh/noc.h"
#include "models/mesh/synthetic.h"
#include "sim/core/params.h"

namespace bpsim::mesh {

enum class Mode { synthetic, training };
enum class Multicast { tree, unicast };

/// One cluster: P elements (neurons), local SRAM, a message generator with a control store.
struct ClusterConfig {
  unsigned elements = 256;       ///< P
  uint64_t sram_bytes = 512 * 1024;
  unsigned range_units = 4;      ///< control-store entries the logic module evaluates per cycle
  unsigned header_bytes = 8;     ///< message header: source coordinates, layer, phase
  unsigned max_control_entries = 64;  ///< control-store capacity (destination clusters)
};

struct MeshSpec {
  NocConfig noc;
  TrafficConfig traffic;
  ClusterConfig cluster;
  Mode mode = Mode::training;
  Multicast multicast = Multicast::tree;
  double clock_ghz = 1.0;
  double input_density = 1.0;  ///< share of non-zero network inputs
  bool rtl_backend = false;    ///< backend: rtl — the logic module runs on the Verilated router
};

std::shared_ptr<const config::Schema> mesh_schema();
/// Throws InputError (with location and key path) for cross-parameter problems.
MeshSpec parse_mesh_spec(const config::Values& v);

}  // namespace bpsim::mesh
