#include "sim/core/limits.h"

#include <array>

#include "sim/core/binder.h"
#include "sim/core/error.h"

namespace bpsim::limits {

namespace {

struct Decl {
  const char* name;
  uint64_t def;
  const char* unit;
  const char* what;
};

constexpr uint64_t kMiB = uint64_t(1) << 20;

// Defaults (README "Limits" explains each): far above any real input, low enough that a
// crafted file stops in well under a second of work and a few tens of MB of memory.
constexpr std::array<Decl, kCount> kDecls = {{
    {"line_bytes", 1 * kMiB, "B", "longest line of a JSONL trace or SCALE-Sim CSV"},
    {"trace_bytes", 2048 * kMiB, "B", "bytes of a JSONL trace after gzip decompression"},
    {"chakra_bytes", 256 * kMiB, "B", "bytes of a Chakra .et after gzip decompression (read whole into memory)"},
    {"ops", uint64_t(1) << 22, "", "ops of a trace, Chakra nodes, or ops a SCALE-Sim topology expands to"},
    {"tensors", uint64_t(1) << 22, "", "tensors of a trace or Chakra file; a trace's tensor ids must be below it"},
    {"bitmap_bytes", 64 * kMiB, "B", "bytes of one output-mask bitmap file"},
    {"scalesim_dim", uint64_t(1) << 24, "", "largest size field of a SCALE-Sim row (dims, channels, filters, strides)"},
    // 10^6 layers already take 23 s and 1.2 GB to build a step; 10^5 stops nested repeats
    // (10^5 × 10^5) in about a second.
    {"layers", 100000, "", "layers of a workload spec once its repeat groups are expanded"},
    // Parsing recurses once per level; real networks nest 2 or 3 deep (torchvision: stage,
    // block). Bounded above by the YAML reader's 64 levels, two per group.
    {"nesting", 8, "", "depth of a workload spec's layer groups (repeat, sequential, residual)"},
    // Each point is a simulation: more is an axis too many. 2^40 points hung the sweep reader,
    // 64 two-value axes wrapped the count to 0 (both found by fuzzing).
    {"sweep_points", 10000, "", "points of a sweep (the product of its axes' lengths)"},
}};

std::array<uint64_t, kDecls.size()> g_values = [] {
  std::array<uint64_t, kDecls.size()> v{};
  for (size_t i = 0; i < kDecls.size(); ++i) v[i] = kDecls[i].def;
  return v;
}();

}  // namespace

uint64_t get(Id id) { return g_values[size_t(id)]; }
const char* name(Id id) { return kDecls[size_t(id)].name; }

const config::Binder<Table>& binder() {
  static const auto b = [] {
    config::Binder<Table> l("limits", "input readers' resource limits (README: Limits)");
    for (size_t i = 0; i < kDecls.size(); ++i) {
      const config::Into<Table, uint64_t> entry{[i](Table& t, uint64_t v) { t.values[i] = v; }};
      l.integer(kDecls[i].name, entry, kDecls[i].unit, kDecls[i].what).def(int64_t(kDecls[i].def)).at_least(1);
    }
    return l;
  }();
  return b;
}

void apply(const Table& table) { g_values = table.values; }

void apply_flag(const std::string& text) {
  const size_t eq = text.find('=');
  const std::string key = text.substr(0, eq), value = eq == std::string::npos ? "" : text.substr(eq + 1);
  std::string names;
  for (size_t i = 0; i < kDecls.size(); ++i) {
    names += (i ? ", " : "") + std::string(kDecls[i].name);
    if (key != kDecls[i].name) continue;
    // At most 18 digits: always below 2^63, so the value cannot wrap.
    if (value.empty() || value.size() > 18 || value.find_first_not_of("0123456789") != std::string::npos ||
        std::stoull(value) == 0)
      throw InputError("--limit " + text + ": expected NAME=N with N a positive integer below 10^18");
    g_values[i] = std::stoull(value);
    return;
  }
  throw InputError("--limit " + text + ": unknown limit '" + key + "' (valid: " + names + ")");
}

std::string exceeded(Id id, const std::string& what) {
  const std::string n = name(id), v = std::to_string(get(id));
  return what + " (limit " + n + " = " + v + "; raise it with run.limits." + n + " in the config, --set run.limits." +
         n + "=N, or --limit " + n + "=N on bpsim trace, workload or sweep)";
}

}  // namespace bpsim::limits
