#pragma once
/// A YAML document as bpsim sees it: every value keeps the file, line and column it came
/// from, so that errors found long after parsing can still point at the user's text.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/error.h"

namespace bpsim::config {

class Node {
 public:
  enum class Type { Null, Scalar, Sequence, Map };
  struct Entry;  ///< one key of a map, with the key's own location

  Type type = Type::Null;
  std::string scalar;   ///< text of a scalar, as written
  bool quoted = false;  ///< a quoted scalar is always a string
  std::vector<Node> seq;
  std::vector<Entry> map;  ///< in document order
  Location loc;            ///< where the value starts

  bool is_null() const { return type == Type::Null; }
  bool is_scalar() const { return type == Type::Scalar; }
  bool is_seq() const { return type == Type::Sequence; }
  bool is_map() const { return type == Type::Map; }
  /// nullptr when absent (or when this is not a map).
  const Node* find(const std::string& key) const;
  Node* find(const std::string& key);
  const Entry* entry(const std::string& key) const;
  /// Inserts or replaces a key, keeping document order for existing keys.
  void set(const std::string& key, Node value, const Location& key_loc = {});
  bool erase(const std::string& key);
  /// Human-readable type for messages: "a map", "a list", "a scalar", "null".
  std::string type_name() const;
  /// The value rendered back as compact YAML flow text (for messages and hashing).
  std::string to_yaml() const;
};

struct Node::Entry {
  std::string key;
  Location key_loc;
  Node value;
};

/// `text` as a YAML double-quoted scalar (quotes, backslashes, control characters escaped):
/// a user's string, e.g. a file name, pasted into YAML text reads back unchanged.
std::string yaml_quote(const std::string& text);
/// Parses YAML text; `file` names it in messages. Throws InputError on syntax errors.
Node parse_yaml(const std::string& text, const std::string& file);
/// Loads a file; `include: [a.yaml, …]` (paths relative to the including file) is merged
/// first, in order, then the file itself deep-merged over it. Include cycles are errors, and
/// so is a load past the loader's limits (file size, nesting, values, includes: README "Limits").
Node load_file(const std::string& path);
/// Deep merge: maps merge key by key; anything else in `over` replaces `base`.
void merge_into(Node& base, const Node& over);
/// The same, moving `over`'s values into `base` instead of copying them.
void merge_into(Node& base, Node&& over);
/// Applies `key.path=value` (value parsed as YAML) to the tree, creating maps on the way.
void apply_override(Node& root, const std::string& assignment);
/// A config file named inside a config (`include:`, `spec:`) must be an existing regular file
/// ending in .yaml or .yml: a non-YAML file is never read, so its content cannot surface in
/// an "unknown key" message. Errors point at `at` (the value naming it) and `key_path`.
void check_yaml_file(const Node& at, const std::string& key_path, const std::string& path);
/// Resolves a path written in a config relative to the directory of the file it came from.
std::string resolve_path(const Node& value_with_path);

}  // namespace bpsim::config
