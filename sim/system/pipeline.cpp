#include "sim/system/pipeline.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace bpsim::system {

std::vector<StageTask> stage_order(Schedule schedule, uint32_t stages, uint32_t stage, uint32_t microbatches) {
  std::vector<StageTask> order;
  order.reserve(2 * size_t(microbatches));
  if (schedule == Schedule::gpipe) {
    for (uint32_t m = 0; m < microbatches; ++m) order.push_back({false, m});
    for (uint32_t m = microbatches; m-- > 0;) order.push_back({true, m});
    return order;
  }
  const uint32_t warmup = std::min(stages - stage - 1, microbatches);
  uint32_t f = 0, b = 0;
  for (; f < warmup; ++f) order.push_back({false, f});
  for (; f < microbatches; ++f, ++b) {
    order.push_back({false, f});
    order.push_back({true, b});
  }
  for (; b < microbatches; ++b) order.push_back({true, b});
  return order;
}

PipelineResult simulate_pipeline(const PipelineInput& in) {
  const uint32_t P = uint32_t(in.stages.size()), M = in.microbatches;
  if (P == 0 || M == 0) throw std::invalid_argument("simulate_pipeline: no stage or no micro-batch");
  if (in.boundaries.size() != P - 1) throw std::invalid_argument("simulate_pipeline: P−1 boundaries expected");
  constexpr double kUnknown = -1;
  // When each task's input is available on its stage: a forward's from stage s−1 (after the
  // activation's transfer), a backward's from stage s+1 (after the gradient's transfer) or,
  // on the last stage, its own forward's end.
  std::vector<std::vector<double>> fwd_in(P, std::vector<double>(M, kUnknown)), bwd_in = fwd_in;
  // Which task (and transfer) made each input available.
  std::vector<std::vector<std::pair<int64_t, int64_t>>> fwd_src(P,
                                                                std::vector<std::pair<int64_t, int64_t>>(M, {-1, -1})),
      bwd_src = fwd_src;
  std::vector<int64_t> last_task(P, -1);
  for (uint32_t m = 0; m < M; ++m) fwd_in[0][m] = 0;
  std::vector<std::vector<StageTask>> order(P);
  for (uint32_t s = 0; s < P; ++s) order[s] = stage_order(in.schedule, P, s, M);
  std::vector<size_t> next(P, 0);
  std::vector<double> free_at(P, 0);
  std::vector<uint32_t> in_flight(P, 0);
  std::vector<double> link_free;
  PipelineResult r;
  auto reserve_links = [&](const std::vector<uint32_t>& links, double ready, double seconds, TransferTiming t) {
    double start = ready;
    for (uint32_t l : links) {
      if (l >= link_free.size()) link_free.resize(size_t(l) + 1, 0);
      start = std::max(start, link_free[l]);
    }
    for (uint32_t l : links) link_free[l] = start + seconds;
    t.start_s = start;
    t.end_s = start + seconds;
    r.transfers.push_back(t);
    return start + seconds;
  };
  r.stage_busy_s.assign(P, 0);
  r.stage_end_s.assign(P, 0);
  r.last_backward_s.assign(P, 0);
  r.max_in_flight.assign(P, 0);
  r.tasks.reserve(2 * size_t(P) * M);
  for (size_t placed = 0; placed < 2 * size_t(P) * M; ++placed) {
    // The stage whose next task can start first (its input known); ties: the lower stage.
    uint32_t best = P;
    double best_start = std::numeric_limits<double>::infinity();
    for (uint32_t s = 0; s < P; ++s) {
      if (next[s] == order[s].size()) continue;
      const StageTask t = order[s][next[s]];
      const double ready = t.backward ? bwd_in[s][t.microbatch] : fwd_in[s][t.microbatch];
      if (ready == kUnknown) continue;
      const double start = std::max(ready, free_at[s]);
      if (start < best_start) best_start = start, best = s;
    }
    if (best == P) throw std::logic_error("simulate_pipeline: the schedule deadlocked");
    const uint32_t s = best;
    const StageTask t = order[s][next[s]++];
    const StageCost& c = in.stages[s];
    const double end = best_start + (t.backward ? c.backward_s : c.forward_s);
    free_at[s] = end;
    r.stage_busy_s[s] += end - best_start;
    TaskTiming timing{s, t, best_start, end, last_task[s], -1};
    const auto src = (t.backward ? bwd_src : fwd_src)[s][t.microbatch];
    const double ready = t.backward ? bwd_in[s][t.microbatch] : fwd_in[s][t.microbatch];
    if (src.first >= 0 && (last_task[s] < 0 || ready >= r.tasks[size_t(last_task[s])].end_s)) {
      timing.after = src.first;
      timing.transfer = src.second;
    }
    const int64_t me = int64_t(r.tasks.size());
    last_task[s] = me;
    r.tasks.push_back(timing);
    if (!t.backward) {
      r.max_in_flight[s] = std::max(r.max_in_flight[s], ++in_flight[s]);
      if (s + 1 < P) {
        const StageBoundary& b = in.boundaries[s];
        fwd_in[s + 1][t.microbatch] =
            reserve_links(b.activation_links, end, b.activation_s, {s, t.microbatch, false, 0, 0});
        fwd_src[s + 1][t.microbatch] = {me, int64_t(r.transfers.size()) - 1};
        r.transfer_s += b.activation_s;
      } else {
        bwd_in[s][t.microbatch] = end;
        bwd_src[s][t.microbatch] = {me, -1};
      }
    } else {
      --in_flight[s];
      r.stage_end_s[s] = std::max(r.stage_end_s[s], end);
      r.last_backward_s[s] = std::max(r.last_backward_s[s], best_start);
      if (s > 0) {
        const StageBoundary& b = in.boundaries[s - 1];
        bwd_in[s - 1][t.microbatch] =
            reserve_links(b.gradient_links, end, b.gradient_s, {s - 1, t.microbatch, true, 0, 0});
        bwd_src[s - 1][t.microbatch] = {me, int64_t(r.transfers.size()) - 1};
        r.transfer_s += b.gradient_s;
      }
    }
  }
  r.end_s = *std::max_element(r.stage_end_s.begin(), r.stage_end_s.end());
  double busy = 0;
  for (double b : r.stage_busy_s) busy += b;
  r.bubble_fraction = r.end_s > 0 ? 1 - busy / (double(P) * r.end_s) : 0;
  return r;
}

}  // namespace bpsim::system
