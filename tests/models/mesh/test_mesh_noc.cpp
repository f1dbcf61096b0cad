// Mesh network core: zero-load latency from the router pipeline, throughput below
// saturation, tree multicast vs unicast, determinism. No SystemC needed.
#include <catch2/catch.hpp>

#include "models/mesh/noc.h"
#include "models/mesh/synthetic.h"

using namespace bpsim::mesh;

namespace {
/// Latency of one packet alone in the network.
uint64_t single_packet_latency(const NocConfig& c, unsigned src, unsigned dst, unsigned flits) {
  Network net(c, 1);
  uint64_t lat = 0;
  net.set_sink([&](uint32_t, uint32_t, uint64_t create, uint64_t arrive) { lat = arrive - create; });
  net.send(src, {uint16_t(dst)}, flits, 10, 0);
  net.drain();
  return lat;
}
}  // namespace

TEST_CASE("mesh noc: zero-load latency of one packet follows the pipeline", "[mesh]") {
  NocConfig c;  // 8×8, rc = va = sa = st = 1, link 1
  // Corner to corner: D = 7 + 7 = 14 hops. T0 = (D+1)·(rc+va+sa+st) + (D+2)·link
  // + (flits−1) = 15·4 + 16·1 + 0 = 76 cycles (docs/references.md, NoC zero-load formula).
  CHECK(single_packet_latency(c, 0, 63, 1) == 76);
  CHECK(c.zero_load_cycles(14, 1) == 76);
  // 4-flit packet: + 3 cycles of serialisation = 79.
  CHECK(single_packet_latency(c, 0, 63, 4) == 79);
  // Self traffic: D = 0 → 1·4 + 2·1 = 6.
  CHECK(single_packet_latency(c, 9, 9, 1) == 6);
  // Different pipeline: rc 0, link 2; (0,0)→(3,0): D = 3 → 4·3 + 5·2 = 22.
  c.rc_cycles = 0;
  c.link_cycles = 2;
  CHECK(single_packet_latency(c, 0, 3, 1) == 22);
}

TEST_CASE("mesh noc: uniform random at low load has the zero-load mean latency", "[mesh]") {
  NocConfig c;
  TrafficConfig t;
  t.rate = 0.005;
  t.warmup_cycles = 1000;
  t.measure_cycles = 40000;
  const TrafficResult r = run_synthetic(c, t, 7);
  // Mean DOR distance on a k×k mesh with self traffic: 2(k²−1)/(3k) = 2·63/24 = 5.25;
  // per hop 5 cycles (4 router stages + 1 link), plus 1 router and 2 links: 5·5.25 + 6 = 32.25.
  CHECK(r.avg_hops == Approx(5.25).epsilon(0.03));
  CHECK(r.avg_packet_latency_cycles == Approx(32.25).epsilon(0.02));
  CHECK(r.accepted_rate == Approx(0.005).epsilon(0.1));
  CHECK_FALSE(r.saturated);
}

TEST_CASE("mesh noc: accepted equals offered below saturation, not above the bisection bound", "[mesh]") {
  NocConfig c;
  TrafficConfig t;
  t.warmup_cycles = 2000;
  t.measure_cycles = 10000;
  t.rate = 0.2;
  const TrafficResult low = run_synthetic(c, t, 3);
  CHECK(low.accepted_rate == Approx(0.2).epsilon(0.03));
  CHECK_FALSE(low.saturated);
  // Bisection bound for uniform traffic on a k×k mesh: 4/k = 0.5 flits/node/cycle (k = 8).
  t.rate = 0.8;
  t.drain_cycles = 2000;
  const TrafficResult high = run_synthetic(c, t, 3);
  CHECK(high.accepted_rate < 0.5);
  CHECK(high.saturated);
}

TEST_CASE("mesh noc: tree multicast replicates at branch routers", "[mesh]") {
  NocConfig c;
  std::vector<uint16_t> all;
  for (uint16_t d = 1; d < 64; ++d) all.push_back(d);
  Network tree(c, 1);
  uint64_t got = 0;
  tree.set_sink([&](uint32_t, uint32_t, uint64_t, uint64_t) { ++got; });
  tree.send(0, all, 2, 0, 0);
  tree.drain();
  CHECK(got == 63);
  // An XY tree from node 0 reaching 63 nodes uses each of its 63 links once, per flit.
  CHECK(tree.counters().flit_hops == 63 * 2);
  Network uni(c, 1);
  for (uint16_t d : all) uni.send(0, {d}, 2, 0, 0);
  uni.drain();
  // Unicast: Σ over destinations of (x + y) = 8·(0+…+7)·2 = 448 hops, per flit.
  CHECK(uni.counters().flit_hops == 448 * 2);
  CHECK(uni.counters().injected_flits == 63 * 2);
  CHECK(tree.counters().injected_flits == 2);
}

TEST_CASE("mesh noc: heavy transpose and o1turn traffic drain, flits conserved, deterministic", "[mesh]") {
  NocConfig c;
  c.vcs = 4;
  c.routing = Routing::o1turn;
  TrafficConfig t;
  t.pattern = Pattern::transpose;
  t.rate = 0.5;
  t.packet_flits = 4;
  t.warmup_cycles = 500;
  t.measure_cycles = 3000;
  t.drain_cycles = 200000;
  const TrafficResult a = run_synthetic(c, t, 11), b = run_synthetic(c, t, 11);
  CHECK(a.packets > 0);
  CHECK(a.avg_packet_latency_cycles == b.avg_packet_latency_cycles);
  CHECK(a.counters.flit_hops == b.counters.flit_hops);
  // A burst of 4000 transpose packets all sent at once must drain with every flit
  // written and read once per router visited.
  Network net(c, 5);
  for (unsigned i = 0; i < 4000; ++i) {
    const unsigned src = (i * 37) % 64;
    net.send(src, {uint16_t(pattern_dest(c, t, src, 0))}, 4, i / 64, i);
  }
  net.drain();
  CHECK(net.idle());
  CHECK(net.counters().injected_flits == 16000);
  CHECK(net.counters().ejected_flits == 16000);
  CHECK(net.counters().buffer_writes == net.counters().buffer_reads);
}
