// Residuals, normalisations, embedding, binary layers and the ready-made specs, checked by
// hand against what PyTorch eager autograd keeps (LayerNorm: input + fp32 mean/rstd per
// row; BatchNorm: input + fp32 per-channel statistics; softmax: output; embedding: the
// indices; add: nothing) and against published MAC counts.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include "sim/core/config_node.h"
#include "sim/core/error.h"
#include "sim/source/load.h"
#include "sim/workload/builder.h"
#include "sim/workload/spec.h"
#include "tests/unit/workload/graph_lookup.h"

using namespace bpsim;
using namespace bpsim::workload;

namespace {

OpGraph build(const std::string& yaml) { return build_step(parse_net_spec(config::parse_yaml(yaml, "net.yaml"))); }

const Op& find(const OpGraph& g, const std::string& name) { return test::find_op(g, name); }

uint64_t forward_macs(const OpGraph& g) {
  uint64_t m = 0;
  for (const Op& o : g.ops)
    if (o.phase == Phase::forward) m += o.macs;
  return m;
}

}  // namespace

TEST_CASE("workload: a residual MLP, saved and peak bytes by hand", "[workload]") {
  // fp32, batch 2: x[4] → a: linear 8 → residual(relu r, linear l 8) + identity → linear o 3.
  const OpGraph g = build(
      "batch: 2\ninput: {shape: [4]}\nlayers:\n  - {kind: linear, name: a, out_features: 8}\n"
      "  - {kind: residual, layers: [{kind: relu, name: r}, {kind: linear, name: l, out_features: 8}]}\n"
      "  - {kind: linear, name: o, out_features: 3}\n");
  // Saved: r's output 2·8·4 = 64 (ReLU and l keep it, once); the sum 64 (o keeps it); the
  // logits 2·3·4 = 24. a's output feeds r and the add, neither keeps it.
  CHECK(g.memory.saved_after_forward_bytes == 64 + 64 + 24);
  // Peak at r.bwd: weight grads so far o 96 + 12, l 256 + 32; r's output 64; o.dx 64 (the
  // add passed it to both branches; still needed for the sum); l.dx 64; r.dx 64.
  CHECK(g.memory.peak_bytes == 96 + 12 + 256 + 32 + 64 + 64 + 64 + 64);
  // The two gradients of a's output are summed by one accumulate op.
  int sums = 0;
  for (const Op& o : g.ops) sums += o.detail == "grad_accumulate";
  CHECK(sums == 1);
  CHECK(find(g, "l.dx").out_mask.source == OutputMask::Source::relu);
}

TEST_CASE("workload: LayerNorm keeps fp32 row statistics, softmax its output", "[workload]") {
  // fp32, batch 2, [3 tokens, 4]: linear 4 → layernorm → softmax.
  const OpGraph g = build(
      "batch: 2\ninput: {shape: [3, 4]}\nlayers:\n  - {kind: linear, out_features: 4}\n"
      "  - {kind: layernorm}\n  - {kind: softmax}\n");
  // LN input 2·3·4·4 = 96; mean + rstd for 6 rows: 6·8 = 48; softmax output 96 (its
  // backward and the loss read it). LN's output only feeds the softmax forward.
  CHECK(g.memory.saved_after_forward_bytes == 96 + 48 + 96);
  CHECK(find(g, "linear0.fwd").gemm.m == 2 * 3);  // rows = batch·tokens
}

TEST_CASE("workload: BatchNorm keeps its input and per-channel statistics", "[workload]") {
  // fp32, batch 2, [1,4,4] → conv 2×3×3 pad 1 → batchnorm → relu → flatten → linear 3.
  const OpGraph g = build(
      "batch: 2\ninput: {shape: [1, 4, 4]}\nlayers:\n"
      "  - {kind: conv2d, out_channels: 2, kernel: 3, padding: 1, bias: false}\n"
      "  - {kind: batchnorm}\n  - {kind: relu}\n  - {kind: flatten}\n  - {kind: linear, out_features: 3}\n");
  // conv output 2·2·16·4 = 256 (BN keeps it); stats 2 channels · 2 · 4 = 16; ReLU output
  // 256 (also the linear's input, through the flatten view); logits 2·3·4 = 24.
  CHECK(g.memory.saved_after_forward_bytes == 256 + 16 + 256 + 24);
}

TEST_CASE("workload: grouped conv, embedding and binary layers", "[workload]") {
  const OpGraph c = build(
      "batch: 3\ninput: {shape: [4, 6, 6]}\nlayers:\n"
      "  - {kind: conv2d, name: c, out_channels: 8, kernel: 3, groups: 2}\n");
  const Op& f = find(c, "c.fwd");
  CHECK(f.gemm.m == 3 * 4 * 4);      // N·P·Q, P = 6 − 3 + 1
  CHECK(f.gemm.n == 8);              // filters
  CHECK(f.gemm.k == 4 * 3 * 3 / 2);  // C·R·S/groups
  CHECK(f.conv.groups == 2);
  CHECK(find(c, "c.dw").macs == f.macs);

  // Embedding: the table gradient by scatter-add; saved: its output (the linear's input)
  // 2·5·4·4 = 160 and the logits 2·5·3·4 = 120. Token ids are the network input.
  const OpGraph e = build(
      "batch: 2\ninput: {shape: [5]}\nlayers:\n  - {kind: embedding, name: emb, vocab: 10, dim: 4}\n"
      "  - {kind: linear, out_features: 3}\n");
  CHECK(e.memory.saved_after_forward_bytes == 160 + 120);
  CHECK(find(e, "emb.dw").kind == OpKind::embedding);

  // fp32 batch 4: linear 16 → binary_linear 8 → linear 2. The binary layer keeps the
  // packed sign of its input (64 bits = 8 bytes), the STE mask (8 bytes) and sign(W)
  // (128 bits = 16 bytes); its real input is not kept. Its output is the integer
  // pre-activation 2·popcount − 16 ∈ [−16, 16]: ⌈log2 17⌉ + 1 = 6 bits, 4·8·6/8 = 24 bytes
  // (not 4·8·4 = 128 of fp32); logits 32.
  const OpGraph b = build(
      "batch: 4\ninput: {shape: [16]}\nlayers:\n  - {kind: linear, out_features: 16}\n"
      "  - {kind: binary_linear, name: bl, out_features: 8}\n  - {kind: linear, out_features: 2}\n");
  CHECK(b.memory.saved_after_forward_bytes == 8 + 8 + 16 + 24 + 32);
  const Op& x = find(b, "bl.fwd");
  REQUIRE(x.writes.size() == 1);
  CHECK(b.tensors[x.writes[0]].bits == 6);
  CHECK(b.tensors[x.writes[0]].bytes == 24);
  CHECK(x.kind == OpKind::xnor_gemm);
  CHECK(x.macs == 4 * 8 * 16);
  CHECK(find(b, "bl.dx").kind == OpKind::gemm);  // real-valued gradients: not XNOR
  CHECK(find(b, "bl.dw").kind == OpKind::gemm);
}

TEST_CASE("workload: ResNet and GPT-2 specs match published sizes", "[workload]") {
  auto load = [](const std::string& spec) {
    return build_step(parse_net_spec(config::load_file(std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/" + spec)));
  };
  // torchvision's model tables: ResNet-18 1.81 and ResNet-50 4.09 GFLOPS per 224×224 image,
  // counted as multiply-accumulates of conv and linear layers (fvcore).
  const OpGraph r18 = load("resnet18.yaml"), r50 = load("resnet50.yaml");
  CHECK(double(forward_macs(r18)) / 32 == Approx(1.814e9).epsilon(0.001));
  CHECK(double(forward_macs(r50)) / 256 == Approx(4.089e9).epsilon(0.001));
  // Parameters: ResNet-18 11,689,512 and ResNet-50 25,557,032 (torchvision), fp32.
  auto params = [](const OpGraph& g) {
    uint64_t n = 0;
    for (const Tensor& t : g.tensors) n += t.role == TensorRole::weight ? t.bytes / 4 : 0;
    return n;
  };
  CHECK(params(r18) == 11689512);
  CHECK(params(r50) == 25557032);
  // GPT-2 small stack: 12 layers of Korthikanti's formula (s 1024, b 8, h 768, a 12, bf16)
  // plus LayerNorm statistics; the final LayerNorm keeps nothing new (its input is the
  // last block's output, already counted) but its fp32 stats 8·s·b, and its output for the loss.
  const OpGraph gpt = load("gpt2_small.yaml");
  const uint64_t s = 1024, b = 8, h = 768, a = 12;
  const uint64_t layer = 34 * s * b * h + 5 * a * s * s * b + 16 * s * b;
  CHECK(gpt.memory.saved_after_forward_bytes == 12 * layer + 8 * s * b + 2 * s * b * h);
}

TEST_CASE("workload: layer errors name the layer, both shapes and the position", "[workload]") {
  CHECK_THROWS_WITH(
      build(
          "input: {shape: [4]}\nlayers:\n  - {kind: residual, name: res, layers: [{kind: linear, out_features: 8}]}\n"),
      "net.yaml:3:5: res: the residual branch gives [8] but the shortcut gives [4] (they are added)");
  CHECK_THROWS_WITH(
      build("input: {shape: [16, 32]}\nlayers:\n  - {kind: transformer_block, name: t, hidden: 64, heads: 4}\n"),
      "net.yaml:3:5: t: expects an input of shape [tokens, 64], but the input shape is [16, 32]");
  CHECK_THROWS_WITH(
      build("input: {shape: [16, 30]}\nlayers:\n  - {kind: transformer_block, hidden: 30, heads: 4}\n"),
      Catch::Contains("net.yaml:3:") && Catch::Contains("layers[0].heads: hidden 30 does not divide by 4 heads"));
  CHECK_THROWS_WITH(
      build("input: {shape: [6, 8, 8]}\nlayers:\n  - {kind: conv2d, name: c, out_channels: 4, kernel: 3, groups: 4}\n"),
      "net.yaml:3:5: c: 6 input channels do not divide into 4 groups");
  CHECK_THROWS_WITH(build("input: {shape: [6, 8]}\nlayers:\n  - {kind: embedding, name: e, vocab: 9, dim: 2}\n"),
                    "net.yaml:3:5: e: embedding expects token ids [tokens], but the input shape is [6, 8]");
  CHECK_THROWS_WITH(build("input: {shape: [4]}\nlayers:\n  - {kind: residual, layers: []}\n"),
                    Catch::Contains("a residual needs at least one layer"));
  CHECK_THROWS_WITH(build("input: {shape: [4]}\nlayers:\n  - {kind: transformer_block, hidden: 4, head: 2}\n"),
                    Catch::Contains("layers[0].head: unknown key"));
}

TEST_CASE("workload: load_workload takes a spec file or inline layers, and checks the policy", "[workload]") {
  const config::Node inline_ok = config::parse_yaml(
      "workload:\n  input: {shape: [8]}\n  batch: 4\n  relu_density: 0.2\n  layers:\n"
      "    - {kind: linear, out_features: 8}\n    - {kind: relu}\n    - {kind: linear, out_features: 2}\n"
      "  policy: {kind: checkpoint_sequential, segments: 2}\n",
      "cfg.yaml");
  const auto g = load_workload(*inline_ok.find("workload"), "workload", 1);
  CHECK(g->batch == 4);
  CHECK(g->memory.policy == "checkpoint_sequential(2)");
  CHECK(find(*g, "linear2.dx").out_mask.density == 0.2);  // the override reached the ReLU
  const config::Node too_many = config::parse_yaml(
      "workload:\n  input: {shape: [8]}\n  layers: [{kind: relu}, {kind: linear, out_features: 2}]\n"
      "  policy: {kind: checkpoint_sequential, segments: 3}\n",
      "cfg.yaml");
  CHECK_THROWS_WITH(
      load_workload(*too_many.find("workload"), "workload", 1),
      Catch::StartsWith("cfg.yaml:4:") &&
          Catch::Contains("workload.policy.segments: 3 segments but the network has only 2 top-level layers"));
  const config::Node both =
      config::parse_yaml("workload:\n  spec: x.yaml\n  input: {shape: [8]}\n  layers: [{kind: relu}]\n", "cfg.yaml");
  CHECK_THROWS_WITH(load_workload(*both.find("workload"), "workload", 1),
                    "cfg.yaml:2:9: workload.spec: give either 'spec' or inline 'layers', not both");
  const config::Node none = config::parse_yaml("workload:\n  batch: 2\n", "cfg.yaml");
  CHECK_THROWS_WITH(load_workload(*none.find("workload"), "workload", 1),
                    Catch::Contains("missing required key 'spec' (or inline 'input' and 'layers')"));
}

TEST_CASE("workload: policies.KIND gives a kind's keys until policy.kind names it", "[workload][policies]") {
  auto load = [](const std::string& policy) {
    const config::Node root = config::parse_yaml(
        "workload:\n  input: {shape: [8]}\n  layers: [{kind: linear, out_features: 8}, {kind: relu}, "
        "{kind: linear, out_features: 2}]\n"
        "  policies: {checkpoint_sequential: {segments: 3}, threshold: {threshold: 2}}\n"
        "  policy: " +
            policy + "\n",
        "cfg.yaml");
    return load_workload(*root.find("workload"), "workload", 1)->memory.policy;
  };
  CHECK(load("{kind: checkpoint_sequential}") == "checkpoint_sequential(3)");
  CHECK(load("{kind: checkpoint_sequential, segments: 2}") == "checkpoint_sequential(2)");  // policy's own key wins
  CHECK(load("{kind: threshold}") == "threshold(2, flops)");
  CHECK(load("{kind: none}") == "none");
  const config::Node bad = config::parse_yaml(
      "workload:\n  input: {shape: [8]}\n  layers: [{kind: relu}]\n  policies: {lazy: {}}\n", "cfg.yaml");
  CHECK_THROWS_WITH(load_workload(*bad.find("workload"), "workload", 1),
                    Catch::StartsWith("cfg.yaml:4:") &&
                        Catch::Contains("workload.policies.lazy: unknown key (valid: none, checkpoint, "
                                        "checkpoint_sequential"));
}
