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

/// An action a component counts, as `bpsim list` shows it and the table's keys name it.
struct ActionDecl {
  std::string name;
  std::string description;  ///< what one action is, e.g. "one 64-bit SRAM read"
};

/// A handle to one declared action ("systolic.vector_op") or leakage unit ("sram.kib").
/// Only a Vocabulary makes one, so counting or pricing a name nobody declared does not
/// compile (a string would be a runtime miss in the table).
class Action {
 public:
  const std::string& name() const { return m_name; }
  /// µm² of one unit (a PE, a vector lane), when the table gives its area; 0 when not.
  double area_um2(const Action& unit) const;

 private:
  friend class Vocabulary;
  explicit Action(std::string name) : m_name(std::move(name)) {}
  std::string m_name;
};

/// One component's actions (or leakage units), each declared once with what it is
/// (Timeloop's per-component action vocabulary). A component keeps its handles beside its
/// vocabulary, e.g. `struct MeshActions { Vocabulary v{"mesh"}; const Action mac = v.add("mac", "…"); }`.
class Vocabulary {
 public:
  /// Names become "<component>.<name>"; an empty component leaves them bare ("dram").
  explicit Vocabulary(std::string component) : m_component(std::move(component)) {}
  Vocabulary(const Vocabulary&) = delete;
  Vocabulary& operator=(const Vocabulary&) = delete;
  Action add(const std::string& name, const std::string& description);
  /// Every declaration in the order added (`bpsim list`, the table's known keys).
  const std::vector<ActionDecl>& decls() const { return m_decls; }

 private:
  std::string m_component;
  std::vector<ActionDecl> m_decls;
};

/// Actions counted (by handle) → count, kept in name order: pricing sums them in that order.
class ActionCounts {
 public:
  using Map = std::map<std::string, uint64_t>;
  uint64_t& operator[](const Action& a) { return m_counts[a.name()]; }
  /// 0 for an action not counted.
  uint64_t count(const Action& a) const;
  ActionCounts& operator+=(const ActionCounts& other);
  Map::const_iterator begin() const { return m_counts.begin(); }
  Map::const_iterator end() const { return m_counts.end(); }
  bool empty() const { return m_counts.empty(); }
  size_t size() const { return m_counts.size(); }

 private:
  Map m_counts;
};

/// Hardware a run instantiates that leaks for as long as the run lasts: `count` units
/// priced at the table's leakage_mw[unit] (e.g. 1024 PEs at systolic.pe_int8, 512 KiB at
/// sram.kib), reported as "<component>.leakage" (parts of one component add up).
struct LeakingPart {
  LeakingPart(std::string component, const Action& unit, double count = 1)
      : component(std::move(component)), unit(unit.name()), count(count) {}
  std::string component;
  std::string unit;  ///< a declared unit's name
  double count = 1;
};

class EnergyTable {
 public:
  /// Parses an `energy:` section: {name, actions: {a: {pj, source}}, leakage_mw: {u: {mw, source}},
  /// area_um2: {u: {um2, source}}} (area per leakage unit, for models that report their area).
  /// Action names must be among `known`, leakage units among `known_leakage` (all
  /// registered components' declarations; a unit's description says what one unit is).
  static EnergyTable parse(const config::Node& section, const std::string& key_path,
                           const std::vector<ActionDecl>& known, const std::vector<ActionDecl>& known_leakage);
  /// Prices computed by a component (e.g. DRAM from its IDD currents); they take precedence.
  void set_price(const Action& action, double pj, const std::string& source);
  /// mW of one leakage unit computed by a component (e.g. DRAM background from IDD3N).
  void set_leakage(const Action& unit, double mw, const std::string& source);
  /// The parts this run instantiates: only they leak (none before this is called). Parts of
  /// one component in one unit add their counts before pricing (four buffers leak as one
  /// "systolic.sram" of their summed KiB). Throws
  /// InputError naming the table when a part's unit has no figure.
  void charge_leakage_of(const std::vector<LeakingPart>& parts);
  bool has(const Action& action) const { return m_pj.count(action.name()) > 0; }
  /// Throws InputError naming the table when an action has no price.
  double pj(const Action& action) const { return pj_of(action.name()); }
  /// mW per leakage unit, as priced (not yet multiplied by any part's count).
  const std::map<std::string, double>& leakage_mw() const { return m_leak_mw; }
  const std::string& name() const { return m_name; }
  /// µm² of one unit (a PE, a vector lane), when the table gives its area; 0 when not.
  double area_um2(const Action& unit) const;
  /// Dynamic energy of `counts`, added per action into `breakdown`.
  double dynamic_pj(const ActionCounts& counts, std::map<std::string, double>* breakdown) const;
  /// Static energy of the charged parts over `seconds` of simulated time, added per
  /// "component.leakage".
  double static_pj(double seconds, std::map<std::string, double>* breakdown) const;

 private:
  double pj_of(const std::string& action) const;
  std::string m_name = "unnamed";
  Location m_loc;
  std::map<std::string, double> m_pj;
  std::map<std::string, std::string> m_source;
  std::map<std::string, double> m_leak_mw;     ///< per unit
  std::map<std::string, double> m_area_um2;    ///< per unit
  std::map<std::string, double> m_charged_mw;  ///< per component: Σ count × mW of its parts
};

}  // namespace bpsim
