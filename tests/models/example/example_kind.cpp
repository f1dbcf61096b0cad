// The `example` accelerator kind of docs/adding_a_model.md: a row of `pes` MAC units that
// computes an op's MACs spread over all of them, one cycle to issue each op, everything on
// chip. The blocks between the "doc:" markers are quoted in the page (its test checks that
// they match this file).
#include "tests/models/example/example_kind.h"

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "sim/core/binder.h"
#include "sim/core/energy.h"
#include "sim/engine/op_runner.h"

namespace bpsim::example {

namespace {

// doc: parameters
/// The model's parameters, each declared once (name, type, unit, default, range, meaning).
struct ExampleSpec {
  uint64_t pes = 16;
  double clock_ghz = 1.0;
};

const config::Binder<ExampleSpec>& example_binder() {
  static const config::Binder<ExampleSpec> b = [] {
    config::Binder<ExampleSpec> s("example", "a row of MAC units, everything on chip");
    s.integer("pes", &ExampleSpec::pes, "", "MAC units, one MAC per cycle each").def(16).range(1, 1 << 20);
    s.real("clock_ghz", &ExampleSpec::clock_ghz, "GHz", "clock")
        .def(1.0)
        .range(config::kMinClockGhz, config::kMaxClockGhz);
    return s;
  }();
  return b;
}
// doc: end

// doc: actions
/// What the model counts and what leaks, declared once; an energy table prices each name.
struct ExampleActions {
  Vocabulary actions{"example"};
  const Action mac = actions.add("mac", "one multiply-accumulate of a PE");
  Vocabulary units{"example"};
  const Action pe = units.add("pe", "one PE");
};
const ExampleActions& example_actions() {
  static const ExampleActions a;
  return a;
}
// doc: end

// doc: model
class ExampleModel : public OpRunner {
 public:
  ExampleModel(sc_core::sc_module_name name, const ExampleSpec& spec, std::shared_ptr<const workload::OpGraph> graph)
      : OpRunner(name, nullptr), m_spec(spec) {  // nullptr: no memory system (MemoryUse::none)
    m_stats.add("macs", m_macs, "multiply-accumulates computed");
    take_ops(std::move(graph), nullptr);  // checks every op now, before the simulation starts
  }
  double clock_ghz() const override { return m_spec.clock_ghz; }
  double peak_macs_per_cycle() const override { return double(m_spec.pes); }
  std::vector<LeakingPart> leaking_parts() const override {
    return {{"example.pe", example_actions().pe, double(m_spec.pes)}};
  }

 private:
  void check_op(const workload::Op& op) override {
    if (op.kind == workload::OpKind::xnor_gemm || op.kind == workload::OpKind::bitwise)
      throw InputError("accelerator.kind: example has no binary datapath; op '" + op.name + "' is " +
                       workload::to_string(op.kind));
  }
  void run_op(const workload::Op& op, OpRecord& rec) override {
    rec.macs = rec.macs_executed = op.macs;
    rec.cycles = (op.macs + m_spec.pes - 1) / m_spec.pes + 1;  // ⌈MACs / PEs⌉ + 1 to issue
    rec.actions[example_actions().mac] += op.macs;
    m_macs += op.macs;
  }
  ExampleSpec m_spec;
  uint64_t m_macs = 0;
};
// doc: end

}  // namespace

// doc: register
void register_example(Registry& r) {
  if (r.find("example")) return;
  AcceleratorKind k;
  k.kind = "example";
  k.description = "a row of MAC units (docs/adding_a_model.md)";
  k.schema = example_binder().schema();
  k.actions = example_actions().actions.decls();
  k.leakage = example_actions().units.decls();
  k.memory = MemoryUse::none;
  k.make = [](const BuildContext& ctx) -> std::unique_ptr<Accelerator> {
    return std::make_unique<ExampleModel>(ctx.name.c_str(), example_binder().parse(ctx.params), ctx.workload);
  };
  r.add(std::move(k));
}
// doc: end

}  // namespace bpsim::example
