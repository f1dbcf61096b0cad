// energy_optimal: the recompute plan of least step energy under a memory budget, priced by
// the target accelerator's own per-op energy estimate (docs/techniques.md).
#include <fmt/format.h>

#include "sim/workload/policy.h"
#include "sim/workload/recompute.h"

namespace bpsim::workload {

namespace {

struct EnergyParams {
  uint64_t budget_bytes;
};

/// Storing a tensor costs no energy of its own on the modelled accelerators (every op reads
/// and writes its tensors in DRAM whether they are kept or not), so the step's energy moves
/// only by the recompute ops it adds: the least-energy plan is optimal's dynamic programme
/// with each op's cost its energy estimate in pJ instead of its cycles.
class EnergyOptimal : public Policy {
 public:
  EnergyOptimal(const EnergyParams& p, const config::Values& v, const PolicyContext& ctx)
      : m_v(v), m_budget(p.budget_bytes) {
    if (!ctx.accelerator_energy)
      throw v.error("kind",
                    "energy_optimal needs the target accelerator's per-op energy estimate, and this run has none "
                    "(bpsim run on an accelerator that gives one: systolic; `bpsim workload` has no "
                    "accelerator); use optimal for the time-optimal plan");
    m_cost.custom = ctx.accelerator_energy;
  }
  std::string name() const override { return fmt::format("energy_optimal({} B)", m_budget); }
  std::vector<int> plan(const NetSpec& net, const NetPlan& plan) const override {
    const StepAnalysis a = analyse_step(net, plan, m_cost, false);
    try {
      return optimal_plan(net, plan, a, m_budget, m_cost);
    } catch (const BudgetError& e) {
      throw BudgetError(m_v.where("budget_bytes"), m_v.path() + ".budget_bytes", e.what());
    }
  }
  void apply(OpGraph& g, const NetPlan&, const std::vector<int>&) const override {
    // What the plan chose, by the estimate it was chosen with (the report's energy is the
    // simulated one; the two differ by the DRAM timing the estimate leaves out).
    g.memory.figures["recompute_energy_estimate_pj"] = recompute_cost(g, m_cost);
  }

 private:
  config::Values m_v;  ///< where `budget_bytes` was written, for messages
  uint64_t m_budget;
  CostModel m_cost;
};

}  // namespace

void register_energy_policies(std::vector<PolicyRegistry::Entry>& out) {
  config::Binder<EnergyParams> b("energy_optimal",
                                 "the recompute plan of least step energy whose peak fits `budget_bytes`, by the "
                                 "target accelerator's own per-op energy estimate (optimal's search, energy for cost)");
  b.integer("budget_bytes", &EnergyParams::budget_bytes, "B", "the peak memory to fit").at_least(1).req();
  out.push_back(entry<EnergyOptimal>(b));
}

}  // namespace bpsim::workload
