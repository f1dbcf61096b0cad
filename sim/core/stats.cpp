#include "sim/core/stats.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace bpsim {

void StatGroup::put(const std::string& name, std::function<Value()> read, const std::string& desc) {
  if (!m_stats.emplace(name, Stat{std::move(read), desc}).second)
    throw std::logic_error("stat '" + name + "' registered twice in group '" + m_name + "'");
}

void StatGroup::add(const std::string& name, const uint64_t& counter, const std::string& desc) {
  put(
      name, [&counter]() -> Value { return counter; }, desc);
}

void StatGroup::add(const std::string& name, const double& counter, const std::string& desc) {
  put(
      name, [&counter]() -> Value { return counter; }, desc);
}

void StatGroup::set(const std::string& name, uint64_t value, const std::string& desc) {
  put(
      name, [value]() -> Value { return value; }, desc);
}

void StatGroup::set(const std::string& name, double value, const std::string& desc) {
  put(
      name, [value]() -> Value { return value; }, desc);
}

StatGroup& StatGroup::child(const std::string& name) {
  auto& slot = m_children[name];
  if (!slot) slot = std::make_unique<StatGroup>(name);
  return *slot;
}

void StatGroup::write_to(StatGroup& out) const {
  for (const auto& [name, st] : m_stats) {
    const Value v = st.read();
    out.put(
        name, [v] { return v; }, st.desc);
  }
  for (const auto& [name, child] : m_children) child->write_to(out.child(name));
}

nlohmann::json StatGroup::values_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, st] : m_stats) std::visit([&j, &name = name](auto v) { j[name] = v; }, st.read());
  for (const auto& [name, child] : m_children) j[name] = child->values_json();
  return j;
}

void StatGroup::descriptions(nlohmann::json& out, const std::string& prefix) const {
  for (const auto& [name, st] : m_stats) out[prefix + name] = st.desc;
  for (const auto& [name, child] : m_children) child->descriptions(out, prefix + name + ".");
}

}  // namespace bpsim
