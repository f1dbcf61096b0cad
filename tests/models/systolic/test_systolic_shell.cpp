// The systolic sc_module with a fake memory of known bandwidth: double buffering overlaps
// the loads with compute, stalls appear when DRAM cannot feed the folds, and non-GEMM ops
// run on the vector unit. Each TEST_CASE runs in its own process (one elaboration each).
#include <catch2/catch.hpp>

#include <systemc>

#include "models/systolic/systolic_model.h"
#include "sim/core/stats.h"
#include "sim/memory/memory_system.h"
#include "tests/models/record_log.h"

using namespace bpsim;
using namespace bpsim::systolic;

namespace {
/// Serial link: a transfer starts when issued and the link is free, moves `ps_per_byte`.
class FakeMemory : public memory::MemorySystem {
 public:
  explicit FakeMemory(uint64_t ps_per_byte) : m_ps(ps_per_byte) {}
  uint64_t transfer(uint64_t, uint64_t bytes, bool is_write, uint64_t issue_ps) override {
    const uint64_t start = std::max(issue_ps, m_free);
    m_free = start + bytes * m_ps;
    (is_write ? m_wr : m_rd) += bytes;
    return m_free;
  }
  double peak_bytes_per_s() const override { return 1e12 / double(m_ps); }
  uint64_t capacity_bytes() const override { return uint64_t(1) << 40; }
  ActionCounts take_actions() override { return {}; }
  uint64_t read_bytes() const override { return m_rd; }
  uint64_t write_bytes() const override { return m_wr; }

 private:
  uint64_t m_ps, m_free = 0, m_rd = 0, m_wr = 0;
};

/// One GEMM M=100, K=70, N=50 (int8) with named tensors, then a ReLU over its output.
std::shared_ptr<workload::OpGraph> graph() {
  auto g = std::make_shared<workload::OpGraph>();
  g->dtype = workload::DType::int8;
  g->tensors = {{0, "x", 7000, workload::TensorRole::input},
                {1, "w", 3500, workload::TensorRole::weight},
                {2, "y", 5000, workload::TensorRole::activation},
                {3, "z", 5000, workload::TensorRole::activation}};
  workload::Op mm;
  mm.id = 0, mm.name = "fc.fwd", mm.kind = workload::OpKind::gemm, mm.dtype = workload::DType::int8;
  mm.gemm = {100, 50, 70, 1};
  mm.macs = 350000;
  mm.reads = {0, 1};
  mm.writes = {2};
  workload::Op relu;
  relu.id = 1, relu.name = "relu.fwd", relu.kind = workload::OpKind::elementwise, relu.dtype = workload::DType::int8;
  relu.elements = 5000;
  relu.reads = {2};
  relu.writes = {3};
  g->ops = {mm, relu};
  return g;
}

const config::Values& defaults() {
  static const config::Values v = config::validate(config::Node{}, *systolic_schema(), "accelerator");
  return v;
}

SystolicSpec base_spec(bool double_buffer) {
  SystolicSpec s = parse_systolic_spec(defaults());
  s.timing = Timing::scalesim;  // 1164 compute cycles for this GEMM (test_systolic_timing)
  s.sram.double_buffer = double_buffer;
  s.sram.bytes_per_cycle = 4096;
  return s;
}
}  // namespace

TEST_CASE("systolic shell: without double buffering loads, compute and write-back serialise", "[systolic]") {
  FakeMemory mem(1);  // 1 ps per byte, 1 GHz clock: 1000 bytes per cycle
  EnergyTable prices;
  SystolicModel m("acc", base_spec(false), graph(), nullptr, mem, prices, defaults(), 1);
  const RecordLog log(m);
  sc_core::sc_start();
  const OpRecord& r = log.records().at(0);
  // Reads 7000 + 3500 B = 10500 ps, compute 1164 cycles = 1 164 000 ps, write 5000 ps:
  // 1 179 500 ps → 1180 cycles (rounded up), 16 stall cycles.
  CHECK(r.cycles == 1180);
  CHECK(r.extra["stall_cycles"] == 16);
  CHECK(r.dram_read_bytes == 10500);
  CHECK(r.dram_write_bytes == 5000);
  // ReLU: 5000 elements over 32 lanes = 157 cycles; its 10 000 B of traffic take 10 cycles.
  CHECK(log.records().at(1).cycles == 157);
  CHECK(m.total_cycles() == 1180 + 157);
}

TEST_CASE("systolic shell: double buffering hides loads, slow DRAM stalls the folds", "[systolic]") {
  FakeMemory mem(1000);  // 1 byte per cycle
  EnergyTable prices;
  SystolicModel m("acc", base_spec(true), graph(), nullptr, mem, prices, defaults(), 1);
  const RecordLog log(m);
  sc_core::sc_start();
  const OpRecord& r = log.records().at(0);
  // First fold needs its 32×32 weight tile (1024 B) + 32 input columns × 100 rows (3200 B):
  // 4224 cycles; the other 6276 read bytes and 5000 − 18·100 = 3200 output bytes follow
  // on the same link: 4224 + 6276 + 3200 = 13 700, > 4224 + 1164 compute; then the last
  // column fold's 18×100 outputs: 13 700 + 1800 = 15 500 cycles, 14 336 of them stalls.
  CHECK(r.cycles == 15500);
  CHECK(r.extra["stall_cycles"] == 15500 - 1164);
  CHECK(r.extra["utilisation"].get<double>() == Approx(350000.0 / (15500.0 * 32 * 32)));
}

TEST_CASE("systolic shell: fast DRAM leaves only the first fold's load exposed", "[systolic]") {
  FakeMemory mem(1);
  EnergyTable prices;
  SystolicModel m("acc", base_spec(true), graph(), nullptr, mem, prices, defaults(), 1);
  const RecordLog log(m);
  sc_core::sc_start();
  // 4224 ps for the first fold's tiles, then 1 164 000 ps of compute cover the rest;
  // the last 1800 output bytes: 4224 + 1 164 000 + 1800 = 1 170 024 ps → 1171 cycles.
  CHECK(log.records().at(0).cycles == 1171);
}

TEST_CASE("systolic shell: SRAM too small and unmappable dims are input errors", "[systolic]") {
  FakeMemory mem(1);
  EnergyTable prices;
  SystolicSpec s = base_spec(true);
  s.sram.weight_bytes = 1024;  // 512 usable < one 32×32 int8 tile
  CHECK_THROWS_AS(SystolicModel("a", s, graph(), nullptr, mem, prices, defaults(), 1), InputError);
  auto g = graph();
  g->ops[0].gemm.k = 0;
  CHECK_THROWS_WITH(SystolicModel("b", base_spec(true), g, nullptr, mem, prices, defaults(), 1),
                    Catch::Contains("gemm.k = 0"));
  config::Node bad = config::parse_yaml("stages: 3\nrows: 32\n", "x.yaml");
  CHECK_THROWS_WITH(parse_systolic_spec(config::validate(bad, *systolic_schema(), "accelerator")),
                    Catch::Contains("x.yaml:1:") && Catch::Contains("stages must divide rows"));
  config::Node df = config::parse_yaml("dataflow: rs\n", "y.yaml");
  CHECK_THROWS_AS(config::validate(df, *systolic_schema(), "accelerator"), InputError);
}
