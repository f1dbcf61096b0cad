#include "sim/core/energy.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "sim/core/params.h"

namespace bpsim {

namespace {

/// Every action name declared, by index, and each index's place in name order. Names are
/// declared once per component (function-local statics) before ops are counted; the mutex
/// keeps concurrent first declarations apart.
struct ActionNames {
  std::mutex mutex;
  std::deque<std::string> names;  ///< by index; a deque, so handles' pointers stay valid
  std::unordered_map<std::string, uint32_t> index;
  std::vector<uint32_t> rank;  ///< by index: position in name order

  uint32_t intern(const std::string& name) {
    const std::lock_guard<std::mutex> lock(mutex);
    if (auto it = index.find(name); it != index.end()) return it->second;
    const auto id = static_cast<uint32_t>(names.size());
    names.push_back(name);
    index.emplace(name, id);
    // Ranks of the names after the new one move up by one; their relative order does not
    // change, so ActionCounts already in name order stay so.
    rank.push_back(0);
    for (uint32_t i = 0; i < id; ++i)
      if (names[i] < name) ++rank[id];
      else ++rank[i];
    return id;
  }
};

ActionNames& action_names() {
  static ActionNames n;
  return n;
}

}  // namespace

const std::string& action_name(uint32_t id) { return action_names().names[id]; }

EnergyTable EnergyTable::parse(const config::Node& section, const std::string& key_path,
                               const std::vector<ActionDecl>& known, const std::vector<ActionDecl>& known_leakage) {
  using config::Node;
  EnergyTable t;
  t.m_loc = section.loc;
  config::check_keys(section, key_path, {"name", "actions", "leakage_mw", "area_um2"});
  if (const Node* n = section.find("name")) t.m_name = config::as_string(*n, key_path + ".name");

  std::vector<std::string> known_names, known_units;
  for (const auto& a : known) known_names.push_back(a.name);
  for (const auto& u : known_leakage) known_units.push_back(u.name);

  auto read_entry = [&](const Node::Entry& e, const std::string& path, const char* value_key) {
    config::check_keys(e.value, path, {value_key, "source"});
    const Node* v = e.value.find(value_key);
    if (!v) throw InputError(e.value.loc, path, std::string("missing '") + value_key + "'");
    double x = config::as_float(*v, path + "." + value_key);
    const bool area = value_key[0] == 'u';
    if (x < 0)
      throw InputError(v->loc, path + "." + value_key,
                       area ? "area cannot be negative" : "energy and power cannot be negative");
    // 1 mJ per action, 1 MW per unit, 1000 m² per unit: far above any device, and sums over
    // 2^64 actions or years of leakage stay finite.
    if (x > 1e9)
      throw InputError(v->loc, path + "." + value_key,
                       std::string("at most 1e9 ") + (area                  ? "um2"
                                                      : value_key[0] == 'p' ? "pJ"
                                                                            : "mW"));
    const Node* src = e.value.find("source");
    if (!src || config::as_string(*src, path + ".source").empty())
      throw InputError(e.value.loc, path, "every number needs a 'source' (a citation)");
    return std::make_pair(x, src->scalar);
  };

  if (const Node* acts = section.find("actions")) {
    config::expect_map(*acts, key_path + ".actions");
    config::check_keys(*acts, key_path + ".actions", known_names);
    for (const auto& e : acts->map) {
      auto [pj, src] = read_entry(e, key_path + ".actions." + e.key, "pj");
      t.put_price(e.key, pj, src);
    }
  }
  if (const Node* leak = section.find("leakage_mw")) {
    config::expect_map(*leak, key_path + ".leakage_mw");
    config::check_keys(*leak, key_path + ".leakage_mw", known_units);
    for (const auto& e : leak->map) t.m_leak_mw[e.key] = read_entry(e, key_path + ".leakage_mw." + e.key, "mw").first;
  }
  if (const Node* area = section.find("area_um2")) {
    config::expect_map(*area, key_path + ".area_um2");
    config::check_keys(*area, key_path + ".area_um2", known_units);
    for (const auto& e : area->map) t.m_area_um2[e.key] = read_entry(e, key_path + ".area_um2." + e.key, "um2").first;
  }
  return t;
}

Action Vocabulary::add(const std::string& name, const std::string& description) {
  ActionNames& names = action_names();
  const uint32_t id = names.intern(m_component.empty() ? name : m_component + "." + name);
  Action a(id, &names.names[id]);
  m_decls.push_back({a.name(), description});
  return a;
}

uint64_t ActionCounts::count(const Action& a) const {
  for (const Entry& e : m_entries)
    if (e.id == a.id()) return e.n;
  return 0;
}

uint64_t& ActionCounts::insert(uint32_t id) {
  // An op counts about a dozen actions (a model's own, its buffers', the DRAM's): one
  // allocation for them all.
  if (m_entries.empty()) m_entries.reserve(kTypicalActions);
  const std::vector<uint32_t>& rank = action_names().rank;
  auto at = std::find_if(m_entries.begin(), m_entries.end(), [&](const Entry& e) { return rank[e.id] > rank[id]; });
  return m_entries.insert(at, Entry{id, 0})->n;
}

ActionCounts& ActionCounts::operator+=(const ActionCounts& other) {
  for (const Entry& e : other.m_entries) {
    auto mine = std::find_if(m_entries.begin(), m_entries.end(), [&](const Entry& m) { return m.id == e.id; });
    (mine == m_entries.end() ? insert(e.id) : mine->n) += e.n;
  }
  return *this;
}

void ActionEnergies::grow(uint32_t id) {
  m_pj.resize(id + 1, 0.0);
  m_has.resize(id + 1, false);
}

void ActionEnergies::add_to(std::map<std::string, double>& out) const {
  // Index order is not name order, but each name's sum is independent of the others'.
  for (uint32_t id = 0; id < m_pj.size(); ++id)
    if (m_has[id]) out[action_name(id)] += m_pj[id];
}

void EnergyTable::put_price(const std::string& action, double pj, const std::string& source) {
  m_pj[action] = pj;
  m_source[action] = source;
  const uint32_t id = action_names().intern(action);
  if (id >= m_pj_by_id.size()) m_pj_by_id.resize(id + 1);
  m_pj_by_id[id] = Price{pj, true};
}

void EnergyTable::set_price(const Action& action, double pj, const std::string& source) {
  put_price(action.name(), pj, source);
}

void EnergyTable::set_leakage(const Action& unit, double mw, const std::string&) { m_leak_mw[unit.name()] = mw; }

void EnergyTable::charge_leakage_of(const std::vector<LeakingPart>& parts) {
  m_charged_mw.clear();
  // Parts of one component in one unit (e.g. a model's several buffers) add their counts
  // before the count is priced, in the order first declared.
  std::vector<LeakingPart> merged;
  for (const LeakingPart& p : parts) {
    auto same = std::find_if(merged.begin(), merged.end(),
                             [&](const LeakingPart& m) { return m.component == p.component && m.unit == p.unit; });
    if (same == merged.end()) merged.push_back(p);
    else same->count += p.count;
  }
  for (const LeakingPart& p : merged) {
    auto it = m_leak_mw.find(p.unit);
    if (it == m_leak_mw.end())
      throw InputError(m_loc, "energy.leakage_mw",
                       "energy table '" + m_name + "' has no leakage figure for '" + p.unit + "' (part '" +
                           p.component + "'; add it with its source)");
    m_charged_mw[p.component] += p.count * it->second;
  }
}

double EnergyTable::area_um2(const Action& unit) const {
  auto it = m_area_um2.find(unit.name());
  return it == m_area_um2.end() ? 0.0 : it->second;
}

double EnergyTable::pj_of(const std::string& action) const {
  auto it = m_pj.find(action);
  if (it == m_pj.end())
    throw InputError(m_loc, "energy.actions",
                     "energy table '" + m_name + "' has no price for action '" + action + "' (add it with its source)");
  return it->second;
}

template <typename Add>
double EnergyTable::priced(const ActionCounts& counts, Add add) const {
  double total = 0;
  for (const ActionCounts::Entry& c : counts.entries()) {  // name order: the sum's order
    if (c.n == 0) continue;
    const double e = static_cast<double>(c.n) * pj_by_id(c.id);
    total += e;
    add(c.id, e);
  }
  return total;
}

double EnergyTable::dynamic_pj(const ActionCounts& counts, std::map<std::string, double>* breakdown) const {
  return priced(counts, [&](uint32_t id, double e) {
    if (breakdown) (*breakdown)[action_name(id)] += e;
  });
}

double EnergyTable::dynamic_pj(const ActionCounts& counts, ActionEnergies* breakdown) const {
  return priced(counts, [&](uint32_t id, double e) {
    if (breakdown) breakdown->add(id, e);
  });
}

double EnergyTable::static_pj(double seconds, std::map<std::string, double>* breakdown) const {
  double total = 0;
  for (const auto& [comp, mw] : m_charged_mw) {
    if (mw == 0) continue;                  // a part declared leak-free (e.g. pim's logic) adds no breakdown entry
    double e = mw * 1e-3 * seconds * 1e12;  // mW × s → pJ
    total += e;
    if (breakdown) (*breakdown)[comp + ".leakage"] += e;
  }
  return total;
}

}  // namespace bpsim
