#include "sim/workload/policy.h"

#include "sim/core/error.h"

namespace bpsim::workload {

std::vector<int> Policy::plan(const NetSpec&, const NetPlan& plan) const {
  return std::vector<int>(plan.nodes.size(), -1);
}

void Policy::apply(OpGraph&, const NetPlan&, const std::vector<int>&) const {}

PolicyRegistry::PolicyRegistry() {
  std::vector<Entry> entries;
  register_checkpoint_policies(entries);
  register_recompute_policies(entries);
  register_sparse_policies(entries);
  register_confidence_policies(entries);
  register_reversible_policies(entries);
  register_energy_policies(entries);
  for (const Entry& e : entries) m_names.push_back(e.params->name());
  for (const Entry& e : entries) {
    const std::string& name = e.params->name();
    const std::string& description = e.params->description();
    auto schema = std::make_shared<config::Schema>(name, description);
    schema->choice("kind", m_names, "the policy (bpsim list shows each kind's keys)").def("none");
    schema->append(*e.params);
    m_kinds.push_back(PolicyKind{name, description, e.params, schema, e.make});
  }
}

const PolicyRegistry& PolicyRegistry::instance() {
  static const PolicyRegistry r;
  return r;
}

const PolicyKind* PolicyRegistry::find(const std::string& name) const {
  for (const PolicyKind& k : m_kinds)
    if (k.name == name) return &k;
  return nullptr;
}

std::string PolicyRegistry::names() const { return config::join(m_names, ", "); }

std::unique_ptr<const Policy> make_policy(const config::Node& node, const std::string& key_path,
                                          const PolicyContext& ctx, const config::Node* defaults) {
  const PolicyRegistry& reg = PolicyRegistry::instance();
  std::string kind = "none";
  if (!node.is_null()) {
    config::expect_map(node, key_path);
    if (const config::Node* k = node.find("kind")) {
      kind = config::as_string(*k, key_path + ".kind");
      if (!reg.find(kind))
        throw InputError(k->loc, key_path + ".kind", "unknown policy '" + kind + "' (valid: " + reg.names() + ")");
    }
  }
  const PolicyKind& k = *reg.find(kind);
  // The kind's defaults first, then what the node gives; each key keeps its own location.
  config::Node merged = node;
  if (defaults && !defaults->is_null()) {
    merged = *defaults;
    merged.erase("kind");
    if (!node.is_null()) {
      merged.loc = node.loc;
      for (const auto& e : node.map) merged.set(e.key, e.value, e.key_loc);
    }
  }
  return k.make(config::validate(merged, *k.schema, key_path), ctx);
}

const Policy& no_policy() {
  static const std::unique_ptr<const Policy> none = make_policy(config::Node{}, "policy", PolicyContext{});
  return *none;
}

}  // namespace bpsim::workload
