#pragma once
/// Hierarchical counters with units and descriptions (gem5 ADD_STAT style), written to JSON.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace bpsim {

class StatGroup {
 public:
  explicit StatGroup(std::string name = "") : m_name(std::move(name)) {}
  /// Stat names carry their unit (`_bytes`, `_cycles`, `_pj`); `desc` says what is counted.
  void set(const std::string& name, uint64_t value, const std::string& desc);
  void set(const std::string& name, double value, const std::string& desc);
  void add(const std::string& name, uint64_t delta, const std::string& desc);
  StatGroup& child(const std::string& name);
  const std::string& name() const { return m_name; }
  /// {"name": value, "child": {...}} — numbers only.
  nlohmann::json values_json() const;
  /// {"path.to.stat": "description"} — flattened, for report readers.
  void descriptions(nlohmann::json& out, const std::string& prefix = "") const;

 private:
  struct Stat {
    std::variant<uint64_t, double> value;
    std::string desc;
  };
  std::string m_name;
  std::map<std::string, Stat> m_stats;
  std::map<std::string, std::unique_ptr<StatGroup>> m_children;
};

}  // namespace bpsim
