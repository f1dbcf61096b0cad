// The logic module's ranges and the mapper's control store, checked by hand and by
// brute force over the convolution's definition.
#include <catch2/catch.hpp>

#include "models/mesh/cluster_logic.h"
#include "models/mesh/mapper.h"
#include "tests/models/mesh/mesh_test_util.h"

using namespace bpsim;
using namespace bpsim::mesh;

TEST_CASE("mesh logic: forward range of a conv receptive field", "[mesh]") {
  Connection c;
  c.kind = Connection::Kind::conv;
  c.kernel_w = c.kernel_h = 5;
  c.in_w = c.in_h = 32, c.in_c = 1, c.out_w = c.out_h = 28, c.out_c = 6;
  // Input x feeds outputs q with q ≤ x ≤ q+4: q ∈ [x−4, x] ∩ [0, 27].
  Box b = forward_range(c, 0, 10, 0);
  CHECK(b.lo[0] == 0);
  CHECK(b.hi[0] == 0);
  CHECK(b.lo[1] == 6);
  CHECK(b.hi[1] == 10);
  CHECK(b.lo[2] == 0);
  CHECK(b.hi[2] == 5);
  b = forward_range(c, 31, 31, 0);
  CHECK(b.lo[0] == 27);
  CHECK(b.hi[0] == 27);
  // Stride 2, kernel 3, pad 1: x feeds q with 2q−1 ≤ x ≤ 2q+1 → x = 3: q ∈ [1, 2]; x = 4: q = 2.
  c.stride = 2, c.kernel_w = c.kernel_h = 3, c.pad = 1, c.out_w = c.out_h = 16;
  b = forward_range(c, 3, 4, 0);
  CHECK(b.lo[0] == 1);
  CHECK(b.hi[0] == 2);
  CHECK(b.lo[1] == 2);
  CHECK(b.hi[1] == 2);
}

TEST_CASE("mesh logic: identity and per-head ranges are each other's reverse", "[mesh]") {
  // Identity (a residual join): (x, y, ch) to (x, y, ch) alone, both ways.
  Connection id;
  id.kind = Connection::Kind::identity;
  id.in_w = id.out_w = 4, id.in_h = id.out_h = 4, id.in_c = id.out_c = 2;
  for (const Box& b : {forward_range(id, 3, 1, 1), backward_range(id, 3, 1, 1)}) {
    CHECK(b.volume() == 1);
    CHECK((b.lo[0] == 3 && b.lo[1] == 1 && b.lo[2] == 1));
  }
  // QK^T with H = 2 heads of d = 3 over s = 5 keys: input features Q [0, 6), K [6, 12),
  // V [12, 18); score neuron (h, j) is channel 5h + j.
  Connection qk;
  qk.kind = Connection::Kind::heads;
  qk.in_c = 18, qk.out_c = 10, qk.group_in = 3, qk.group_out = 5, qk.offset = 0;
  for (int32_t f = 0; f < qk.in_c; ++f)
    for (int32_t k = 0; k < qk.out_c; ++k) {
      // Definition: feature f (a query feature of head f/3 when f < 6) reads into score k
      // iff it is a query feature and k's head is f's.
      const bool connected = f < 6 && f / 3 == k / 5;
      const Box fw = forward_range(qk, 0, 0, f), bw = backward_range(qk, 0, 0, k);
      INFO("f=" << f << " k=" << k);
      CHECK((k >= fw.lo[2] && k <= fw.hi[2]) == connected);
      CHECK((f >= bw.lo[2] && f <= bw.hi[2]) == connected);
    }
  CHECK(forward_range(qk, 0, 0, 7).empty());  // a K feature fires nothing per query
}

TEST_CASE("mesh logic: backward ranges are the exact reverse of forward ranges", "[mesh]") {
  Connection c;
  c.kind = Connection::Kind::conv;
  c.stride = 2, c.kernel_w = 3, c.kernel_h = 3, c.pad = 1;
  c.in_w = c.in_h = 9, c.out_w = c.out_h = 5;  // ⌊(9 + 2 − 3)/2⌋ + 1 = 5
  for (int x = 0; x < c.in_w; ++x)
    for (int q = 0; q < c.out_w; ++q) {
      // Definition: output q reads input x iff 0 ≤ x − (q·stride − pad) < kernel.
      const bool connected = x - (q * c.stride - c.pad) >= 0 && x - (q * c.stride - c.pad) < c.kernel_w;
      const Box f = forward_range(c, x, 0, 0), bw = backward_range(c, q, 0, 0);
      INFO("x=" << x << " q=" << q);
      CHECK((q >= f.lo[0] && q <= f.hi[0]) == connected);
      CHECK((x >= bw.lo[0] && x <= bw.hi[0]) == connected);
    }
}

TEST_CASE("mesh mapper: LeNet-5 tiles, control store far smaller than per-neuron tables", "[mesh]") {
  const MeshSpec spec = testing::mesh_spec("cluster: {elements: 256}");
  const Mapping m = map_graph(*testing::lenet(1, 1.0), spec, nullptr);
  REQUIRE(m.layers.size() == 6);  // input + 2 conv + 3 fc
  // input 32×32×1: 256/32 = 8 rows per cluster → 4 clusters; conv1 28×28×6: a row of all
  // 6 channels is 168 neurons → 1 row per cluster → 28; conv2 10×10×16: 160 → 10; fc: 1 each.
  CHECK(m.layers[0].clusters.size() == 4);
  CHECK(m.layers[1].clusters.size() == 28);
  CHECK(m.layers[2].clusters.size() == 10);
  CHECK(m.clusters_used == 4 + 28 + 10 + 3);
  // Entries per cluster: input 28 (conv1 tiles), conv1 10 + 4, conv2 1 (fc1) + 28 (conv1,
  // backward) = 29, the largest; 19 B each.
  CHECK(m.control_store_bytes_max == 29 * ControlEntry::kBytes);
  CHECK(m.routing_table_bytes_max > m.control_store_bytes_max);
  CHECK(m.routing_table_bytes_total > 3 * m.control_store_bytes_total);
  WARN("control store " << m.control_store_bytes_total << " B vs per-neuron tables " << m.routing_table_bytes_total
                        << " B");
}

TEST_CASE("mesh mapper: layers that cannot be addressed are input errors", "[mesh]") {
  auto g = testing::lenet(1, 1.0);
  // Rows of 32 (the input), 28 (conv1), 14, 10, … neurons do not fit in 16 elements: one
  // error names the widest.
  CHECK_THROWS_WITH(map_graph(*g, testing::mesh_spec("cluster: {elements: 16}"), nullptr),
                    Catch::Contains("a row must fit one cluster's elements") &&
                        Catch::Contains("largest need is 32 neurons") && Catch::Contains("layer 'input'"));
  // 45 clusters do not fit on a 4×4 mesh.
  const config::Values v = testing::mesh_values("cols: 4\nrows: 4\n");
  CHECK_THROWS_WITH(map_graph(*g, parse_mesh_spec(v), &v), Catch::Contains("mesh.yaml") && Catch::Contains("clusters"));
  // fc1: 120 × 400 fp32 weights + gradients = 384,000 B > 256 KiB.
  CHECK_THROWS_AS(map_graph(*g, testing::mesh_spec("cluster: {sram_kib: 256}"), nullptr), InputError);
  CHECK_THROWS_WITH(map_graph(*g, testing::mesh_spec("cluster: {max_control_entries: 8}"), nullptr),
                    Catch::Contains("control-store entries"));
}

TEST_CASE("mesh params: bad rates and deadlock-prone routing are input errors", "[mesh]") {
  CHECK_THROWS_AS(testing::mesh_values("traffic: {rate: 0}"), InputError);
  CHECK_THROWS_AS(testing::mesh_values("traffic: {rate: 1.5}"), InputError);
  CHECK_THROWS_WITH(testing::mesh_spec("noc: {routing: o1turn, vcs: 1}"), Catch::Contains("deadlock"));
  CHECK_THROWS_WITH(testing::mesh_spec("cols: 4\nrows: 2\ntraffic: {pattern: transpose}"), Catch::Contains("square"));
  CHECK_THROWS_AS(testing::mesh_spec("noc: {vcz: 2}"), InputError);
  CHECK_NOTHROW(testing::mesh_spec("noc: {routing: o1turn, vcs: 2}"));
}
