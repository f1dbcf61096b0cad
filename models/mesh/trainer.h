#pragma once
/// Runs a training step's ops on the mesh: layer ops become event-driven messages (only
/// non-zero activations or gradients fire) whose destinations come from the logic module's
/// ranges; weight gradients, updates and element-wise ops stay local to the clusters.
#include <cstdint>
#include <memory>
#include <random>

#include "models/mesh/cluster_memory.h"
#include "models/mesh/mapper.h"
#include "models/mesh/noc.h"
#include "models/mesh/noc_model.h"
#include "models/mesh/rtl_router.h"
#include "sim/engine/accelerator.h"
#include "sim/memory/sram.h"

namespace bpsim::mesh {

class Trainer {
 public:
  /// With `rtl` (backend: rtl) every firing's ranges, overlaps and ports come from the
  /// Verilated router, driven from the calling SC_THREAD, and its measured cycles replace
  /// logic_cycles in the message generator's timing.
  Trainer(const MeshSpec& spec, const Mapping& map, const workload::OpGraph& g, uint64_t seed,
          RtlRouter* rtl = nullptr);
  /// Times one op starting where the previous one ended, into `rec` (its identity filled
  /// by the caller: op_record).
  void run_op(const workload::Op& op, OpRecord& rec);
  uint64_t now() const { return m_time; }
  /// Training memory: each op's W^T refresh and DRAM spill after its compute (null: none).
  void set_memory(const ClusterMemory* memory) { m_memory = memory; }
  const NocCounters& counters() const { return m_net.counters(); }
  double avg_latency_cycles() const { return m_deliveries ? double(m_lat_sum) / double(m_deliveries) : 0.0; }
  uint64_t messages() const { return m_messages; }
  struct RtlStats {
    uint64_t firings = 0, cycles = 0, edges = 0;  ///< firings on the RTL, their cycles, all edges (loads, accepts)
    uint64_t mismatches = 0;                      ///< firings whose RTL result differs from router_evaluate (0)
  };
  const RtlStats& rtl_stats() const { return m_rtl_stats; }

 private:
  /// Messages from layer `src_layer` neurons into `dst` tiles; returns MACs done at destinations.
  uint64_t send_layer_messages(size_t m, bool backward, OpRecord& rec);
  const MeshSpec& m_spec;
  const Mapping& m_map;
  memory::OnChipBuffer m_sram;      ///< every cluster's; counts its accesses
  std::unique_ptr<NocModel> m_noc;  ///< flit- or flow-level (noc.model)
  NocModel& m_net;
  std::mt19937_64 m_rng;
  RtlRouter* m_rtl;
  const ClusterMemory* m_memory = nullptr;
  RtlStats m_rtl_stats;
  uint64_t m_time = 0, m_lat_sum = 0, m_deliveries = 0, m_messages = 0;
  unsigned m_bytes = 4, m_msg_flits = 1;
};

}  // namespace bpsim::mesh
