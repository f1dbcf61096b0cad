#include "sim/system/schedule.h"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>
#include <queue>
#include <set>
#include <stdexcept>
#include <tuple>
#include <unordered_set>

#include "sim/core/error.h"

namespace bpsim::system {

using workload::OpGraph;

uint64_t carried_bytes(const OpGraph& g, uint32_t producer, uint32_t consumer, std::vector<uint32_t>* tensors) {
  uint64_t bytes = 0;
  const workload::Op& p = g.ops.at(producer);
  const workload::Op& c = g.ops.at(consumer);
  for (uint32_t t : p.writes)
    if (std::find(c.reads.begin(), c.reads.end(), t) != c.reads.end()) {
      bytes += g.tensors.at(t).bytes;
      if (tensors) tensors->push_back(t);
    }
  return bytes;
}

double carry_seconds(const Fabric& f, const std::vector<uint32_t>& memory_owner, uint32_t a, uint32_t b,
                     uint64_t bytes) {
  const uint32_t ma = memory_owner.at(a), mb = memory_owner.at(b);
  if (ma == mb) return 0;
  return transfer_seconds(f.link, bytes, uint32_t(route(f, ma, mb).size()));
}

namespace {

/// The list scheduler's state across the stages of one placement.
struct ListState {
  std::vector<double> device_free;  ///< per device
  std::vector<double> memory_free;  ///< per memory owner: the one DRAM serves one op at a time
  std::vector<std::unordered_set<uint32_t>> resident;  ///< per memory owner: tensors counted
  std::vector<uint64_t> footprint;                     ///< per memory owner: their bytes
  std::vector<double> finish;                          ///< per op (estimate)
};

/// Schedules `ops` (a subset of the graph, closed under the deps it honours) onto the
/// devices; deps on ops outside `in_set` count as ready at `release` with no transfer.
void list_schedule(const ScheduleProblem& p, const std::vector<uint32_t>& ops, const std::vector<uint8_t>& in_set,
                   double release, ListState& st, Placement& out) {
  const OpGraph& g = *p.graph;
  const uint32_t devices = uint32_t(p.memory_owner.size());
  // Mean cost over candidates; mean transfer on an edge: one hop's α–β, times the chance that
  // two devices drawn at random differ.
  std::vector<double> mean(g.ops.size(), 0);
  for (uint32_t o : ops) {
    double s = 0;
    int n = 0;
    for (uint32_t d = 0; d < devices; ++d)
      if (p.cost_s[o][d] >= 0) s += p.cost_s[o][d], ++n;
    mean[o] = n ? s / n : 0;
  }
  const double differ = devices > 1 ? double(devices - 1) / devices : 0;
  std::vector<std::vector<uint32_t>> succ(g.ops.size());
  for (uint32_t o : ops)
    for (uint32_t d : g.ops[o].deps)
      if (in_set[d]) succ[d].push_back(o);
  std::vector<double> rank(g.ops.size(), 0);
  for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
    double best = 0;
    for (uint32_t s : succ[*it]) {
      const double c = differ * transfer_seconds(p.fabric.link, carried_bytes(g, *it, s), 1);
      best = std::max(best, c + rank[s]);
    }
    rank[*it] = mean[*it] + best;
  }
  std::vector<uint32_t> by_rank = ops;
  std::stable_sort(by_rank.begin(), by_rank.end(), [&](uint32_t a, uint32_t b) {
    return rank[a] > rank[b] || (rank[a] == rank[b] && a < b);
  });
  for (uint32_t o : by_rank) {
    const workload::Op& op = g.ops[o];
    std::vector<uint32_t> touched = op.reads;
    touched.insert(touched.end(), op.writes.begin(), op.writes.end());
    double best_end = std::numeric_limits<double>::infinity();
    int best = -1;
    bool any_candidate = false;
    for (uint32_t d = 0; d < devices; ++d) {
      if (p.cost_s[o][d] < 0) continue;
      any_candidate = true;
      const uint32_t m = p.memory_owner[d];
      uint64_t add = 0;
      std::unordered_set<uint32_t> seen;
      for (uint32_t t : touched)
        if (!st.resident[m].count(t) && seen.insert(t).second) add += g.tensors[t].bytes;
      if (st.footprint[m] + add > p.budget_bytes[m]) continue;
      double ready = std::max({release, st.device_free[d], st.memory_free[m]});
      for (uint32_t dep : op.deps) {
        if (!in_set[dep]) continue;
        ready = std::max(ready, st.finish[dep] + carry_seconds(p.fabric, p.memory_owner, out.device_of[dep], d,
                                                               carried_bytes(g, dep, o)));
      }
      const double end = ready + p.cost_s[o][d];
      if (end < best_end) best_end = end, best = int(d);
    }
    if (best < 0 && any_candidate)
      throw InputError("placement: no device has memory for op '" + op.name +
                       "' (every candidate's memory budget is full: raise memory_budget_mb or add a device)");
    if (best < 0) {  // no device can estimate it: the fallback runs it, at no estimated cost
      best = int(p.fallback);
      double ready = std::max({release, st.device_free[p.fallback], st.memory_free[p.memory_owner[p.fallback]]});
      for (uint32_t dep : op.deps)
        if (in_set[dep]) ready = std::max(ready, st.finish[dep]);
      best_end = ready;
    }
    const uint32_t d = uint32_t(best), m = p.memory_owner[d];
    for (uint32_t t : touched)
      if (st.resident[m].insert(t).second) st.footprint[m] += g.tensors[t].bytes;
    out.device_of[o] = d;
    out.order[d].push_back(o);
    st.finish[o] = best_end;
    st.device_free[d] = best_end;
    st.memory_free[m] = best_end;
    out.estimate_s = std::max(out.estimate_s, best_end);
  }
}

ListState fresh_state(const ScheduleProblem& p) {
  const size_t devices = p.memory_owner.size();
  ListState st;
  st.device_free.assign(devices, 0);
  st.memory_free.assign(devices, 0);
  st.resident.resize(devices);
  st.footprint.assign(devices, 0);
  st.finish.assign(p.graph->ops.size(), 0);
  return st;
}

Placement empty_placement(const ScheduleProblem& p) {
  Placement out;
  out.device_of.assign(p.graph->ops.size(), 0);
  out.order.resize(p.memory_owner.size());
  out.stage.assign(p.graph->ops.size(), 0);
  return out;
}

}  // namespace

Placement schedule_joint(const ScheduleProblem& p) {
  Placement out = empty_placement(p);
  std::vector<uint32_t> ops(p.graph->ops.size());
  std::iota(ops.begin(), ops.end(), 0u);
  const std::vector<uint8_t> all(ops.size(), 1);
  ListState st = fresh_state(p);
  list_schedule(p, ops, all, 0, st, out);
  return out;
}

Placement schedule_split(const ScheduleProblem& p) {
  const OpGraph& g = *p.graph;
  Placement out = empty_placement(p);
  std::vector<uint32_t> fwd, bwd;
  std::vector<uint8_t> in_fwd(g.ops.size(), 0), in_bwd(g.ops.size(), 0);
  for (const workload::Op& o : g.ops) {
    const bool f = o.phase == workload::Phase::forward;
    (f ? fwd : bwd).push_back(o.id);
    (f ? in_fwd : in_bwd)[o.id] = 1;
  }
  ListState st = fresh_state(p);
  list_schedule(p, fwd, in_fwd, 0, st, out);
  // The backward DAG on its own: every device free at the barrier, its inputs everywhere.
  const double barrier = out.estimate_s;
  std::fill(st.device_free.begin(), st.device_free.end(), barrier);
  std::fill(st.memory_free.begin(), st.memory_free.end(), barrier);
  list_schedule(p, bwd, in_bwd, barrier, st, out);
  for (uint32_t o : bwd) out.stage[o] = 1;
  return out;
}

Placement placement_of(const OpGraph& g, std::vector<uint32_t> device_of, uint32_t devices) {
  Placement out;
  out.order.resize(devices);
  for (const workload::Op& o : g.ops) out.order.at(device_of.at(o.id)).push_back(o.id);
  out.device_of = std::move(device_of);
  out.stage.assign(g.ops.size(), 0);
  return out;
}

namespace {

/// What made an op or a transfer start when it did (the critical path walks these back).
struct Cause {
  enum Type { none, op, transfer } type = none;
  uint32_t index = 0;
};

}  // namespace

Timeline simulate_timeline(const TimelineProblem& p) {
  const OpGraph& g = *p.graph;
  const Placement& pl = *p.placement;
  const size_t n = g.ops.size();
  const uint32_t devices = uint32_t(pl.order.size());
  Timeline tl;
  tl.start_s.assign(n, 0);
  tl.end_s.assign(n, 0);
  std::vector<uint8_t> done(n, 0);
  std::vector<Cause> op_cause(n), transfer_cause;
  std::vector<std::vector<uint32_t>> succ(n);
  for (const workload::Op& o : g.ops)
    for (uint32_t d : o.deps) succ.at(d).push_back(o.id);
  std::vector<size_t> pos(devices, 0);
  std::vector<double> device_free(devices, 0), memory_free(devices, 0);
  std::vector<int64_t> device_last(devices, -1), memory_last(devices, -1);
  std::vector<uint8_t> running(devices, 0);
  size_t stage0_total = 0, stage0_done = 0;
  double stage0_end = 0;
  int64_t stage0_last = -1;
  for (size_t i = 0; i < n; ++i) stage0_total += pl.stage[i] == 0;
  const uint32_t nlinks = devices > 1 ? link_count(p.fabric) : 0;
  std::vector<double> link_free(nlinks, 0);
  std::vector<int64_t> link_last(nlinks, -1);
  std::vector<LinkFigures> links(nlinks);
  // (tensor, producer, destination memory) → transfer index
  std::map<std::tuple<uint32_t, uint32_t, uint32_t>, size_t> carried;
  using Event = std::pair<double, uint32_t>;  // (end, op)
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events;

  auto owner = [&](uint32_t op) { return p.memory_owner.at(pl.device_of.at(op)); };
  auto try_start = [&](uint32_t d) {
    if (running[d] || pos[d] >= pl.order[d].size()) return;
    const uint32_t o = pl.order[d][pos[d]];
    const workload::Op& op = g.ops[o];
    for (uint32_t dep : op.deps)
      if (!done[dep]) return;
    if (pl.stage[o] == 1 && stage0_done < stage0_total) return;
    const uint32_t m = p.memory_owner[d];
    double start = 0;
    Cause why;
    auto later = [&](double t, Cause c) {
      if (t > start) start = t, why = c;
    };
    if (device_last[d] >= 0) later(device_free[d], {Cause::op, uint32_t(device_last[d])});
    if (memory_last[m] >= 0) later(memory_free[m], {Cause::op, uint32_t(memory_last[m])});
    if (pl.stage[o] == 1 && stage0_last >= 0) later(stage0_end, {Cause::op, uint32_t(stage0_last)});
    for (uint32_t dep : op.deps) {
      std::vector<uint32_t> ts;
      if (owner(dep) != m) carried_bytes(g, dep, o, &ts);
      if (ts.empty()) {
        later(tl.end_s[dep], {Cause::op, dep});
        continue;
      }
      for (uint32_t t : ts) {
        const size_t x = carried.at({t, dep, m});
        later(tl.transfers[x].end_s, {Cause::transfer, uint32_t(x)});
      }
    }
    tl.start_s[o] = start;
    tl.end_s[o] = start + p.duration_s.at(o);
    op_cause[o] = why;
    running[d] = 1;
    ++pos[d];
    device_free[d] = tl.end_s[o];
    memory_free[m] = std::max(memory_free[m], tl.end_s[o]);
    device_last[d] = o;
    memory_last[m] = o;
    events.push({tl.end_s[o], o});
  };

  // Carries what `o` wrote to every other memory that reads it, in consumer then tensor order.
  auto send = [&](uint32_t o) {
    std::vector<uint32_t> consumers = succ[o];
    std::sort(consumers.begin(), consumers.end());
    for (uint32_t c : consumers) {
      const uint32_t src = owner(o), dst = owner(c);
      if (src == dst) continue;
      std::vector<uint32_t> ts;
      carried_bytes(g, o, c, &ts);
      for (uint32_t t : ts) {
        if (carried.count({t, o, dst})) continue;
        const std::vector<uint32_t> r = route(p.fabric, src, dst);
        TransferRecord tr;
        tr.tensor = g.tensors[t].name;
        tr.src = p.device_names.at(src);
        tr.dst = p.device_names.at(dst);
        tr.producer = g.ops[o].name;
        tr.consumer = g.ops[c].name;
        tr.bytes = g.tensors[t].bytes;
        tr.hops = uint32_t(r.size());
        double start = tl.end_s[o];
        Cause why{Cause::op, o};
        for (uint32_t l : r)
          if (link_free[l] > start) start = link_free[l], why = {Cause::transfer, uint32_t(link_last[l])};
        const double dur = transfer_seconds(p.fabric.link, tr.bytes, tr.hops);
        tr.start_s = start;
        tr.end_s = start + dur;
        tr.energy_pj = double(tr.bytes) * tr.hops * p.fabric.link.energy_pj_per_byte;
        const size_t x = tl.transfers.size();
        for (uint32_t l : r) {
          link_free[l] = tr.end_s;
          link_last[l] = int64_t(x);
          links[l].bytes += tr.bytes;
          links[l].busy_s += dur;
          links[l].energy_pj += double(tr.bytes) * p.fabric.link.energy_pj_per_byte;
        }
        carried.emplace(std::make_tuple(t, o, dst), x);
        tl.transfers.push_back(std::move(tr));
        transfer_cause.push_back(why);
      }
    }
  };

  for (uint32_t d = 0; d < devices; ++d) try_start(d);
  size_t finished = 0;
  while (!events.empty()) {
    const uint32_t o = events.top().second;
    events.pop();
    done[o] = 1;
    ++finished;
    running[pl.device_of[o]] = 0;
    if (pl.stage[o] == 0) {
      ++stage0_done;
      if (tl.end_s[o] >= stage0_end) stage0_end = tl.end_s[o], stage0_last = o;
    }
    send(o);
    for (uint32_t d = 0; d < devices; ++d) try_start(d);
  }
  if (finished != n) throw std::logic_error("simulate_timeline: the devices' orders deadlock (not one topological order)");

  uint32_t last = 0;
  for (uint32_t o = 0; o < n; ++o)
    if (tl.end_s[o] > tl.end_s[last]) last = o;
  tl.step_s = n ? tl.end_s[last] : 0;
  for (uint32_t l = 0; l < nlinks; ++l)
    if (links[l].bytes) {
      links[l].name = link_name(p.fabric, l);
      tl.links.push_back(links[l]);
    }
  // The critical path, walked back from the op that ends last.
  Cause at{n ? Cause::op : Cause::none, last};
  while (at.type != Cause::none) {
    PathStep s;
    if (at.type == Cause::op) {
      s.type = "op";
      s.name = g.ops[at.index].name;
      s.device = p.device_names.at(pl.device_of[at.index]);
      s.start_s = tl.start_s[at.index];
      s.end_s = tl.end_s[at.index];
      at = op_cause[at.index];
    } else {
      const TransferRecord& t = tl.transfers[at.index];
      s.type = "transfer";
      s.name = t.tensor;
      s.device = t.src + "->" + t.dst;
      s.start_s = t.start_s;
      s.end_s = t.end_s;
      at = transfer_cause[at.index];
    }
    tl.critical_path.push_back(std::move(s));
  }
  std::reverse(tl.critical_path.begin(), tl.critical_path.end());
  return tl;
}

}  // namespace bpsim::system
