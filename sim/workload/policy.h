#pragma once
/// Memory policies as registered kinds. Each kind (none, checkpoint, threshold, …) is
/// registered once with its name, description, its own parameters (a config::Schema that
/// holds only its keys, so another kind's key is refused) and how it shapes the training
/// step. Every entry point (a config's workload.policy, `bpsim workload` and `bpsim trace
/// export` flags, `bpsim compare`) turns its input into a policy node and calls
/// make_policy: one set of checks and messages for all of them.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "sim/core/binder.h"
#include "sim/core/config_node.h"
#include "sim/core/params.h"
#include "sim/ir/ir.h"
#include "sim/workload/plan.h"
#include "sim/workload/spec.h"

namespace bpsim::workload {

/// One configured policy: what the step builder asks of it.
class Policy {
 public:
  virtual ~Policy() = default;
  /// The name reports show, with the parameters that matter ("checkpoint_sequential(3)").
  virtual std::string name() const = 0;
  /// Recompute plan: a segment id per plan node, -1 stored (recompute.h explains segments).
  /// Throws InputError (at the parameter's key path) for a plan the network cannot take.
  virtual std::vector<int> plan(const NetSpec& net, const NetPlan& plan) const;
  /// Rewrites the step built with that plan (encode and decode ops, inverse ops, skipped
  /// samples); `op_node` maps each op to its plan node (-1: loss, update).
  virtual void apply(OpGraph& g, const NetPlan& plan, const std::vector<int>& op_node) const;
};

/// What a policy may take from the run rather than from its parameters.
struct PolicyContext {
  uint64_t seed = 1;            ///< run.seed: confidence_skip's draw
  OpCostFn accelerator_cost;    ///< `cost: accelerator`: the target model's per-op estimate; empty when it gives none
  OpCostFn accelerator_energy;  ///< energy_optimal: the target model's per-op energy (pJ); empty when it gives none
};

/// One registered kind.
struct PolicyKind {
  std::string name, description;
  std::shared_ptr<const config::Schema> params;  ///< its own keys only (bpsim list)
  std::shared_ptr<const config::Schema> schema;  ///< `kind` plus its own keys (validation)
  /// Builds the policy from values validated against `schema`; may throw InputError.
  std::function<std::unique_ptr<const Policy>(const config::Values&, const PolicyContext&)> make;
};

/// Every kind, in registration order (the order of `bpsim list` and of the kind names in messages).
class PolicyRegistry {
 public:
  static const PolicyRegistry& instance();
  const std::vector<PolicyKind>& all() const { return m_kinds; }
  const PolicyKind* find(const std::string& name) const;
  /// "none, checkpoint, …" for messages.
  std::string names() const;

  /// What a policy family's file registers (made by `entry`): its name, description and
  /// own keys are its Binder's schema.
  struct Entry {
    std::shared_ptr<const config::Schema> params;
    std::function<std::unique_ptr<const Policy>(const config::Values&, const PolicyContext&)> make;
  };

 private:
  PolicyRegistry();
  std::vector<PolicyKind> m_kinds;
  std::vector<std::string> m_names;
};

/// The parameters of a kind that has none.
struct NoParams {};

/// A kind whose parameters are declared by `binder` (its name and description are the
/// kind's) and bound to a Params struct; policy class P is built from (params, values,
/// context), (params, values), (params) or nothing. `values` locate messages of checks
/// made later (a budget no plan meets).
template <typename P, typename Params = NoParams>
PolicyRegistry::Entry entry(config::Binder<Params> binder) {
  auto make = [binder](const config::Values& v, const PolicyContext& ctx) -> std::unique_ptr<const Policy> {
    const Params p = binder.parse(v);
    if constexpr (std::is_constructible_v<P, const Params&, const config::Values&, const PolicyContext&>)
      return std::make_unique<P>(p, v, ctx);
    else if constexpr (std::is_constructible_v<P, const Params&, const config::Values&>)
      return std::make_unique<P>(p, v);
    else if constexpr (std::is_constructible_v<P, const Params&>) return std::make_unique<P>(p);
    else return std::make_unique<P>();
  };
  return {binder.schema(), std::move(make)};
}
/// A kind without parameters.
template <typename P>
PolicyRegistry::Entry entry(const std::string& name, const std::string& description) {
  return entry<P>(config::Binder<NoParams>(name, description));
}

/// The policy families (one file each) add their kinds here.
void register_checkpoint_policies(std::vector<PolicyRegistry::Entry>& out);
void register_recompute_policies(std::vector<PolicyRegistry::Entry>& out);
void register_sparse_policies(std::vector<PolicyRegistry::Entry>& out);
void register_confidence_policies(std::vector<PolicyRegistry::Entry>& out);
void register_reversible_policies(std::vector<PolicyRegistry::Entry>& out);
void register_energy_policies(std::vector<PolicyRegistry::Entry>& out);

/// The one building path. `node`: the policy map ({kind: K, K's keys}; null means kind
/// none). `defaults`, when given, is a map of K's keys used where `node` does not give them
/// (workload.policies.K, for compare and sweeps that change the kind alone). Validates
/// against K's schema at `key_path` and builds. Throws InputError with file:line and key path.
std::unique_ptr<const Policy> make_policy(const config::Node& node, const std::string& key_path,
                                          const PolicyContext& ctx, const config::Node* defaults = nullptr);

/// The policy of kind none (nothing recomputed, nothing rewritten).
const Policy& no_policy();

}  // namespace bpsim::workload
