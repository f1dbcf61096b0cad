// The framework's model shell on a toy model: tensor placement, the records' common fields,
// waiting out each op's cycles, up-front checks of a graph, and an error thrown on the
// model's thread reaching the engine. Each TEST_CASE runs in its own process (one
// elaboration each).
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "sim/core/error.h"
#include "sim/engine/op_runner.h"
#include "sim/memory/memory_system.h"
#include "tests/models/record_log.h"

using namespace bpsim;

namespace {

/// The toy memory's one action.
struct ToyActions {
  Vocabulary vocabulary{"toy"};
  const Action burst = vocabulary.add("burst", "one transfer");
};
const ToyActions kToy;

/// Moves bytes instantly; counts them, and one "toy.burst" action per transfer.
class CountingMemory : public memory::MemorySystem {
 public:
  uint64_t transfer(uint64_t addr, uint64_t bytes, bool is_write, uint64_t issue_ps) override {
    (is_write ? m_wr : m_rd) += bytes;
    ++m_bursts;
    last_addr = addr;
    return issue_ps;
  }
  double peak_bytes_per_s() const override { return 1e12; }
  uint64_t capacity_bytes() const override { return uint64_t(1) << 40; }
  ActionCounts take_actions() override {
    ActionCounts a;
    a[kToy.burst] = m_bursts;
    m_bursts = 0;
    return a;
  }
  uint64_t read_bytes() const override { return m_rd; }
  uint64_t write_bytes() const override { return m_wr; }
  uint64_t last_addr = 0;

 private:
  uint64_t m_rd = 0, m_wr = 0, m_bursts = 0;
};

/// Per op (with a memory): reads every tensor it names and writes every one it writes; op i
/// takes 10·(i + 1) cycles. Refuses ops named "bad*" up front, throws on "boom" while running.
class ToyModel : public OpRunner {
 public:
  ToyModel(sc_core::sc_module_name name, std::shared_ptr<const workload::OpGraph> g, memory::MemorySystem* mem)
      : OpRunner(name, mem), m_mem(mem) {
    take_ops(std::move(g), nullptr);
  }
  double clock_ghz() const override { return 1.0; }
  double peak_macs_per_cycle() const override { return 1; }
  std::vector<LeakingPart> leaking_parts() const override { return {}; }
  std::map<uint32_t, uint64_t> addr;  ///< where each tensor was placed, as run_op saw it

 private:
  void check_op(const workload::Op& op) override {
    if (op.name.rfind("bad", 0) == 0) throw InputError("op '" + op.name + "' is refused");
  }
  void run_op(const workload::Op& op, OpRecord& rec) override {
    if (op.name == "boom") throw InputError("op 'boom' failed on the thread");
    for (const auto* ids : {&op.reads, &op.writes})
      for (uint32_t t : *ids) {
        if (!m_mem) continue;  // nothing was placed
        addr[t] = tensor_addr(t);
        m_mem->transfer(tensor_addr(t), tensor_bytes(t), ids == &op.writes, 0);
      }
    rec.cycles = 10 * (op.id + 1);
  }
  memory::MemorySystem* m_mem;
};

std::shared_ptr<workload::OpGraph> toy_graph(const std::string& second_name = "b") {
  auto g = std::make_shared<workload::OpGraph>();
  g->tensors = {{0, "x", 5000, workload::TensorRole::input},
                {1, "w", 100, workload::TensorRole::weight},
                {2, "y", 4096, workload::TensorRole::activation},
                {3, "z", 1, workload::TensorRole::activation}};
  workload::Op a;
  a.id = 0, a.name = "a", a.kind = workload::OpKind::gemm, a.reads = {0, 1}, a.writes = {2};
  workload::Op b;
  b.id = 1, b.name = second_name, b.kind = workload::OpKind::elementwise, b.reads = {2, 0}, b.writes = {3};
  g->ops = {a, b};
  return g;
}

}  // namespace

TEST_CASE("shell: tensors placed at first use, 4 KiB aligned, records filled, cycles waited out", "[engine][shell]") {
  CountingMemory mem;
  ToyModel m("toy", toy_graph(), &mem);
  const RecordLog log(m);
  sc_core::sc_start();
  REQUIRE_FALSE(m.error());
  // First use, reads before writes: x at 0 (5000 B → next page 8192), w at 8192 (100 B →
  // 12288), y at 12288 (4096 B → 16384), z at 16384; x keeps its place when op b reads it.
  CHECK(m.addr.at(0) == 0);
  CHECK(m.addr.at(1) == 8192);
  CHECK(m.addr.at(2) == 12288);
  CHECK(m.addr.at(3) == 16384);
  REQUIRE(log.records().size() == 2);
  const OpRecord& a = log.records()[0];
  const OpRecord& b = log.records()[1];
  CHECK(a.name == "a");
  CHECK(a.phase == "forward");
  CHECK(a.kind == "gemm");
  CHECK(b.kind == "elementwise");
  // start_cycle: the cycles before the op (a: 10, b: 20).
  CHECK(a.start_cycle == 0);
  CHECK(b.start_cycle == 10);
  CHECK(m.total_cycles() == 30);
  // DRAM bytes are the memory counters' growth during the op; its actions are the op's.
  CHECK(a.dram_read_bytes == 5000 + 100);
  CHECK(a.dram_write_bytes == 4096);
  CHECK(b.dram_read_bytes == 4096 + 5000);
  CHECK(b.dram_write_bytes == 1);
  CHECK(a.actions.count(kToy.burst) == 3);
  CHECK(b.actions.count(kToy.burst) == 3);
  // 30 cycles at 1 GHz.
  CHECK(sc_core::sc_time_stamp() == sc_core::sc_time(30, sc_core::SC_NS));
}

TEST_CASE("shell: a model without memory gets no placement and no DRAM figures", "[engine][shell]") {
  ToyModel m("toy", toy_graph(), nullptr);
  const RecordLog log(m);
  sc_core::sc_start();
  REQUIRE(log.records().size() == 2);
  CHECK_THROWS_AS(m.addr.at(0), std::out_of_range);
  CHECK(log.records()[0].dram_read_bytes == 0);
  CHECK(log.records()[0].actions.empty());
  CHECK(m.total_cycles() == 30);
}

TEST_CASE("shell: a graph's ops are all checked before elaboration ends", "[engine][shell]") {
  auto g = toy_graph("bad_b");
  g->ops[0].name = "bad_a";
  CountingMemory mem;
  CHECK_THROWS_WITH(ToyModel("toy", g, &mem),
                    Catch::Contains("op 'bad_a' is refused") && Catch::Contains("op 'bad_b' is refused"));
}

TEST_CASE("shell: an error on the model's thread stops the run and reaches the engine", "[engine][shell]") {
  CountingMemory mem;
  ToyModel m("toy", toy_graph("boom"), &mem);
  const RecordLog log(m);
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_start();
  REQUIRE(m.error());
  CHECK_THROWS_WITH(std::rethrow_exception(m.error()), Catch::Contains("op 'boom' failed on the thread"));
  // The op before it finished and was recorded; simulated time stopped after its 10 cycles.
  REQUIRE(log.records().size() == 1);
  CHECK(log.records()[0].name == "a");
  CHECK(sc_core::sc_time_stamp() == sc_core::sc_time(10, sc_core::SC_NS));
}
