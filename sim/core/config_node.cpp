#include "sim/core/config_node.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include "sim/core/data_dir.h"
#include "sim/core/input_file.h"
#include "sim/core/yaml_subset.h"

namespace fs = std::filesystem;

namespace bpsim::config {

const Node* Node::find(const std::string& key) const {
  if (type != Type::Map) return nullptr;
  for (const auto& e : map)
    if (e.key == key) return &e.value;
  return nullptr;
}

Node* Node::find(const std::string& key) { return const_cast<Node*>(static_cast<const Node*>(this)->find(key)); }

const Node::Entry* Node::entry(const std::string& key) const {
  if (type != Type::Map) return nullptr;
  for (const auto& e : map)
    if (e.key == key) return &e;
  return nullptr;
}

void Node::set(const std::string& key, Node value, const Location& key_loc) {
  if (type != Type::Map) {
    type = Type::Map;
    scalar.clear();
    seq.clear();
  }
  for (auto& e : map)
    if (e.key == key) {
      e.value = std::move(value);
      if (!key_loc.file.empty()) e.key_loc = key_loc;
      return;
    }
  map.push_back(Entry{key, key_loc, std::move(value)});
}

bool Node::erase(const std::string& key) {
  for (auto it = map.begin(); it != map.end(); ++it)
    if (it->key == key) {
      map.erase(it);
      return true;
    }
  return false;
}

std::string Node::type_name() const {
  switch (type) {
    case Type::Null: return "null";
    case Type::Scalar: return "a scalar";
    case Type::Sequence: return "a list";
    case Type::Map: return "a map";
  }
  return "?";
}

std::string Node::to_yaml() const {
  switch (type) {
    case Type::Null: return "null";
    case Type::Scalar: return quoted ? yaml_quote(scalar) : scalar;
    case Type::Sequence: {
      std::string s = "[";
      for (size_t i = 0; i < seq.size(); ++i) s += (i ? ", " : "") + seq[i].to_yaml();
      return s + "]";
    }
    case Type::Map: {
      std::string s = "{";
      for (size_t i = 0; i < map.size(); ++i) s += (i ? ", " : "") + map[i].key + ": " + map[i].value.to_yaml();
      return s + "}";
    }
  }
  return "";
}

std::string yaml_quote(const std::string& text) {
  static const char* const hex = "0123456789abcdef";
  std::string s = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      s += '\\';
      s += char(c);
    } else if (c < 0x20 || c == 0x7f) {  // control characters: YAML would fold or reject them raw
      s += "\\x";
      s += hex[c >> 4];
      s += hex[c & 15];
    } else {
      s += char(c);
    }
  }
  return s + "\"";
}

namespace {

/// What one load may cost (README "Limits"): far above any real config, low enough that a
/// crafted file (an alias bomb, a huge or endless file, an include fan-out) stops within
/// a second and a few hundred MB.
constexpr uint64_t kMaxFileBytes = uint64_t(16) << 20;
constexpr int kMaxDepth = 64;
constexpr uint64_t kMaxNodes = 1000000;
constexpr size_t kMaxIncludeDepth = 16;
constexpr unsigned kMaxIncludes = 256;

/// Shared by a file and everything it includes (or by one --set value).
struct Budget {
  uint64_t nodes = 0;
  unsigned includes = 0;
};

Location loc_of(const YAML::Mark& m, const std::string& file) {
  // yaml-cpp marks are 0-based; a mark of -1 means unknown.
  return Location{file, m.line >= 0 ? m.line + 1 : 0, m.column >= 0 ? m.column + 1 : 0};
}

/// yaml-cpp resolves an alias to the anchored node itself, so a document of a few lines can
/// name 2^40 values; the conversion copies them, so it counts every value it makes.
Node convert(const YAML::Node& y, const std::string& file, int depth, Budget& budget) {
  Node n;
  n.loc = loc_of(y.Mark(), file);
  if (++budget.nodes > kMaxNodes)
    throw InputError(n.loc, "",
                     "the configuration has more than " + std::to_string(kMaxNodes) +
                         " values (YAML aliases counted once per use); this is a limit of bpsim");
  if (depth > kMaxDepth)
    throw InputError(n.loc, "",
                     "values nest more than " + std::to_string(kMaxDepth) + " levels deep; this is a limit of bpsim");
  switch (y.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null: n.type = Node::Type::Null; break;
    case YAML::NodeType::Scalar:
      n.type = Node::Type::Scalar;
      n.scalar = y.Scalar();
      n.quoted = y.Tag() == "!";  // yaml-cpp tags non-plain (quoted) scalars "!"
      break;
    case YAML::NodeType::Sequence:
      n.type = Node::Type::Sequence;
      for (const auto& item : y) n.seq.push_back(convert(item, file, depth + 1, budget));
      break;
    case YAML::NodeType::Map: {
      n.type = Node::Type::Map;
      std::unordered_set<std::string> seen;  // a wide map must not cost a scan per key
      for (const auto& kv : y) {
        Location kl = loc_of(kv.first.Mark(), file);
        if (!kv.first.IsScalar()) throw InputError(kl, "", "map keys must be plain names");
        std::string key = kv.first.Scalar();
        if (!seen.insert(key).second) throw InputError(kl, key, "duplicate key");
        n.map.push_back(Node::Entry{key, kl, convert(kv.second, file, depth + 1, budget)});
      }
      break;
    }
  }
  return n;
}

Node parse_with_yaml_cpp(const std::string& text, const std::string& file, Budget& budget) {
  try {
    return convert(YAML::Load(text), file, 0, budget);
  } catch (const YAML::Exception& e) {
    throw InputError(loc_of(e.mark, file), "", "YAML syntax error: " + e.msg);
  }
}

/// The subset reader first (yaml_subset.h: the same values, in a fraction of the time), and
/// yaml-cpp for whatever it declines.
Node parse_counted(const std::string& text, const std::string& file, Budget& budget) {
  uint64_t made = 0;
  if (std::optional<Node> doc = parse_yaml_subset(text, file, kMaxNodes - budget.nodes, kMaxDepth, made)) {
    budget.nodes += made;
    return std::move(*doc);
  }
  return parse_with_yaml_cpp(text, file, budget);
}

/// The text of a config file: a regular file of at most kMaxFileBytes, or standard input for `-`.
std::string read_config_text(const std::string& path) {
  if (is_stdio(path)) return read_stdin("config", kMaxFileBytes);
  const uint64_t size = regular_file_size(path, "config file");
  if (size > kMaxFileBytes)
    throw InputError(Location{path}, "",
                     "config file is " + std::to_string(size) + " bytes, more than " + std::to_string(kMaxFileBytes) +
                         " (a limit of bpsim)");
  return read_regular_file(path, "config file");
}

/// Files without includes (energy tables, memory presets), kept once parsed for the rest of
/// the process: a config often includes one twice (45nm.yaml and the config both name
/// 45nm/systolic.yaml), and sweep points, forked from the sweep, load the files it loaded.
/// A file is still read every time, and its kept values are used only when its text is the
/// text they were parsed from (so an edited file is parsed again, whatever its times say).
/// They count against the load's budget as if parsed again, and a load they would take past
/// the budget parses the file instead, so that the limit's message is the same.
class LeafCache {
 public:
  /// The values of `text`, the file `path` (so named in their locations), if kept; counted.
  std::optional<Node> find(const std::string& path, const std::string& text, Budget& budget) {
    const std::lock_guard<std::mutex> lock(m_mutex);
    const auto it = m_files.find(path);
    if (it == m_files.end() || it->second.text != text || budget.nodes + it->second.nodes > kMaxNodes)
      return std::nullopt;
    budget.nodes += it->second.nodes;
    return it->second.doc;
  }
  /// Keeps `doc`, parsed from `text` (the file `path`) in `nodes` values.
  void keep(const std::string& path, const std::string& text, const Node& doc, uint64_t nodes) {
    const std::lock_guard<std::mutex> lock(m_mutex);
    m_files[path] = Entry{text, doc, nodes};
  }

 private:
  struct Entry {
    std::string text;
    Node doc;
    uint64_t nodes;
  };
  std::mutex m_mutex;
  std::map<std::string, Entry> m_files;
};

LeafCache& leaf_cache() {
  static LeafCache cache;
  return cache;
}

/// The top-level values of `path` (named `label` in locations): parsed, or kept from an
/// earlier load when the file has no includes and the same text.
Node load_document(const std::string& path, const std::string& label, Budget& budget) {
  std::string text = read_config_text(path);
  if (is_stdio(path)) return parse_counted(text, label, budget);
  if (std::optional<Node> kept = leaf_cache().find(path, text, budget)) return std::move(*kept);
  const uint64_t before = budget.nodes;
  Node doc = parse_counted(text, label, budget);
  if (doc.is_map() && !doc.find("include")) leaf_cache().keep(path, text, doc, budget.nodes - before);
  return doc;
}

Node load_recursive(const std::string& path, std::set<std::string>& stack, Budget& budget) {
  std::error_code ec;
  fs::path canon = fs::weakly_canonical(path, ec);
  std::string key = ec ? path : canon.string();
  if (stack.count(key)) throw InputError(Location{path}, "include", "include cycle through this file");
  // Standard input is named "<stdin>" in messages; its relative includes resolve from the
  // working directory (resolve_path: a file name without a folder).
  const std::string label = is_stdio(path) ? kStdinLabel : path;
  Node doc = load_document(path, label, budget);
  if (doc.is_null()) doc.type = Node::Type::Map;  // an empty file is an empty config
  if (!doc.is_map()) throw InputError(doc.loc, "", "expected a map at the top of the file, found " + doc.type_name());

  const Node* inc = doc.find("include");
  if (!inc) return doc;
  stack.insert(key);
  Node merged;
  merged.type = Node::Type::Map;
  merged.loc = doc.loc;
  std::vector<const Node*> items;
  if (inc->is_scalar()) {
    items.push_back(inc);
  } else if (inc->is_seq()) {
    for (const auto& i : inc->seq) items.push_back(&i);
  } else {
    throw InputError(inc->loc, "include", "expected a file name or a list of file names, found " + inc->type_name());
  }
  if (stack.size() > kMaxIncludeDepth)
    throw InputError(
        inc->loc, "include",
        "includes nest more than " + std::to_string(kMaxIncludeDepth) + " files deep; this is a limit of bpsim");
  for (const Node* i : items) {
    if (!i->is_scalar()) throw InputError(i->loc, "include", "expected a file name, found " + i->type_name());
    if (++budget.includes > kMaxIncludes)
      throw InputError(
          i->loc, "include",
          "more than " + std::to_string(kMaxIncludes) + " includes in one configuration; this is a limit of bpsim");
    std::string target = resolve_config_path(*i);
    check_yaml_file(*i, "include", target);
    merge_into(merged, load_recursive(target, stack, budget));
  }
  stack.erase(key);
  doc.erase("include");
  merge_into(merged, std::move(doc));
  return merged;
}

}  // namespace

Node parse_yaml(const std::string& text, const std::string& file) {
  Budget budget;
  return parse_counted(text, file, budget);
}

Node parse_yaml_cpp(const std::string& text, const std::string& file) {
  Budget budget;
  return parse_with_yaml_cpp(text, file, budget);
}

Node load_file(const std::string& path) {
  std::set<std::string> stack;
  Budget budget;
  return load_recursive(path, stack, budget);
}

namespace {

/// merge_into's work, copying from `over` (a const lvalue) or moving from it (an rvalue: an
/// included file's values move into the merged tree instead of being copied).
template <class Over>
void merge_nodes(Node& base, Over&& over) {
  constexpr bool moving = !std::is_lvalue_reference_v<Over>;
  if (!base.is_map() || !over.is_map()) {
    base = std::forward<Over>(over);
    return;
  }
  // Indexed, so that merging wide maps stays linear.
  std::unordered_map<std::string, size_t> index;
  for (size_t k = 0; k < base.map.size(); ++k) index.emplace(base.map[k].key, k);
  for (auto& e : over.map) {
    auto it = index.find(e.key);
    if (it == index.end()) {
      index.emplace(e.key, base.map.size());
      if constexpr (moving) base.map.push_back(std::move(e));
      else base.map.push_back(e);
      continue;
    }
    Node::Entry& mine = base.map[it->second];
    if (!(mine.value.is_map() && e.value.is_map()) && !e.key_loc.file.empty()) mine.key_loc = e.key_loc;
    if constexpr (moving) merge_nodes(mine.value, std::move(e.value));
    else merge_nodes(mine.value, e.value);
  }
}

}  // namespace

void merge_into(Node& base, const Node& over) { merge_nodes(base, over); }

void merge_into(Node& base, Node&& over) { merge_nodes(base, std::move(over)); }

void apply_override(Node& root, const std::string& assignment) {
  const Location where{"--set " + assignment};
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) throw InputError(where, "", "expected key.path=value");
  std::string path = assignment.substr(0, eq);
  std::string value_text = assignment.substr(eq + 1);
  Node value = parse_yaml(value_text.empty() ? "\"\"" : value_text, where.file);
  // Overrides point at the command line, not at a YAML position.
  std::vector<Node*> todo{&value};
  while (!todo.empty()) {
    Node* n = todo.back();
    todo.pop_back();
    n->loc = where;
    for (auto& e : n->map) {
      e.key_loc = where;
      todo.push_back(&e.value);
    }
    for (auto& s : n->seq) todo.push_back(&s);
  }
  Node* cur = &root;
  size_t start = 0;
  while (true) {
    auto dot = path.find('.', start);
    std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (key.empty()) throw InputError(where, path, "empty key in key path");
    if (!cur->is_map() && !cur->is_null())
      throw InputError(where, path.substr(0, start ? start - 1 : 0), "cannot set a key inside " + cur->type_name());
    if (dot == std::string::npos) {
      cur->set(key, std::move(value), where);
      return;
    }
    Node* next = cur->find(key);
    if (!next) {
      Node m;
      m.type = Node::Type::Map;
      m.loc = where;
      cur->set(key, m, where);
      next = cur->find(key);
    }
    cur = next;
    start = dot + 1;
  }
}

void check_yaml_file(const Node& at, const std::string& key_path, const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  if (ext != ".yaml" && ext != ".yml")
    throw InputError(at.loc, key_path, "expected a YAML file (.yaml or .yml), found '" + path + "'");
  std::error_code missing;  // a name the OS refuses (too long) is missing too, not an exception
  if (!fs::exists(path, missing)) throw InputError(at.loc, key_path, "no such file: " + path);
  try {
    regular_file_size(path, "config file");
  } catch (const InputError& e) {
    throw InputError(at.loc, key_path, e.what());
  }
}

std::string resolve_path(const Node& value_with_path) {
  fs::path p(value_with_path.scalar);
  if (p.is_absolute() || value_with_path.loc.file.empty() || value_with_path.loc.file.rfind("--set", 0) == 0)
    return p.lexically_normal().string();
  return (fs::path(value_with_path.loc.file).parent_path() / p).lexically_normal().string();
}

}  // namespace bpsim::config
