#pragma once
/// The mesh accelerator's model in the framework's shell (sim/engine/op_runner.h): training
/// runs the workload's ops in the plain-C++ trainer, op by op; synthetic mode replaces the
/// op loop with one traffic run. Its kind declares MemoryUse::per_run: a training step whose
/// cluster memory (cluster_memory.h) does not fit the clusters' SRAM binds the DRAM device
/// offered and spills there; everything else stays on chip.
#include <memory>
#include <vector>

#include <systemc>

#include "models/mesh/cluster_memory.h"
#include "models/mesh/mapper.h"
#include "models/mesh/mesh_params.h"
#include "models/mesh/rtl_router.h"
#include "models/mesh/synthetic.h"
#include "sim/engine/op_runner.h"

namespace bpsim::mesh {

class Trainer;

class MeshModel : public OpRunner {
 public:
  MeshModel(sc_core::sc_module_name name, MeshSpec spec, std::shared_ptr<const workload::OpGraph> graph,
            const config::Values& where, uint64_t seed, memory::MemorySystem* dram = nullptr);
  ~MeshModel() override;
  double clock_ghz() const override { return m_spec.clock_ghz; }
  /// One MAC per cluster element per cycle, every cluster of the mesh.
  double peak_macs_per_cycle() const override { return double(m_spec.noc.nodes()) * m_spec.cluster.elements; }
  nlohmann::json network() const override { return m_network; }
  std::vector<LeakingPart> leaking_parts() const override;
  const Mapping* mapping() const { return m_map.get(); }

 private:
  /// Synthetic mode's traffic run, or training's op loop between setting up the trainer
  /// and reading its network figures.
  void process() override;
  void run_op(const workload::Op& op, OpRecord& rec) override;
  /// The network's counters into m_stats, once; the clusters' with mode: training.
  void register_stats();
  void run_synthetic_mode();
  MeshSpec m_spec;
  std::shared_ptr<const workload::OpGraph> m_graph;
  std::unique_ptr<Mapping> m_map;           ///< built at construction: mapping errors are input errors
  std::unique_ptr<ClusterMemory> m_memory;  ///< training: what each cluster holds, what spills
  uint64_t m_seed;
  std::unique_ptr<Trainer> m_trainer;  ///< training, while the ops run
  NocCounters m_counters;
  nlohmann::json m_network = nlohmann::json::object();
  std::unique_ptr<RtlRouter> m_rtl;  ///< backend: rtl
  uint64_t m_rtl_firings = 0, m_rtl_cycles = 0, m_rtl_edges = 0, m_rtl_mismatches = 0;
  uint64_t m_spill_stall_cycles = 0, m_refresh_bytes = 0;  ///< training memory, summed over the ops
};

}  // namespace bpsim::mesh
