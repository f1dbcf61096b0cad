// none, checkpoint, checkpoint_sequential, full_recompute: whole top-level layers as
// recompute segments (torch.utils.checkpoint around each layer, around runs of layers, or
// around the whole forward).
#include <fmt/format.h>

#include "sim/workload/policy.h"

namespace bpsim::workload {

namespace {

/// A plan that gives each top-level layer a segment id (-1: stored); its plan nodes follow.
class LayerSegments : public Policy {
 public:
  std::vector<int> plan(const NetSpec& net, const NetPlan& plan) const override {
    const std::vector<int> seg = layer_segments(net.layers.size());
    std::vector<int> node_seg(plan.nodes.size(), -1);
    for (size_t i = 0; i < plan.nodes.size(); ++i) node_seg[i] = seg[plan.nodes[i].top];
    return node_seg;
  }

 protected:
  virtual std::vector<int> layer_segments(size_t layers) const = 0;
};

class NoPolicy : public Policy {
 public:
  std::string name() const override { return "none"; }
};

class Checkpoint : public LayerSegments {
 public:
  std::string name() const override { return "checkpoint"; }

 protected:
  std::vector<int> layer_segments(size_t n) const override {
    std::vector<int> seg(n);
    for (size_t i = 0; i < n; ++i) seg[i] = static_cast<int>(i);
    return seg;
  }
};

class FullRecompute : public LayerSegments {
 public:
  std::string name() const override { return "full_recompute"; }

 protected:
  std::vector<int> layer_segments(size_t n) const override { return std::vector<int>(n, 0); }
};

struct SequentialParams {
  size_t segments;
};

class CheckpointSequential : public LayerSegments {
 public:
  CheckpointSequential(const SequentialParams& p, const config::Values& v) : m_v(v), m_segments(p.segments) {}
  std::string name() const override { return "checkpoint_sequential(" + std::to_string(m_segments) + ")"; }

 protected:
  std::vector<int> layer_segments(size_t n) const override {
    if (m_segments > n)
      throw m_v.error("segments", fmt::format("{} segments but the network has only {} top-level layers (give 1 to {})",
                                              m_segments, n, n));
    // torch.utils.checkpoint.checkpoint_sequential: segments of ⌊n/segments⌋ layers;
    // the first segments−1 are checkpointed, the rest (the last part) runs normally.
    std::vector<int> seg(n, -1);
    const size_t size = n / m_segments;
    for (size_t k = 0; k + 1 < m_segments; ++k)
      for (size_t i = k * size; i < (k + 1) * size; ++i) seg[i] = static_cast<int>(k);
    return seg;
  }

 private:
  config::Values m_v;  ///< where `segments` was written, for messages
  size_t m_segments;
};

}  // namespace

void register_checkpoint_policies(std::vector<PolicyRegistry::Entry>& out) {
  out.push_back(entry<NoPolicy>("none", "every activation backward reads is stored"));
  out.push_back(entry<Checkpoint>("checkpoint",
                                  "checkpoint every top-level layer: only its input is stored, its forward re-runs "
                                  "before its backward"));
  config::Binder<SequentialParams> sequential(
      "checkpoint_sequential",
      "PyTorch checkpoint_sequential: `segments` runs of ⌊layers/segments⌋ layers, all but the last "
      "checkpointed");
  sequential.integer("segments", &SequentialParams::segments, "", "number of segments").def(2).range(1, 1 << 20);
  out.push_back(entry<CheckpointSequential>(sequential));
  out.push_back(entry<FullRecompute>("full_recompute",
                                     "store only the network input; the whole forward re-runs before the backward"));
}

}  // namespace bpsim::workload
