#pragma once
/// Energy = Σ action count × pJ per action + Σ leakage power × time. Counting (models) and
/// pricing (tables in configs/energy/, or prices a component derives, e.g. DRAM from IDD
/// currents) stay separate, so a new technology node is a new table, not new code.
/// Leakage follows the same split: a model declares the parts it instantiates (LeakingPart:
/// how many PEs, KiB of SRAM, buffer bits, whether a DRAM system is in use), the table
/// gives mW per unit, and only declared parts leak.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <string>
#include <utility>
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
/// compile (a string would be a runtime miss in the table). A name is interned when first
/// declared: the handle carries its index, so counting and pricing look nothing up by name.
class Action {
 public:
  const std::string& name() const { return *m_name; }
  /// The interned name's index (dense from 0, the same for every handle of one name).
  uint32_t id() const { return m_id; }
  /// µm² of one unit (a PE, a vector lane), when the table gives its area; 0 when not.
  double area_um2(const Action& unit) const;

 private:
  friend class Vocabulary;
  Action(uint32_t id, const std::string* name) : m_id(id), m_name(name) {}
  uint32_t m_id;
  const std::string* m_name;  ///< the interned name (names are never freed)
};

/// The interned name of an action index (Action::id()).
const std::string& action_name(uint32_t id);

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
/// A small vector of (index, count): a component counts a handful of actions per op, so a
/// linear search by index beats a map keyed by name; names are read only when iterating.
class ActionCounts {
 public:
  struct Entry {
    uint32_t id;  ///< Action::id()
    uint64_t n;
  };
  /// Iterates (name, count) pairs in name order, as the name-keyed map this replaced did.
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::pair<const std::string&, uint64_t>;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = value_type;
    explicit const_iterator(const Entry* e) : m_e(e) {}
    value_type operator*() const { return {action_name(m_e->id), m_e->n}; }
    const_iterator& operator++() {
      ++m_e;
      return *this;
    }
    const_iterator operator++(int) { return const_iterator(m_e++); }
    bool operator==(const const_iterator& o) const { return m_e == o.m_e; }
    bool operator!=(const const_iterator& o) const { return m_e != o.m_e; }

   private:
    const Entry* m_e;
  };

  uint64_t& operator[](const Action& a) {
    for (Entry& e : m_entries)
      if (e.id == a.id()) return e.n;
    return insert(a.id());
  }
  /// 0 for an action not counted.
  uint64_t count(const Action& a) const;
  ActionCounts& operator+=(const ActionCounts& other);
  const_iterator begin() const { return const_iterator(m_entries.data()); }
  const_iterator end() const { return const_iterator(m_entries.data() + m_entries.size()); }
  bool empty() const { return m_entries.empty(); }
  size_t size() const { return m_entries.size(); }
  /// The entries by index, in name order (pricing).
  const std::vector<Entry>& entries() const { return m_entries; }

 private:
  static constexpr size_t kTypicalActions = 16;
  /// A new entry for `id` at its place in name order, counting 0.
  uint64_t& insert(uint32_t id);
  std::vector<Entry> m_entries;  ///< in name order, each index once
};

/// Energy per action summed over many ops by index, so pricing an op adds into a vector
/// rather than a map keyed by name; add_to hands the sums over by name at the end.
class ActionEnergies {
 public:
  void add(uint32_t id, double pj) {
    if (id >= m_pj.size()) grow(id);
    m_pj[id] += pj;
    m_has[id] = true;
  }
  /// out[name] += pj for every action added (even at 0 pJ), in name order.
  void add_to(std::map<std::string, double>& out) const;

 private:
  void grow(uint32_t id);
  std::vector<double> m_pj;
  std::vector<bool> m_has;
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
  /// The same, added per action index (the report's per-op path).
  double dynamic_pj(const ActionCounts& counts, ActionEnergies* breakdown) const;
  /// Static energy of the charged parts over `seconds` of simulated time, added per
  /// "component.leakage".
  double static_pj(double seconds, std::map<std::string, double>* breakdown) const;

 private:
  double pj_of(const std::string& action) const;
  /// pJ of action index `id`; throws as pj_of does when it has no price.
  double pj_by_id(uint32_t id) const {
    if (id < m_pj_by_id.size() && m_pj_by_id[id].set) return m_pj_by_id[id].pj;
    return pj_of(action_name(id));
  }
  void put_price(const std::string& action, double pj, const std::string& source);
  /// Sum of counts × prices, each action's energy also handed to `add(id, pj)`.
  template <typename Add>
  double priced(const ActionCounts& counts, Add add) const;
  struct Price {
    double pj = 0;
    bool set = false;
  };
  std::string m_name = "unnamed";
  Location m_loc;
  std::map<std::string, double> m_pj;
  std::vector<Price> m_pj_by_id;  ///< m_pj by action index
  std::map<std::string, std::string> m_source;
  std::map<std::string, double> m_leak_mw;     ///< per unit
  std::map<std::string, double> m_area_um2;    ///< per unit
  std::map<std::string, double> m_charged_mw;  ///< per component: Σ count × mW of its parts
};

}  // namespace bpsim
