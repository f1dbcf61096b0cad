#pragma once
/// Hierarchical counters with units and descriptions (gem5 ADD_STAT style), written to JSON.
/// A component registers each counter once, by reference (Ramulator's `m_stats.add`), in its
/// constructor; whoever writes the report reads the group, so no model lists its stats by hand.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <variant>

#include <nlohmann/json_fwd.hpp>

namespace bpsim {

class StatGroup {
 public:
  using Value = std::variant<uint64_t, double>;
  explicit StatGroup(std::string name = "") : m_name(std::move(name)) {}
  StatGroup(const StatGroup&) = delete;
  StatGroup& operator=(const StatGroup&) = delete;

  /// Stat names carry their unit (`_bytes`, `_cycles`, `_pj`); `desc` says what is counted.
  /// Registers a counter the owner keeps counting: its value is read when the group is
  /// written. A name is registered once (a second registration is a programming error).
  void add(const std::string& name, const uint64_t& counter, const std::string& desc);
  void add(const std::string& name, const double& counter, const std::string& desc);
  /// A temporary would dangle: register the member itself, or a formula.
  void add(const std::string&, const uint64_t&&, const std::string&) = delete;
  void add(const std::string&, const double&&, const std::string&) = delete;
  /// A figure derived from counters (a mean, a sum), computed when the group is written.
  /// `f` returns uint64_t or double exactly: the report keeps integers and reals apart.
  template <class F>
  void formula(const std::string& name, F f, const std::string& desc) {
    using R = std::invoke_result_t<F>;
    static_assert(std::is_same_v<R, uint64_t> || std::is_same_v<R, double>, "a stat is a uint64_t or a double");
    put(
        name, [f = std::move(f)]() -> Value { return f(); }, desc);
  }
  /// A figure fixed now (a capacity, a peak rate).
  void set(const std::string& name, uint64_t value, const std::string& desc);
  void set(const std::string& name, double value, const std::string& desc);
  StatGroup& child(const std::string& name);
  const std::string& name() const { return m_name; }
  /// Every figure's value now (bound counters and formulas read), children included, into
  /// `out`: the report's copy outlives the component.
  void write_to(StatGroup& out) const;
  /// {"name": value, "child": {...}} — numbers only.
  nlohmann::json values_json() const;
  /// {"path.to.stat": "description"} — flattened, for report readers.
  void descriptions(nlohmann::json& out, const std::string& prefix = "") const;

 private:
  struct Stat {
    std::function<Value()> read;
    std::string desc;
  };
  void put(const std::string& name, std::function<Value()> read, const std::string& desc);
  std::string m_name;
  std::map<std::string, Stat> m_stats;
  std::map<std::string, std::unique_ptr<StatGroup>> m_children;
};

}  // namespace bpsim
