#include "sim/core/energy.h"

#include <set>

#include "sim/core/params.h"

namespace bpsim {

namespace {
std::string component_of(const std::string& action) {
  auto dot = action.find('.');
  return dot == std::string::npos ? action : action.substr(0, dot);
}
}  // namespace

EnergyTable EnergyTable::parse(const config::Node& section, const std::string& key_path,
                               const std::vector<ActionDecl>& known) {
  using config::Node;
  EnergyTable t;
  t.m_loc = section.loc;
  config::check_keys(section, key_path, {"name", "actions", "leakage_mw"});
  if (const Node* n = section.find("name")) t.m_name = config::as_string(*n, key_path + ".name");

  std::vector<std::string> known_names;
  std::set<std::string> known_components;
  for (const auto& a : known) {
    known_names.push_back(a.name);
    known_components.insert(component_of(a.name));
  }

  auto read_entry = [&](const Node::Entry& e, const std::string& path, const char* value_key) {
    config::check_keys(e.value, path, {value_key, "source"});
    const Node* v = e.value.find(value_key);
    if (!v) throw InputError(e.value.loc, path, std::string("missing '") + value_key + "'");
    double x = config::as_float(*v, path + "." + value_key);
    if (x < 0) throw InputError(v->loc, path + "." + value_key, "energy and power cannot be negative");
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
      t.m_pj[e.key] = pj;
      t.m_source[e.key] = src;
    }
  }
  if (const Node* leak = section.find("leakage_mw")) {
    config::expect_map(*leak, key_path + ".leakage_mw");
    std::vector<std::string> comps(known_components.begin(), known_components.end());
    config::check_keys(*leak, key_path + ".leakage_mw", comps);
    for (const auto& e : leak->map) t.m_leak_mw[e.key] = read_entry(e, key_path + ".leakage_mw." + e.key, "mw").first;
  }
  return t;
}

void EnergyTable::set_price(const std::string& action, double pj, const std::string& source) {
  m_pj[action] = pj;
  m_source[action] = source;
}

void EnergyTable::set_leakage(const std::string& component, double mw, const std::string&) {
  m_leak_mw[component] = mw;
}

void EnergyTable::keep_leakage_of(const std::vector<ActionDecl>& present) {
  std::set<std::string> comps;
  for (const auto& a : present) comps.insert(component_of(a.name));
  for (auto it = m_leak_mw.begin(); it != m_leak_mw.end();)
    it = comps.count(it->first) ? std::next(it) : m_leak_mw.erase(it);
}

bool EnergyTable::has(const std::string& action) const { return m_pj.count(action) > 0; }

double EnergyTable::pj(const std::string& action) const {
  auto it = m_pj.find(action);
  if (it == m_pj.end())
    throw InputError(m_loc, "energy.actions", "energy table '" + m_name + "' has no price for action '" + action +
                                                  "' (add it with its source)");
  return it->second;
}

double EnergyTable::dynamic_pj(const ActionCounts& counts, std::map<std::string, double>* breakdown) const {
  double total = 0;
  for (const auto& [action, n] : counts) {
    if (n == 0) continue;
    double e = static_cast<double>(n) * pj(action);
    total += e;
    if (breakdown) (*breakdown)[action] += e;
  }
  return total;
}

double EnergyTable::static_pj(double seconds, std::map<std::string, double>* breakdown) const {
  double total = 0;
  for (const auto& [comp, mw] : m_leak_mw) {
    double e = mw * 1e-3 * seconds * 1e12;  // mW × s → pJ
    total += e;
    if (breakdown) (*breakdown)[comp + ".leakage"] += e;
  }
  return total;
}

}  // namespace bpsim
