// Training step on the mesh: event-driven messages, MAC counts against the op graph,
// multicast against unicast, and the SystemC shell end to end.
#include <catch2/catch.hpp>

#include <chrono>

#include "models/mesh/mesh_model.h"
#include "models/mesh/trainer.h"
#include "sim/engine/op_runner.h"
#include "tests/models/mesh/mesh_test_util.h"
#include "tests/models/record_log.h"

using namespace bpsim;
using namespace bpsim::mesh;

namespace {
struct StepResult {
  std::vector<OpRecord> recs;
  uint64_t cycles = 0, flit_hops = 0, messages = 0;
};
StepResult run_step(const MeshSpec& spec, const workload::OpGraph& g, uint64_t seed = 1) {
  const Mapping map = map_graph(g, spec, nullptr);
  Trainer tr(spec, map, g, seed);
  StepResult r;
  for (const workload::Op& op : g.ops) {
    r.recs.push_back(op_record(op));
    tr.run_op(op, r.recs.back());
  }
  r.cycles = tr.now();
  r.flit_hops = tr.counters().flit_hops;
  r.messages = tr.messages();
  return r;
}
const OpRecord& rec(const StepResult& r, const std::string& name) {
  for (const OpRecord& o : r.recs)
    if (o.name == name) return o;
  FAIL("no op " << name);
  return r.recs.front();
}
}  // namespace

TEST_CASE("mesh training: dense activations execute exactly the op graph's MACs", "[mesh]") {
  auto g = testing::lenet(2, 1.0);
  const StepResult r = run_step(testing::mesh_spec("{}"), *g);
  // Every (output, input-in-receptive-field) pair is one MAC at the destination:
  // conv1 2·28·28·6·25 = 235,200; conv2 2·10·10·16·150 = 480,000; fc1 2·400·120 = 96,000.
  CHECK(rec(r, "conv1.fwd").macs_executed == 235200);
  CHECK(rec(r, "conv2.fwd").macs_executed == 480000);
  CHECK(rec(r, "fc1.fwd").macs_executed == 96000);
  // Backward data of conv2 (gradients into 6×14×14) is the same MAC count reversed.
  CHECK(rec(r, "conv2.dx").macs_executed == 480000);
  // fc1's backward data reaches all 400 flattened conv2 outputs: 2·120·400 = 96,000.
  CHECK(rec(r, "fc1.dx").macs_executed == 96000);
  // Dense input: 2 samples · 1024 input neurons each send one multicast message.
  CHECK(rec(r, "conv1.fwd").extra["messages"] == 2048);
  CHECK(r.cycles > 0);
}

TEST_CASE("mesh training: zero activations after ReLU send nothing", "[mesh]") {
  auto g = testing::lenet(8, 0.3);
  const StepResult r = run_step(testing::mesh_spec("{}"), *g);
  // conv2's inputs are the 6·14·14 = 1176 pooled conv1 outputs per sample; with density
  // 0.3 about 8·1176·0.3 = 2822 fire (binomial σ ≈ 41, so ±5 % is > 3σ).
  const uint64_t fired = rec(r, "conv2.fwd").extra["fired"];
  CHECK(double(fired) == Approx(8 * 1176 * 0.3).epsilon(0.05));
  CHECK(rec(r, "conv2.fwd").macs_executed < 0.4 * rec(r, "conv2.fwd").macs);
  // fc1 weight gradient: only non-zero output gradients (density 0.3) accumulate.
  CHECK(rec(r, "fc1.dw").macs_executed == uint64_t(8 * 400 * 120 * 0.3 + 0.5));
  // Same seed, same result.
  const StepResult again = run_step(testing::mesh_spec("{}"), *g);
  CHECK(again.cycles == r.cycles);
  CHECK(again.flit_hops == r.flit_hops);
}

TEST_CASE("mesh training: tree multicast needs fewer flit-hops than unicast", "[mesh]") {
  auto g = testing::lenet(2, 1.0);
  const StepResult tree = run_step(testing::mesh_spec("multicast: tree"), *g);
  const StepResult uni = run_step(testing::mesh_spec("multicast: unicast"), *g);
  CHECK(tree.messages < uni.messages);
  CHECK(tree.flit_hops < uni.flit_hops);
  // MACs do not depend on how messages travel.
  CHECK(rec(tree, "conv2.fwd").macs_executed == rec(uni, "conv2.fwd").macs_executed);
}

TEST_CASE("mesh model: LeNet-5 training step on 8x8 through the SystemC shell", "[mesh]") {
  auto g = testing::lenet(16, 0.5);
  const config::Values v = testing::mesh_values("{}");
  const auto t0 = std::chrono::steady_clock::now();
  MeshModel model("mesh", parse_mesh_spec(v), g, v, 1);
  const RecordLog log(model);
  sc_core::sc_start();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  WARN("LeNet-5 batch 16 training step: " << model.total_cycles() << " cycles in " << s << " s");
  CHECK(s < 5.0);
  REQUIRE(log.records().size() == g->ops.size());
  CHECK(model.total_cycles() > 0);
  CHECK(sc_core::sc_time_stamp() == sc_core::sc_time(double(model.total_cycles()), sc_core::SC_NS));
  CHECK(model.network()["packets"].get<uint64_t>() > 0);
}

TEST_CASE("mesh model: synthetic mode without a workload, training mode needs one", "[mesh]") {
  const config::Values bad = testing::mesh_values("mode: training");
  CHECK_THROWS_WITH(MeshModel("m1", parse_mesh_spec(bad), nullptr, bad, 1), Catch::Contains("workload"));
  const config::Values v =
      testing::mesh_values("mode: synthetic\ntraffic: {rate: 0.05, warmup_cycles: 100, measure_cycles: 2000}");
  MeshModel model("m2", parse_mesh_spec(v), nullptr, v, 1);
  sc_core::sc_start();
  const nlohmann::json n = model.network();
  CHECK(n["accepted_rate"].get<double>() == Approx(0.05).epsilon(0.15));
  CHECK(n["avg_packet_latency_cycles"].get<double>() > 30.0);  // ≥ zero-load 32.25 (see noc test)
  CHECK(model.total_cycles() >= 2100);
}
