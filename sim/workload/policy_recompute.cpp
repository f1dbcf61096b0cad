// threshold, evaluation, optimal: the cost-based recompute policies (recompute.h) as kinds.
#include <fmt/format.h>

#include "sim/workload/policy.h"
#include "sim/workload/recompute.h"

namespace bpsim::workload {

namespace {

/// The recompute cost keys every cost-based kind takes.
void declare_cost(config::Schema& s) {
  s.choice("cost", {"flops", "roofline", "accelerator"},
           "recompute cost: FLOPs; roofline cycles max(FLOPs/flops_per_cycle, bytes/bytes_per_cycle); or the "
           "target accelerator's own cycle estimate of each op")
      .def("flops");
  s.real("flops_per_cycle", "FLOP/cycle", "roofline: the accelerator's peak arithmetic").def(512.0).positive();
  s.real("bytes_per_cycle", "B/cycle", "roofline: the accelerator's memory bandwidth").def(64.0).positive();
}

CostModel cost_of(const config::Values& v, const PolicyContext& ctx) {
  CostModel c;
  c.kind = v.s("cost") == "roofline" ? CostModel::Kind::roofline : CostModel::Kind::flops;
  c.flops_per_cycle = v.f("flops_per_cycle");
  c.bytes_per_cycle = v.f("bytes_per_cycle");
  if (v.s("cost") == "accelerator") {
    if (!ctx.accelerator_cost)
      throw v.error("cost", "this accelerator gives no per-op cost estimate (use flops or roofline)");
    c.custom = ctx.accelerator_cost;
  }
  return c;
}

class Threshold : public Policy {
 public:
  Threshold(const config::Values& v, const PolicyContext& ctx)
      : m_threshold(v.f("threshold")), m_cost(cost_of(v, ctx)) {}
  std::string name() const override { return fmt::format("threshold({:g}, {})", m_threshold, m_cost.name()); }
  std::vector<int> plan(const NetSpec& net, const NetPlan& plan) const override {
    return threshold_plan(analyse_step(net, plan, m_cost, true), m_threshold);
  }

 private:
  double m_threshold;
  CostModel m_cost;
};

/// evaluation and optimal: a peak to fit. A budget no plan meets is refused at `budget_bytes`.
class Budget : public Policy {
 public:
  Budget(const config::Values& v, const PolicyContext& ctx, bool optimal)
      : m_v(v), m_budget(uint64_t(v.i("budget_bytes"))), m_cost(cost_of(v, ctx)), m_optimal(optimal) {}
  std::string name() const override {
    return fmt::format("{}({} B, {})", m_optimal ? "optimal" : "evaluation", m_budget, m_cost.name());
  }
  std::vector<int> plan(const NetSpec& net, const NetPlan& plan) const override {
    const StepAnalysis a = analyse_step(net, plan, m_cost, false);
    try {
      return m_optimal ? optimal_plan(net, plan, a, m_budget, m_cost) : evaluation_plan(net, plan, a, m_budget);
    } catch (const BudgetError& e) {
      throw BudgetError(m_v.where("budget_bytes"), m_v.path() + ".budget_bytes", e.what());
    }
  }

 private:
  config::Values m_v;  ///< where `budget_bytes` was written, for messages
  uint64_t m_budget;
  CostModel m_cost;
  bool m_optimal;
};

class Evaluation : public Budget {
 public:
  Evaluation(const config::Values& v, const PolicyContext& ctx) : Budget(v, ctx, false) {}
};

class Optimal : public Budget {
 public:
  Optimal(const config::Values& v, const PolicyContext& ctx) : Budget(v, ctx, true) {}
};

void declare_budget(config::Schema& s) {
  s.integer("budget_bytes", "B", "the peak memory to fit").at_least(1).req();
  declare_cost(s);
}

}  // namespace

void register_recompute_policies(std::vector<PolicyRegistry::Entry>& out) {
  out.push_back({"threshold", "recompute each operator whose recompute cost per stored byte is at most `threshold`",
                 [](config::Schema& s) {
                   s.real("threshold", "cost/byte",
                          "an operator whose recompute cost per stored byte exceeds this is stored, others are "
                          "recomputed")
                       .positive()
                       .req();
                   declare_cost(s);
                 },
                 make_as<Threshold>});
  out.push_back({"evaluation",
                 "recompute operators in order of stored bytes per unit cost until the peak fits "
                 "`budget_bytes`",
                 declare_budget, make_as<Evaluation>});
  out.push_back({"optimal",
                 "the least recompute whose peak fits `budget_bytes` (dynamic programming over the chain "
                 "of operators or top-level layers)",
                 declare_budget, make_as<Optimal>});
}

}  // namespace bpsim::workload
