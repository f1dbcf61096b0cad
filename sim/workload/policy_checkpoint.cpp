// none, checkpoint, checkpoint_sequential, full_recompute: whole modules as recompute
// segments (torch.utils.checkpoint around each module of a level of the spec's module
// tree, around runs of them, or around the whole forward).
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "sim/workload/policy.h"

namespace bpsim::workload {

namespace {

/// torch.utils.checkpoint (non-reentrant, as PyTorch recommends; early stop, its default)
/// keeps a segment's inputs only through the tensors the segment saved for backward, and
/// re-runs the segment only to unpack them, stopping once the last one is recomputed. So a
/// segment re-runs up to its last node whose backward reads a forward tensor (an input,
/// activation, statistic or mask; not only weights and gradients), and a segment that saves
/// nothing (a global average pool, which runs as mean(); a flatten, a view) re-runs nothing
/// and keeps nothing. The ops after that node are dropped from the segment's re-run.
void stop_recompute_early(OpGraph& g, const std::vector<int>& op_node) {
  const size_t n = g.ops.size();
  std::vector<bool> saves;
  for (size_t k = 0; k < n; ++k) {
    const Op& o = g.ops[k];
    if ((o.phase != Phase::backward_data && o.phase != Phase::backward_weight) || op_node[k] < 0) continue;
    const bool reads_forward = std::any_of(o.reads.begin(), o.reads.end(), [&](uint32_t t) {
      const TensorRole r = g.tensors[t].role;
      return r == TensorRole::input || r == TensorRole::activation || r == TensorRole::saved || r == TensorRole::mask;
    });
    if (saves.size() <= size_t(op_node[k])) saves.resize(size_t(op_node[k]) + 1, false);
    if (reads_forward) saves[size_t(op_node[k])] = true;
  }
  std::vector<bool> keep(n, true);
  for (size_t k = 0; k < n;) {
    if (g.ops[k].phase != Phase::recompute) {
      ++k;
      continue;
    }
    // One segment's re-run: consecutive recompute ops, its nodes in forward order.
    size_t end = k;
    int last = -1;
    for (; end < n && g.ops[end].phase == Phase::recompute; ++end)
      if (size_t(op_node[end]) < saves.size() && saves[size_t(op_node[end])]) last = std::max(last, op_node[end]);
    for (; k < end; ++k) keep[k] = op_node[k] <= last;
  }
  std::vector<uint32_t> id(n, 0);
  std::vector<Op> kept;
  kept.reserve(n);
  for (size_t k = 0; k < n; ++k) {
    if (!keep[k]) continue;
    id[k] = static_cast<uint32_t>(kept.size());
    kept.push_back(std::move(g.ops[k]));
    Op& o = kept.back();
    o.id = id[k];
    // A kept op never depends on a dropped one: nothing reads what a dropped op wrote.
    for (uint32_t& d : o.deps) d = id[d];
  }
  g.ops = std::move(kept);
}

/// A plan that gives each top-level layer a segment id (-1: stored); its plan nodes follow.
class LayerSegments : public Policy {
 public:
  std::vector<int> plan(const NetSpec& net, const NetPlan& plan) const override {
    const std::vector<int> seg = layer_segments(net);
    std::vector<int> node_seg(plan.nodes.size(), -1);
    for (size_t i = 0; i < plan.nodes.size(); ++i) node_seg[i] = seg[plan.nodes[i].top];
    return node_seg;
  }
  void apply(OpGraph& g, const NetPlan& /*plan*/, const std::vector<int>& op_node) const override {
    stop_recompute_early(g, op_node);
  }

 protected:
  virtual std::vector<int> layer_segments(const NetSpec& net) const = 0;
};

class NoPolicy : public Policy {
 public:
  std::string name() const override { return "none"; }
};

class FullRecompute : public LayerSegments {
 public:
  std::string name() const override { return "full_recompute"; }

 protected:
  std::vector<int> layer_segments(const NetSpec& net) const override { return std::vector<int>(net.layers.size(), 0); }
};

/// Where checkpoint and checkpoint_sequential apply in the module tree.
struct Where {
  std::optional<uint64_t> level;
  std::optional<std::string> at;
};

struct CheckpointParams {
  std::optional<uint64_t> level;
  std::optional<std::string> at;
};

struct SequentialParams {
  size_t segments;
  std::optional<uint64_t> level;
  std::optional<std::string> at;
};

/// The keys of Where, declared once for both kinds.
template <class P>
void where_keys(config::Binder<P>& b) {
  b.integer("level", &P::level, "",
            "depth of the module lists split: 0 the network's top-level modules (default), 1 the modules of each "
            "top-level sequential group, each list on its own, …")
      .range(0, 64);
  b.string("at", &P::at,
           "qualified name of one sequential group (e.g. layer3, or encoder.0): split its modules only (not with "
           "level)");
}

/// A list of sibling modules the policy splits, and what owns it (for messages).
struct ModuleList {
  const std::vector<ModuleSpec>* modules;
  std::string owner;  ///< empty: the network's top level
};

void find_group(const std::vector<ModuleSpec>& list, const std::string& name, std::vector<const ModuleSpec*>& found,
                std::string& names) {
  for (const ModuleSpec& m : list) {
    if (!m.group) continue;
    names += (names.empty() ? "" : ", ") + m.name;
    if (m.name == name) found.push_back(&m);
    find_group(m.children, name, found, names);
  }
}

void groups_at(const std::vector<ModuleSpec>& list, uint64_t depth, std::vector<ModuleList>& out) {
  for (const ModuleSpec& m : list) {
    if (!m.group) continue;
    if (depth == 0) out.push_back({&m.children, m.name});
    else groups_at(m.children, depth - 1, out);
  }
}

/// Applies a split of each module list to its layers: every module at the chosen place
/// gets the segment index its list's split gives it, made unique across lists.
class ModuleSegments : public LayerSegments {
 public:
  ModuleSegments(const Where& w, const config::Values& v) : m_where(w), m_v(v) {}

 protected:
  /// Segment index per module of a list of `n` (-1: runs normally). For messages: `owner`
  /// (empty: the network's top level) and whether the list is of layers only.
  virtual std::vector<int> split(size_t n, const std::string& owner, bool flat) const = 0;

  /// "at layer3" / "level 1" / "" for the name reports show.
  std::string where_text() const {
    if (m_where.at) return "at " + *m_where.at;
    if (m_where.level.value_or(0) > 0) return "level " + std::to_string(*m_where.level);
    return "";
  }

  std::vector<int> layer_segments(const NetSpec& net) const override {
    const std::vector<ModuleSpec> tree = module_tree(net);
    std::vector<ModuleList> lists;
    if (m_where.at && m_where.level)
      throw m_v.error("at", "give either 'at' (one group) or 'level' (every list at a depth), not both");
    if (m_where.at) {
      std::vector<const ModuleSpec*> found;
      std::string names;
      find_group(tree, *m_where.at, found, names);
      if (found.size() != 1)
        throw m_v.error("at", found.empty()
                                  ? fmt::format("no sequential group is named '{}' (groups: {})", *m_where.at,
                                                names.empty() ? "none" : names)
                                  : fmt::format("{} sequential groups are named '{}'", found.size(), *m_where.at));
      lists.push_back({&found[0]->children, found[0]->name});
    } else if (const uint64_t level = m_where.level.value_or(0); level == 0) {
      lists.push_back({&tree, ""});
    } else {
      groups_at(tree, level - 1, lists);
      if (lists.empty())
        throw m_v.error("level", fmt::format("no sequential group has its modules at level {} (level 0 is the "
                                             "network's top level, 1 the modules of its top-level groups)",
                                             level));
    }
    std::vector<int> seg(net.layers.size(), -1);
    int next = 0;
    for (const ModuleList& l : lists) {
      const std::vector<ModuleSpec>& mods = *l.modules;
      const bool flat = std::none_of(mods.begin(), mods.end(), [](const ModuleSpec& m) { return m.group; });
      const std::vector<int> s = split(mods.size(), l.owner, flat);
      int used = 0;
      for (size_t m = 0; m < mods.size(); ++m) {
        if (s[m] < 0) continue;
        for (size_t t = mods[m].first; t < mods[m].end; ++t) seg[t] = next + s[m];
        used = std::max(used, s[m] + 1);
      }
      next += used;
    }
    return seg;
  }

  Where m_where;
  config::Values m_v;  ///< where the keys were written, for messages
};

class Checkpoint : public ModuleSegments {
 public:
  Checkpoint(const CheckpointParams& p, const config::Values& v) : ModuleSegments({p.level, p.at}, v) {}
  std::string name() const override {
    const std::string w = where_text();
    return w.empty() ? "checkpoint" : "checkpoint(" + w + ")";
  }

 protected:
  std::vector<int> split(size_t n, const std::string& /*owner*/, bool /*flat*/) const override {
    std::vector<int> seg(n);
    for (size_t i = 0; i < n; ++i) seg[i] = static_cast<int>(i);
    return seg;
  }
};

class CheckpointSequential : public ModuleSegments {
 public:
  CheckpointSequential(const SequentialParams& p, const config::Values& v)
      : ModuleSegments({p.level, p.at}, v), m_segments(p.segments) {}
  std::string name() const override {
    const std::string w = where_text();
    return "checkpoint_sequential(" + std::to_string(m_segments) + (w.empty() ? "" : ", " + w) + ")";
  }

 protected:
  std::vector<int> split(size_t n, const std::string& owner, bool flat) const override {
    if (m_segments > n) {
      const std::string has = owner.empty()
                                  ? fmt::format("the network has only {} top-level {}", n, flat ? "layers" : "modules")
                                  : fmt::format("group '{}' has only {} modules", owner, n);
      throw m_v.error("segments", fmt::format("{} segments but {} (give 1 to {})", m_segments, has, n));
    }
    // torch.utils.checkpoint.checkpoint_sequential: segments of ⌊n/segments⌋ modules;
    // the first segments−1 are checkpointed, the rest (the last part) runs normally.
    std::vector<int> seg(n, -1);
    const size_t size = n / m_segments;
    for (size_t k = 0; k + 1 < m_segments; ++k)
      for (size_t i = k * size; i < (k + 1) * size; ++i) seg[i] = static_cast<int>(k);
    return seg;
  }

 private:
  size_t m_segments;
};

}  // namespace

void register_checkpoint_policies(std::vector<PolicyRegistry::Entry>& out) {
  out.push_back(entry<NoPolicy>("none", "every activation backward reads is stored"));
  config::Binder<CheckpointParams> checkpoint(
      "checkpoint",
      "checkpoint every module of a level (default: every top-level layer or group): only its input is stored, its "
      "forward re-runs before its backward");
  where_keys(checkpoint);
  out.push_back(entry<Checkpoint>(checkpoint));
  config::Binder<SequentialParams> sequential(
      "checkpoint_sequential",
      "PyTorch checkpoint_sequential: `segments` runs of ⌊modules/segments⌋ modules of a level, all but the last "
      "checkpointed");
  sequential.integer("segments", &SequentialParams::segments, "", "number of segments").def(2).range(1, 1 << 20);
  where_keys(sequential);
  out.push_back(entry<CheckpointSequential>(sequential));
  out.push_back(entry<FullRecompute>("full_recompute",
                                     "store only the network input; the whole forward re-runs before the backward"));
}

}  // namespace bpsim::workload
