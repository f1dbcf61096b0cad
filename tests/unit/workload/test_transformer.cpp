// Transformer blocks against Korthikanti et al. 2022 ("Reducing Activation Recomputation
// in Large Transformer Models", §4.1): a layer with 2-byte activations and 1-byte
// dropout masks stores sbh·(34 + 5as/h) bytes — attention 11sbh + 5as²b, MLP 19sbh,
// the two LayerNorm inputs 4sbh — and PyTorch's LayerNorm adds fp32 mean and rstd,
// 2·4 bytes per row, for 2 LayerNorms: 16sb.
#include <catch2/catch.hpp>

#include "sim/core/config_node.h"
#include "sim/workload/builder.h"
#include "sim/workload/spec.h"
#include "tests/unit/workload/policy_yaml.h"

using namespace bpsim;
using namespace bpsim::workload;

namespace {

NetSpec stack(uint64_t s, uint64_t b, uint64_t h, uint64_t a, int layers, double dropout) {
  const std::string yaml = "dtype: bf16\nbatch: " + std::to_string(b) + "\ninput: {shape: [" + std::to_string(s) +
                           ", " + std::to_string(h) + "]}\nlayers:\n  - repeat: " + std::to_string(layers) +
                           "\n    layers:\n      - {kind: transformer_block, hidden: " + std::to_string(h) +
                           ", heads: " + std::to_string(a) + ", dropout: " + std::to_string(dropout) + "}\n";
  return parse_net_spec(config::parse_yaml(yaml, "gpt.yaml"));
}

uint64_t macs(const OpGraph& g, Phase ph) {
  uint64_t m = 0;
  for (const Op& o : g.ops)
    if (o.phase == ph) m += o.macs;
  return m;
}

struct Shape4 {
  uint64_t s, b, h, a;
  uint64_t korthikanti() const { return 34 * s * b * h + 5 * a * s * s * b + 16 * s * b; }
};

const Shape4 kShapes[] = {{128, 2, 64, 4}, {64, 3, 96, 6}, {256, 1, 128, 8}, {32, 4, 256, 16}};

}  // namespace

TEST_CASE("workload: one transformer layer stores 34sbh + 5as²b bytes plus LayerNorm stats", "[workload]") {
  for (const Shape4& x : kShapes) {
    INFO("s=" << x.s << " b=" << x.b << " h=" << x.h << " a=" << x.a);
    // One block: the network input (the first LayerNorm's input, 2sbh) is not counted,
    // but the block output the loss reads is (another 2sbh), so the total is the formula.
    CHECK(build_step(stack(x.s, x.b, x.h, x.a, 1, 0.1)).memory.saved_after_forward_bytes == x.korthikanti());
    // Each further layer adds exactly the formula.
    const uint64_t two = build_step(stack(x.s, x.b, x.h, x.a, 2, 0.1)).memory.saved_after_forward_bytes;
    const uint64_t five = build_step(stack(x.s, x.b, x.h, x.a, 5, 0.1)).memory.saved_after_forward_bytes;
    CHECK(two == 2 * x.korthikanti());
    CHECK(five == 5 * x.korthikanti());
  }
}

TEST_CASE("workload: without dropout a layer stores 32sbh + 2as²b plus LayerNorm stats", "[workload]") {
  // No masks (−sbh twice, −as²b) and P·V reads the softmax output itself (−2as²b).
  for (const Shape4& x : kShapes)
    CHECK(build_step(stack(x.s, x.b, x.h, x.a, 1, 0.0)).memory.saved_after_forward_bytes ==
          32 * x.s * x.b * x.h + 2 * x.a * x.s * x.s * x.b + 16 * x.s * x.b);
}

TEST_CASE("workload: transformer MACs are 12bsh² + 2bs²h forward, twice that backward", "[workload]") {
  // Narayanan et al. 2021: 24bsh² + 4bs²h forward FLOPs per layer = 2 FLOPs per MAC.
  const Shape4 x = kShapes[0];
  const OpGraph g = build_step(stack(x.s, x.b, x.h, x.a, 3, 0.1));
  const uint64_t layer = 12 * x.b * x.s * x.h * x.h + 2 * x.b * x.s * x.s * x.h;
  CHECK(macs(g, Phase::forward) == 3 * layer);
  // Every GEMM has a dX and a dW of its own size (the first QKV's input comes from a
  // LayerNorm with weights, so its dX is needed); attention has dV, dP, dQ, dK.
  CHECK(macs(g, Phase::backward_data) + macs(g, Phase::backward_weight) == 2 * 3 * layer);
  CHECK(macs(g, Phase::recompute) == 0);
  for (const Op& o : g.ops)
    for (uint32_t d : o.deps) CHECK(d < o.id);
}

TEST_CASE("workload: checkpointing transformer stacks (every block, sequential, full)", "[workload]") {
  const Shape4 x = kShapes[1];
  const uint64_t act = 2 * x.s * x.b * x.h;  // one bf16 [s, h] activation: sbh·2
  const uint64_t layer = x.korthikanti(), fwd = 12 * x.b * x.s * x.h * x.h + 2 * x.b * x.s * x.s * x.h;
  // Every block checkpointed: only block inputs are kept (the first is the network input)
  // plus the last output the loss reads: 2sbh·L, Korthikanti's full-recomputation figure.
  const OpGraph every = build_step(stack(x.s, x.b, x.h, x.a, 4, 0.1), *test::policy("{kind: checkpoint}"));
  CHECK(every.memory.saved_after_forward_bytes == 4 * act);
  CHECK(macs(every, Phase::recompute) == 4 * fwd);
  // full_recompute: one segment; only its input (the network input) and the output remain.
  const OpGraph full = build_step(stack(x.s, x.b, x.h, x.a, 4, 0.1), *test::policy("{kind: full_recompute}"));
  CHECK(full.memory.saved_after_forward_bytes == act);
  CHECK(macs(full, Phase::recompute) == 4 * fwd);
  // checkpoint_sequential(2) over 4 blocks: ⌊4/2⌋ = 2, blocks 0–1 in one checkpoint,
  // blocks 2–3 run normally (2·layer, their inputs included) + the output.
  const OpGraph s2 =
      build_step(stack(x.s, x.b, x.h, x.a, 4, 0.1), *test::policy("{kind: checkpoint_sequential, segments: 2}"));
  CHECK(s2.memory.saved_after_forward_bytes == 2 * layer + act);
  CHECK(macs(s2, Phase::recompute) == 2 * fwd);
  // checkpoint_sequential(3): ⌊4/3⌋ = 1, blocks 0 and 1 checkpointed alone (block 1's input
  // kept), blocks 2–3 normal: one more activation than with 2 segments.
  const OpGraph s3 =
      build_step(stack(x.s, x.b, x.h, x.a, 4, 0.1), *test::policy("{kind: checkpoint_sequential, segments: 3}"));
  CHECK(s3.memory.saved_after_forward_bytes == 2 * layer + 2 * act);
  CHECK(macs(s3, Phase::recompute) == 2 * fwd);
  // checkpoint_sequential(4): blocks 0, 1, 2 checkpointed alone, block 3 normal.
  const OpGraph s4 =
      build_step(stack(x.s, x.b, x.h, x.a, 4, 0.1), *test::policy("{kind: checkpoint_sequential, segments: 4}"));
  CHECK(s4.memory.saved_after_forward_bytes == layer + 3 * act);
  CHECK(macs(s4, Phase::recompute) == 3 * fwd);
  // Backward work never changes with the policy.
  CHECK(macs(s4, Phase::backward_data) == macs(every, Phase::backward_data));
  // Peak: recomputing one block at a time needs less than keeping all four.
  const OpGraph none = build_step(stack(x.s, x.b, x.h, x.a, 4, 0.1));
  CHECK(every.memory.peak_bytes < none.memory.peak_bytes);
  CHECK(none.memory.peak_bytes >= none.memory.saved_after_forward_bytes);
}

TEST_CASE("workload: attention GEMMs and the ReLU/pruning masks", "[workload]") {
  const Shape4 x = kShapes[2];  // s 256, b 1, h 128, a 8 → d 16
  const OpGraph g = build_step(stack(x.s, x.b, x.h, x.a, 1, 0.1));
  const uint64_t d = x.h / x.a;
  int attention_gemms = 0;
  for (const Op& o : g.ops) {
    if (o.layer != "transformer_block0.attn" || o.kind != OpKind::gemm) continue;
    ++attention_gemms;
    CHECK(o.gemm.batch == x.b * x.a);            // one GEMM per (sample, head)
    CHECK(o.macs == x.b * x.a * x.s * x.s * d);  // every one of them s·s·d per head
  }
  CHECK(attention_gemms == 2 + 4);  // QKᵀ, P·V forward; dV, dP, dQ, dK backward
}
