#pragma once
/// Training memory per cluster on the mesh: what each cluster of a mapped layer holds over a
/// training step (weights, weight gradients, optimizer state, the stored inputs its local dW
/// needs, the backward weights of the layers it feeds), what of it does not fit `cluster.sram_kib`
/// and goes to DRAM, and the per-op traffic that follows (spill reads and writes through the
/// shared memory system, W^T refresh messages on the NoC). docs/mesh.md, "Training memory per
/// cluster", gives the rules and their reasons.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/mesh/mapper.h"
#include "models/mesh/noc_model.h"
#include "sim/ir/op_record.h"

namespace bpsim::memory {
class MemorySystem;
}

namespace bpsim::mesh {

/// One cluster's bytes by what they hold. Spilled in this order (first listed, first out):
/// saved inputs, optimizer state, backward weights; weights and their gradients stay (every
/// message and every dW MAC touches them): they are the working set a cluster must hold.
struct ClusterBytes {
  uint64_t weights = 0, weight_grads = 0, optimizer = 0, saved = 0, backward_weights = 0;
  uint64_t total() const { return weights + weight_grads + optimizer + saved + backward_weights; }
  ClusterBytes& operator+=(const ClusterBytes& o);
  nlohmann::json to_json() const;
};

/// One mapped layer: its largest cluster, and over all its clusters what goes to DRAM.
struct LayerMemory {
  ClusterBytes need;           ///< the cluster with the most bytes, everything it holds
  ClusterBytes spilled;        ///< summed over the layer's clusters
  uint64_t spilled_max = 0;    ///< the most any one of its clusters spills
  uint64_t refresh_bytes = 0;  ///< W^T of the next layer written here after its update (transport)
};

/// Contiguous bytes at an address of the spill area.
struct SpillTransfer {
  uint64_t addr = 0, bytes = 0;
};

/// What one op moves because of the training memory.
struct OpMemoryTraffic {
  std::vector<SpillTransfer> reads, writes;  ///< DRAM
  int refresh_layer = -1;                    ///< mapped layer whose W^T copies this op refreshes (an update)
};

/// The plan of a training step's cluster memory, made once from the mapping and the graph.
class ClusterMemory {
 public:
  ClusterMemory(const Mapping& map, const workload::OpGraph& g, const MeshSpec& spec);
  const std::vector<LayerMemory>& layers() const { return m_layers; }  ///< as Mapping::layers
  bool spills() const { return m_spill_total > 0; }
  uint64_t spill_area_bytes() const { return m_spill_total; }
  /// The traffic of op `id` (null: none).
  const OpMemoryTraffic* traffic_of(uint32_t id) const;
  /// The DRAM device the spill goes through (bound by the model when spills()).
  void bind(memory::MemorySystem* mem) { m_mem = mem; }
  /// An op's memory work after its compute (rec.cycles so far): the W^T refresh messages of
  /// an update on `net`, then its spill traffic (time_spill). `start`: the op's first cycle.
  void run_op(const workload::Op& op, NocModel& net, uint64_t start, OpRecord& rec) const;
  /// Sends layer m's W^T refresh (layer m's clusters to its producer's, in messages of at most
  /// kRefreshPayloadBytes; the tiles of one channel group take the destinations in turn),
  /// created at `start`; returns the refresh bytes sent.
  uint64_t send_refresh(size_t m, NocModel& net, uint64_t start) const;
  /// The report's `network.cluster_memory`.
  nlohmann::json report() const;
  /// Weight bytes one refresh message carries (a header comes on top): 64 fp32 weights.
  static constexpr uint64_t kRefreshPayloadBytes = 256;

 private:
  const Mapping& m_map;
  const MeshSpec& m_spec;
  uint64_t m_elem_bytes = 4;
  /// feedback_alignment when some layer's dX reads a feedback matrix B (the op graph says so).
  BackwardWeights m_backward_weights = BackwardWeights::transport;
  std::vector<LayerMemory> m_layers;
  /// Per consumer layer, per tile of its producer (layers[m].from): rows of the consumer's W^T
  /// hosted there (empty: the consumer has no W^T, e.g. a join, attention or no dX).
  std::vector<std::vector<uint64_t>> m_bw_units;
  std::map<uint32_t, OpMemoryTraffic> m_ops;
  uint64_t m_spill_total = 0;
  memory::MemorySystem* m_mem = nullptr;
};

/// Times an op's spill traffic through the shared memory system: its reads are issued when
/// the op starts and its compute waits for them; its writes are issued when its compute ends
/// and the op ends when they complete (no overlap with compute). Adds the DRAM time to
/// `rec.cycles`, the staged bytes to the on-chip counts, and `spill_stall_cycles` to extra.
void time_spill(const OpMemoryTraffic& t, memory::MemorySystem& mem, double clock_ghz, uint64_t start_cycle,
                OpRecord& rec);

}  // namespace bpsim::mesh
