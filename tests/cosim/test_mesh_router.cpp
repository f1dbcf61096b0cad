// The Verilated mesh router (rtl/mesh/router.sv) in lockstep with its C++ reference model
// (models/mesh/router_core: cluster_logic's ranges and overlap, noc's dor_port): the same
// control store and the same seeded random firings go to both, through
// models/mesh/rtl_router (the driver `backend: rtl` uses), and
//  - every firing's per-entry range, overlap box, hit flag and port, and its port mask,
//    are equal bit for bit,
//  - every firing's accepting edge and last-result edge, hence its cycles, and the stream's
//    total edges equal router_schedule's prediction (difference 0: the model is the RTL's
//    protocol, one entry per cycle, a new firing accepted on the previous one's last edge).
#include <catch2/catch.hpp>
#include <systemc>

#include <array>
#include <random>
#include <vector>

#include "models/mesh/router_core.h"
#include "models/mesh/rtl_router.h"

using namespace sc_core;
using namespace bpsim::mesh;

namespace {

/// A random connection (conv or full) with in dims 1..12 and a conv's output dims from
/// the usual formula ⌊(in + 2·pad − k)/stride⌋ + 1.
Connection random_conn(std::mt19937_64& rng) {
  Connection c;
  c.kind = rng() % 2 ? Connection::Kind::conv : Connection::Kind::full;
  c.stride = int32_t(1 + rng() % 3);
  c.kernel_w = int32_t(1 + rng() % 5), c.kernel_h = int32_t(1 + rng() % 5);
  c.pad = int32_t(rng() % size_t(std::min(c.kernel_w, c.kernel_h)));
  c.in_w = c.kernel_w + int32_t(rng() % 8), c.in_h = c.kernel_h + int32_t(rng() % 8), c.in_c = int32_t(1 + rng() % 4);
  c.out_w = (c.in_w + 2 * c.pad - c.kernel_w) / c.stride + 1;
  c.out_h = (c.in_h + 2 * c.pad - c.kernel_h) / c.stride + 1;
  c.out_c = int32_t(1 + rng() % 6);
  return c;
}

/// A random box inside [0, 12)³, mostly large (may be empty: lo > hi in some dimension).
Box random_box(std::mt19937_64& rng) {
  Box b;
  for (int d = 0; d < 3; ++d) {
    b.lo[d] = int32_t(rng() % 6);
    b.hi[d] = b.lo[d] + int32_t(rng() % 8) - 1;
  }
  return b;
}

struct Config {
  unsigned entries, cols, rows;
  bool fixed_router;  ///< all firings from router 5, or from random routers
};

struct Totals {
  uint64_t firings = 0, result_mismatches = 0, timing_mismatches = 0, stream_mismatches = 0, hits = 0, misses = 0;
  uint64_t rtl_edges = 0, model_edges = 0;
  unsigned port_seen = 0;  ///< OR of the ports of hitting entries (all five should occur)
};

struct Bench : sc_module {
  std::unique_ptr<RtlRouter> rtl = make_rtl_router("router", 1000);
  std::vector<Config> configs;
  Totals tot;
  SC_HAS_PROCESS(Bench);
  Bench(sc_module_name n, std::vector<Config> c) : sc_module(n), configs(std::move(c)) { SC_THREAD(drive); }

  void drive() {
    for (const Config& cfg : configs)
      for (uint64_t seed : {1, 2, 3}) {
        std::mt19937_64 rng(seed * 1000 + cfg.entries);
        std::vector<ControlEntry> store(cfg.entries);
        // At router 5 = (1,1) the first entries go to the local, east, west, south and north
        // clusters, so every port is exercised; the others go anywhere.
        const int near[5] = {0, 1, -1, int(cfg.cols), -int(cfg.cols)};
        for (size_t i = 0; i < store.size(); ++i) {
          ControlEntry& e = store[i];
          e.dest_cluster = uint16_t(rng() % (cfg.cols * cfg.rows));
          if (cfg.fixed_router && i < 5) e.dest_cluster = uint16_t(5 + near[i]);
          e.conn = random_conn(rng);
          e.dest_box = random_box(rng);
        }
        rtl->load(store, cfg.cols);
        std::vector<RouterFiring> fire(40);
        std::vector<uint64_t> gaps(fire.size());
        for (size_t i = 0; i < fire.size(); ++i) {
          fire[i].backward = rng() % 2;
          fire[i].x = int32_t(rng() % 14), fire[i].y = int32_t(rng() % 14), fire[i].c = int32_t(rng() % 4);
          fire[i].router = uint16_t(cfg.fixed_router ? 5 : rng() % (cfg.cols * cfg.rows));
          if (!cfg.fixed_router && rng() % 4 == 0)
            fire[i].router = store[rng() % store.size()].dest_cluster;  // local port too
          gaps[i] = rng() % 2 ? 0 : rng() % (2 * cfg.entries);          // back to back, or idle for a while
        }
        const RtlRouterRun got = rtl->run(fire, gaps);
        const RouterSchedule want = router_schedule(gaps, cfg.entries);
        for (size_t i = 0; i < fire.size(); ++i) {
          const RouterResult ref = router_evaluate(store, cfg.cols, fire[i]);
          ++tot.firings;
          if (!(got.results[i] == ref)) ++tot.result_mismatches;
          if (got.timing.accept[i] != want.accept[i] || got.timing.last[i] != want.last[i] ||
              got.timing.last[i] - got.timing.accept[i] != logic_cycles(cfg.entries, 1))
            ++tot.timing_mismatches;
          for (const RouterEntryResult& e : ref.entries) {
            ++(e.hit ? tot.hits : tot.misses);
            if (e.hit) tot.port_seen |= 1u << e.port;
          }
        }
        if (got.timing.accept.size() != fire.size() || got.timing.edges != want.edges) ++tot.stream_mismatches;
        tot.rtl_edges += got.timing.edges;
        tot.model_edges += want.edges;
      }
  }
};

void check(const Totals& t, uint64_t firings) {
  INFO("hits " << t.hits << " misses " << t.misses << " ports " << t.port_seen << " edges " << t.rtl_edges);
  CHECK(t.firings == firings);
  CHECK(t.result_mismatches == 0);
  CHECK(t.timing_mismatches == 0);
  CHECK(t.stream_mismatches == 0);
  CHECK(t.rtl_edges == t.model_edges);
  // The stimulus exercises both outcomes of the overlap test and every output port.
  CHECK(t.hits > 0);
  CHECK(t.misses > 0);
  CHECK(t.port_seen == 0x1fu);
}

}  // namespace

TEST_CASE("cosim: mesh router 4 and 8 entries in a 4x4 mesh equals the model per firing", "[cosim][mesh]") {
  // 4 entries at a fixed router (5 = (1,1)), 8 entries at random routers; seeds 1-3, 40
  // firings each (random direction, coordinates 0..13, gaps of 0 or up to 2·entries edges).
  Bench b("bench", {{4, 4, 4, true}, {8, 4, 4, false}});
  sc_start();
  check(b.tot, 2 * 3 * 40);
}

TEST_CASE("cosim: mesh router 16 entries in an 8x8 mesh equals the model per firing", "[cosim][mesh]") {
  Bench b("bench", {{16, 8, 8, false}});
  sc_start();
  check(b.tot, 3 * 40);
}

namespace {
/// The hand-derived case: a conv connection, stride 2, kernel 3×3, pad 1, from an 8×8×2
/// input to a 4×4×3 output (⌊(8 + 2 − 3)/2⌋ + 1 = 4), router 5 = (1,1) of a 4×4 mesh.
struct Golden : sc_module {
  std::unique_ptr<RtlRouter> rtl = make_rtl_router("router", 1000);
  std::vector<ControlEntry> store;
  RtlRouterRun got;
  SC_HAS_PROCESS(Golden);
  explicit Golden(sc_module_name n) : sc_module(n) {
    Connection c;
    c.kind = Connection::Kind::conv;
    c.stride = 2, c.kernel_w = c.kernel_h = 3, c.pad = 1;
    c.in_w = c.in_h = 8, c.in_c = 2, c.out_w = c.out_h = 4, c.out_c = 3;
    // dest cluster (mesh x, y) → XY port from (1,1): 7 (3,1) east, 13 (1,3) south,
    // 4 (0,1) west, 5 local, 1 (1,0) north.
    const int boxes[5][6] = {
        {0, 0, 0, 3, 1, 2}, {0, 2, 0, 3, 3, 2}, {2, 2, 1, 3, 3, 1}, {0, 0, 0, 0, 3, 2}, {0, 0, 0, 7, 7, 2}};
    const uint16_t dests[5] = {7, 13, 4, 5, 1};
    for (int i = 0; i < 5; ++i) {
      ControlEntry e;
      e.dest_cluster = dests[i];
      e.conn = c;
      for (int d = 0; d < 3; ++d) e.dest_box.lo[d] = boxes[i][d], e.dest_box.hi[d] = boxes[i][3 + d];
      store.push_back(e);
    }
    SC_THREAD(drive);
  }
  void drive() {
    rtl->load(store, 4);
    got = rtl->run({{false, 3, 4, 0, 5}, {true, 1, 3, 0, 5}}, {0, 0});
  }
};

void check_box(const Box& b, std::array<int, 6> want) {
  for (int d = 0; d < 3; ++d) {
    CHECK(b.lo[d] == want[size_t(d)]);
    CHECK(b.hi[d] == want[size_t(3 + d)]);
  }
}
}  // namespace

TEST_CASE("cosim: mesh router golden conv stride 2 kernel 3 pad 1", "[cosim][mesh]") {
  Golden g("golden");
  sc_start();
  REQUIRE(g.got.results.size() == 2);
  const RouterResult& f = g.got.results[0];
  const RouterResult& b = g.got.results[1];
  // Forward, input (3,4,0): output q reads inputs 2q−1 … 2q+1, so x = 3 feeds
  // q ∈ [⌈(3+1−3+1)/2⌉, ⌊(3+1)/2⌋] = [1, 2]; y = 4 feeds p ∈ [⌈(4+1−3+1)/2⌉, ⌊5/2⌋] =
  // [⌈3/2⌉, 2] = [2, 2]; every output channel 0…2.
  for (const RouterEntryResult& e : f.entries) check_box(e.range, {1, 2, 0, 2, 2, 2});
  // Overlaps: e0 box y∈[0,1] misses p = 2; e1 (south) y∈[2,3] → x[1,2] y[2,2] c[0,2];
  // e2 (west) x∈[2,3], c = 1 → x[2,2] y[2,2] c[1,1]; e3 x∈[0,0] misses; e4 (north) holds
  // all → the range itself. Mask = south 3 | west 2 | north 4 = 8 + 4 + 16 = 28.
  CHECK(!f.entries[0].hit);
  CHECK(f.entries[1].hit);
  check_box(f.entries[1].overlap, {1, 2, 0, 2, 2, 2});
  CHECK(f.entries[2].hit);
  check_box(f.entries[2].overlap, {2, 2, 1, 2, 2, 1});
  CHECK(!f.entries[3].hit);
  CHECK(f.entries[4].hit);
  check_box(f.entries[4].overlap, {1, 2, 0, 2, 2, 2});
  const uint8_t ports[5] = {1, 3, 2, 0, 4};
  for (int i = 0; i < 5; ++i) CHECK(f.entries[size_t(i)].port == ports[i]);
  CHECK(f.port_mask == 28);
  // Backward, output (1,3,0): x ∈ [1·2−1, 1·2−1+2] = [1, 3], y ∈ [3·2−1, 3·2+1] = [5, 7]
  // (in_h − 1 = 7 does not clip), all input channels 0…1. Only e4's box (y up to 7)
  // overlaps: north only, mask 16.
  for (const RouterEntryResult& e : b.entries) check_box(e.range, {1, 5, 0, 3, 7, 1});
  for (int i = 0; i < 4; ++i) CHECK(!b.entries[size_t(i)].hit);
  check_box(b.entries[4].overlap, {1, 5, 0, 3, 7, 1});
  CHECK(b.port_mask == 16);
  // Timing: 5 entries, both firings presented at once: the first is accepted at edge 0
  // and its entries registered at edges 1…5; the second is accepted at edge 5 (the
  // router is ready while registering the last entry), its entries at 6…10: 11 edges.
  CHECK(g.got.timing.accept == std::vector<uint64_t>{0, 5});
  CHECK(g.got.timing.last == std::vector<uint64_t>{5, 10});
  CHECK(g.got.timing.edges == 11);
  // And the C++ model says the same.
  CHECK(router_evaluate(g.store, 4, {false, 3, 4, 0, 5}) == f);
  CHECK(router_evaluate(g.store, 4, {true, 1, 3, 0, 5}) == b);
  const RouterSchedule s = router_schedule({0, 0}, 5);
  CHECK(s.accept == g.got.timing.accept);
  CHECK(s.last == g.got.timing.last);
  CHECK(s.edges == 11);
}

TEST_CASE("mesh router model: stream timing with idle gaps by hand", "[mesh]") {
  // 3 entries; gaps 2, 0, 7. Firing 0 is presented at edge 2 and accepted there (idle), its
  // entries registered at 3, 4, 5. Firing 1 is presented at 2 + 1 + 0 = 3 but the router
  // is busy until the edge registering firing 0's last entry: accepted at 5, last at 8.
  // Firing 2 is presented at 5 + 1 + 7 = 13 (idle): accepted at 13, last at 16; 17 edges.
  const RouterSchedule s = router_schedule({2, 0, 7}, 3);
  CHECK(s.accept == std::vector<uint64_t>{2, 5, 13});
  CHECK(s.last == std::vector<uint64_t>{5, 8, 16});
  CHECK(s.edges == 17);
  // ⌈entries / units⌉ cycles per firing: the RTL's 1 unit, and the model's range_units.
  CHECK(logic_cycles(5, 1) == 5);
  CHECK(logic_cycles(5, 4) == 2);
  CHECK(logic_cycles(8, 4) == 2);
}
