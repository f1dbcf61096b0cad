#include "sim/system/parallel.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace bpsim::system {

AllReduceTimeline allreduce_timeline(const std::vector<TimedOp>& ops, const std::vector<uint64_t>& grad_bytes,
                                     uint64_t bucket_bytes, bool overlap, double t0,
                                     const std::function<double(uint64_t)>& allreduce_s) {
  constexpr size_t kNone = std::numeric_limits<size_t>::max();
  // Where each gradient becomes final: its last writer.
  std::vector<size_t> last_writer(grad_bytes.size(), kNone);
  size_t last_grad_op = kNone;
  for (size_t i = 0; i < ops.size(); ++i)
    for (uint32_t g : ops[i].grads_written) {
      if (g >= grad_bytes.size()) throw std::invalid_argument("allreduce_timeline: a gradient id out of range");
      last_writer[g] = i;
      last_grad_op = i;
    }
  AllReduceTimeline r;
  // Buckets, filled in the order gradients become final (their last writer's position, then
  // the writer's own order).
  std::vector<size_t> bucket_of(grad_bytes.size(), kNone);
  std::vector<std::vector<size_t>> triggered(ops.size());  // buckets to start after op i
  if (allreduce_s) {
    std::vector<uint32_t> final_order;
    for (size_t i = 0; i < ops.size(); ++i)
      for (uint32_t g : ops[i].grads_written)
        if (last_writer[g] == i && std::find(final_order.begin(), final_order.end(), g) == final_order.end())
          final_order.push_back(g);
    size_t trigger = 0;
    for (uint32_t g : final_order) {
      if (r.buckets.empty() || r.buckets.back().bytes >= bucket_bytes) {
        if (!r.buckets.empty()) triggered[overlap ? trigger : last_grad_op].push_back(r.buckets.size() - 1);
        r.buckets.emplace_back();
      }
      r.buckets.back().grads.push_back(g);
      r.buckets.back().bytes += grad_bytes[g];
      bucket_of[g] = r.buckets.size() - 1;
      trigger = last_writer[g];
    }
    if (!r.buckets.empty()) triggered[overlap ? trigger : last_grad_op].push_back(r.buckets.size() - 1);
  }
  double t = t0, fabric_free = t0, waits = 0;
  // What each op and bucket waited for last (for the critical path): an op its predecessor
  // (−1: none) or a bucket (kNone − b); a bucket its trigger op or the bucket before it.
  constexpr int64_t kStart = std::numeric_limits<int64_t>::min();
  std::vector<int64_t> op_after(ops.size(), kStart), bucket_after(r.buckets.size(), kStart);
  r.op_start_s.assign(ops.size(), 0);
  for (size_t i = 0; i < ops.size(); ++i) {
    const TimedOp& op = ops[i];
    double start = t + op.wait_before_s;
    waits += op.wait_before_s;
    op_after[i] = i ? int64_t(i) - 1 : kStart;
    for (uint32_t g : op.grads_waited) {
      if (g >= grad_bytes.size() || last_writer[g] == kNone)
        throw std::invalid_argument("allreduce_timeline: an op waits for a gradient no op writes");
      if (!allreduce_s) continue;
      const size_t b = bucket_of[g];
      // Its bucket's all-reduce is placed after its trigger op, which must come first.
      const size_t trig = overlap ? last_writer[r.buckets[b].grads.back()] : last_grad_op;
      if (trig >= i) throw std::invalid_argument("allreduce_timeline: an op waits for an all-reduce placed after it");
      if (r.buckets[b].end_s > start) {
        start = r.buckets[b].end_s;
        op_after[i] = -1 - int64_t(b);
      }
    }
    r.op_start_s[i] = start;
    const double end = start + op.seconds;
    r.compute_s += op.seconds;
    t = end;
    for (size_t b : triggered[i]) {
      Bucket& k = r.buckets[b];
      k.ready_s = end;
      k.start_s = std::max(end, fabric_free);
      bucket_after[b] = fabric_free > end ? -int64_t(b) : int64_t(i);  // the bucket before it (−1−(b−1)), or op i
      const double d = allreduce_s(k.bytes);
      k.end_s = k.start_s + d;
      r.communication_s += d;
      fabric_free = k.end_s;
    }
  }
  r.end_s = std::max(t, fabric_free);
  r.waiting_s = r.end_s - t0 - r.compute_s - waits;
  int64_t at = fabric_free > t ? -int64_t(r.buckets.size()) : int64_t(ops.size()) - 1;
  if (ops.empty() && r.buckets.empty()) at = kStart;
  while (at != kStart) {
    r.critical.push_back(at);
    at = at >= 0 ? op_after[size_t(at)] : bucket_after[size_t(-1 - at)];
  }
  return r;
}

std::vector<size_t> balanced_cuts(const std::vector<double>& costs, uint32_t parts) {
  const size_t n = costs.size();
  if (parts == 0 || parts > n) throw std::invalid_argument("balanced_cuts: 1 to n parts");
  std::vector<double> prefix(n + 1, 0);
  for (size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + costs[i];
  constexpr double kInf = std::numeric_limits<double>::infinity();
  // best[k][i]: the smallest largest-run sum of units [0, i) in k runs; from[k][i]: the last
  // run's first unit.
  std::vector<std::vector<double>> best(parts + 1, std::vector<double>(n + 1, kInf));
  std::vector<std::vector<size_t>> from(parts + 1, std::vector<size_t>(n + 1, 0));
  best[0][0] = 0;
  for (uint32_t k = 1; k <= parts; ++k)
    for (size_t i = k; i <= n; ++i)
      for (size_t j = k - 1; j < i; ++j) {
        const double v = std::max(best[k - 1][j], prefix[i] - prefix[j]);
        if (v < best[k][i]) best[k][i] = v, from[k][i] = j;  // strict: the earliest cut wins a tie
      }
  std::vector<size_t> first(parts);
  size_t i = n;
  for (uint32_t k = parts; k >= 1; --k) {
    first[k - 1] = from[k][i];
    i = from[k][i];
  }
  return first;
}

}  // namespace bpsim::system
