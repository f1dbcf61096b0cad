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
  void set(const std::string& key, Node value, Location key_loc = {});
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

/// Parses YAML text; `file` names it in messages. Throws InputError on syntax errors.
Node parse_yaml(const std::string& text, const std::string& file);
/// Loads a file; `include: [a.yaml, …]` (paths relative to the including file) is merged
/// first, in order, then the file itself deep-merged over it. Include cycles are errors.
Node load_file(const std::string& path);
/// Deep merge: maps merge key by key; anything else in `over` replaces `base`.
void merge_into(Node& base, const Node& over);
/// Applies `key.path=value` (value parsed as YAML) to the tree, creating maps on the way.
void apply_override(Node& root, const std::string& assignment);
/// Resolves a path written in a config relative to the directory of the file it came from.
std::string resolve_path(const Node& value_with_path);

}  // namespace bpsim::config
