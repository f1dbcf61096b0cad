#pragma once
/// Synthetic traffic on the mesh network (validation against BookSim2-style runs):
/// Bernoulli injection per node, a warm-up window, a measurement window, then a drain
/// of the packets created in the measurement window, and a saturation verdict.
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

/// A load is saturated when the network no longer keeps up with it over the measurement
/// window: it accepts less than this share of the flits created in the window ...
inline constexpr double kSaturatedAcceptedShare = 0.95;
/// ... or the mean packet latency exceeds this multiple of the zero-load latency of the same
/// packets (queues grow without bound past saturation; below it, M/D/1-like queueing stays
/// well under 3× on a mesh), or the measured packets do not drain within drain_cycles.
inline constexpr double kSaturatedLatencyFactor = 3.0;

struct TrafficResult {
  double offered_rate = 0, accepted_rate = 0;  ///< flits/node/cycle in the measurement window
  double created_rate = 0;                     ///< flits/node/cycle actually created in the window
  double avg_packet_latency_cycles = 0;        ///< creation to tail ejection
  double zero_load_latency_cycles = 0;         ///< of the measured packets, from their mean distance
  double avg_hops = 0;
  uint64_t packets = 0;    ///< measured packets delivered
  uint64_t cycles = 0;     ///< simulated cycles, drain included
  bool drained = true;     ///< every measured packet delivered within drain_cycles
  bool saturated = false;  ///< see kSaturatedAcceptedShare and kSaturatedLatencyFactor
  NocCounters counters;
};

/// Destination of a packet from `src` under `pattern` (hotspot uses `rng_draw`).
unsigned pattern_dest(const NocConfig& noc, const TrafficConfig& t, unsigned src, uint64_t rng_draw);
TrafficResult run_synthetic(const NocConfig& noc, const TrafficConfig& t, uint64_t seed);

}  // namespace bpsim::mesh
