#include "sim/ir/liveness.h"

#include <algorithm>

#include "sim/core/error.h"

namespace bpsim::workload {

LiveEvents live_events(const OpGraph& g) {
  const size_t nt = g.tensors.size();
  std::vector<int64_t> first(nt, -1), last(nt, -1);
  for (const Op& o : g.ops) {
    for (uint32_t t : o.writes)
      if (first[t] < 0) first[t] = o.id;
    for (uint32_t t : o.reads) last[t] = o.id;
    for (uint32_t t : o.holds) last[t] = std::max(last[t], int64_t(o.id));
  }
  auto counted = [&](uint32_t t) {
    const TensorRole r = g.tensors[t].role;
    return r != TensorRole::weight && r != TensorRole::input && r != TensorRole::optimizer_state && first[t] >= 0;
  };
  // Frees happen after each op; a tensor nobody reads dies right after the op that wrote it.
  LiveEvents ev{std::vector<std::vector<uint32_t>>(g.ops.size()), std::vector<std::vector<uint32_t>>(g.ops.size())};
  for (uint32_t t = 0; t < nt; ++t) {
    if (!counted(t)) continue;
    ev.alloc_before[size_t(first[t])].push_back(t);
    if (g.tensors[t].role == TensorRole::weight_gradient) continue;  // .grad lives to the end
    ev.free_after[size_t(std::max(first[t], last[t]))].push_back(t);
  }
  return ev;
}

namespace {

struct Liveness {
  std::vector<uint64_t> during;  ///< bytes live while each op runs
  uint64_t saved_after_forward = 0;
};

Liveness liveness(const OpGraph& g) {
  const LiveEvents ev = live_events(g);
  int64_t last_forward = -1;
  for (const Op& o : g.ops)
    if (o.phase == Phase::forward) last_forward = o.id;
  Liveness w;
  w.during.reserve(g.ops.size());
  uint64_t live = 0;
  for (const Op& o : g.ops) {
    for (uint32_t t : ev.alloc_before[o.id])
      live = sum_or_throw("memory accounting: the bytes live at once", {live, g.tensors[t].bytes});
    w.during.push_back(live);
    for (uint32_t t : ev.free_after[o.id]) live -= g.tensors[t].bytes;
    if (int64_t(o.id) == last_forward) w.saved_after_forward = live;
  }
  return w;
}

}  // namespace

std::vector<uint64_t> memory_timeline(const OpGraph& g) { return liveness(g).during; }

void account_memory(OpGraph& g) {
  const Liveness w = liveness(g);
  g.memory.saved_after_forward_bytes = w.saved_after_forward;
  g.memory.peak_bytes = w.during.empty() ? 0 : *std::max_element(w.during.begin(), w.during.end());
}

}  // namespace bpsim::workload
