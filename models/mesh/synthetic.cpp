#include "models/mesh/synthetic.h"

#include <algorithm>
#include <memory>
#include <random>

namespace bpsim::mesh {

unsigned pattern_dest(const NocConfig& noc, const TrafficConfig& t, unsigned src, uint64_t draw) {
  const unsigned n = noc.nodes(), x = src % noc.cols, y = src / noc.cols;
  switch (t.pattern) {
    case Pattern::transpose: return x * noc.cols + y;  // square mesh, checked by the parser
    case Pattern::bitcomp: return (noc.rows - 1 - y) * noc.cols + (noc.cols - 1 - x);
    case Pattern::hotspot: {
      // The low 32 bits pick hotspot-or-not, the high bits the node (independent enough
      // for a 64-bit generator).
      const double u = double(draw & 0xFFFFFFFFull) / 4294967296.0;
      if (u < t.hotspot_fraction && !t.hotspot_nodes.empty())
        return t.hotspot_nodes[(draw >> 32) % t.hotspot_nodes.size()];
      return unsigned((draw >> 32) % n);
    }
    case Pattern::uniform: break;
  }
  return unsigned(draw % n);  // self included, as BookSim's uniform
}

TrafficResult run_synthetic(const NocConfig& noc, const TrafficConfig& t, uint64_t seed) {
  const std::unique_ptr<NocModel> model = make_noc_model(noc, seed);
  NocModel& net = *model;
  std::mt19937_64 rng(seed);
  const unsigned n = noc.nodes();
  const double p_packet = t.rate / t.packet_flits;
  std::geometric_distribution<uint64_t> gap(std::min(1.0, p_packet));
  const uint64_t w0 = t.warmup_cycles, w1 = t.warmup_cycles + t.measure_cycles;

  TrafficResult res;
  uint64_t outstanding = 0, lat_sum = 0, hop_sum = 0, created = 0;
  std::vector<uint32_t> src_of;  // tag → src, only for measured packets' hop count
  net.set_sink([&](uint32_t tag, uint32_t dest, uint64_t create, uint64_t arrive) {
    if (create < w0 || create >= w1) return;
    --outstanding;
    ++res.packets;
    lat_sum += arrive - create;
    hop_sum += net.hops(tag, dest);
  });
  std::vector<uint64_t> next(n);
  for (unsigned s = 0; s < n; ++s) next[s] = gap(rng);
  uint64_t ej_w0 = 0, ej_w1 = 0;
  bool at_w0 = false, at_w1 = false;
  std::vector<uint16_t> dest(1);
  const uint64_t stop = w1 + t.drain_cycles;
  for (;;) {
    const uint64_t t_next = *std::min_element(next.begin(), next.end());
    const uint64_t upto = std::min(t_next, stop);
    if (!at_w0 && upto >= w0) net.run_until(w0), ej_w0 = net.counters().ejected_flits, at_w0 = true;
    if (!at_w1 && upto >= w1) net.run_until(w1), ej_w1 = net.counters().ejected_flits, at_w1 = true;
    net.run_until(upto);
    if (upto >= w1 && outstanding == 0) break;
    if (upto >= stop) {
      res.drained = false;
      break;
    }
    for (unsigned s = 0; s < n; ++s) {
      if (next[s] != t_next) continue;
      dest[0] = uint16_t(pattern_dest(noc, t, s, rng()));
      if (t_next >= w0 && t_next < w1) ++outstanding, created += t.packet_flits;
      net.send(s, dest, t.packet_flits, t_next, s);  // tag = source, for hop counts
      next[s] = t_next + 1 + gap(rng);
    }
  }
  res.offered_rate = t.rate;
  const double node_cycles = double(n) * double(t.measure_cycles);
  res.accepted_rate = double(ej_w1 - ej_w0) / node_cycles;
  res.created_rate = double(created) / node_cycles;
  if (res.packets) {
    res.avg_packet_latency_cycles = double(lat_sum) / double(res.packets);
    res.avg_hops = double(hop_sum) / double(res.packets);
  }
  res.zero_load_latency_cycles = noc.zero_load_mean(res.avg_hops, t.packet_flits);
  res.saturated = !res.drained || res.accepted_rate < kSaturatedAcceptedShare * res.created_rate ||
                  res.avg_packet_latency_cycles > kSaturatedLatencyFactor * res.zero_load_latency_cycles;
  res.cycles = net.now();
  res.counters = net.counters();
  return res;
}

}  // namespace bpsim::mesh
