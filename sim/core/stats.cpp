#include "sim/core/stats.h"

#include <nlohmann/json.hpp>

namespace bpsim {

void StatGroup::set(const std::string& name, uint64_t value, const std::string& desc) {
  m_stats[name] = Stat{value, desc};
}

void StatGroup::set(const std::string& name, double value, const std::string& desc) {
  m_stats[name] = Stat{value, desc};
}

void StatGroup::add(const std::string& name, uint64_t delta, const std::string& desc) {
  auto it = m_stats.find(name);
  if (it == m_stats.end()) {
    set(name, delta, desc);
  } else if (auto* v = std::get_if<uint64_t>(&it->second.value)) {
    *v += delta;
  } else {
    std::get<double>(it->second.value) += static_cast<double>(delta);
  }
}

StatGroup& StatGroup::child(const std::string& name) {
  auto& slot = m_children[name];
  if (!slot) slot = std::make_unique<StatGroup>(name);
  return *slot;
}

nlohmann::json StatGroup::values_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, st] : m_stats)
    std::visit([&j, &name = name](auto v) { j[name] = v; }, st.value);
  for (const auto& [name, child] : m_children) j[name] = child->values_json();
  return j;
}

void StatGroup::descriptions(nlohmann::json& out, const std::string& prefix) const {
  for (const auto& [name, st] : m_stats) out[prefix + name] = st.desc;
  for (const auto& [name, child] : m_children) child->descriptions(out, prefix + name + ".");
}

}  // namespace bpsim
