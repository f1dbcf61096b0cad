// Training-step graphs and their memory, checked by hand against what PyTorch eager
// autograd keeps: linear keeps its input, ReLU its output, GELU its input, dropout a
// 1-byte mask; a tensor saved twice counts once; weight gradients live to the step's end.
#include <catch2/catch.hpp>

#include "sim/core/config_node.h"
#include "sim/core/error.h"
#include "sim/workload/builder.h"
#include "sim/workload/spec.h"
#include "tests/unit/workload/graph_lookup.h"
#include "tests/unit/workload/policy_yaml.h"

using namespace bpsim;
using namespace bpsim::workload;

namespace {

NetSpec spec(const std::string& yaml) { return parse_net_spec(config::parse_yaml(yaml, "net.yaml")); }

// batch 8, fp32: X[8×100] → linear 50 → relu → dropout → linear 10.
const char* const kMlp =
    "name: t\nbatch: 8\ninput: {shape: [100]}\nlayers:\n"
    "  - {kind: linear, out_features: 50}\n  - {kind: relu, density: 0.25}\n"
    "  - {kind: dropout, p: 0.5}\n  - {kind: linear, out_features: 10}\n";

const Op& find(const OpGraph& g, const std::string& name) { return test::find_op(g, name); }

}  // namespace

TEST_CASE("workload: MLP ops, GEMM dims and MACs", "[workload]") {
  OpGraph g = build_step(spec(kMlp));
  const Op& f = find(g, "linear0.fwd");
  CHECK(f.gemm.m == 8);    // batch
  CHECK(f.gemm.n == 50);   // out features
  CHECK(f.gemm.k == 100);  // in features
  CHECK(f.macs == 8 * 50 * 100);
  // The first layer's input is the network input: no dX for it (PyTorch skips it too).
  for (const Op& o : g.ops) CHECK(o.name != "linear0.dx");
  const Op& dx = find(g, "linear3.dx");  // dX = dY·Wᵀ: [8×10]·[10×50]
  CHECK(dx.gemm.m == 8);
  CHECK(dx.gemm.n == 50);
  CHECK(dx.gemm.k == 10);
  // It feeds dropout's backward, then the ReLU's: needed where both keep the element,
  // 0.25 · (1 − 0.5) = 0.125 (independent masks).
  CHECK(dx.out_mask.source == OutputMask::Source::relu);
  CHECK(dx.out_mask.density == Approx(0.125));
  const Op& dw = find(g, "linear3.dw");  // dW = Xᵀ·dY: [50×8]·[8×10]
  CHECK(dw.gemm.m == 50);
  CHECK(dw.gemm.n == 10);
  CHECK(dw.gemm.k == 8);
  for (size_t i = 1; i < g.ops.size(); ++i)
    for (uint32_t d : g.ops[i].deps) CHECK(d < g.ops[i].id);  // a valid execution order
}

TEST_CASE("workload: a dX feeding a ReLU backward carries the ReLU's density", "[workload]") {
  OpGraph g =
      build_step(spec("input: {shape: [16]}\nlayers:\n  - {kind: linear, out_features: 8}\n"
                      "  - {kind: relu, density: 0.3}\n  - {kind: linear, out_features: 4, weight_density: 0.5}\n"));
  CHECK(find(g, "linear2.dx").out_mask.source == OutputMask::Source::relu);
  CHECK(find(g, "linear2.dx").out_mask.density == 0.3);
  CHECK(find(g, "linear2.dw").out_mask.source == OutputMask::Source::pruned);
  CHECK(find(g, "linear2.dw").out_mask.density == 0.5);
}

TEST_CASE("workload: saved-after-forward and peak bytes of an MLP, by hand", "[workload]") {
  OpGraph g = build_step(spec(kMlp));
  // Saved (fp32): relu output 8·50·4 = 1600; dropout mask 8·50·1 = 400; linear3's input
  // (dropout output) 1600; the logits the loss reads 8·10·4 = 320. linear0's input is the
  // network input (not counted); linear0's output dies after the ReLU reads it.
  CHECK(g.memory.saved_after_forward_bytes == 1600 + 400 + 1600 + 320);
  // Peak, at linear0.db (the last backward op): all weight gradients — 100·50·4 = 20000,
  // 50·4 = 200, 50·10·4 = 2000, 10·4 = 40 — plus the gradient it reads, 8·50·4 = 1600.
  CHECK(g.memory.peak_bytes == 20000 + 200 + 2000 + 40 + 1600);
}

TEST_CASE("workload: GELU keeps its input, and a tensor saved twice counts once", "[workload]") {
  OpGraph g =
      build_step(spec("input: {shape: [10]}\nlayers:\n  - {kind: linear, out_features: 20}\n"
                      "  - {kind: gelu}\n  - {kind: linear, out_features: 5}\n"));
  // GELU keeps its input (linear0's output, 20·4 = 80) and linear2 keeps GELU's output
  // (another 80); the logits 5·4 = 20. Batch 1, fp32.
  CHECK(g.memory.saved_after_forward_bytes == 80 + 80 + 20);
  OpGraph r =
      build_step(spec("input: {shape: [10]}\nlayers:\n  - {kind: linear, out_features: 20}\n"
                      "  - {kind: relu}\n  - {kind: linear, out_features: 5}\n"));
  // ReLU's output is also linear2's input: one tensor, 80 bytes, counted once.
  CHECK(r.memory.saved_after_forward_bytes == 80 + 20);
}

TEST_CASE("workload: checkpoint_sequential follows PyTorch's segments", "[workload]") {
  NetSpec net = spec(kMlp);  // 4 layers
  // segments of ⌊4/2⌋ = 2: layers 0–1 checkpointed, 2–3 run normally
  OpGraph g = build_step(net, *test::policy("{kind: checkpoint_sequential, segments: 2}"));
  CHECK(g.memory.policy == "checkpoint_sequential(2)");
  // The checkpointed segment keeps only its input (the network input, not counted), so
  // the ReLU's output is no longer saved: 1600 + 400 + 1600 + 320 − 1600.
  CHECK(g.memory.saved_after_forward_bytes == 400 + 1600 + 320);
  uint64_t recompute_macs = 0;
  for (const Op& o : g.ops)
    if (o.phase == Phase::recompute) recompute_macs += o.macs;
  CHECK(recompute_macs == 8 * 50 * 100);  // linear0 runs again; the ReLU has no MACs
  // The recomputed ReLU output is what relu1's backward reads.
  const Op& rb = find(g, "relu1.bwd");
  CHECK(g.tensors[rb.reads[1]].name == "relu1.out.re");

  // ⌊4/4⌋ = 1: layers 0, 1, 2 each checkpointed alone, layer 3 normal
  OpGraph g4 = build_step(net, *test::policy("{kind: checkpoint_sequential, segments: 4}"));
  // Each checkpoint keeps its own input: linear0's output (relu1's input, 1600), the ReLU's
  // output (dropout2's input, 1600); then linear3's input 1600 and the logits 320. The
  // dropout mask is not kept (recomputed).
  CHECK(g4.memory.saved_after_forward_bytes == 1600 + 1600 + 1600 + 320);
  OpGraph full = build_step(net, *test::policy("{kind: full_recompute}"));
  // Only the segment input (the network input) is kept; the logits are the loss's.
  CHECK(full.memory.saved_after_forward_bytes == 320);
  CHECK_THROWS_WITH(build_step(net, *test::policy("{kind: checkpoint_sequential, segments: 5}")),
                    Catch::Contains("policy.yaml:1:41: policy.segments: 5 segments but the network has only 4 "
                                    "top-level layers"));
  // A key of another kind is refused under this one, naming this kind's keys.
  CHECK_THROWS_WITH(test::policy("{kind: checkpoint, beta_a: 3}"),
                    Catch::Contains("policy.yaml:1:20: policy.beta_a: unknown key (valid: kind, level, at)"));
  CHECK_THROWS_WITH(test::policy("{kind: checkpoint_sequential, index_bits: 4}"),
                    Catch::Contains("policy.index_bits: unknown key (valid: kind, segments, level, at)"));
}

TEST_CASE("workload: spec errors name the layer and the shapes", "[workload]") {
  CHECK_THROWS_WITH(
      spec("input: {shape: [3, 8, 8]}\nlayers:\n  - {kind: linear, out_features: 4}\n").layers.size() &&
          build_step(spec("input: {shape: [3, 8, 8]}\nlayers:\n  - {kind: linear, out_features: 4}\n")).ops.size(),
      "net.yaml:3:5: linear0: linear expects [features] or [tokens, features], but the input shape is [3, 8, 8] "
      "(add a flatten layer before it)");
  CHECK_THROWS_WITH(
      spec("input: {shape: [3]}\nlayers:\n  - {kind: conv9}\n"),
      Catch::Contains("net.yaml:3:12: layers[0].kind: unknown layer kind 'conv9' (supported: linear, conv2d, "));
  CHECK_THROWS_WITH(spec("input: {shape: [3]}\nlayers:\n  - {kind: linear, out_feature: 4}\n"),
                    Catch::Contains("layers[0].out_feature: unknown key (did you mean 'out_features'?)"));
  CHECK_THROWS_WITH(spec("input: {shape: [3]}\nlayers:\n  - {kind: dropout, p: 1.5}\n"),
                    Catch::Contains("layers[0].p: value 1.5 is out of range"));
  CHECK_THROWS_WITH(spec("input: {shape: [0]}\nlayers:\n  - {kind: relu}\n"),
                    Catch::Contains("input.shape: every dimension must be at least 1"));
  CHECK_THROWS_WITH(spec("input: {shape: [3]}\nlayers: []\n"), Catch::Contains("a network needs at least one layer"));
  CHECK(spec("input: {shape: [3]}\nlayers:\n  - repeat: 3\n    layers: [{kind: relu}, {kind: gelu}]\n").layers.size() ==
        6);
}

TEST_CASE("workload: conv and max-pool shapes, GEMM dims and saved bytes, by hand", "[workload]") {
  // batch 2, fp32: [1,4,4] → conv 2×3×3 pad 1 → [2,4,4] → relu → maxpool 2 → [2,2,2] → linear 3.
  OpGraph g =
      build_step(spec("batch: 2\ninput: {shape: [1, 4, 4]}\nlayers:\n"
                      "  - {kind: conv2d, name: c, out_channels: 2, kernel: 3, padding: 1}\n"
                      "  - {kind: relu, name: r}\n  - {kind: maxpool, name: p, kernel: 2}\n"
                      "  - {kind: flatten}\n  - {kind: linear, name: fc, out_features: 3}\n"));
  const Op& c = find(g, "c.fwd");
  CHECK(c.kind == OpKind::conv);
  CHECK(c.conv.p == 4);          // (4 + 2·1 − 3)/1 + 1
  CHECK(c.gemm.m == 2 * 4 * 4);  // N·P·Q
  CHECK(c.gemm.n == 2);          // filters
  CHECK(c.gemm.k == 1 * 3 * 3);  // C·R·S
  CHECK(find(g, "c.dw").macs == c.macs);
  // Saved: ReLU output 2·2·4·4·4 = 256 (also max-pool's input: once); pool indices, int64,
  // 2·2·2·2·8 = 128; linear's input (the pooled map, viewed flat) 2·8·4 = 64; logits
  // 2·3·4 = 24. The conv's input is the network input.
  CHECK(g.memory.saved_after_forward_bytes == 256 + 128 + 64 + 24);
  CHECK_THROWS_WITH(build_step(spec("input: {shape: [16]}\nlayers:\n  - {kind: conv2d, out_channels: 2, kernel: 3}\n")),
                    Catch::Contains("conv2d expects [channels, height, width], but the input shape is [16]"));
  CHECK_THROWS_WITH(build_step(spec("input: {shape: [1, 2, 2]}\nlayers:\n  - {kind: maxpool, kernel: 3}\n")),
                    Catch::Contains("a 3×3 window does not fit the input shape [1, 2, 2]"));
}
