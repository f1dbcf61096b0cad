#pragma once
/// The mesh accelerator's sc_module: one SC_THREAD that runs whole ops (or the whole
/// synthetic run) in the plain-C++ core and then waits for their cycles.
#include <memory>
#include <vector>

#include <systemc>

#include "models/mesh/mapper.h"
#include "models/mesh/mesh_params.h"
#include "models/mesh/rtl_router.h"
#include "models/mesh/synthetic.h"
#include "sim/engine/accelerator.h"

namespace bpsim::mesh {

class MeshModel : public sc_core::sc_module, public Accelerator {
 public:
  SC_HAS_PROCESS(MeshModel);
  MeshModel(sc_core::sc_module_name name, MeshSpec spec, std::shared_ptr<const workload::OpGraph> graph,
            const config::Values& where, uint64_t seed);
  double clock_ghz() const override { return m_spec.clock_ghz; }
  uint64_t total_cycles() const override { return m_cycles; }
  /// One MAC per cluster element per cycle, every cluster of the mesh.
  double peak_macs_per_cycle() const override { return double(m_spec.noc.nodes()) * m_spec.cluster.elements; }
  nlohmann::json network() const override { return m_network; }
  std::vector<LeakingPart> leaking_parts() const override;
  const Mapping* mapping() const { return m_map.get(); }

 private:
  void run();
  /// The network's counters into m_stats, once; the clusters' with mode: training.
  void register_stats();
  void run_synthetic_mode();
  void run_training();
  MeshSpec m_spec;
  std::shared_ptr<const workload::OpGraph> m_graph;
  std::unique_ptr<Mapping> m_map;  ///< built at construction: mapping errors are input errors
  uint64_t m_seed;
  uint64_t m_cycles = 0;
  NocCounters m_counters;
  nlohmann::json m_network = nlohmann::json::object();
  std::unique_ptr<RtlRouter> m_rtl;  ///< backend: rtl
  uint64_t m_rtl_firings = 0, m_rtl_cycles = 0, m_rtl_edges = 0, m_rtl_mismatches = 0;
};

}  // namespace bpsim::mesh
