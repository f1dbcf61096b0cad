#pragma once
/// Data parallelism's gradient all-reduce as plain arithmetic over one device's op timeline
/// (docs/system.md "Parallelism"): the weight gradients gathered into buckets in the order the
/// backward pass finishes them (as PyTorch DDP does), each bucket all-reduced once its last
/// gradient is final, one collective at a time on the fabric, and every optimizer op waiting
/// for the all-reduces of the gradients it reads. No SystemC, no graph.
#include <cstdint>
#include <functional>
#include <vector>

namespace bpsim::system {

/// One op of a device, in the order the device runs them (one at a time).
struct TimedOp {
  double seconds = 0;
  /// Gradients (ids of the caller's choosing) this op writes or accumulates into; a gradient is
  /// final after the last op that writes it.
  std::vector<uint32_t> grads_written;
  /// Gradients this op reads that must be all-reduced first (an optimizer op's).
  std::vector<uint32_t> grads_waited;
  /// Time this op waits for before it may start, beyond its predecessor's end (0: none): a
  /// blocking collective of tensor parallelism placed before it.
  double wait_before_s = 0;
};

/// One all-reduced bucket.
struct Bucket {
  std::vector<uint32_t> grads;  ///< in the order they became final
  uint64_t bytes = 0;
  double ready_s = 0;  ///< when its last gradient was final (overlap) or the backward ended
  double start_s = 0, end_s = 0;
};

struct AllReduceTimeline {
  double end_s = 0;            ///< the last op's end, or the last all-reduce's when later
  double compute_s = 0;        ///< Σ op seconds
  double communication_s = 0;  ///< Σ all-reduce seconds (overlapped or not)
  double waiting_s = 0;        ///< time ops waited on all-reduces: end_s − t0 − compute_s − Σ wait_before_s
  std::vector<Bucket> buckets;
  std::vector<double> op_start_s;  ///< per op
  /// What ended last, traced back: op i (≥ 0) or bucket −1−b (< 0), latest first, as far as a
  /// chain of ops and all-reduces that each waited for the one before reaches.
  std::vector<int64_t> critical;
};

/// Runs `ops` from `t0` on one device. `grad_bytes[g]`: the size of gradient g. Buckets take
/// gradients in the order they become final until they hold at least `bucket_bytes`; with
/// `overlap` a bucket is all-reduced as soon as its last gradient is final, otherwise every
/// bucket waits for the last gradient of all. `allreduce_s(bytes)`: one all-reduce's time;
/// empty: no all-reduce (one replica). Throws std::invalid_argument when an op waits for a
/// gradient that is never written, or, without overlap, for one before the backward has ended.
AllReduceTimeline allreduce_timeline(const std::vector<TimedOp>& ops, const std::vector<uint64_t>& grad_bytes,
                                     uint64_t bucket_bytes, bool overlap, double t0,
                                     const std::function<double(uint64_t)>& allreduce_s);

/// Contiguous stages for pipeline parallelism: `costs[i]` of each of n units in order, cut
/// into `parts` runs (each at least one unit) minimising the largest run's sum (ties: the
/// earliest cuts). Returns each run's first unit (parts entries, the first 0). Throws
/// std::invalid_argument when parts is 0 or exceeds n.
std::vector<size_t> balanced_cuts(const std::vector<double>& costs, uint32_t parts);

}  // namespace bpsim::system
