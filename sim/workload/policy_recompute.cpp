// threshold, evaluation, optimal: the cost-based recompute policies (recompute.h) as kinds.
#include <fmt/format.h>

#include "sim/workload/policy.h"
#include "sim/workload/recompute.h"

namespace bpsim::workload {

namespace {

enum class Cost { flops, roofline, accelerator };
constexpr config::EnumName<Cost> kCostNames[] = {
    {Cost::flops, "flops"}, {Cost::roofline, "roofline"}, {Cost::accelerator, "accelerator"}};

/// The recompute cost keys every cost-based kind takes.
struct CostParams {
  Cost cost;
  double flops_per_cycle, bytes_per_cycle;
};
struct ThresholdParams {
  double threshold;
  CostParams cost;
};
struct BudgetParams {
  uint64_t budget_bytes;
  CostParams cost;
};

/// Declares the cost keys of a kind whose Params hold them in `cost`.
template <class Params>
void bind_cost(config::Binder<Params>& b) {
  b.choice("cost", config::into(&Params::cost, &CostParams::cost), kCostNames,
           "recompute cost: FLOPs; roofline cycles max(FLOPs/flops_per_cycle, bytes/bytes_per_cycle); or the "
           "target accelerator's own cycle estimate of each op")
      .def("flops");
  b.real("flops_per_cycle", config::into(&Params::cost, &CostParams::flops_per_cycle), "FLOP/cycle",
         "roofline: the accelerator's peak arithmetic")
      .def(512.0)
      .positive();
  b.real("bytes_per_cycle", config::into(&Params::cost, &CostParams::bytes_per_cycle), "B/cycle",
         "roofline: the accelerator's memory bandwidth")
      .def(64.0)
      .positive();
}

CostModel cost_of(const CostParams& p, const config::Values& v, const PolicyContext& ctx) {
  CostModel c;
  c.kind = p.cost == Cost::roofline ? CostModel::Kind::roofline : CostModel::Kind::flops;
  c.flops_per_cycle = p.flops_per_cycle;
  c.bytes_per_cycle = p.bytes_per_cycle;
  if (p.cost == Cost::accelerator) {
    if (!ctx.accelerator_cost)
      throw v.error("cost", "this accelerator gives no per-op cost estimate (use flops or roofline)");
    c.custom = ctx.accelerator_cost;
  }
  return c;
}

class Threshold : public Policy {
 public:
  Threshold(const ThresholdParams& p, const config::Values& v, const PolicyContext& ctx)
      : m_threshold(p.threshold), m_cost(cost_of(p.cost, v, ctx)) {}
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
  Budget(const BudgetParams& p, const config::Values& v, const PolicyContext& ctx, bool optimal)
      : m_v(v), m_budget(p.budget_bytes), m_cost(cost_of(p.cost, v, ctx)), m_optimal(optimal) {}
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
  Evaluation(const BudgetParams& p, const config::Values& v, const PolicyContext& ctx) : Budget(p, v, ctx, false) {}
};

class Optimal : public Budget {
 public:
  Optimal(const BudgetParams& p, const config::Values& v, const PolicyContext& ctx) : Budget(p, v, ctx, true) {}
};

/// evaluation and optimal: `budget_bytes` and the cost keys.
config::Binder<BudgetParams> budget_binder(const std::string& name, const std::string& description) {
  config::Binder<BudgetParams> b(name, description);
  b.integer("budget_bytes", &BudgetParams::budget_bytes, "B", "the peak memory to fit").at_least(1).req();
  bind_cost(b);
  return b;
}

}  // namespace

void register_recompute_policies(std::vector<PolicyRegistry::Entry>& out) {
  config::Binder<ThresholdParams> threshold(
      "threshold", "recompute each operator whose recompute cost per stored byte is at most `threshold`");
  threshold
      .real("threshold", &ThresholdParams::threshold, "cost/byte",
            "an operator whose recompute cost per stored byte exceeds this is stored, others are recomputed")
      .positive()
      .req();
  bind_cost(threshold);
  out.push_back(entry<Threshold>(threshold));
  out.push_back(entry<Evaluation>(budget_binder(
      "evaluation", "recompute operators in order of stored bytes per unit cost until the peak fits `budget_bytes`")));
  out.push_back(entry<Optimal>(budget_binder("optimal",
                                             "the least recompute whose peak fits `budget_bytes` (dynamic programming "
                                             "over the chain of operators or top-level layers)")));
}

}  // namespace bpsim::workload
