#include "sim/core/config_node.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace bpsim::config {

const Node* Node::find(const std::string& key) const {
  if (type != Type::Map) return nullptr;
  for (const auto& e : map)
    if (e.key == key) return &e.value;
  return nullptr;
}

Node* Node::find(const std::string& key) {
  return const_cast<Node*>(static_cast<const Node*>(this)->find(key));
}

const Node::Entry* Node::entry(const std::string& key) const {
  if (type != Type::Map) return nullptr;
  for (const auto& e : map)
    if (e.key == key) return &e;
  return nullptr;
}

void Node::set(const std::string& key, Node value, Location key_loc) {
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
    case Type::Scalar: {
      if (!quoted) return scalar;
      std::string s = "\"";
      for (char c : scalar) s += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
      return s + "\"";
    }
    case Type::Sequence: {
      std::string s = "[";
      for (size_t i = 0; i < seq.size(); ++i) s += (i ? ", " : "") + seq[i].to_yaml();
      return s + "]";
    }
    case Type::Map: {
      std::string s = "{";
      for (size_t i = 0; i < map.size(); ++i)
        s += (i ? ", " : "") + map[i].key + ": " + map[i].value.to_yaml();
      return s + "}";
    }
  }
  return "";
}

namespace {

Location loc_of(const YAML::Mark& m, const std::string& file) {
  // yaml-cpp marks are 0-based; a mark of -1 means unknown.
  return Location{file, m.line >= 0 ? m.line + 1 : 0, m.column >= 0 ? m.column + 1 : 0};
}

Node convert(const YAML::Node& y, const std::string& file) {
  Node n;
  n.loc = loc_of(y.Mark(), file);
  switch (y.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      n.type = Node::Type::Null;
      break;
    case YAML::NodeType::Scalar:
      n.type = Node::Type::Scalar;
      n.scalar = y.Scalar();
      n.quoted = y.Tag() == "!";  // yaml-cpp tags non-plain (quoted) scalars "!"
      break;
    case YAML::NodeType::Sequence:
      n.type = Node::Type::Sequence;
      for (const auto& item : y) n.seq.push_back(convert(item, file));
      break;
    case YAML::NodeType::Map:
      n.type = Node::Type::Map;
      for (const auto& kv : y) {
        Location kl = loc_of(kv.first.Mark(), file);
        if (!kv.first.IsScalar()) throw InputError(kl, "", "map keys must be plain names");
        std::string key = kv.first.Scalar();
        if (n.find(key)) throw InputError(kl, key, "duplicate key");
        n.map.push_back(Node::Entry{key, kl, convert(kv.second, file)});
      }
      break;
  }
  return n;
}

Node load_recursive(const std::string& path, std::set<std::string>& stack) {
  std::error_code ec;
  fs::path canon = fs::weakly_canonical(path, ec);
  std::string key = ec ? path : canon.string();
  if (stack.count(key)) throw InputError(Location{path}, "include", "include cycle through this file");
  std::ifstream in(path);
  if (!in) throw InputError(Location{path}, "", "cannot open file");
  std::stringstream buf;
  buf << in.rdbuf();
  Node doc = parse_yaml(buf.str(), path);
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
  for (const Node* i : items) {
    if (!i->is_scalar()) throw InputError(i->loc, "include", "expected a file name, found " + i->type_name());
    std::string target = resolve_path(*i);
    std::error_code missing;  // a name the OS refuses (too long) is missing too, not an exception
    if (!fs::exists(target, missing)) throw InputError(i->loc, "include", "no such file: " + target);
    merge_into(merged, load_recursive(target, stack));
  }
  stack.erase(key);
  doc.erase("include");
  merge_into(merged, doc);
  return merged;
}

}  // namespace

Node parse_yaml(const std::string& text, const std::string& file) {
  try {
    return convert(YAML::Load(text), file);
  } catch (const YAML::Exception& e) {
    throw InputError(loc_of(e.mark, file), "", "YAML syntax error: " + e.msg);
  }
}

Node load_file(const std::string& path) {
  std::set<std::string> stack;
  return load_recursive(path, stack);
}

void merge_into(Node& base, const Node& over) {
  if (base.is_map() && over.is_map()) {
    for (const auto& e : over.map) {
      Node* existing = base.find(e.key);
      if (existing && existing->is_map() && e.value.is_map()) {
        merge_into(*existing, e.value);
      } else {
        base.set(e.key, e.value, e.key_loc);
      }
    }
    return;
  }
  base = over;
}

void apply_override(Node& root, const std::string& assignment) {
  const Location where{"--set " + assignment};
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError(where, "", "expected key.path=value");
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

std::string resolve_path(const Node& value_with_path) {
  fs::path p(value_with_path.scalar);
  if (p.is_absolute() || value_with_path.loc.file.empty() ||
      value_with_path.loc.file.rfind("--set", 0) == 0)
    return p.lexically_normal().string();
  return (fs::path(value_with_path.loc.file).parent_path() / p).lexically_normal().string();
}

}  // namespace bpsim::config
