#include "sim/workload/recompute.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>
#include <numeric>

#include "sim/workload/builder.h"

namespace bpsim::workload {

double CostModel::operator()(const OpGraph& g, const Op& o) const {
  if (custom) return custom(g, o);
  const double flops = 2.0 * double(o.macs) + double(o.flops);
  if (kind == Kind::flops) return flops;
  double bytes = 0;
  for (uint32_t t : o.reads) bytes += double(g.tensors[t].bytes);
  for (uint32_t t : o.writes) bytes += double(g.tensors[t].bytes);
  return std::max(flops / flops_per_cycle, bytes / bytes_per_cycle);
}

std::string CostModel::name() const {
  if (custom) return "custom";
  return kind == Kind::flops ? "flops" : "roofline";
}

std::vector<NodeCost> node_costs(const OpGraph& base, const std::vector<int>& op_node, size_t nodes,
                                 const CostModel& cost) {
  // A forward tensor is stored when anything after the forward reads it (the loss included).
  std::vector<bool> read_later(base.tensors.size(), false);
  for (const Op& o : base.ops)
    if (o.phase != Phase::forward)
      for (uint32_t t : o.reads) read_later[t] = true;
  std::vector<NodeCost> out(nodes);
  for (const Op& o : base.ops) {
    if (o.phase != Phase::forward || op_node[o.id] < 0) continue;
    NodeCost& c = out[size_t(op_node[o.id])];
    c.has_ops = true;
    c.cost += cost(base, o);
    for (uint32_t t : o.writes)
      if (read_later[t]) c.size += base.tensors[t].bytes;
  }
  return out;
}

std::vector<int> segments_of(const std::vector<bool>& chosen, const std::vector<NodeCost>& costs) {
  const size_t n = chosen.size();
  std::vector<int> seg(n, -1);
  int next = 0;
  for (size_t i = 0; i < n; ++i) {
    const bool bridge = !costs[i].has_ops && i > 0 && i + 1 < n && chosen[i - 1] && chosen[i + 1];
    if (!chosen[i] && !bridge) continue;
    seg[i] = i > 0 && seg[i - 1] >= 0 ? seg[i - 1] : next++;
  }
  return seg;
}

void splice_ops(OpGraph& g, std::vector<std::vector<Op>> before, std::vector<std::vector<Op>> after) {
  std::vector<Op> out;
  out.reserve(g.ops.size());
  for (size_t k = 0; k < g.ops.size(); ++k) {
    for (Op& o : before[k]) out.push_back(std::move(o));
    out.push_back(std::move(g.ops[k]));
    for (Op& o : after[k]) out.push_back(std::move(o));
  }
  std::vector<int64_t> producer(g.tensors.size(), -1);
  for (size_t i = 0; i < out.size(); ++i) {
    Op& o = out[i];
    o.id = static_cast<uint32_t>(i);
    o.deps.clear();
    for (uint32_t t : o.reads)
      if (producer[t] >= 0 && std::find(o.deps.begin(), o.deps.end(), uint32_t(producer[t])) == o.deps.end())
        o.deps.push_back(uint32_t(producer[t]));
    for (uint32_t t : o.writes) producer[t] = int64_t(i);
  }
  g.ops = std::move(out);
}

double recompute_cost(const OpGraph& g, const CostModel& cost) {
  double c = 0;
  for (const Op& o : g.ops)
    if (o.phase == Phase::recompute) c += cost(g, o);
  return c;
}

namespace {
/// Walks a plan's stages in order: `stage(i, j, in, kept_before)` for each segment [i, j)
/// (j = i + 1 and in = ~0 for a stored stage); returns the bytes kept after the forward.
template <typename F>
uint64_t walk_plan(const ChainModel& m, const std::vector<int>& seg, F&& on_segment) {
  const size_t n = m.size();
  uint64_t mem = 0;
  bool counted = true;  // the first stage's input is the network input, never counted
  for (size_t i = 0; i < n;) {
    if (seg[i] < 0) {
      mem += m.stored[i];
      on_segment(i, i + 1, mem - m.stored[i]);
      counted = m.out_kept_stored[i];
      ++i;
      continue;
    }
    size_t j = i;
    while (j < n && seg[j] == seg[i]) ++j;
    const uint64_t in = counted ? 0 : m.out[i - 1];
    on_segment(i, j, mem + in);
    mem += in + m.kept[i][j];
    counted = m.out_kept_after[j - 1];
    i = j;
  }
  return mem;
}
}  // namespace

uint64_t chain_kept(const ChainModel& m, const std::vector<int>& seg) {
  return walk_plan(m, seg, [](size_t, size_t, uint64_t) {});
}

uint64_t chain_memory(const ChainModel& m, const std::vector<int>& seg) {
  uint64_t peak = 0;
  const uint64_t kept = walk_plan(m, seg, [&](size_t i, size_t j, uint64_t before) {
    uint64_t inside = 0, grad = 0;
    for (size_t t = i; t < j; ++t) {
      inside += m.stored[t];
      grad = std::max(grad, m.grad.empty() ? 0 : m.grad[t]);
    }
    peak = std::max(peak, before + inside + grad);
  });
  return std::max(peak, kept);
}

std::vector<int> chain_optimal(const ChainModel& m, uint64_t budget) {
  const size_t n = m.size();
  // Per prefix and per "is the last output already kept", a Pareto front of (kept bytes,
  // cost). Kept bytes only grow along a plan and a segment's check needs only the bytes
  // kept before it, so pruning dominated entries loses nothing: exact for chain_memory.
  struct Entry {
    uint64_t mem = 0;
    double cost = 0;
    int from_i = -1, from_f = 0, from_k = -1;  ///< predecessor: prefix length, flag, entry
    bool segment = false;                      ///< the stages from from_i to here are one recomputed segment
  };
  auto prune = [](std::vector<Entry>& f) {
    std::sort(f.begin(), f.end(),
              [](const Entry& a, const Entry& b) { return a.mem < b.mem || (a.mem == b.mem && a.cost < b.cost); });
    std::vector<Entry> kept;
    for (const Entry& e : f)
      if (kept.empty() || e.cost < kept.back().cost) kept.push_back(e);
    f = std::move(kept);
  };
  auto grad = [&](size_t t) { return m.grad.empty() ? uint64_t{0} : m.grad[t]; };
  // front[i][f]: plans of stages [0, i); f = 1 when stage i − 1's output is kept anyway.
  std::vector<std::array<std::vector<Entry>, 2>> front(n + 1);
  front[0][1].push_back(Entry{});
  for (size_t i = 0; i < n; ++i) {
    for (int f = 0; f < 2; ++f) {
      prune(front[i][size_t(f)]);
      for (size_t k = 0; k < front[i][size_t(f)].size(); ++k) {
        const Entry e = front[i][size_t(f)][k];
        if (e.mem + m.stored[i] + grad(i) <= budget)
          front[i + 1][m.out_kept_stored[i]].push_back(Entry{e.mem + m.stored[i], e.cost, int(i), f, int(k), false});
        const uint64_t before = e.mem + (f ? 0 : m.out[i - 1]);  // the segment's input is kept for its recompute
        uint64_t inside = 0, g = 0;
        double c = e.cost;
        for (size_t j = i + 1; j <= n; ++j) {
          inside += m.stored[j - 1];
          g = std::max(g, grad(j - 1));
          c += m.cost[j - 1];
          if (before + inside + g > budget) break;  // its recompute does not fit
          const uint64_t mem = before + m.kept[i][j];
          if (mem > budget) continue;
          front[j][m.out_kept_after[j - 1]].push_back(Entry{mem, c, int(i), f, int(k), true});
        }
      }
    }
  }
  std::vector<int> best_plan;
  double best_cost = std::numeric_limits<double>::infinity();
  uint64_t best_mem = 0;
  for (int f = 0; f < 2; ++f) {
    prune(front[n][size_t(f)]);
    for (size_t k = 0; k < front[n][size_t(f)].size(); ++k) {
      const Entry& e = front[n][size_t(f)][k];
      if (e.cost > best_cost || (e.cost == best_cost && e.mem >= best_mem)) continue;
      best_cost = e.cost;
      best_mem = e.mem;
      best_plan.assign(n, -1);
      for (int i = int(n), ff = f, kk = int(k); i > 0;) {
        const Entry& x = front[size_t(i)][size_t(ff)][size_t(kk)];
        if (x.segment)
          for (int t = x.from_i; t < i; ++t) best_plan[size_t(t)] = x.from_i;  // id: its first stage
        i = x.from_i;
        ff = x.from_f;
        kk = x.from_k;
      }
    }
  }
  return best_plan;
}

StepAnalysis analyse_step(const NetSpec& net, const NetPlan& plan, const CostModel& cost, bool measure_saved) {
  StepAnalysis a;
  const size_t n = plan.nodes.size();
  a.base = build_with_segments(net, plan, std::vector<int>(n, -1), &a.op_node);
  account_memory(a.base);
  a.nodes = node_costs(a.base, a.op_node, n, cost);
  for (size_t i = 0; i < n; ++i) {
    if (!measure_saved || a.nodes[i].size == 0) continue;  // stores nothing: recomputing it frees nothing
    std::vector<int> alone(n, -1);
    alone[i] = 0;
    OpGraph g = build_with_segments(net, plan, alone);
    account_memory(g);
    a.nodes[i].saved = int64_t(a.base.memory.saved_after_forward_bytes) - int64_t(g.memory.saved_after_forward_bytes);
  }
  return a;
}

namespace {

using Base = StepAnalysis;

uint64_t peak_of(const NetSpec& net, const NetPlan& plan, const std::vector<int>& node_seg) {
  OpGraph g = build_with_segments(net, plan, node_seg);
  account_memory(g);
  return g.memory.peak_bytes;
}

bool is_chain(const NetPlan& plan) {
  for (size_t i = 0; i < plan.nodes.size(); ++i)
    if (plan.nodes[i].in.size() != 1 || plan.nodes[i].in[0] != int(i) - 1) return false;
  return true;
}

double plan_cost(const NetSpec& net, const NetPlan& plan, const std::vector<int>& node_seg, const CostModel& cost) {
  return recompute_cost(build_with_segments(net, plan, node_seg), cost);
}

}  // namespace

/// threshold: store a node when its recompute cost per byte that storing it takes (the
/// bytes recomputing it alone frees) exceeds the threshold; each other node that frees
/// memory is recomputed as a segment of its own (torch.utils.checkpoint around that op,
/// as Megatron-LM does for the attention core), so the savings add up.
std::vector<int> threshold_plan(const Base& b, double threshold) {
  std::vector<int> seg(b.nodes.size(), -1);
  for (size_t i = 0; i < b.nodes.size(); ++i) {
    const NodeCost& c = b.nodes[i];
    if (c.saved > 0 && c.cost / double(c.saved) <= threshold) seg[i] = int(i);
  }
  return seg;
}

/// evaluation: operators in order of stored bytes per unit of recompute cost (the most
/// memory for the least work first) are added to the recomputed set until the peak fits.
std::vector<int> evaluation_plan(const NetSpec& net, const NetPlan& plan, const Base& b, uint64_t budget) {
  const size_t n = b.nodes.size();
  std::vector<size_t> order;
  for (size_t i = 0; i < n; ++i)
    if (b.nodes[i].size > 0) order.push_back(i);
  auto param = [&](size_t i) {
    const NodeCost& c = b.nodes[i];
    return c.cost > 0 ? double(c.size) / c.cost : std::numeric_limits<double>::infinity();
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return param(x) > param(y); });
  std::vector<bool> chosen(n, false);
  std::vector<int> seg(n, -1);
  uint64_t least = peak_of(net, plan, seg);
  if (least <= budget) return seg;
  for (size_t i : order) {
    chosen[i] = true;
    seg = segments_of(chosen, b.nodes);
    const uint64_t peak = peak_of(net, plan, seg);
    if (peak <= budget) return seg;
    least = std::min(least, peak);
  }
  throw BudgetError(
      fmt::format("budget_bytes {} cannot be met: the least peak evaluation reaches (recomputing "
                  "operators in order of bytes per unit cost) is {} bytes",
                  budget, least));
}

ChainModel chain_model(const NetPlan& plan, const StepAnalysis& b, std::vector<size_t>& stage) {
  const size_t n = plan.nodes.size();
  const bool chain = is_chain(plan);
  stage.assign(n, 0);
  for (size_t i = 0; i < n; ++i) stage[i] = chain ? i : plan.nodes[i].top;
  const size_t stages = n ? stage[n - 1] + 1 : 0;
  const OpGraph& g = b.base;
  ChainModel m;
  m.cost.assign(stages, 0);
  m.stored.assign(stages, 0);
  m.out.assign(stages, 0);
  m.out_kept_stored.assign(stages, false);
  m.out_kept_after.assign(stages, false);
  m.kept.assign(stages, std::vector<uint64_t>(stages + 1, 0));
  for (size_t i = 0; i < n; ++i) m.cost[stage[i]] += b.nodes[i].cost;
  // Per tensor: the stage whose forward wrote it and the last stage whose backward (or
  // recompute) reads it; the loss and the update count as after every stage.
  std::vector<int> writer(g.tensors.size(), -1), last_reader(g.tensors.size(), -1);
  for (const Op& o : g.ops) {
    const int node = b.op_node[o.id];
    if (o.phase == Phase::forward) {
      if (node < 0) continue;  // the loss: after every stage, like its backward
      for (uint32_t t : o.writes) writer[t] = int(stage[size_t(node)]);
      continue;
    }
    const int st = node < 0 ? int(stages) : int(stage[size_t(node)]);
    for (uint32_t t : o.reads) last_reader[t] = std::max(last_reader[t], st);
  }
  // Stage outputs: the first tensor a stage's last forward op writes (emit_forward writes
  // the output first); a view (flatten) passes its input on.
  std::vector<int> out_tensor(stages, -1);
  for (const Op& o : g.ops)
    if (o.phase == Phase::forward && !o.writes.empty() && b.op_node[o.id] >= 0)
      out_tensor[stage[size_t(b.op_node[o.id])]] = int(o.writes[0]);
  for (size_t t = 0; t < stages; ++t) {
    if (out_tensor[t] < 0 && t > 0) out_tensor[t] = out_tensor[t - 1];
    if (out_tensor[t] < 0) continue;
    const uint32_t x = uint32_t(out_tensor[t]);
    m.out[t] = g.tensors[x].bytes;
    m.out_kept_stored[t] = last_reader[x] >= 0;
    m.out_kept_after[t] = last_reader[x] > int(t);
  }
  // grad[t]: what is live during stage t's backward ops besides forward tensors, from the
  // liveness walk of a copy of the step whose forward tensors weigh nothing.
  {
    OpGraph light = g;
    for (uint32_t x = 0; x < light.tensors.size(); ++x)
      if (writer[x] >= 0) light.tensors[x].bytes = 0;
    const std::vector<uint64_t> live = memory_timeline(light);
    m.grad.assign(stages, 0);
    for (const Op& o : g.ops)
      if (o.phase != Phase::forward && b.op_node[o.id] >= 0) {
        uint64_t& gr = m.grad[stage[size_t(b.op_node[o.id])]];
        gr = std::max(gr, live[o.id]);
      }
  }
  // kept[i][j] = Σ bytes of tensors written in [i, j) and read by a stage ≥ j.
  for (uint32_t x = 0; x < g.tensors.size(); ++x) {
    if (writer[x] < 0 || last_reader[x] < 0) continue;
    const size_t w = size_t(writer[x]);
    m.stored[w] += g.tensors[x].bytes;
    for (size_t j = w + 1; j <= std::min(stages, size_t(last_reader[x])); ++j)
      for (size_t i = 0; i <= w; ++i) m.kept[i][j] += g.tensors[x].bytes;
  }
  return m;
}

namespace {

/// chain_optimal over plan nodes when they form a chain, else over top-level layers (which
/// always form a chain), checked against the real peak.
std::vector<int> chain_plan(const NetSpec& net, const NetPlan& plan, const Base& b, uint64_t budget) {
  const size_t n = plan.nodes.size();
  const bool chain = is_chain(plan);
  std::vector<size_t> stage;
  const ChainModel m = chain_model(plan, b, stage);
  const size_t stages = m.size();
  std::vector<int> seg(n, -1);
  uint64_t least = peak_of(net, plan, seg);
  if (least <= budget) return seg;
  // Every stage its own segment (checkpoint everything): usually near the least peak, so
  // an unmeetable budget's message can say what is reachable.
  std::vector<int> every(n);
  for (size_t i = 0; i < n; ++i) every[i] = int(stage[i]);
  least = std::min(least, peak_of(net, plan, every));
  // The model is close to the liveness walk but not equal to it, so the model's Pareto
  // front is walked from the top (no recomputation) down: each round takes the cheapest
  // plan under the model budget, checks its real peak, and if that does not fit, the next
  // model budget is just below this plan's model memory. Costs only grow along the walk,
  // so the first plan that really fits is the cheapest on the front that does.
  uint64_t model = std::numeric_limits<uint64_t>::max();
  for (int round = 0; round < 4096; ++round) {
    const std::vector<int> s = chain_optimal(m, model);
    if (s.empty()) break;
    for (size_t i = 0; i < n; ++i) seg[i] = s[stage[i]];
    const uint64_t peak = peak_of(net, plan, seg);
    if (peak <= budget) return seg;
    least = std::min(least, peak);
    const uint64_t mem = chain_memory(m, s);
    if (mem == 0) break;
    model = std::min(model, mem) - 1;
  }
  throw BudgetError(
      fmt::format("budget_bytes {} cannot be met: the least peak optimal reaches ({} chain of {} {}) "
                  "is {} bytes",
                  budget, chain ? "a" : "the", stages, chain ? "operators" : "top-level layers", least));
}

}  // namespace

std::vector<int> optimal_plan(const NetSpec& net, const NetPlan& plan, const StepAnalysis& a, uint64_t budget,
                              const CostModel& cost) {
  std::vector<int> best = chain_plan(net, plan, a, budget);
  // The DP's memory model is close to the liveness walk but not equal to it (and off
  // chains it sees only whole top-level layers, not the attention core alone), so a
  // plan off its front can fit for less: keep the cheaper of the DP's plan and
  // evaluation's when evaluation's fits too. optimal is never worse than evaluation.
  try {
    std::vector<int> ev = evaluation_plan(net, plan, a, budget);
    if (plan_cost(net, plan, ev, cost) < plan_cost(net, plan, best, cost)) best = ev;
  } catch (const BudgetError&) {
  }
  return best;
}

}  // namespace bpsim::workload
