#include "sim/sweep/sweep_spec.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "sim/core/limits.h"
#include "sim/core/output_files.h"
#include "sim/core/params.h"

namespace bpsim::sweep {

std::vector<std::string> Point::assignments() const {
  std::vector<std::string> out;
  for (const auto& [key, value] : axes)
    if (key != kIncludeAxis) out.push_back(key + "=" + value.to_yaml());
  return out;
}

std::string Point::label() const {
  std::string out;
  for (const auto& [key, value] : axes) out += (out.empty() ? "" : " ") + key + "=" + value.to_yaml();
  return out;
}

std::string point_config(const SweepSpec& spec, const Point& p, const std::string& dir) {
  if (p.include.empty()) return spec.base_config;
  // Absolute paths: an include is resolved against the including file, which lives in `dir`.
  const std::filesystem::path file = std::filesystem::path(dir) / (p.hash + ".yaml");
  output::make_dirs(dir);
  output::write_file(file,
                     "# Written by bpsim sweep " + spec.file + " for point " + std::to_string(p.index) +
                         ": the base config with the\n# include axis's file merged over it (later includes win).\n"
                         "include: [" +
                         config::yaml_quote(std::filesystem::absolute(spec.base_config).string()) + ", " +
                         config::yaml_quote(std::filesystem::absolute(p.include).string()) + "]\n");
  return file.string();
}

std::string config_hash(const config::Node& resolved) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a 64 offset basis
  for (unsigned char c : resolved.to_yaml()) {
    h ^= c;
    h *= 1099511628211ull;  // FNV-1a 64 prime
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

namespace {

using config::Node;

/// Adds points to a sweep whose base config and fixed sets are known: each point's config
/// resolved as its child will resolve it, hashed, and folded into an earlier point with the
/// same config (two points with one config would run into one folder, racing).
class PointAdder {
 public:
  explicit PointAdder(SweepSpec& spec) : m_spec(spec), m_base(config::load_file(spec.base_config)) {}
  /// The point's index (an earlier point's when its config is the same).
  size_t operator()(std::vector<std::pair<std::string, Node>> pairs) {
    Point p;
    p.index = m_spec.points.size();
    p.axes = std::move(pairs);
    for (const auto& [k, v] : p.axes)
      if (k == kIncludeAxis) p.include = config::resolve_path(v);
    // The same order as the child's: base, include file over it (point_config), then --set.
    Node resolved = m_base;
    if (!p.include.empty()) {
      auto it = m_includes.find(p.include);
      if (it == m_includes.end()) it = m_includes.emplace(p.include, config::load_file(p.include)).first;
      config::merge_into(resolved, it->second);
    }
    for (const auto& s : m_spec.fixed_sets) config::apply_override(resolved, s);
    for (const auto& s : p.assignments()) config::apply_override(resolved, s);
    p.hash = config_hash(resolved);
    const auto [seen, is_new] = m_index_of_hash.emplace(p.hash, p.index);
    if (is_new) {
      m_spec.points.push_back(std::move(p));
      return seen->second;
    }
    p.index = seen->second;
    m_spec.duplicates.push_back({std::move(p), seen->second});
    return seen->second;
  }

 private:
  SweepSpec& m_spec;
  const Node m_base;
  std::map<std::string, Node> m_includes;         // each include axis file, loaded once
  std::map<std::string, size_t> m_index_of_hash;  // distinct points so far
};

/// One axis of the product: a list of alternatives, each a set of key → value pairs.
using Axis = std::vector<std::vector<std::pair<std::string, Node>>>;

/// Checks one value of an axis: a value of the include axis must name an existing file
/// (relative to the sweep file), found now rather than at every point.
const Node& axis_value(const std::string& key, const Node& v, const std::string& path) {
  if (key != kIncludeAxis) return v;
  config::as_string(v, path);
  const std::string file = config::resolve_path(v);
  std::error_code missing;  // a name the OS refuses (too long) is missing too, not an exception
  if (!std::filesystem::is_regular_file(file, missing)) throw InputError(v.loc, path, "no such file: " + file);
  return v;
}

Axis read_list_axis(const std::string& key, const Node& values, const std::string& path) {
  config::expect_seq(values, path);
  if (values.seq.empty()) throw InputError(values.loc, path, "an axis needs at least one value");
  Axis axis;
  for (const auto& v : values.seq) axis.push_back({{key, axis_value(key, v, path)}});
  return axis;
}

Axis read_zip_group(const Node& group, const std::string& path) {
  config::expect_map(group, path);
  if (group.map.empty()) throw InputError(group.loc, path, "a zip group needs at least one key");
  size_t n = 0;
  Axis axis;
  for (const auto& e : group.map) {
    const std::string p = path + "." + e.key;
    config::expect_seq(e.value, p);
    if (axis.empty()) {
      n = e.value.seq.size();
      if (n == 0) throw InputError(e.value.loc, p, "an axis needs at least one value");
      axis.resize(n);
    } else if (e.value.seq.size() != n) {
      throw InputError(e.value.loc, p,
                       "zipped lists must have the same length (" + std::to_string(n) + " before, " +
                           std::to_string(e.value.seq.size()) + " here)");
    }
    for (size_t i = 0; i < n; ++i) axis[i].push_back({e.key, axis_value(e.key, e.value.seq[i], p)});
  }
  return axis;
}

/// The size of the cartesian product, formed before anything runs and refused at the first
/// axis that takes it past the `sweep_points` limit (its first value's line).
size_t point_count(const std::vector<Axis>& axes, const std::vector<std::string>& names) {
  const uint64_t max = limits::get(limits::Id::sweep_points);
  size_t total = 1, name = 0;
  for (const Axis& a : axes) {
    if (__builtin_mul_overflow(total, a.size(), &total) || total > max)
      throw InputError(a[0][0].second.loc, names[name],
                       "the axes make more than " + std::to_string(max) +
                           " points (the product of their lengths): split the sweep, or raise the limit with "
                           "--limit sweep_points=N on bpsim sweep");
    name += a[0].size();  // a zip group names several keys
  }
  return total;
}

bool excluded(const std::vector<std::pair<std::string, Node>>& point, const Node& rules) {
  for (const auto& rule : rules.seq) {
    bool all = true;
    for (const auto& e : rule.map) {
      bool match = false;
      for (const auto& [k, v] : point) match = match || (k == e.key && v.to_yaml() == e.value.to_yaml());
      all = all && match;
    }
    if (all) return true;
  }
  return false;
}

}  // namespace

SweepSpec load_sweep(const std::string& path, const std::vector<std::string>& extra_sets) {
  return expand_sweep(config::load_file(path), path, extra_sets);
}

SweepSpec expand_sweep(const Node& root, const std::string& path, const std::vector<std::string>& extra_sets) {
  config::check_keys(root, "", {"base", "set", "axes", "zip", "exclude"});
  SweepSpec spec;
  spec.file = path;
  const Node* base = root.find("base");
  if (!base) throw InputError(root.loc, "", "missing required key 'base' (the config every point starts from)");
  config::as_string(*base, "base");
  spec.base_config = config::resolve_path(*base);
  std::error_code missing;  // a name the OS refuses (too long) is missing too, not an exception
  if (!std::filesystem::exists(spec.base_config, missing))
    throw InputError(base->loc, "base", "no such file: " + spec.base_config);

  if (const Node* set = root.find("set")) {
    config::expect_map(*set, "set");
    for (const auto& e : set->map) spec.fixed_sets.push_back(e.key + "=" + e.value.to_yaml());
  }
  spec.fixed_sets.insert(spec.fixed_sets.end(), extra_sets.begin(), extra_sets.end());

  std::vector<Axis> axes;
  if (const Node* a = root.find("axes")) {
    config::expect_map(*a, "axes");
    for (const auto& e : a->map) {
      axes.push_back(read_list_axis(e.key, e.value, "axes." + e.key));
      spec.axis_names.push_back(e.key);
    }
  }
  if (const Node* z = root.find("zip")) {
    config::expect_seq(*z, "zip");
    for (size_t i = 0; i < z->seq.size(); ++i) {
      axes.push_back(read_zip_group(z->seq[i], "zip[" + std::to_string(i) + "]"));
      for (const auto& e : z->seq[i].map) spec.axis_names.push_back(e.key);
    }
  }
  for (size_t i = 0; i < spec.axis_names.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (spec.axis_names[i] == spec.axis_names[j])
        throw InputError(root.loc, spec.axis_names[i], "key swept by two axes");
  Node no_rules;
  no_rules.type = Node::Type::Sequence;
  const Node* rules = root.find("exclude");
  if (rules) {
    config::expect_seq(*rules, "exclude");
    for (size_t i = 0; i < rules->seq.size(); ++i)
      config::expect_map(rules->seq[i], "exclude[" + std::to_string(i) + "]");
  }

  // Cartesian product, the first axis varying slowest.
  PointAdder add(spec);
  std::vector<size_t> idx(axes.size(), 0);
  const size_t total = point_count(axes, spec.axis_names);
  for (size_t n = 0; n < total; ++n) {
    std::vector<std::pair<std::string, Node>> pairs;
    for (size_t a = 0; a < axes.size(); ++a)
      for (const auto& kv : axes[a][idx[a]]) pairs.push_back(kv);
    if (!excluded(pairs, rules ? *rules : no_rules)) add(std::move(pairs));
    for (size_t a = axes.size(); a-- > 0;) {
      if (++idx[a] < axes[a].size()) break;
      idx[a] = 0;
    }
  }
  if (spec.points.empty()) throw InputError(root.loc, "exclude", "every point is excluded; nothing to run");
  return spec;
}

SweepSpec list_sweep(const std::string& base_config, const std::string& path,
                     const std::vector<std::string>& extra_sets,
                     const std::vector<std::vector<std::pair<std::string, config::Node>>>& points,
                     std::vector<size_t>& index_of) {
  SweepSpec spec;
  spec.file = path;
  spec.base_config = base_config;
  spec.fixed_sets = extra_sets;
  PointAdder add(spec);
  index_of.clear();
  for (const auto& pairs : points) {
    for (const auto& kv : pairs)
      if (std::find(spec.axis_names.begin(), spec.axis_names.end(), kv.first) == spec.axis_names.end())
        spec.axis_names.push_back(kv.first);
    index_of.push_back(add(pairs));
  }
  return spec;
}

}  // namespace bpsim::sweep
