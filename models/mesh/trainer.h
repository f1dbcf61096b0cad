#pragma once
/// Runs a training step's ops on the mesh: layer ops and residual joins become event-driven
/// messages (only non-zero activations or gradients fire) whose destinations come from the
/// logic module's ranges; weight gradients, updates and element-wise ops stay local to the
/// clusters holding their input; row reductions across tiles send partial sums.
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
  /// Partial sums of a row-wise op on layer m's outputs, gathered across the tiles that
  /// share a row and (forward, backward data) sent back; returns the cycles it took.
  uint64_t reduce_messages(const workload::Op& op, size_t m, OpRecord& rec);
  /// Attention layer m's K or V rows from the QKV projection (backward: dK or dV back to
  /// it); returns the cycles until the last arrives.
  uint64_t send_operands(size_t m, bool backward, OpRecord& rec);
  /// QK^T, PV and their backward ops (false: not a mapped attention op).
  bool run_attention(const workload::Op& op, OpRecord& rec);
  /// Network and SRAM counts of the op, its cycles (`cycles` from `base`, after what
  /// began at t0), and the clock moved past it.
  void finish(const workload::Op& op, OpRecord& rec, const NocCounters& before, uint64_t t0, uint64_t base,
              uint64_t cycles);
  /// Routes the gradient of every join whose skip branch comes from layer `at` or above
  /// to that branch, into `rec` (a backward op of layer `at`).
  void send_join_gradients(size_t at, OpRecord& rec);
  const MeshSpec& m_spec;
  const Mapping& m_map;
  memory::OnChipBuffer m_sram;      ///< every cluster's; counts its accesses
  std::unique_ptr<NocModel> m_noc;  ///< flit- or flow-level (noc.model)
  NocModel& m_net;
  std::mt19937_64 m_rng;
  RtlRouter* m_rtl;
  const ClusterMemory* m_memory = nullptr;
  RtlStats m_rtl_stats;
  std::vector<size_t> m_pending;  ///< joins run forward whose gradient has not gone to the skip branch
  uint64_t m_time = 0, m_lat_sum = 0, m_deliveries = 0, m_messages = 0;
  unsigned m_bytes = 4, m_msg_flits = 1;
};

}  // namespace bpsim::mesh
