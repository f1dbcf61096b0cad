// Training memory per cluster (models/mesh/cluster_memory.h) on a small convolutional net
// built by the workload builder: the per-tile shares of stored inputs and backward weights,
// the spill order, and the W^T refresh messages.
#include <catch2/catch.hpp>

#include "models/mesh/cluster_memory.h"
#include "models/mesh/noc.h"
#include "sim/core/config_node.h"
#include "sim/source/load.h"
#include "tests/models/mesh/mesh_test_util.h"

using namespace bpsim;
using namespace bpsim::mesh;

namespace {

/// 1×8×8 input → conv 3×3 pad 1 to 4 channels → ReLU → conv 3×3 pad 1 to 2 channels; fp32, batch 1.
std::shared_ptr<const workload::OpGraph> small_cnn(const std::string& optimizer) {
  const config::Node n = config::parse_yaml(
      "workload:\n  input: {shape: [1, 8, 8]}\n  batch: 1\n  optimizer: " + optimizer +
          "\n  layers:\n    - {kind: conv2d, name: c1, out_channels: 4, kernel: 3, padding: 1}\n"
          "    - {kind: relu}\n    - {kind: conv2d, name: c2, out_channels: 2, kernel: 3, padding: 1}\n",
      "cfg.yaml");
  return workload::load_workload(*n.find("workload"), "workload", 1);
}

}  // namespace

TEST_CASE("mesh memory: a conv tile stores its rows' inputs and hosts W^T of its channels", "[mesh][mesh_memory]") {
  // 64 elements per cluster. c1 (8×8×4): 4 channels × 2 rows a tile (4·8·2 = 64), 4 tiles.
  // c2 (8×8×2): 2 channels × 4 rows a tile, 2 tiles.
  const MeshSpec spec = testing::mesh_spec("cols: 4\nrows: 4\ncluster: {elements: 64, sram_kib: 64}\n");
  const auto g = small_cnn("sgd");
  const Mapping map = map_graph(*g, spec, nullptr);
  REQUIRE(map.layers.size() == 3);
  REQUIRE(map.layers[1].boxes.size() == 4);
  REQUIRE(map.layers[2].boxes.size() == 2);
  const ClusterMemory mem(map, *g, spec);
  const LayerMemory& c1 = mem.layers()[1];
  const LayerMemory& c2 = mem.layers()[2];
  // c1: W = 4 filters × 1·3·3 × 4 B = 144; dW the same; sgd keeps no state. Its stored
  // input is the network input (8 rows × 8 × 4 B = 256 B); the tile of rows 0–1 reads rows
  // 0..2 (3 rows, 96 B), a middle tile rows 1..4 (4 rows, 128 B): the largest is 128.
  // W^T of c2 at each c1 tile: its 4 channels × c2's 2 filters × 3·3 × 4 B = 288.
  CHECK(c1.need.weights == 144);
  CHECK(c1.need.weight_grads == 144);
  CHECK(c1.need.optimizer == 0);
  CHECK(c1.need.saved == 128);
  CHECK(c1.need.backward_weights == 288);
  CHECK(c1.need.total() == 144 + 144 + 128 + 288);
  // c2: W = 2 × 4·3·3 × 4 B = 288. Its input (c1's ReLU output) is 4 × 8 × 8 × 4 B =
  // 1024 B, 128 B a row; rows 0–3 read rows 0..4, rows 4–7 read rows 3..7: 5 rows, 640 B.
  // Nothing comes back into c2 (the last layer): no W^T.
  CHECK(c2.need.weights == 288);
  CHECK(c2.need.saved == 640);
  CHECK(c2.need.backward_weights == 0);
  // Transport: c2's update rewrites the 4 copies of its W^T at c1's tiles (4 × 288 B).
  CHECK(c1.refresh_bytes == 4 * 288);
  CHECK(!mem.spills());  // 64 KiB holds all of it
}

TEST_CASE("mesh memory: what does not fit spills stored inputs first, then optimizer state, then W^T",
          "[mesh][mesh_memory]") {
  const auto g = small_cnn("adam");
  // 1 KiB clusters. c1's middle tile holds W 144 + dW 144 + Adam 2·144 (fp32 states) +
  // saved 128 + W^T 288 = 992 B: fits. c2's tiles hold 288 + 288 + 576 + 640 = 1792 B:
  // 768 B over, taken from its 640 B of stored inputs, then 128 B of its Adam state.
  const MeshSpec spec = testing::mesh_spec("cols: 4\nrows: 4\ncluster: {elements: 64, sram_kib: 1}\n");
  const Mapping map = map_graph(*g, spec, nullptr);
  const ClusterMemory mem(map, *g, spec);
  CHECK(mem.layers()[1].need.total() == 992);
  CHECK(mem.layers()[1].spilled.total() == 0);
  const LayerMemory& c2 = mem.layers()[2];
  CHECK(c2.need.total() == 1792);
  CHECK(c2.spilled.saved == 2 * 640);  // both tiles
  CHECK(c2.spilled.optimizer == 2 * 128);
  CHECK(c2.spilled.backward_weights == 0);
  CHECK(c2.spilled_max == 768);
  REQUIRE(mem.spills());
  // The ops that move them: c2's stored input is written when the ReLU produces it and read
  // by c2.dw; its Adam state is read and written by the update.
  const auto op_named = [&](const std::string& name) {
    for (const workload::Op& op : g->ops)
      if (op.name == name) return op.id;
    FAIL("no op " << name);
    return uint32_t(0);
  };
  const auto bytes = [](const std::vector<SpillTransfer>& v) {
    uint64_t b = 0;
    for (const SpillTransfer& t : v) b += t.bytes;
    return b;
  };
  const OpMemoryTraffic* relu = mem.traffic_of(op_named("relu1.fwd"));
  REQUIRE(relu);
  CHECK(bytes(relu->writes) == 1280);
  CHECK(bytes(mem.traffic_of(op_named("c2.dw"))->reads) == 1280);
  const OpMemoryTraffic* up = mem.traffic_of(op_named("c2.weight.update"));
  REQUIRE(up);
  CHECK(bytes(up->reads) == 256);
  CHECK(bytes(up->writes) == 256);
  CHECK(up->refresh_layer == 2);
}

TEST_CASE("mesh memory: the W^T refresh reaches every host, the group's tiles sending in turn", "[mesh][mesh_memory]") {
  for (const char* model : {"flit", "flow"}) {
    INFO(model);
    const MeshSpec spec = testing::mesh_spec(std::string("cols: 4\nrows: 4\nnoc: {model: ") + model +
                                             "}\ncluster: {elements: 64, sram_kib: 64}\n");
    const auto g = small_cnn("sgd");
    const Mapping map = map_graph(*g, spec, nullptr);
    const ClusterMemory mem(map, *g, spec);
    const std::unique_ptr<NocModel> net = make_noc_model(spec.noc, 1);
    // c2 has one channel group (2 channels, 2 row tiles, the same filters): its tiles send
    // 288 B to c1's tiles 0, 2 and 1, 3, as 256 + 32 B messages: 8 messages of
    // ⌈(8 + 256)/16⌉ = 17 and ⌈(8 + 32)/16⌉ = 3 flits.
    CHECK(mem.send_refresh(2, *net, 0) == 4 * 288);
    net->drain();
    CHECK(net->counters().packets_injected == 8);
    CHECK(net->counters().injected_flits == 4 * (17 + 3));
  }
}
