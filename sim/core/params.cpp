#include "sim/core/params.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "sim/core/units.h"

#include "sim/core/param_text.h"

namespace bpsim::config {

namespace {

const char* type_word(ParamType t) {
  switch (t) {
    case ParamType::Int: return "an integer";
    case ParamType::Float: return "a number";
    case ParamType::Bool: return "true or false";
    case ParamType::String: return "a string";
    case ParamType::Enum: return "one of the listed names";
    case ParamType::Group: return "a map";
    case ParamType::List: return "a list";
  }
  return "?";
}

std::string join_path(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

std::string fmt_num(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return units::exact(v);  // 1048576, not 1.04858e+06
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1] ? 1 : 0)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

const Node& expect_scalar(const Node& n, const std::string& path, const char* want) {
  if (!n.is_scalar()) throw InputError(n.loc, path, std::string("expected ") + want + ", found " + n.type_name());
  return n;
}

void check_range(const ParamDecl& d, double v, const Node& n, const std::string& path) {
  bool low = d.min_exclusive ? !(v > d.min) : v < d.min;
  if (low || v > d.max) {
    std::string lo = d.min_exclusive ? "(" : "[";
    throw InputError(n.loc, path,
                     "value " + n.scalar + " is out of range " + lo + fmt_num(d.min) + ", " + fmt_num(d.max) + "]" +
                         (d.unit.empty() ? "" : " " + d.unit));
  }
}

}  // namespace

int64_t as_int(const Node& n, const std::string& key_path) {
  expect_scalar(n, key_path, "an integer");
  const std::string& s = n.scalar;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (n.quoted || s.empty() || *end != '\0')
    throw InputError(n.loc, key_path, "expected an integer, found '" + s + "'");
  if (errno == ERANGE) throw InputError(n.loc, key_path, "integer '" + s + "' does not fit in 64 bits");
  return v;
}

double as_float(const Node& n, const std::string& key_path) {
  expect_scalar(n, key_path, "a number");
  const std::string& s = n.scalar;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (n.quoted || s.empty() || *end != '\0' || !std::isfinite(v))
    throw InputError(n.loc, key_path, "expected a number, found '" + s + "'");
  return v;
}

bool as_bool(const Node& n, const std::string& key_path) {
  expect_scalar(n, key_path, "true or false");
  if (!n.quoted && (n.scalar == "true" || n.scalar == "True")) return true;
  if (!n.quoted && (n.scalar == "false" || n.scalar == "False")) return false;
  throw InputError(n.loc, key_path, "expected true or false, found '" + n.scalar + "'");
}

std::string as_string(const Node& n, const std::string& key_path) {
  return expect_scalar(n, key_path, "a string").scalar;
}

const Node& expect_map(const Node& n, const std::string& key_path) {
  if (!n.is_map()) throw InputError(n.loc, key_path, "expected a map, found " + n.type_name());
  return n;
}

const Node& expect_seq(const Node& n, const std::string& key_path) {
  if (!n.is_seq()) throw InputError(n.loc, key_path, "expected a list, found " + n.type_name());
  return n;
}

static std::string unknown_key_message(const std::string& key, const std::vector<std::string>& valid) {
  std::string best;
  size_t best_d = 3;  // suggest only close misspellings
  std::string list;
  for (const auto& v : valid) {
    list += (list.empty() ? "" : ", ") + v;
    size_t d = edit_distance(key, v);
    if (d < best_d) {
      best_d = d;
      best = v;
    }
  }
  std::string msg = "unknown key";
  if (!best.empty()) msg += " (did you mean '" + best + "'?)";
  return msg + " (valid: " + (list.empty() ? "none" : list) + ")";
}

void check_keys(const Node& map, const std::string& key_path, const std::vector<std::string>& allowed) {
  expect_map(map, key_path);
  for (const auto& e : map.map) {
    bool ok = false;
    for (const auto& a : allowed) ok = ok || a == e.key;
    if (!ok) throw InputError(e.key_loc, join_path(key_path, e.key), unknown_key_message(e.key, allowed));
  }
}

// ---- declarations -------------------------------------------------------------------

ParamDecl& ParamDecl::def(double v) { return def(units::exact(v)); }  // 0.1, not 0.10000000000000001

std::string type_text(const ParamDecl& d) {
  switch (d.type) {
    case ParamType::Int: return "int";
    case ParamType::Float: return "float";
    case ParamType::Bool: return "bool";
    case ParamType::String: return "string";
    case ParamType::Enum: return "one of " + join(d.choices, "|");
    case ParamType::Group: return "map";
    case ParamType::List: return "list";
  }
  return "?";
}

std::string range_text(const ParamDecl& d) {
  if (std::isinf(d.min) && std::isinf(d.max)) return "";
  return std::string(d.min_exclusive ? "(" : "[") + fmt_num(d.min) + ", " + fmt_num(d.max) + "]";
}

std::string ParamDecl::describe() const {
  std::string s = name + " (" + type_text(*this);
  if (!unit.empty()) s += ", " + unit;
  if (!range_text(*this).empty()) s += ", " + range_text(*this);
  if (required) s += ", required";
  else if (has_default) s += ", default " + default_text;
  else if (type != ParamType::Group) s += ", optional";
  return s + "): " + description;
}

ParamDecl& Schema::add(const std::string& name, ParamType t, const std::string& unit, const std::string& desc) {
  m_params.emplace_back();
  ParamDecl& d = m_params.back();
  d.name = name;
  d.type = t;
  d.unit = unit;
  d.description = desc;
  return d;
}

void Schema::append(const Schema& other) {
  m_params.insert(m_params.end(), other.m_params.begin(), other.m_params.end());
}

ParamDecl& Schema::integer(const std::string& n, const std::string& unit, const std::string& desc) {
  return add(n, ParamType::Int, unit, desc);
}
ParamDecl& Schema::real(const std::string& n, const std::string& unit, const std::string& desc) {
  return add(n, ParamType::Float, unit, desc);
}
ParamDecl& Schema::boolean(const std::string& n, const std::string& desc) { return add(n, ParamType::Bool, "", desc); }
ParamDecl& Schema::string(const std::string& n, const std::string& desc) { return add(n, ParamType::String, "", desc); }
ParamDecl& Schema::choice(const std::string& n, std::vector<std::string> choices, const std::string& desc) {
  ParamDecl& d = add(n, ParamType::Enum, "", desc);
  d.choices = std::move(choices);
  return d;
}
ParamDecl& Schema::group(const std::string& n, std::shared_ptr<const Schema> members, const std::string& desc) {
  ParamDecl& d = add(n, ParamType::Group, "", desc);
  d.group = std::move(members);
  return d;
}
ParamDecl& Schema::list(const std::string& n, ParamType element, const std::string& desc,
                        std::shared_ptr<const Schema> members) {
  ParamDecl& d = add(n, ParamType::List, "", desc);
  d.element = element;
  d.group = std::move(members);
  return d;
}

const ParamDecl* Schema::find(const std::string& n) const {
  for (const auto& d : m_params)
    if (d.name == n) return &d;
  return nullptr;
}

std::string Schema::key_list() const {
  std::string s;
  for (const auto& d : m_params) s += (s.empty() ? "" : ", ") + d.name;
  return s;
}

std::string Schema::describe(int indent) const {
  std::string pad(static_cast<size_t>(indent), ' ');
  std::string s;
  for (const auto& d : m_params) {
    s += pad + d.describe() + "\n";
    if (d.group) s += d.group->describe(indent + 4);
  }
  return s;
}

// ---- validation ---------------------------------------------------------------------

namespace {

void fill_scalar(const ParamDecl& d, ParamType t, const Node& n, const std::string& path, int64_t& i, double& f,
                 bool& b, std::string& s) {
  switch (t) {
    case ParamType::Int:
      i = as_int(n, path);
      f = static_cast<double>(i);
      check_range(d, f, n, path);
      break;
    case ParamType::Float:
      f = as_float(n, path);
      check_range(d, f, n, path);
      break;
    case ParamType::Bool: b = as_bool(n, path); break;
    case ParamType::String: s = as_string(n, path); break;
    case ParamType::Enum: {
      s = expect_scalar(n, path, "a name").scalar;
      bool ok = false;
      std::string list;
      for (const auto& c : d.choices) {
        ok = ok || c == s;
        list += (list.empty() ? "" : ", ") + c;
      }
      if (!ok) throw InputError(n.loc, path, "'" + s + "' is not valid (expected one of: " + list + ")");
      break;
    }
    default: throw InputError(n.loc, path, std::string("expected ") + type_word(t));
  }
}

/// A default's YAML text parsed, once per distinct text in the process: a spec of many
/// layers fills each layer's defaults, and parsing was the slow part. Locked, so validate
/// stays safe to call from any thread (the Python package serialises its runs, but nothing
/// in validate asks for that). std::map: a returned reference stays valid.
const Node& parsed_default(const std::string& text) {
  static std::mutex lock;
  static std::map<std::string, Node, std::less<>> parsed;
  const std::lock_guard<std::mutex> hold(lock);
  auto it = parsed.find(text);
  if (it == parsed.end()) it = parsed.emplace(text, parse_yaml(text, "")).first;
  return it->second;
}

}  // namespace

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

Values validate(const Node& node, const Schema& schema, const std::string& key_path) {
  Node empty;
  empty.type = Node::Type::Map;
  empty.loc = node.loc;
  const Node& m = node.is_null() ? empty : node;
  if (!m.is_map()) throw InputError(m.loc, key_path, "expected a map, found " + m.type_name());

  std::vector<std::string> names;
  for (const auto& d : schema.params()) names.push_back(d.name);
  check_keys(m, key_path, names);

  Values out;
  out.m_path = key_path;
  out.m_loc = m.loc;
  for (const auto& d : schema.params()) {
    const std::string path = join_path(key_path, d.name);
    const Node* given = m.find(d.name);
    Node parsed;
    if (given) {
      parsed = *given;
    } else if (d.has_default) {
      parsed = parsed_default(d.default_text);
      parsed.loc = Location{"<default of " + path + ">"};
    } else if (d.required) {
      throw InputError(m.loc, key_path, "missing required key '" + d.name + "' (" + d.description + ")");
    } else if (d.type == ParamType::Group) {
      parsed.type = Node::Type::Null;  // groups default to their members' defaults
      parsed.loc = m.loc;
    } else {
      continue;  // optional, absent
    }
    Values::Slot slot;
    slot.type = d.type;
    slot.raw = parsed;
    if (d.type == ParamType::Group) {
      slot.group = std::make_shared<Values>(validate(parsed, *d.group, path));
    } else if (d.type == ParamType::List) {
      if (parsed.is_null()) parsed.type = Node::Type::Sequence;
      expect_seq(parsed, path);
      for (size_t k = 0; k < parsed.seq.size(); ++k) {
        const std::string ip = path + "[" + std::to_string(k) + "]";
        if (d.group) {
          slot.items.push_back(validate(parsed.seq[k], *d.group, ip));
        } else {
          Values item;
          Values::Slot es;
          es.type = d.type;
          es.raw = parsed.seq[k];
          fill_scalar(d, d.element, parsed.seq[k], ip, es.i, es.f, es.b, es.s);
          item.m_path = ip;
          item.m_slots["value"] = es;
          slot.items.push_back(item);
        }
      }
    } else {
      fill_scalar(d, d.type, parsed, path, slot.i, slot.f, slot.b, slot.s);
    }
    out.m_order.push_back(d.name);
    out.m_slots[d.name] = std::move(slot);
  }
  return out;
}

const Values::Slot& Values::slot(const std::string& name, ParamType want) const {
  auto it = m_slots.find(name);
  if (it == m_slots.end())
    throw std::logic_error("parameter '" + join_path(m_path, name) + "' read but not declared or not set");
  ParamType have = it->second.type;
  bool ok = have == want || (want == ParamType::Float && have == ParamType::Int) ||
            (want == ParamType::String && have == ParamType::Enum);
  if (!ok) throw std::logic_error("parameter '" + join_path(m_path, name) + "' read with the wrong type");
  return it->second;
}

int64_t Values::i(const std::string& n) const { return slot(n, ParamType::Int).i; }
double Values::f(const std::string& n) const { return slot(n, ParamType::Float).f; }
bool Values::b(const std::string& n) const { return slot(n, ParamType::Bool).b; }
const std::string& Values::s(const std::string& n) const { return slot(n, ParamType::String).s; }
const Values& Values::g(const std::string& n) const { return *slot(n, ParamType::Group).group; }
const std::vector<Values>& Values::items(const std::string& n) const { return slot(n, ParamType::List).items; }

std::vector<std::string> Values::strings(const std::string& n) const {
  std::vector<std::string> out;
  for (const auto& item : items(n)) out.push_back(item.m_slots.at("value").raw.scalar);
  return out;
}

std::vector<int64_t> Values::ints(const std::string& n) const {
  std::vector<int64_t> out;
  for (const auto& item : items(n)) out.push_back(item.m_slots.at("value").i);
  return out;
}

bool Values::has(const std::string& n) const { return m_slots.count(n) > 0; }

const Location& Values::where(const std::string& n) const {
  const size_t dot = n.find('.');
  auto it = m_slots.find(n.substr(0, dot));
  if (it == m_slots.end()) return m_loc;
  if (dot == std::string::npos) return it->second.raw.loc;
  return it->second.group ? it->second.group->where(n.substr(dot + 1)) : it->second.raw.loc;
}

InputError Values::error(const std::string& n, const std::string& msg) const {
  return InputError(where(n), join_path(m_path, n), msg);
}

std::string Values::to_yaml() const {
  std::string s = "{";
  bool first = true;
  for (const auto& n : m_order) {
    const Slot& sl = m_slots.at(n);
    s += (first ? "" : ", ") + n + ": ";
    first = false;
    if (sl.group) {
      s += sl.group->to_yaml();
    } else if (sl.type == ParamType::List) {
      s += "[";
      for (size_t k = 0; k < sl.items.size(); ++k) {
        const Values& it = sl.items[k];
        s += (k ? ", " : "") +
             (it.m_slots.count("value") && it.m_order.empty() ? it.m_slots.at("value").raw.to_yaml() : it.to_yaml());
      }
      s += "]";
    } else {
      s += sl.raw.to_yaml();
    }
  }
  return s + "}";
}

}  // namespace bpsim::config
