#pragma once
/// Energy = Σ action count × pJ per action + Σ leakage power × time. Counting (models) and
/// pricing (tables in configs/energy/, or prices a component derives, e.g. DRAM from IDD
/// currents) stay separate, so a new technology node is a new table, not new code.
/// Leakage follows the same split: a model declares the parts it instantiates (LeakingPart:
/// how many PEs, KiB of SRAM, buffer bits, whether a DRAM system is in use), the table
/// gives mW per unit, and only declared parts leak.
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

/// Hardware a run instantiates that leaks for as long as the run lasts: `count` units
/// priced at the table's leakage_mw[unit] (e.g. 1024 PEs at systolic.pe_int8, 512 KiB at
/// sram.kib), reported as "<component>.leakage" (parts of one component add up).
struct LeakingPart {
  std::string component;
  std::string unit;
  double count = 1;
};

class EnergyTable {
 public:
  /// Parses an `energy:` section: {name, actions: {a: {pj, source}}, leakage_mw: {u: {mw, source}}}.
  /// Action names must be among `known`, leakage units among `known_leakage` (all
  /// registered components' declarations; a unit's description says what one unit is).
  static EnergyTable parse(const config::Node& section, const std::string& key_path,
                           const std::vector<ActionDecl>& known, const std::vector<ActionDecl>& known_leakage);
  /// Prices computed by a component (e.g. DRAM from its IDD currents); they take precedence.
  void set_price(const std::string& action, double pj, const std::string& source);
  /// mW of one leakage unit computed by a component (e.g. DRAM background from IDD3N).
  void set_leakage(const std::string& unit, double mw, const std::string& source);
  /// The parts this run instantiates: only they leak (none before this is called). Throws
  /// InputError naming the table when a part's unit has no figure.
  void charge_leakage_of(const std::vector<LeakingPart>& parts);
  bool has(const std::string& action) const;
  /// Throws InputError naming the table when an action has no price.
  double pj(const std::string& action) const;
  /// mW per leakage unit, as priced (not yet multiplied by any part's count).
  const std::map<std::string, double>& leakage_mw() const { return m_leak_mw; }
  const std::string& name() const { return m_name; }
  /// Dynamic energy of `counts`, added per action into `breakdown`.
  double dynamic_pj(const ActionCounts& counts, std::map<std::string, double>* breakdown) const;
  /// Static energy of the charged parts over `seconds` of simulated time, added per
  /// "component.leakage".
  double static_pj(double seconds, std::map<std::string, double>* breakdown) const;

 private:
  std::string m_name = "unnamed";
  Location m_loc;
  std::map<std::string, double> m_pj;
  std::map<std::string, std::string> m_source;
  std::map<std::string, double> m_leak_mw;      ///< per unit
  std::map<std::string, double> m_charged_mw;  ///< per component: Σ count × mW of its parts
};

}  // namespace bpsim
