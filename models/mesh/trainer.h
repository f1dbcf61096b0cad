#pragma once
/// Runs a training step's ops on the mesh: layer ops become event-driven messages (only
/// non-zero activations or gradients fire) whose destinations come from the logic module's
/// ranges; weight gradients, updates and element-wise ops stay local to the clusters.
#include <cstdint>
#include <random>

#include "models/mesh/mapper.h"
#include "models/mesh/noc.h"
#include "sim/engine/accelerator.h"

namespace bpsim::mesh {

/// Energy actions the mesh counts (priced in configs/energy/45nm/mesh.yaml).
std::vector<ActionDecl> mesh_actions();

class Trainer {
 public:
  Trainer(const MeshSpec& spec, const Mapping& map, const workload::OpGraph& g, uint64_t seed);
  /// Times one op starting where the previous one ended.
  OpRecord run_op(const workload::Op& op);
  uint64_t now() const { return m_time; }
  const NocCounters& counters() const { return m_net.counters(); }
  double avg_latency_cycles() const { return m_deliveries ? double(m_lat_sum) / double(m_deliveries) : 0.0; }
  uint64_t messages() const { return m_messages; }

 private:
  /// Messages from layer `src_layer` neurons into `dst` tiles; returns MACs done at destinations.
  uint64_t send_layer_messages(size_t m, bool backward, OpRecord& rec);
  const MeshSpec& m_spec;
  const Mapping& m_map;
  const workload::OpGraph& m_graph;
  Network m_net;
  std::mt19937_64 m_rng;
  uint64_t m_time = 0, m_lat_sum = 0, m_deliveries = 0, m_messages = 0;
  unsigned m_bytes = 4, m_msg_flits = 1;
};

}  // namespace bpsim::mesh
