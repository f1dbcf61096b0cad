#pragma once
// The subset YAML reader (sim/core/yaml_subset.h) against yaml-cpp, for its unit test and
// its fuzz target: what differs between the two readings of one text.
#include <optional>
#include <string>

#include "sim/core/yaml_subset.h"

namespace bpsim::config::testing {

inline std::string describe(const Node& n) {
  return n.loc.str() + " " + n.type_name() + " " + n.to_yaml() + (n.quoted ? " (quoted)" : "");
}

/// Where two trees first differ in type, text, quoted flag, keys, their order or any
/// location, naming the place ("" when they do not).
inline std::string first_difference(const Node& a, const Node& b, const std::string& path = "") {
  const std::string at = path.empty() ? "the root" : path;
  if (a.type != b.type || a.scalar != b.scalar || a.quoted != b.quoted || a.loc.str() != b.loc.str())
    return at + ": " + describe(a) + " | " + describe(b);
  if (a.seq.size() != b.seq.size() || a.map.size() != b.map.size()) return at + ": sizes differ";
  for (size_t i = 0; i < a.seq.size(); ++i)
    if (std::string d = first_difference(a.seq[i], b.seq[i], path + "[" + std::to_string(i) + "]"); !d.empty())
      return d;
  for (size_t i = 0; i < a.map.size(); ++i) {
    const Node::Entry &x = a.map[i], &y = b.map[i];
    const std::string p = path.empty() ? x.key : path + "." + x.key;
    if (x.key != y.key || x.key_loc.str() != y.key_loc.str())
      return p + ": key " + x.key_loc.str() + " " + x.key + " | " + y.key_loc.str() + " " + y.key;
    if (std::string d = first_difference(x.value, y.value, p); !d.empty()) return d;
  }
  return "";
}

/// "" when the subset declines `text` (named `file`) or reads it as yaml-cpp does; else what
/// differs. yaml-cpp refusing a text the subset accepted is a difference too.
inline std::string subset_difference(const std::string& text, const std::string& file) {
  uint64_t nodes = 0;
  const std::optional<Node> fast = parse_yaml_subset(text, file, 1000000, 64, nodes);
  if (!fast) return "";
  try {
    const std::string d = first_difference(*fast, parse_yaml_cpp(text, file));
    return d.empty() ? "" : "differs at " + d;
  } catch (const InputError& e) {
    return std::string("yaml-cpp refuses it: ") + e.what();
  }
}

}  // namespace bpsim::config::testing
