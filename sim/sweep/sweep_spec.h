#pragma once
/// A sweep: a base config plus axes (config key path → list of values), expanded into
/// points. Each point is the base config with `--set` assignments, keyed by a hash of
/// the resolved config so that re-running a sweep skips finished points. The axis key
/// `include` varies a whole file instead: each value is merged over the base config.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/config_node.h"

namespace bpsim::sweep {

/// The axis key whose values are files merged over the base config, not config values.
inline constexpr const char* kIncludeAxis = "include";

struct Point {
  size_t index = 0;
  std::vector<std::pair<std::string, config::Node>> axes;  ///< key path → value, in axis order
  std::string include;  ///< the include axis's file (resolved against the sweep file), or empty
  std::string hash;     ///< 16 hex digits of the resolved config
  std::vector<std::string> assignments() const;  ///< "key.path=value" for --set (the include axis is not one)
  std::string label() const;                     ///< every axis as "key=value", for messages
};

/// A point whose resolved config equals an earlier point's: it is not run again, its
/// result is that point's.
struct Duplicate {
  Point point;         ///< its axes and hash (its index is the distinct point's)
  size_t same_as = 0;  ///< index of the distinct point it equals
};

struct SweepSpec {
  std::string file;
  std::string base_config;              ///< path resolved against the sweep file
  std::vector<std::string> fixed_sets;  ///< `set:` entries and command-line --set, applied to every point
  std::vector<std::string> axis_names;
  std::vector<Point> points;          ///< the distinct points, indexed 0, 1, …
  std::vector<Duplicate> duplicates;  ///< folded into `points`, in sweep order
};

/// Parses and expands a sweep file (cartesian `axes`, `zip` groups, `exclude` filters);
/// points with the same resolved config are folded into the first (`duplicates`).
/// Throws InputError with file:line:col on bad input.
SweepSpec load_sweep(const std::string& path, const std::vector<std::string>& extra_sets);
/// The same from a sweep already parsed (or made by a command, as bpsim compare makes one
/// over the policy kind); `path` names it in the results.
SweepSpec expand_sweep(const config::Node& root, const std::string& path, const std::vector<std::string>& extra_sets);

/// A sweep of listed points (bpsim compare's variants), each its own key → value pairs over
/// `base_config` and `extra_sets`; the axes are every key some point sets, in order of first
/// use (a point leaves the others as the config has them). `index_of[i]`: the index of the
/// point that runs list entry i (an earlier entry's when their configs are the same).
SweepSpec list_sweep(const std::string& base_config, const std::string& path,
                     const std::vector<std::string>& extra_sets,
                     const std::vector<std::vector<std::pair<std::string, config::Node>>>& points,
                     std::vector<size_t>& index_of);

/// The config file a point runs: the base config itself, or (with an include axis) a file
/// written into `dir` that includes the base and then the point's file, so that the
/// child's errors still point at the lines of both.
std::string point_config(const SweepSpec& spec, const Point& p, const std::string& dir);

/// FNV-1a 64 of the resolved config text, as 16 hex digits: stable across runs and machines.
std::string config_hash(const config::Node& resolved);

}  // namespace bpsim::sweep
