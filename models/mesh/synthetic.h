#pragma once
/// Synthetic traffic on the mesh network (validation against BookSim2-style runs):
/// Bernoulli injection per node, a warm-up window, a measurement window, then a drain
/// of the packets created in the measurement window.
#include <cstdint>
#include <vector>

#include "models/mesh/noc.h"

namespace bpsim::mesh {

enum class Pattern { uniform, transpose, bitcomp, hotspot };
inline constexpr config::EnumName<Pattern> kPatternNames[] = {{Pattern::uniform, "uniform"},
                                                              {Pattern::transpose, "transpose"},
                                                              {Pattern::bitcomp, "bitcomp"},
                                                              {Pattern::hotspot, "hotspot"}};

struct TrafficConfig {
  Pattern pattern = Pattern::uniform;
  double rate = 0.1;  ///< offered flits per node per cycle, in (0, 1]
  unsigned packet_flits = 1;
  uint64_t warmup_cycles = 10000, measure_cycles = 100000;
  uint64_t drain_cycles = 100000;  ///< give up draining after this: saturated
  std::vector<unsigned> hotspot_nodes;
  double hotspot_fraction = 0.1;  ///< share of packets sent to the hotspot nodes
};

struct TrafficResult {
  double offered_rate = 0, accepted_rate = 0;  ///< flits/node/cycle in the measurement window
  double avg_packet_latency_cycles = 0;        ///< creation to tail ejection
  double avg_hops = 0;
  uint64_t packets = 0;    ///< measured packets delivered
  uint64_t cycles = 0;     ///< simulated cycles, drain included
  bool saturated = false;  ///< measured packets not drained in time
  NocCounters counters;
};

/// Destination of a packet from `src` under `pattern` (hotspot uses `rng_draw`).
unsigned pattern_dest(const NocConfig& noc, const TrafficConfig& t, unsigned src, uint64_t rng_draw);
TrafficResult run_synthetic(const NocConfig& noc, const TrafficConfig& t, uint64_t seed);

}  // namespace bpsim::mesh
