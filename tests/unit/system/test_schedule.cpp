// Placement and scheduling on a system (sim/system/schedule.h, docs/system.md "Placement and
// scheduling"): the timeline's transfers, link FIFO and shared memory, the list scheduler,
// and the joint graph against the split forward/backward DAGs, each figure derived by hand.
#include <catch2/catch.hpp>

#include "sim/core/error.h"
#include "sim/system/schedule.h"

using namespace bpsim;
using namespace bpsim::system;
using workload::Op;
using workload::OpGraph;
using workload::Phase;

namespace {

constexpr double kUs = 1e-6;

// β = 1 GB/s (1 B per ns), α = 0 unless a test sets it, 8 pJ per byte per hop.
Fabric switch_fabric(uint32_t devices, double alpha_s = 0) {
  Fabric f;
  f.topology = Topology::switch_;
  f.devices = devices;
  f.cols = devices;
  f.link = {1e9, alpha_s, 8.0};
  return f;
}

uint32_t tensor(OpGraph& g, const std::string& name, uint64_t bytes) {
  return workload::add_tensor(g, name, bytes, workload::TensorRole::activation);
}

uint32_t op(OpGraph& g, const std::string& name, Phase phase, std::vector<uint32_t> reads,
            std::vector<uint32_t> writes, std::vector<uint32_t> deps) {
  Op o;
  o.id = uint32_t(g.ops.size());
  o.name = name;
  o.layer = name;
  o.phase = phase;
  o.kind = workload::OpKind::elementwise;
  o.reads = std::move(reads);
  o.writes = std::move(writes);
  o.deps = std::move(deps);
  g.ops.push_back(o);
  return o.id;
}

Timeline run(const OpGraph& g, const Placement& pl, const std::vector<double>& dur, const Fabric& f,
             std::vector<uint32_t> owner) {
  TimelineProblem p;
  p.graph = &g;
  p.placement = &pl;
  p.duration_s = dur;
  p.memory_owner = std::move(owner);
  for (uint32_t d = 0; d < f.devices; ++d) p.device_names.push_back("d" + std::to_string(d));
  p.fabric = f;
  return simulate_timeline(p);
}

/// The joint-vs-split case: two forward ops fA, fB each save a 2000 B tensor (SA, SB); the
/// backward bB reads SB and writes a 10 B gradient gB; bA reads SA and gB. Every op takes
/// 1 µs on either of two devices; switch, α = 0, β = 1 GB/s (2000 B: 2 µs, 10 B: 0.01 µs).
OpGraph joint_vs_split_graph() {
  OpGraph g;
  const uint32_t sa = tensor(g, "SA", 2000), sb = tensor(g, "SB", 2000), gb = tensor(g, "gB", 10);
  const uint32_t fa = op(g, "fA", Phase::forward, {}, {sa}, {});
  const uint32_t fb = op(g, "fB", Phase::forward, {}, {sb}, {});
  const uint32_t bb = op(g, "bB", Phase::backward_data, {sb}, {gb}, {fb});
  op(g, "bA", Phase::backward_data, {sa, gb}, {}, {fa, bb});
  return g;
}

ScheduleProblem problem_of(const OpGraph& g, uint32_t devices) {
  ScheduleProblem p;
  p.graph = &g;
  p.cost_s.assign(g.ops.size(), std::vector<double>(devices, 1 * kUs));
  for (uint32_t d = 0; d < devices; ++d) p.memory_owner.push_back(d);
  p.budget_bytes.assign(devices, uint64_t(1) << 40);
  p.fabric = switch_fabric(devices);
  return p;
}

}  // namespace

TEST_CASE("system timeline: a cross-device input arrives after its α–β transfer over the switch", "[system]") {
  OpGraph g;
  const uint32_t t = tensor(g, "t", 1000);
  op(g, "A", Phase::forward, {}, {t}, {});
  op(g, "B", Phase::forward, {t}, {}, {0});
  const Placement pl = placement_of(g, {0, 1}, 2);
  // α = 100 ns per hop; d0 → sw → d1 is 2 hops: 2·0.1 µs + 1000 B / 1 GB/s = 1.2 µs.
  const Timeline tl = run(g, pl, {1 * kUs, 2 * kUs}, switch_fabric(2, 100e-9), {0, 1});
  REQUIRE(tl.transfers.size() == 1);
  CHECK(tl.transfers[0].hops == 2);
  CHECK(tl.transfers[0].start_s == Approx(1 * kUs));
  CHECK(tl.transfers[0].end_s == Approx(2.2 * kUs));
  CHECK(tl.transfers[0].energy_pj == Approx(1000 * 2 * 8.0));  // bytes × hops × 8 pJ/B
  CHECK(tl.start_s[1] == Approx(2.2 * kUs));
  CHECK(tl.step_s == Approx(4.2 * kUs));  // B: 2.2 + 2 µs
  REQUIRE(tl.links.size() == 2);          // d0->sw and sw->d1, 1000 B and 8000 pJ each
  for (const LinkFigures& l : tl.links) {
    CHECK(l.bytes == 1000);
    CHECK(l.energy_pj == Approx(8000));
    CHECK(l.busy_s == Approx(1.2 * kUs));
  }
  REQUIRE(tl.critical_path.size() == 3);  // A, the transfer of t, B
  CHECK(tl.critical_path[0].name == "A");
  CHECK(tl.critical_path[1].type == "transfer");
  CHECK(tl.critical_path[1].device == "d0->d1");
  CHECK(tl.critical_path[2].name == "B");
}

TEST_CASE("system timeline: a link carries one transfer at a time, in the order they are ready", "[system]") {
  OpGraph g;
  const uint32_t t1 = tensor(g, "t1", 1000), t2 = tensor(g, "t2", 1000);
  op(g, "A", Phase::forward, {}, {t1, t2}, {});
  op(g, "B", Phase::forward, {t1}, {}, {0});
  op(g, "C", Phase::forward, {t2}, {}, {0});
  const Placement pl = placement_of(g, {0, 1, 1}, 2);
  // Both ready at 1 µs (α = 0): t1 takes the links 1 → 2 µs, t2 waits for them: 2 → 3 µs.
  // B runs 2 → 4 µs; C waits for its device (B), not for t2: 4 → 6 µs.
  const Timeline tl = run(g, pl, {1 * kUs, 2 * kUs, 2 * kUs}, switch_fabric(2), {0, 1});
  REQUIRE(tl.transfers.size() == 2);
  CHECK(tl.transfers[0].tensor == "t1");
  CHECK(tl.transfers[1].start_s == Approx(2 * kUs));
  CHECK(tl.transfers[1].end_s == Approx(3 * kUs));
  CHECK(tl.start_s[2] == Approx(4 * kUs));
  CHECK(tl.step_s == Approx(6 * kUs));
  REQUIRE(tl.critical_path.size() == 4);  // A, t1, B, C
  CHECK(tl.critical_path[3].name == "C");
  CHECK(tl.critical_path[2].name == "B");
}

TEST_CASE("system timeline: devices sharing one memory move no tensor and take turns at the DRAM", "[system]") {
  OpGraph g;
  const uint32_t t = tensor(g, "t", 1000);
  op(g, "A", Phase::forward, {}, {t}, {});
  op(g, "X", Phase::forward, {}, {}, {});
  op(g, "B", Phase::forward, {t}, {}, {0});
  // d1 uses d0's memory. A (d0) 0 → 1 µs; X (d1, no deps) waits for the DRAM: 1 → 2 µs; B (d1)
  // reads t where A wrote it, after X on its device: 2 → 3 µs. No transfer.
  const Placement pl = placement_of(g, {0, 1, 1}, 2);
  const Timeline tl = run(g, pl, {1 * kUs, 1 * kUs, 1 * kUs}, switch_fabric(2), {0, 0});
  CHECK(tl.transfers.empty());
  CHECK(tl.links.empty());
  CHECK(tl.start_s[1] == Approx(1 * kUs));
  CHECK(tl.start_s[2] == Approx(2 * kUs));
  CHECK(tl.step_s == Approx(3 * kUs));
}

TEST_CASE("system scheduler: the joint graph keeps each backward op where its saved tensor is", "[system]") {
  const OpGraph g = joint_vs_split_graph();
  // Upward ranks (mean transfer on an edge: ½ · one hop's α–β): bA 1; bB 1 + 0.005 + 1 = 2.005;
  // fA 1 + 1 + 1 = 3; fB 1 + 1 + 2.005 = 4.005 µs. fB → d0 (tie, lower index); fA → d1 (ends at
  // 1, not 2); bB → d0 (SB is there: ends 2, not 1 + 2 + 1 = 4); bA → d1: max(1, 2 + 0.01, 1) +
  // 1 = 3.01 µs against d0's max(2, 2, 1 + 2) + 1 = 4 µs.
  const Placement pl = schedule_joint(problem_of(g, 2));
  CHECK(pl.device_of == std::vector<uint32_t>{1, 0, 0, 1});
  CHECK(pl.estimate_s == Approx(3.01 * kUs));
  // On the clock: fB, fA 0 → 1; bB 1 → 2 on d0; gB (10 B) 2 → 2.01; bA 2.01 → 3.01 µs.
  const Timeline tl = run(g, pl, std::vector<double>(4, 1 * kUs), switch_fabric(2), {0, 1});
  REQUIRE(tl.transfers.size() == 1);
  CHECK(tl.transfers[0].tensor == "gB");
  CHECK(tl.step_s == Approx(3.01 * kUs));
}

TEST_CASE("system scheduler: split forward and backward DAGs re-transfer a saved tensor and pay a barrier",
          "[system]") {
  const OpGraph g = joint_vs_split_graph();
  // Forward DAG alone: fA and fB rank 1 each (no successor inside it): fA (lower id) → d0,
  // fB → d1. Backward DAG from the barrier (1 µs), its inputs taken as everywhere: bB (rank
  // 2.005) → d0 (tie), bA → d0 (gB is there: 3 µs against 3.01).
  const Placement pl = schedule_split(problem_of(g, 2));
  CHECK(pl.device_of == std::vector<uint32_t>{0, 1, 0, 0});
  CHECK(pl.stage == std::vector<uint8_t>{0, 0, 1, 1});
  // On the clock: fA, fB 0 → 1; SB (2000 B) d1 → d0 1 → 3; bB 3 → 4; bA 4 → 5 µs.
  const Timeline tl = run(g, pl, std::vector<double>(4, 1 * kUs), switch_fabric(2), {0, 1});
  REQUIRE(tl.transfers.size() == 1);
  CHECK(tl.transfers[0].tensor == "SB");
  CHECK(tl.transfers[0].bytes == 2000);
  CHECK(tl.step_s == Approx(5 * kUs));
  // The joint schedule (above): 3.01 µs and 10 B moved; split: 5 µs and 2000 B.
}

TEST_CASE("system scheduler: a full memory budget sends an op elsewhere, or is refused", "[system]") {
  OpGraph g;
  const uint32_t a = tensor(g, "a", 600), b = tensor(g, "b", 600);
  op(g, "A", Phase::forward, {}, {a}, {});
  op(g, "B", Phase::forward, {}, {b}, {});
  ScheduleProblem p = problem_of(g, 2);
  p.cost_s[0][1] = 20 * kUs;  // A: 1 µs on d0, 20 on d1 (rank 10.5 µs, placed first)
  p.cost_s[1][1] = 10 * kUs;  // B: 1 µs on d0, 10 on d1 (rank 5.5 µs)
  CHECK(schedule_joint(p).device_of == std::vector<uint32_t>{0, 0});  // no budget binds: both on d0
  p.budget_bytes = {1000, 1000};
  // A → d0 (600 B of 1000). B would finish first on d0 (2 µs against 10) but 600 + 600 > 1000.
  CHECK(schedule_joint(p).device_of == std::vector<uint32_t>{0, 1});
  p.budget_bytes = {1000, 500};
  CHECK_THROWS_AS(schedule_joint(p), InputError);
}

TEST_CASE("system scheduler: an op no device can estimate goes to the fallback device", "[system]") {
  OpGraph g;
  op(g, "A", Phase::forward, {}, {}, {});
  ScheduleProblem p = problem_of(g, 2);
  p.cost_s[0] = {-1, -1};
  p.fallback = 1;
  CHECK(schedule_joint(p).device_of == std::vector<uint32_t>{1});
}
