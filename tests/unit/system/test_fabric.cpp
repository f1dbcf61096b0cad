// The fabric (sim/system/fabric.h, docs/system.md "Fabric" and "Collectives"): link numbering,
// routes, α–β transfers and every collective, each figure derived by hand in its comment.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <numeric>
#include <stdexcept>

#include "sim/system/fabric.h"

using namespace bpsim::system;

namespace {

// Round link figures: α = 1 µs, β = 1 GB/s (1e9 B/s), 2 pJ per byte per hop.
constexpr double kAlpha = 1e-6, kBeta = 1e9, kPj = 2.0;

Fabric fabric(Topology t, uint32_t devices, uint32_t rows = 1, uint32_t cols = 1) {
  Fabric f;
  f.topology = t;
  f.devices = devices;
  f.rows = rows;
  f.cols = cols;
  f.link = {kBeta, kAlpha, kPj};
  return f;
}

std::vector<uint32_t> iota(uint32_t n) {
  std::vector<uint32_t> v(n);
  std::iota(v.begin(), v.end(), 0u);
  return v;
}

std::vector<std::string> names(const Fabric& f, const std::vector<uint32_t>& links) {
  std::vector<std::string> out;
  for (uint32_t l : links) out.push_back(link_name(f, l));
  return out;
}

using S = std::vector<std::string>;

}  // namespace

TEST_CASE("fabric: link counts and names of the four topologies", "[system][fabric]") {
  // Ring of n ≥ 3: n clockwise links then n counter-clockwise ones; a ring of 2 is one pair.
  const Fabric r4 = fabric(Topology::ring, 4);
  REQUIRE(link_count(r4) == 8);
  CHECK(link_name(r4, 0) == "d0->d1");
  CHECK(link_name(r4, 3) == "d3->d0");
  CHECK(link_name(r4, 4) == "d1->d0");
  CHECK(link_name(r4, 7) == "d0->d3");
  const Fabric r2 = fabric(Topology::ring, 2);
  REQUIRE(link_count(r2) == 2);
  CHECK(names(r2, {0, 1}) == S{"d0->d1", "d1->d0"});
  CHECK(link_count(fabric(Topology::ring, 1)) == 0);
  // Switch of n: n up-links then n down-links.
  const Fabric s3 = fabric(Topology::switch_, 3);
  REQUIRE(link_count(s3) == 6);
  CHECK(names(s3, {0, 2, 3, 5}) == S{"d0->sw", "d2->sw", "sw->d0", "sw->d2"});
  // Torus 4×4: each of 4 rows and 4 columns is a ring of 4 → 2·(4·4 + 4·4) = 64 links.
  // Torus 2×2: a dimension of 2 is one pair per line → 2·(2·1 + 2·1) = 8 (a ring of 4).
  CHECK(link_count(fabric(Topology::torus2d, 16, 4, 4)) == 64);
  CHECK(link_count(fabric(Topology::torus2d, 4, 2, 2)) == 8);
  // Mesh 2×3: x has 2 links per row each way, y 1 per column each way → 2·(2·2 + 3·1) = 14.
  const Fabric m23 = fabric(Topology::mesh, 6, 2, 3);
  REQUIRE(link_count(m23) == 14);
  // Every name is a distinct pair of neighbours (no link twice).
  std::vector<std::string> all;
  for (uint32_t l = 0; l < link_count(m23); ++l) all.push_back(link_name(m23, l));
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  CHECK_THROWS_AS(link_name(m23, 14), std::invalid_argument);
}

TEST_CASE("fabric: routes take the shorter way, x before y", "[system][fabric]") {
  const Fabric r8 = fabric(Topology::ring, 8);
  CHECK(names(r8, route(r8, 0, 3)) == S{"d0->d1", "d1->d2", "d2->d3"});
  CHECK(names(r8, route(r8, 0, 5)) == S{"d0->d7", "d7->d6", "d6->d5"});  // 3 hops back, not 5 on
  CHECK(names(r8, route(r8, 0, 4)).size() == 4);                         // a tie: increasing index
  CHECK(names(r8, route(r8, 0, 4)).front() == "d0->d1");
  CHECK(route(r8, 6, 6).empty());
  const Fabric s = fabric(Topology::switch_, 4);
  CHECK(names(s, route(s, 1, 2)) == S{"d1->sw", "sw->d2"});
  // Torus 4×4, device = row·4 + col. 0 (0,0) → 15 (3,3): x wraps 0 → 3 (1 hop, not 3), then y
  // wraps row 0 → 3 in column 3.
  const Fabric t = fabric(Topology::torus2d, 16, 4, 4);
  CHECK(names(t, route(t, 0, 15)) == S{"d0->d3", "d3->d15"});
  CHECK(names(t, route(t, 5, 10)) == S{"d5->d6", "d6->d10"});
  // Mesh 4×4: no wrap, 0 → 15 is 3 hops along row 0 then 3 down column 3.
  const Fabric m = fabric(Topology::mesh, 16, 4, 4);
  CHECK(names(m, route(m, 0, 15)) == S{"d0->d1", "d1->d2", "d2->d3", "d3->d7", "d7->d11", "d11->d15"});
  CHECK(names(m, route(m, 15, 4)) == S{"d15->d14", "d14->d13", "d13->d12", "d12->d8", "d8->d4"});
  CHECK_THROWS_AS(route(m, 0, 16), std::invalid_argument);
}

TEST_CASE("fabric: α–β transfer time", "[system][fabric]") {
  // 1e8 B over 2 hops of 50 GB/s, 500 ns each: 2·500 ns + 1e8/5e10 s = 1 µs + 2 ms.
  const LinkParams l{50e9, 500e-9, 1.0};
  CHECK(transfer_seconds(l, 100000000, 2) == Approx(1e-6 + 2e-3).epsilon(1e-12));
  CHECK(transfer_seconds(l, 100000000, 0) == 0);  // same device: no link
}

TEST_CASE("collectives: ring all-reduce on a ring is the textbook α–β formula", "[system][collective]") {
  // Ring all-reduce (Patarasuk & Yuan 2009; Thakur et al. 2005): a reduce-scatter of p−1 steps
  // then an all-gather of p−1 steps; in every step each of the p devices sends one chunk of
  // n/p bytes to its ring neighbour over one link of its own (the p clockwise links are
  // distinct), so a step costs α + (n/p)/β and
  //   T = 2(p−1)·(α + n/(p·β)).
  // Each step moves p·(n/p) = n bytes over one hop: link bytes = 2(p−1)·n; energy = that × 2 pJ.
  for (uint32_t p : {2u, 4u, 8u, 1024u}) {
    const uint64_t n = uint64_t{p} * 1000000;  // divisible by p: n/p = 1 MB
    const CollectiveCost c = collective(fabric(Topology::ring, p), Collective::all_reduce, Algorithm::ring, n, iota(p));
    INFO("p = " << p);
    CHECK(c.seconds == Approx(2.0 * (p - 1) * (kAlpha + 1e6 / kBeta)).epsilon(1e-12));
    CHECK(c.steps == 2 * (p - 1));
    CHECK(c.link_bytes == 2 * (p - 1) * n);
    CHECK(c.energy_pj == Approx(2.0 * (p - 1) * n * kPj).epsilon(1e-12));
  }
  // p = 4, n = 4 MB by hand: 6·(1 µs + 1 ms) = 6.006 ms.
  CHECK(collective(fabric(Topology::ring, 4), Collective::all_reduce, Algorithm::ring, 4000000, iota(4)).seconds ==
        Approx(6.006e-3).epsilon(1e-12));
}

TEST_CASE("collectives: ring reduce-scatter, all-gather and broadcast on a ring", "[system][collective]") {
  const Fabric r4 = fabric(Topology::ring, 4);
  const uint64_t n = 4000000;
  // Reduce-scatter and all-gather: p−1 = 3 steps of α + (n/4)/β = 1 µs + 1 ms; n bytes a step.
  for (Collective op : {Collective::reduce_scatter, Collective::all_gather}) {
    const CollectiveCost c = collective(r4, op, Algorithm::ring, n, iota(4));
    CHECK(c.seconds == Approx(3 * (1e-6 + 1e-3)).epsilon(1e-12));
    CHECK(c.steps == 3);
    CHECK(c.link_bytes == 3 * n);
  }
  // Broadcast: a chain 0→1→2→3 pipelined in p = 4 chunks of 1 MB; chunk j leaves device 0 at
  // step j and reaches device 3 three steps later: 3 + 3 = 6 steps, each sender on its own
  // link, so each step costs α + 1 MB/β: T = 6·(1 µs + 1 ms). Every chunk crosses 3 links:
  // link bytes = 3n.
  const CollectiveCost b = collective(r4, Collective::broadcast, Algorithm::ring, n, iota(4));
  CHECK(b.seconds == Approx(6 * (1e-6 + 1e-3)).epsilon(1e-12));
  CHECK(b.steps == 6);
  CHECK(b.link_bytes == 3 * n);
  // n = 10 B over p = 4: chunks 3, 3, 2, 2. A step is paced by the largest chunk (3 B);
  // link bytes are exact: in a reduce-scatter device k sends every chunk but its own,
  // Σ_k (10 − c_k) = 40 − 10 = 30 B; the all-reduce's all-gather another 30 B.
  const CollectiveCost odd = collective(r4, Collective::all_reduce, Algorithm::ring, 10, iota(4));
  CHECK(odd.seconds == Approx(6 * (1e-6 + 3 / kBeta)).epsilon(1e-12));
  CHECK(odd.link_bytes == 60);
  const CollectiveCost odd_b = collective(r4, Collective::broadcast, Algorithm::ring, 10, iota(4));
  CHECK(odd_b.link_bytes == 30);  // 10 B over 3 hops
  CHECK(odd_b.seconds == Approx(6 * (1e-6 + 3 / kBeta)).epsilon(1e-12));
}

TEST_CASE("collectives: ring reduce-scatter and all-gather over a switch of 8", "[system][collective]") {
  // p = 8, n = 8 MB: 7 steps, each member's chunk (1 MB) up its own link and down the next
  // member's: 2α + (n/8)/β = 2 µs + 1 ms a step. Every member sends 7 of the 8 chunks over 2
  // hops: link bytes 8 · 2 · 7n/8 = 14n; at 2 pJ/B, 28n pJ.
  const uint64_t n = 8000000;
  for (Collective op : {Collective::reduce_scatter, Collective::all_gather}) {
    const CollectiveCost c = collective(fabric(Topology::switch_, 8), op, Algorithm::ring, n, iota(8));
    CHECK(c.seconds == Approx(7 * (2e-6 + 1e-3)).epsilon(1e-12));
    CHECK(c.steps == 7);
    CHECK(c.link_bytes == 14 * n);
    CHECK(c.energy_pj == Approx(28.0 * n).epsilon(1e-12));
  }
}

TEST_CASE("collectives: a ring broadcast's fill and drain are priced step by step", "[system][collective]") {
  const uint64_t n = 4000000;  // chunk c = n/4 = 1 MB, c/β = 1 ms
  // Ring of 4, chain 0→2→1→3: sender 0 goes d0->d1->d2, sender 1 (device 2) d2->d1, sender 2
  // (device 1) d1->d2->d3. Sender t sends at steps t … t+3. Steps 0 {0}, 1 {0,1}, 2 {0,1,2},
  // 3 {0,1,2}, 4 {1,2}, 5 {2}: the longest route is 2 hops in every step, and d1->d2 carries
  // two chunks in steps 2 and 3 only. T = 6·2α + (1+1+2+2+1+1)·c/β = 12 µs + 8 ms.
  // Link bytes: every chunk crosses 2 + 1 + 2 links: 5n.
  const CollectiveCost shared =
      collective(fabric(Topology::ring, 4), Collective::broadcast, Algorithm::ring, n, {0, 2, 1, 3});
  CHECK(shared.seconds == Approx(12e-6 + 8e-3).epsilon(1e-12));
  CHECK(shared.link_bytes == 5 * n);
  // Ring of 8, chain 0→4→5→6: sender 0 crosses 4 links, the others 1. Steps 0–3 include
  // sender 0 (4α), steps 4 and 5 do not (α); no link is shared. T = (4·4 + 2·1)α + 6·c/β.
  const CollectiveCost drain =
      collective(fabric(Topology::ring, 8), Collective::broadcast, Algorithm::ring, n, {0, 4, 5, 6});
  CHECK(drain.seconds == Approx(18e-6 + 6e-3).epsilon(1e-12));
  CHECK(drain.link_bytes == 6 * n);
}

TEST_CASE("collectives: a ring embedded in a switch, a torus and a mesh pays its routes", "[system][collective]") {
  const uint64_t n = 16000000;
  // Switch, p = 4: each message goes up its sender's link and down its receiver's: 2 hops,
  // no link shared. T = 2(p−1)·(2α + n/(pβ)) = 6·(2 µs + 4 ms); link bytes twice the ring's:
  // 2·2(p−1)·n.
  const CollectiveCost sw =
      collective(fabric(Topology::switch_, 4), Collective::all_reduce, Algorithm::ring, n, iota(4));
  CHECK(sw.seconds == Approx(6 * (2e-6 + 4e-3)).epsilon(1e-12));
  CHECK(sw.link_bytes == 2 * 6 * n);
  CHECK(sw.energy_pj == Approx(2.0 * 6 * n * kPj).epsilon(1e-12));
  // Torus 2×2 (devices 0 1 / 2 3), ring order 0,1,2,3: 1→2 goes d1->d0->d2 and 3→0 goes
  // d3->d2->d0 (x then y), 0→1 and 2→3 one hop; the four routes share no link. A step costs
  // 2α + (n/4)/β: T = 6·(2 µs + 4 ms). Hops per step 1+2+1+2 = 6 → link bytes 6·(n/4) a step.
  const Fabric t22 = fabric(Topology::torus2d, 4, 2, 2);
  const CollectiveCost t = collective(t22, Collective::all_reduce, Algorithm::ring, n, iota(4));
  CHECK(t.seconds == Approx(6 * (2e-6 + 4e-3)).epsilon(1e-12));
  CHECK(t.link_bytes == 6 * 6 * (n / 4));
  // The snake order 0,1,3,2 makes every hop a neighbour: the textbook 6·(α + n/(4β)).
  const CollectiveCost snake = collective(t22, Collective::all_reduce, Algorithm::ring, n, {0, 1, 3, 2});
  CHECK(snake.seconds == Approx(6 * (1e-6 + 4e-3)).epsilon(1e-12));
  CHECK(snake.link_bytes == 6 * n);
  // Shared links serialise: on a ring of 4, the order 0,2,1,3 sends 0→2 over d0->d1->d2 and
  // 1→3 over d1->d2->d3 (2→1 and 3→0 one hop each): d1->d2 carries two chunks a step.
  // Step = 2α + 2·(n/4)/β: T = 6·(2 µs + 8 ms).
  const CollectiveCost shared =
      collective(fabric(Topology::ring, 4), Collective::all_reduce, Algorithm::ring, n, {0, 2, 1, 3});
  CHECK(shared.seconds == Approx(6 * (2e-6 + 8e-3)).epsilon(1e-12));
  CHECK(shared.link_bytes == 6 * 6 * (n / 4));
  // Each link's share (bytes_by_link): in each half, every member sends n − n/4 = 3n/4 over
  // its route; d1->d2 is on the routes of 0→2 and 1→3 (2 · 3n/4 a half, 3n in all), d0->d1,
  // d2->d3, d2->d1 and d3->d0 on one route each (1.5n), no other link is used; the sum is 9n.
  const Fabric r4 = fabric(Topology::ring, 4);
  std::vector<uint64_t> by_link;
  collective(r4, Collective::all_reduce, Algorithm::ring, n, {0, 2, 1, 3}, 0, &by_link);
  REQUIRE(by_link.size() == link_count(r4));
  std::map<std::string, uint64_t> named;
  for (uint32_t l = 0; l < by_link.size(); ++l)
    if (by_link[l]) named[link_name(r4, l)] = by_link[l];
  CHECK(named == std::map<std::string, uint64_t>{{"d1->d2", 3 * n},
                                                 {"d0->d1", 3 * n / 2},
                                                 {"d2->d3", 3 * n / 2},
                                                 {"d2->d1", 3 * n / 2},
                                                 {"d3->d0", 3 * n / 2}});
  // A second call adds to the same vector; a vector of another fabric's size is refused.
  collective(r4, Collective::all_reduce, Algorithm::ring, n, {0, 2, 1, 3}, 0, &by_link);
  CHECK(std::accumulate(by_link.begin(), by_link.end(), uint64_t{0}) == 2 * 9 * n);
  std::vector<uint64_t> wrong(3, 0);
  CHECK_THROWS_AS(collective(r4, Collective::all_reduce, Algorithm::ring, n, iota(4), 0, &wrong),
                  std::invalid_argument);
  // Torus 4×4, ring in row-major order: 12 one-hop messages inside rows and 4 row changes
  // (3→4, 7→8, 11→12, 15→0) of 2 hops (x wraps 1 hop, then y 1 hop), no link shared.
  // Step = 2α + (n/16)/β; 30 steps: T = 30·(2 µs + 1 ms). Hops per step 12 + 8 = 20; in a
  // reduce-scatter device k sends n − n/16 over its hops: 20·(15n/16) = 18.75n, twice that.
  const CollectiveCost t44 =
      collective(fabric(Topology::torus2d, 16, 4, 4), Collective::all_reduce, Algorithm::ring, n, iota(16));
  CHECK(t44.seconds == Approx(30 * (2e-6 + 1e-3)).epsilon(1e-12));
  CHECK(t44.link_bytes == 2 * 20 * (n - n / 16));
  // Mesh 2×2 in ring order 0,1,3,2: all neighbours; the closing hop 2→0 is y−, which exists
  // in a mesh. T = 6·(α + n/(4β)).
  const CollectiveCost m =
      collective(fabric(Topology::mesh, 4, 2, 2), Collective::all_reduce, Algorithm::ring, n, {0, 1, 3, 2});
  CHECK(m.seconds == Approx(6 * (1e-6 + 4e-3)).epsilon(1e-12));
  // Mesh 1×4 in order 0..3: the closing message 3→0 crosses d3->d2->d1->d0 (3 hops, the only
  // way back), sharing no link with 0→1, 1→2, 2→3 (the other direction): 6·(3α + n/(4β)).
  const CollectiveCost line =
      collective(fabric(Topology::mesh, 4, 1, 4), Collective::all_reduce, Algorithm::ring, n, iota(4));
  CHECK(line.seconds == Approx(6 * (3e-6 + 4e-3)).epsilon(1e-12));
  CHECK(line.link_bytes == 2 * (1 + 1 + 1 + 3) * (n - n / 4));
}

TEST_CASE("collectives: binomial tree, not pipelined", "[system][collective]") {
  const uint64_t n = 1000000;  // n/β = 1 ms
  // Switch, p = 4: reduce at mask 1 (1→0, 3→2), mask 2 (2→0), then broadcast 0→2, then
  // 0→1 and 2→3: 2·⌈log2 4⌉ = 4 steps, each 2 hops with no shared link: 2α + n/β.
  // T = 2⌈log2 p⌉·(2α + n/β) = 4·(2 µs + 1 ms). p − 1 = 3 messages of n each way, 2 hops:
  // link bytes 2·3·2n = 12n.
  const Fabric s4 = fabric(Topology::switch_, 4);
  const CollectiveCost a = collective(s4, Collective::all_reduce, Algorithm::tree, n, iota(4));
  CHECK(a.seconds == Approx(4 * (2e-6 + 1e-3)).epsilon(1e-12));
  CHECK(a.steps == 4);
  CHECK(a.link_bytes == 12 * n);
  CHECK(a.energy_pj == Approx(12.0 * n * kPj).epsilon(1e-12));
  // Ring of 8: reduce steps send 1→0… (1 hop), 2→0 and 6→4 (2 hops), 4→0 (4 hops: a tie, taken
  // in increasing index 4→5→6→7→0); the broadcast mirrors them. Partners never share a link.
  // T = 2·(α + 2α + 4α) + 6·n/β = 14 µs + 6 ms. Link bytes: (4·1 + 2·2 + 1·4)·n = 12n each way.
  const CollectiveCost r = collective(fabric(Topology::ring, 8), Collective::all_reduce, Algorithm::tree, n, iota(8));
  CHECK(r.seconds == Approx(14e-6 + 6e-3).epsilon(1e-12));
  CHECK(r.link_bytes == 24 * n);
  // Broadcast alone: the broadcast half, 2·(2 µs + 1 ms) on the switch.
  CHECK(collective(s4, Collective::broadcast, Algorithm::tree, n, iota(4)).seconds ==
        Approx(2 * (2e-6 + 1e-3)).epsilon(1e-12));
  // Reduce-scatter: reduce (2 steps of n), then scatter: 0→2 carries chunks 2,3 (n/2), then
  // 0→1 and 2→3 one chunk (n/4). T = 2·(2α + n/β) + (2α + n/(2β)) + (2α + n/(4β)).
  // Link bytes: reduce 3·2n; scatter (n/2 + n/4 + n/4)·2 = 2n → 8n.
  const CollectiveCost rs = collective(s4, Collective::reduce_scatter, Algorithm::tree, 4 * n, iota(4));
  CHECK(rs.seconds == Approx(2 * (2e-6 + 4e-3) + (2e-6 + 2e-3) + (2e-6 + 1e-3)).epsilon(1e-12));
  CHECK(rs.link_bytes == 8 * 4 * n);
  // All-gather: gather (1→0 and 3→2 one chunk, then 2→0 two chunks), then broadcast n twice.
  const CollectiveCost ag = collective(s4, Collective::all_gather, Algorithm::tree, 4 * n, iota(4));
  CHECK(ag.seconds == Approx((2e-6 + 1e-3) + (2e-6 + 2e-3) + 2 * (2e-6 + 4e-3)).epsilon(1e-12));
  CHECK(ag.link_bytes == 8 * 4 * n);
  // p = 2 on a ring of 2: 1→0 then 0→1, one hop each: 2·(α + n/β), link bytes 2n.
  const CollectiveCost two = collective(fabric(Topology::ring, 2), Collective::all_reduce, Algorithm::tree, n, iota(2));
  CHECK(two.seconds == Approx(2 * (1e-6 + 1e-3)).epsilon(1e-12));
  CHECK(two.link_bytes == 2 * n);
  // Mesh 2×2 (devices 0 1 / 2 3): 1→0 and 3→2 along the rows, 2→0 up column 0, and back down:
  // every partner one hop away, 4 steps of α + n/β; 6 messages of n over one hop each.
  const CollectiveCost m22 =
      collective(fabric(Topology::mesh, 4, 2, 2), Collective::all_reduce, Algorithm::tree, n, iota(4));
  CHECK(m22.seconds == Approx(4 * (1e-6 + 1e-3)).epsilon(1e-12));
  CHECK(m22.link_bytes == 6 * n);
  CHECK(m22.energy_pj == Approx(6.0 * n * kPj).epsilon(1e-12));
  // p = 3 (not a power of 2): ⌈log2 3⌉ = 2 levels, 1→0 then 2→0; broadcast 0→2 then 0→1.
  const CollectiveCost p3 = collective(s4, Collective::all_reduce, Algorithm::tree, n, {0, 1, 2});
  CHECK(p3.seconds == Approx(4 * (2e-6 + 1e-3)).epsilon(1e-12));
  CHECK(p3.link_bytes == 2 * 2 * 2 * n);
}

TEST_CASE("collectives: hierarchical", "[system][collective]") {
  const uint64_t n = 16000000;
  // Torus 4×4, inner groups of 4 = the rows (each a ring of 4 with its wrap link), the cross
  // rings = the columns. Reduce-scatter in rows: 3 steps of α + (n/4)/β; all-reduce across
  // rows on the n/4 shard: 2·3 steps of α + (n/16)/β; all-gather in rows: 3 steps again.
  // T = 2(g−1)·(α + n/(gβ)) + 2(q−1)·(α + n/(pβ)) = 6·(1 µs + 4 ms) + 6·(1 µs + 1 ms).
  // Link bytes: rows 2 phases × 4 rows × 4·(n − n/4) = 24n; columns 2 × 4 × 4·(n/4 − n/16) = 6n.
  const Fabric t = fabric(Topology::torus2d, 16, 4, 4);
  const CollectiveCost h = collective(t, Collective::all_reduce, Algorithm::hierarchical, n, iota(16), 4);
  CHECK(h.seconds == Approx(6 * (1e-6 + 4e-3) + 6 * (1e-6 + 1e-3)).epsilon(1e-12));
  CHECK(h.steps == 12);
  CHECK(h.link_bytes == 24 * n + 6 * n);
  // vs the flat ring on the same torus (30·(2 µs + 1 ms), test above): the same bandwidth term
  // (1.875·n/β = 30 ms), 12 α instead of 60 α.
  // Reduce-scatter and all-gather: one half each: 3·(1 µs + 4 ms) + 3·(1 µs + 1 ms).
  CHECK(collective(t, Collective::reduce_scatter, Algorithm::hierarchical, n, iota(16), 4).seconds ==
        Approx(3 * (1e-6 + 4e-3) + 3 * (1e-6 + 1e-3)).epsilon(1e-12));
  CHECK(collective(t, Collective::all_gather, Algorithm::hierarchical, n, iota(16), 4).link_bytes == 15 * n);
  // Broadcast: the chain of row leaders 0→4→8→12 (4 chunks, 6 steps of α + (n/4)/β, y links),
  // then each row's chain at once (6 steps of the same, x links): 12·(1 µs + 4 ms).
  CHECK(collective(t, Collective::broadcast, Algorithm::hierarchical, n, iota(16), 4).seconds ==
        Approx(12 * (1e-6 + 4e-3)).epsilon(1e-12));
  // Ring of 8, inner groups 0-3 and 4-7. Inside: 3→0 and 7→4 go back 3 hops, on the
  // counter-clockwise links no other message uses: step 3α + (n/4)/β, 6 steps. Across: the 4
  // pairs k ↔ k+4 are 4 hops apart (ties go clockwise both ways), so d3->d4 carries the
  // messages of k = 0,1,2,3: step 4α + 4·(n/8)/β, 2 steps.
  // T = 6·(3 µs + 4 ms) + 2·(4 µs + 8 ms) = 26 µs + 40 ms (flat ring: 14 µs + 28 ms).
  const CollectiveCost r8 =
      collective(fabric(Topology::ring, 8), Collective::all_reduce, Algorithm::hierarchical, n, iota(8), 4);
  CHECK(r8.seconds == Approx(26e-6 + 40e-3).epsilon(1e-12));
  // Inner group of 1 is the flat ring across all; of p, the ring inside one group.
  const Fabric r4 = fabric(Topology::ring, 4);
  const double flat = collective(r4, Collective::all_reduce, Algorithm::ring, n, iota(4)).seconds;
  CHECK(collective(r4, Collective::all_reduce, Algorithm::hierarchical, n, iota(4), 1).seconds == Approx(flat));
  CHECK(collective(r4, Collective::all_reduce, Algorithm::hierarchical, n, iota(4), 4).seconds == Approx(flat));
}

TEST_CASE("collectives: 1,024 devices cost milliseconds of CPU at most", "[system][collective][scale]") {
  // A ring's steps are priced once and multiplied (O(p)); a tree has ⌈log2 p⌉ steps of at most
  // p/2 messages; the ring broadcast slides its window of senders (O(p · hops)).
  const Fabric t = fabric(Topology::torus2d, 1024, 32, 32);
  const auto group = iota(1024);
  const auto start = std::chrono::steady_clock::now();
  for (Collective op :
       {Collective::all_reduce, Collective::reduce_scatter, Collective::all_gather, Collective::broadcast}) {
    collective(t, op, Algorithm::ring, 100000000, group);
    collective(t, op, Algorithm::tree, 100000000, group);
    collective(t, op, Algorithm::hierarchical, 100000000, group, 32);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(s < 0.5);  // all twelve together; a sanitized build is several times slower than a release one
}

TEST_CASE("collectives: impossible requests are refused", "[system][collective]") {
  const Fabric r4 = fabric(Topology::ring, 4);
  CHECK_THROWS_AS(collective(r4, Collective::all_reduce, Algorithm::ring, 8, {}), std::invalid_argument);
  CHECK_THROWS_AS(collective(r4, Collective::all_reduce, Algorithm::ring, 8, {0, 4}), std::invalid_argument);
  CHECK_THROWS_AS(collective(r4, Collective::all_reduce, Algorithm::ring, 8, {0, 1, 1}), std::invalid_argument);
  CHECK_THROWS_AS(collective(r4, Collective::all_reduce, Algorithm::hierarchical, 8, iota(4), 3),
                  std::invalid_argument);
  CHECK_THROWS_AS(collective(r4, Collective::all_reduce, Algorithm::hierarchical, 8, iota(4), 0),
                  std::invalid_argument);
  CHECK_THROWS_AS(collective(fabric(Topology::torus2d, 4, 2, 3), Collective::all_reduce, Algorithm::ring, 8, iota(4)),
                  std::invalid_argument);
  Fabric no_bw = r4;
  no_bw.link.bandwidth_bytes_per_s = 0;
  CHECK_THROWS_AS(collective(no_bw, Collective::all_reduce, Algorithm::ring, 8, iota(4)), std::invalid_argument);
  // One device, or nothing to move: free.
  CHECK(collective(r4, Collective::all_reduce, Algorithm::ring, 8, {2}).seconds == 0);
  CHECK(collective(r4, Collective::all_reduce, Algorithm::tree, 0, iota(4)).steps == 0);
}
