#pragma once
/// The mesh's energy vocabulary, declared once: the actions its routers, links and
/// clusters count and the leakage units of its parts (priced in configs/energy/45nm/mesh.yaml),
/// and the clusters' SRAM as the shared on-chip buffer component.
#include "models/mesh/mesh_params.h"
#include "sim/core/energy.h"
#include "sim/memory/sram.h"

namespace bpsim::mesh {

struct MeshActions {
  Vocabulary vocabulary{"mesh"};
  const Action buffer_write = vocabulary.add("buffer_write", "one flit written into a router input buffer");
  const Action buffer_read = vocabulary.add("buffer_read", "one flit read from a router input buffer");
  const Action xbar = vocabulary.add("xbar", "one flit through a router crossbar");
  const Action link = vocabulary.add("link", "one flit over one router-to-router link (flit-hop)");
  const Action mac = vocabulary.add("mac", "one multiply-accumulate in a processing element");
  const Action sram_read = vocabulary.add("sram_read_64b", "one 64-bit read of cluster SRAM");
  const Action sram_write = vocabulary.add("sram_write_64b", "one 64-bit write of cluster SRAM");
  const Action range =
      vocabulary.add("range", "one control-store entry evaluated by the logic module (range + overlap)");

  Vocabulary units{"mesh"};
  const Action pe = units.add("pe", "one processing element (an fp32 MAC with its operand and accumulator registers)");
  const Action router_buffer_bit =
      units.add("router_buffer_bit", "one bit of router input buffer (ports × VCs × depth × flit bits)");
  const Action router_xbar_bit = units.add("router_xbar_bit", "one bit of flit width through a 5×5 router crossbar");
};
const MeshActions& mesh_actions();

/// One cluster's SRAM (weights and weight gradients): a memory::OnChipBuffer of
/// cluster.sram_kib counting mesh.sram_read_64b / mesh.sram_write_64b, priced at that
/// capacity and leaking as "mesh.sram" (one copy per cluster used).
memory::OnChipBuffer cluster_sram(const ClusterConfig& c);

}  // namespace bpsim::mesh
