#pragma once
/// Parameters are declared once per component (name, type, unit, default or required,
/// range, description). The declaration validates configs, fills defaults, writes the
/// `bpsim list` documentation and, through a Binder (binder.h), fills the component's
/// typed struct, so nothing is written twice.
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <typeindex>
#include <vector>

#include "sim/core/config_node.h"

namespace bpsim::config {

class Schema;

enum class ParamType { Int, Float, Bool, String, Enum, Group, List };

/// Physical ranges shared by the models' schemas (README "Limits"): any value inside them
/// simulates in finite time and gives finite seconds and joules.
constexpr double kMinClockGhz = 1e-3;  ///< 1 MHz
constexpr double kMaxClockGhz = 100;   ///< 100 GHz

/// One declared parameter. Built with Schema's fluent methods.
struct ParamDecl {
  std::string name;
  ParamType type = ParamType::Int;
  std::string unit;  ///< "" when dimensionless
  std::string description;
  bool required = false;
  bool has_default = false;
  std::string default_text;  ///< YAML text of the default
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_exclusive = false;
  std::vector<std::string> choices;       ///< Enum values
  std::shared_ptr<const Schema> group;    ///< Group members, or List element schema (maps)
  ParamType element = ParamType::String;  ///< List element type when `group` is null

  ParamDecl& def(const std::string& yaml_text) {
    has_default = true;
    default_text = yaml_text;
    return *this;
  }
  ParamDecl& def(int64_t v) { return def(std::to_string(v)); }
  ParamDecl& def(int v) { return def(std::to_string(v)); }
  ParamDecl& def(double v);
  ParamDecl& def(bool v) { return def(std::string(v ? "true" : "false")); }
  ParamDecl& def(const char* v) { return def(std::string(v)); }
  ParamDecl& req() {
    required = true;
    return *this;
  }
  ParamDecl& range(double lo, double hi) {
    min = lo;
    max = hi;
    return *this;
  }
  ParamDecl& positive() {
    min = 0;
    min_exclusive = true;
    return *this;
  }
  ParamDecl& at_least(double lo) {
    min = lo;
    return *this;
  }
  ParamDecl& exclusive_min() {
    min_exclusive = true;
    return *this;
  }
  /// One line for `bpsim list`.
  std::string describe() const;
};

/// The declared parameters of one component, e.g. "systolic" or "memory.dram".
class Schema {
 public:
  Schema(std::string name, std::string description) : m_name(std::move(name)), m_description(std::move(description)) {}
  ParamDecl& integer(const std::string& name, const std::string& unit, const std::string& desc);
  ParamDecl& real(const std::string& name, const std::string& unit, const std::string& desc);
  ParamDecl& boolean(const std::string& name, const std::string& desc);
  ParamDecl& string(const std::string& name, const std::string& desc);
  ParamDecl& choice(const std::string& name, std::vector<std::string> choices, const std::string& desc);
  ParamDecl& group(const std::string& name, std::shared_ptr<const Schema> members, const std::string& desc);
  /// A list of scalars of type `element`, or of maps validated by `members` when given.
  ParamDecl& list(const std::string& name, ParamType element, const std::string& desc,
                  std::shared_ptr<const Schema> members = nullptr);
  /// Adds a copy of each of `other`'s declarations, in order.
  void append(const Schema& other);

  const std::string& name() const { return m_name; }
  const std::string& description() const { return m_description; }
  const std::deque<ParamDecl>& params() const { return m_params; }
  const ParamDecl* find(const std::string& name) const;
  /// "rows, cols, dataflow, …" for unknown-key messages.
  std::string key_list() const;
  /// Multi-line documentation, indented, for `bpsim list`.
  std::string describe(int indent = 2) const;

 private:
  ParamDecl& add(const std::string& name, ParamType t, const std::string& unit, const std::string& desc);
  std::string m_name, m_description;
  std::deque<ParamDecl> m_params;  // deque: references stay valid while declaring
};

/// Validated parameters of one component instance. Every declared parameter has a value
/// (given or default) unless it is optional without a default (then `has()` is false).
class Values {
 public:
  int64_t i(const std::string& name) const;
  double f(const std::string& name) const;  ///< Int params read as float too
  bool b(const std::string& name) const;
  const std::string& s(const std::string& name) const;              ///< String and Enum
  const Values& g(const std::string& name) const;                   ///< Group
  const std::vector<Values>& items(const std::string& name) const;  ///< List of maps
  std::vector<std::string> strings(const std::string& name) const;  ///< List of scalars
  std::vector<int64_t> ints(const std::string& name) const;         ///< List of integers
  bool has(const std::string& name) const;
  /// Where the value was written (the default's declaration when defaulted: empty file).
  /// `name` may be a dotted path into groups ("noc.routing").
  const Location& where(const std::string& name) const;
  const std::string& path() const { return m_path; }
  /// An InputError pointing at `name` (a dotted path into groups allowed) — for checks that
  /// span several parameters.
  InputError error(const std::string& name, const std::string& msg) const;
  /// The typed struct `parse(*this)` makes, made on the first call and returned by later
  /// ones (copies of these values share it): a component used twice in a run (op-cost
  /// estimate, then the model) parses its parameters once. One T per Values.
  template <class T, class Parse>
  const T& parsed(Parse parse) const;
  /// The values as a JSON-like YAML flow map (defaults filled), for reports and hashing.
  std::string to_yaml() const;

 private:
  friend Values validate(const Node&, const Schema&, const std::string&);
  struct Slot {
    ParamType type = ParamType::Int;  ///< the declared type (copied: a Values outlives its schema)
    Node raw;                         ///< the validated node (defaults parsed from their text)
    int64_t i = 0;
    double f = 0;
    bool b = false;
    std::string s;
    std::shared_ptr<Values> group;
    std::vector<Values> items;
  };
  struct Memo {
    std::mutex lock;
    std::shared_ptr<const void> value;
    std::type_index type = typeid(void);
  };
  const Slot& slot(const std::string& name, ParamType want) const;
  std::string m_path;
  Location m_loc;
  std::map<std::string, Slot> m_slots;
  std::vector<std::string> m_order;
  std::shared_ptr<Memo> m_memo = std::make_shared<Memo>();
};

template <class T, class Parse>
const T& Values::parsed(Parse parse) const {
  std::lock_guard<std::mutex> hold(m_memo->lock);
  if (!m_memo->value) {
    m_memo->value = std::make_shared<const T>(parse(*this));  // a throw leaves it unset
    m_memo->type = typeid(T);
  }
  if (m_memo->type != typeid(T)) throw std::logic_error("values of '" + m_path + "' parsed as two types");
  return *static_cast<const T*>(m_memo->value.get());
}

/// "a; b; c": several problems in one message, so a user fixes them in one try.
std::string join(const std::vector<std::string>& parts, const std::string& sep);

/// Checks `node` (a map, or null for "all defaults") against `schema`. `key_path` names
/// the node in messages ("accelerator", "accelerator.sram"). Throws InputError.
Values validate(const Node& node, const Schema& schema, const std::string& key_path);

/// Typed scalar readers for hand-written parsers (workload specs, traces); each throws
/// InputError naming the location and key path.
int64_t as_int(const Node& n, const std::string& key_path);
double as_float(const Node& n, const std::string& key_path);
bool as_bool(const Node& n, const std::string& key_path);
std::string as_string(const Node& n, const std::string& key_path);
const Node& expect_map(const Node& n, const std::string& key_path);
const Node& expect_seq(const Node& n, const std::string& key_path);
/// Rejects keys not in `allowed`, naming the valid ones.
void check_keys(const Node& map, const std::string& key_path, const std::vector<std::string>& allowed);

}  // namespace bpsim::config
