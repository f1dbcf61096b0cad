#pragma once
/// Energy = Σ action count × pJ per action + Σ leakage power × time. Counting (models) and
/// pricing (tables in configs/energy/, or prices a component derives, e.g. DRAM from IDD
/// currents) stay separate, so a new technology node is a new table, not new code.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/core/config_node.h"
#include "sim/core/error.h"

namespace bpsim {

/// Action name ("component.action", e.g. "mac.bf16", "sram.read_64b") → count.
using ActionCounts = std::map<std::string, uint64_t>;

/// An action a component counts; the table must price every declared action it uses.
struct ActionDecl {
  std::string name;
  std::string description;  ///< what one action is, e.g. "one 64-bit SRAM read"
};

class EnergyTable {
 public:
  /// Parses an `energy:` section: {name, actions: {a: {pj, source}}, leakage_mw: {c: {mw, source}}}.
  /// Action names must be among `known` (all registered components' declarations).
  static EnergyTable parse(const config::Node& section, const std::string& key_path,
                           const std::vector<ActionDecl>& known);
  /// Prices computed by a component (e.g. DRAM from its IDD currents); they take precedence.
  void set_price(const std::string& action, double pj, const std::string& source);
  void set_leakage(const std::string& component, double mw, const std::string& source);
  /// Drops leakage of components that are not part of this simulation.
  void keep_leakage_of(const std::vector<ActionDecl>& present);
  bool has(const std::string& action) const;
  /// Throws InputError naming the table when an action has no price.
  double pj(const std::string& action) const;
  const std::map<std::string, double>& leakage_mw() const { return m_leak_mw; }
  const std::string& name() const { return m_name; }
  /// Dynamic energy of `counts`, added per action into `breakdown`.
  double dynamic_pj(const ActionCounts& counts, std::map<std::string, double>* breakdown) const;
  /// Static energy of `seconds` of simulated time, added per "component.leakage".
  double static_pj(double seconds, std::map<std::string, double>* breakdown) const;

 private:
  std::string m_name = "unnamed";
  Location m_loc;
  std::map<std::string, double> m_pj;
  std::map<std::string, std::string> m_source;
  std::map<std::string, double> m_leak_mw;
};

}  // namespace bpsim
