// Mesh network core: zero-load latency from the router pipeline, throughput below
// saturation, tail-credit VC release, input speedup, the saturation verdict, tree multicast
// vs unicast and under stress, determinism. No SystemC needed, except the CLI case.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <random>

#include <nlohmann/json.hpp>

#include "models/mesh/mesh_params.h"
#include "models/mesh/noc.h"
#include "models/mesh/synthetic.h"
#include "tests/cli/cli_harness.h"
#include "tests/models/mesh/mesh_test_util.h"

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
  NocConfig c;  // 8×8, ni 1, rc = va = sa = st = 1, link 1
  // Per stage, self traffic (D = 0), created in cycle t: the NI sends it in t (ni), the
  // injection channel takes t+1 (link), RC t+2, VA t+3, SA t+4, ST t+5, the ejection channel
  // t+6, and the NI holds the flit in t+7: 7 cycles = ni + 1·(rc+va+sa+st) + 2·link.
  CHECK(single_packet_latency(c, 9, 9, 1) == 7);
  // Each hop adds RC, VA, SA, ST and one link: 5 cycles. Corner to corner, D = 7 + 7 = 14:
  // T0 = ni + (D+1)·(rc+va+sa+st) + (D+2)·link + (flits−1) = 1 + 15·4 + 16·1 = 77 cycles
  // (docs/references.md, NoC zero-load formula; BookSim2's iq router gives 77 too).
  CHECK(single_packet_latency(c, 0, 63, 1) == 77);
  CHECK(c.zero_load_cycles(14, 1) == 77);
  // 4-flit packet: + 3 cycles of serialisation = 80.
  CHECK(single_packet_latency(c, 0, 63, 4) == 80);
  // Different pipeline: rc 0, link 2; (0,0)→(3,0): D = 3 → 1 + 4·3 + 5·2 = 23; without the
  // NI stage, 22.
  c.rc_cycles = 0;
  c.link_cycles = 2;
  CHECK(single_packet_latency(c, 0, 3, 1) == 23);
  c.ni_cycles = 0;
  CHECK(single_packet_latency(c, 0, 3, 1) == 22);
}

namespace {
/// Latency of each packet `tag` (index into `msgs`) sent at cycle 0 in order: {src, dest, flits}.
std::vector<uint64_t> latencies(const NocConfig& c, const std::vector<std::array<unsigned, 3>>& msgs) {
  Network net(c, 1);
  std::vector<uint64_t> lat(msgs.size(), 0);
  net.set_sink([&](uint32_t tag, uint32_t, uint64_t create, uint64_t arrive) { lat[tag] = arrive - create; });
  for (uint32_t i = 0; i < msgs.size(); ++i) net.send(msgs[i][0], {uint16_t(msgs[i][1])}, msgs[i][2], 0, i);
  net.drain();
  return lat;
}
}  // namespace

TEST_CASE("mesh noc: with wait_for_tail_credit an output VC is held until its tail's credit returns", "[mesh]") {
  // Two routers (2×1), one VC: packets A then B, one flit each, node 0 → node 1, both
  // created at cycle 0. A: NI sends at 0, router 0 RC 2, VA 3, SA 4; router 1 RC 7, VA 8,
  // SA 9; arrives 12 = 1 + 2·4 + 3·1 (zero load). A credit leaves at the end of its flit's
  // SA cycle and crosses the 1-cycle credit channel: usable 2 cycles after the SA.
  NocConfig c;
  c.cols = 2, c.rows = 1, c.vcs = 1;
  const std::vector<std::array<unsigned, 3>> ab = {{0, 1, 1}, {0, 1, 1}};
  // Released when the tail wins the switch: B is sent at 1 (the injection VC was freed by
  // A's send at 0), router 0 RC 3 is taken by A, so B's RC is 5 (after A leaves the buffer
  // at 4), VA 6 (the east VC freed at A's SA 4), SA 7; router 1 RC 10, VA 11, SA 12; arrives 15.
  c.wait_for_tail_credit = false;
  CHECK(latencies(c, ab) == std::vector<uint64_t>{12, 15});
  // Held until the tail credit returns: the injection VC comes back with A's credit from
  // router 0 (SA 4 → 6), so B is sent at 6: RC 8; the east VC comes back with A's credit
  // from router 1 (SA 9 → 11): VA 11, SA 12; router 1 RC 15, VA 16 (ejection VC back at
  // 12 + 2 = 14, the NI frees A's slot on arrival), SA 17; arrives 20.
  c.wait_for_tail_credit = true;
  CHECK(latencies(c, ab) == std::vector<uint64_t>{12, 20});
}

TEST_CASE("mesh noc: input speedup lets two VCs of one input port cross the switch in one cycle", "[mesh]") {
  // 2×2 mesh, 2 VCs, tail credits. Node 0 sends A0, A1 (1 flit, east to node 1), then B
  // (2 flits, east to 1) and C (2 flits, south to node 2), all created at cycle 0.
  // NI: A0 on VC1 at 0, A1 on VC0 at 1; VC1 returns with A0's credit (router 0 SA 4 → 6),
  // so B goes on VC1 at 6, 7; VC0 returns at 7 (A1's SA 5), C goes on VC0 at 8, 9.
  // Router 0: A0 takes east VC0 (VA 3), A1 east VC1 (VA 4); they come back at 11 and 12
  // (router 1 SAs 9 and 10, + 2). B: RC 8, VA 11, SA from 12; C: RC 10, VA 11, SA from 12.
  // So B and C, on VCs 1 and 0 of the local input, both want the switch at 12 and 13.
  NocConfig c;
  c.cols = 2, c.rows = 2, c.vcs = 2, c.wait_for_tail_credit = true;
  const std::vector<std::array<unsigned, 3>> msgs = {{0, 1, 1}, {0, 1, 1}, {0, 1, 2}, {0, 2, 2}};
  // Speedup 1: one crossbar input, alternating (the local input's accept pointer, last
  // moved past east, favours south first): C at 12, B at 13, C at 14, B at 15. C's head
  // reaches router 2 at 15 (RC), VA 16, SA 17, its tail SA 18, arrives 21; B's head reaches
  // router 1 at 16, VA 17, SA 18, tail SA 19, arrives 22.
  c.input_speedup = 1;
  CHECK(latencies(c, msgs) == std::vector<uint64_t>{12, 13, 22, 21});
  // Speedup 2: VC0 and VC1 on their own crossbar inputs, so B and C both cross at 12 and
  // 13; B's head reaches router 1 at 15, VA 16, SA 17, tail SA 18, arrives 21; C unchanged
  // (its tail still waits behind its head at router 2).
  c.input_speedup = 2;
  CHECK(latencies(c, msgs) == std::vector<uint64_t>{12, 13, 21, 21});
}

TEST_CASE("mesh noc: the new keys parse with their defaults, and input_speedup is at most vcs", "[mesh]") {
  const MeshSpec d = testing::mesh_spec("{}");
  CHECK(d.noc.ni_cycles == 1);
  CHECK_FALSE(d.noc.wait_for_tail_credit);
  CHECK(d.noc.input_speedup == 1);
  const MeshSpec t = testing::mesh_spec("noc: {vcs: 8, wait_for_tail_credit: true, input_speedup: 2}");
  CHECK(t.noc.wait_for_tail_credit);
  CHECK(t.noc.input_speedup == 2);
  CHECK_THROWS_WITH(testing::mesh_spec("noc: {vcs: 2, input_speedup: 4}"),
                    Catch::Contains("noc.input_speedup") && Catch::Contains("at most vcs"));
}

TEST_CASE("mesh noc: uniform random at low load has the zero-load mean latency", "[mesh]") {
  NocConfig c;
  TrafficConfig t;
  t.rate = 0.005;
  t.warmup_cycles = 1000;
  t.measure_cycles = 40000;
  const TrafficResult r = run_synthetic(c, t, 7);
  // Mean DOR distance on a k×k mesh with self traffic: 2(k²−1)/(3k) = 2·63/24 = 5.25;
  // per hop 5 cycles (4 router stages + 1 link), plus the NI stage, 1 router and 2 links:
  // 5·5.25 + 7 = 33.25.
  CHECK(r.avg_hops == Approx(5.25).epsilon(0.03));
  CHECK(r.avg_packet_latency_cycles == Approx(33.25).epsilon(0.02));
  CHECK(r.zero_load_latency_cycles == Approx(7 + 5 * r.avg_hops));
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

namespace {
/// A burst of `packets` 4-flit transpose packets on the 8×8 mesh, 64 created per cycle, must
/// drain with every flit injected, ejected, and written and read once per router it visits.
void check_transpose_burst(const NocConfig& c, unsigned packets) {
  TrafficConfig t;
  t.pattern = Pattern::transpose;
  Network net(c, 5);
  for (unsigned i = 0; i < packets; ++i) {
    const unsigned src = (i * 37) % 64;
    net.send(src, {uint16_t(pattern_dest(c, t, src, 0))}, 4, i / 64, i);
  }
  net.drain();
  CHECK(net.idle());
  CHECK(net.counters().injected_flits == 4 * uint64_t(packets));
  CHECK(net.counters().ejected_flits == 4 * uint64_t(packets));
  CHECK(net.counters().buffer_writes == net.counters().buffer_reads);
}
}  // namespace

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
  check_transpose_burst(c, 4000);
}

TEST_CASE("mesh noc: a route that still branches takes a VC only with room for the whole packet", "[mesh]") {
  // 3×2 mesh (nodes 0 1 2 / 3 4 5), one VC of 4 flits, VCs freed at the tail's switch
  // grant. Node 0 sends U (4 flits to node 2), then M (4 flits to nodes 2 and 4, branching
  // at router 1), both at cycle 0. U: NI 0–3, router 0 SA 4–7, router 1 SA 9–12, router 2
  // SA 14–17, arrives 20 = 1 + 3·4 + 4·1 + 3 (zero load).
  // M must find 4 free slots before it takes a VC (virtual cut-through):
  // - at the NI, U's credits come back 6–9 (router 0 SAs + 2): M is sent at 9–12, RC 11;
  // - at router 0 east, U's credits come back 11–14 (router 1 SAs + 2): VA 14, SA 15–18;
  // - at router 1 (RC 18) M splits into single-destination branches (plain wormhole): VA 19,
  //   then the two branches share the VC's crossbar input, south first (the accept pointer
  //   last moved past east): south 20, 22, 24, 26; east 21, 23, 25, 27;
  // - node 4: head at router 4 RC 23, VA 24, SA 25; later flits arrive 25, 27, 29, SA on
  //   arrival after the head: tail SA 29, arrives 32;
  // - node 2: head RC 24, VA 25, SA 26; tail arrives 30, SA 30, arrives 33.
  // Wormhole allocation would send M as soon as single slots free up, reaching both earlier.
  NocConfig c;
  c.cols = 3, c.rows = 2, c.vcs = 1, c.buf_depth = 4;
  Network net(c, 1);
  std::vector<uint64_t> lat(6, 0);
  net.set_sink([&](uint32_t tag, uint32_t dest, uint64_t create, uint64_t arrive) {
    if (tag == 1) lat[dest] = arrive - create;
  });
  net.send(0, {2}, 4, 0, 0);
  net.send(0, {2, 4}, 4, 0, 1);
  net.drain();
  CHECK(lat[4] == 32);
  CHECK(lat[2] == 33);
}

TEST_CASE("mesh noc: multi-flit tree multicast under heavy mixed load drains (no deadlock)", "[mesh]") {
  // Stress for the deadlock-freedom argument (docs/mesh.md): one VC per port, 4-flit packets
  // in 4-flit buffers, every node sending multicasts to 2–12 random nodes and unicasts at
  // once, 20 packets per cycle. Every copy must arrive, every buffered flit be read; a
  // deadlock would trip the watchdog (an exception from drain).
  for (bool tail_credit : {false, true}) {
    NocConfig c;
    c.vcs = 1;
    c.buf_depth = 4;
    c.wait_for_tail_credit = tail_credit;
    Network net(c, 3);
    std::mt19937_64 rng(5);
    uint64_t expected = 0, got = 0;
    net.set_sink([&](uint32_t, uint32_t, uint64_t, uint64_t) { ++got; });
    for (unsigned i = 0; i < 6000; ++i) {
      const unsigned src = unsigned(rng() % 64);
      std::vector<uint16_t> dests;
      const unsigned k = (i % 3 == 0) ? 1 : 2 + unsigned(rng() % 11);
      while (dests.size() < k) {
        const auto d = uint16_t(rng() % 64);
        if (std::find(dests.begin(), dests.end(), d) == dests.end()) dests.push_back(d);
      }
      expected += dests.size();
      net.send(src, dests, 4, i / 20, i);
    }
    REQUIRE_NOTHROW(net.drain());
    CHECK(net.idle());
    CHECK(got == expected);
    CHECK(net.counters().buffer_writes == net.counters().buffer_reads);
  }
}

TEST_CASE("mesh noc: more than 12 VCs, where a router's input VCs span several set words", "[mesh]") {
  // A router keeps its waiting input VCs (p·V + v, 5·V of them) in words of its own: one
  // word up to V = 12, more above. Corner to corner under XY, a packet enters its last 7
  // routers through the north input (p = 4): VC ids 4·V + v ≥ 64 for V ≥ 16, in a second
  // word. Its latency does not depend on V: T0 = 77 cycles, 80 with 4 flits (the zero-load
  // test above).
  for (const unsigned v : {13u, 16u, 64u}) {
    NocConfig c;
    c.vcs = v;
    INFO("vcs " << v);
    CHECK(single_packet_latency(c, 0, 63, 1) == 77);
    CHECK(single_packet_latency(c, 0, 63, 4) == 80);
    check_transpose_burst(c, 2000);
  }
  // Through the CLI: 16 VCs below saturation keep up (accepted ≈ offered) near zero load.
  bpsim::test::Scratch s("mesh_vcs16");
  const auto r = bpsim::test::run_bpsim(
      "run " + std::string(BPSIM_SOURCE_DIR) + "/configs/examples/mesh_synthetic_uniform.yaml --quiet --force --out " +
      (s / "o") + " --set accelerator.noc.vcs=16 --set accelerator.traffic.rate=0.2" +
      " --set accelerator.traffic.warmup_cycles=1000" + " --set accelerator.traffic.measure_cycles=3000");
  REQUIRE(r.code == 0);
  const auto n = nlohmann::json::parse(bpsim::test::slurp(s / "o/report.json"))["network"];
  CHECK(n["saturated"] == false);
  CHECK(n["accepted_rate"].get<double>() == Approx(0.2).epsilon(0.05));
  CHECK(n["avg_packet_latency_cycles"].get<double>() < 1.5 * n["zero_load_latency_cycles"].get<double>());
}

TEST_CASE("mesh noc cli: network.saturated is false below saturation and true above it", "[mesh][cli]") {
  // configs/examples/mesh_synthetic_uniform.yaml: 8×8, 2 VCs (BookSim2's defaults), uniform
  // 1-flit packets; it saturates near 0.30 flits/node/cycle (docs/mesh.md, CONFIG=basic).
  // At 0.2 the network keeps up: accepted ≈ offered, latency near zero load. At 0.6, above
  // the bisection bound 4/k = 0.5, accepted cannot reach offered.
  bpsim::test::Scratch s("mesh_sat");
  const std::string cfg = std::string(BPSIM_SOURCE_DIR) + "/configs/examples/mesh_synthetic_uniform.yaml";
  auto run = [&](const std::string& rate) {
    const auto r = bpsim::test::run_bpsim(
        "run " + cfg + " --quiet --force --out " + (s / "o") + " --set accelerator.traffic.rate=" + rate +
        " --set accelerator.traffic.warmup_cycles=2000 --set accelerator.traffic.measure_cycles=5000" +
        " --set accelerator.traffic.drain_cycles=5000");
    REQUIRE(r.code == 0);
    return nlohmann::json::parse(bpsim::test::slurp(s / "o/report.json"))["network"];
  };
  const auto low = run("0.2"), high = run("0.6");
  CHECK(low["saturated"] == false);
  CHECK(low["accepted_rate"].get<double>() == Approx(0.2).epsilon(0.05));
  CHECK(low["avg_packet_latency_cycles"].get<double>() < 1.5 * low["zero_load_latency_cycles"].get<double>());
  CHECK(high["saturated"] == true);
  CHECK(high["accepted_rate"].get<double>() < 0.5);
}

TEST_CASE("mesh noc cli: tree multicast of messages longer than a VC buffer is refused", "[mesh][cli]") {
  // mlp_train_mesh.yaml with 1-byte flits: a message is an 8-byte header and one value, so
  // at least 9 flits, more than the 8-flit VC buffer that the deadlock-freedom rule needs.
  bpsim::test::Scratch s("mesh_mc_refuse");
  const std::string cfg = std::string(BPSIM_SOURCE_DIR) + "/configs/examples/mlp_train_mesh.yaml";
  const auto r =
      bpsim::test::run_bpsim("run " + cfg + " --quiet --out " + (s / "o") + " --set accelerator.noc.flit_bytes=1");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("noc.buf_depth") && Catch::Contains("whole message in one VC buffer"));
}
