// Layers of current networks (RMSNorm, SiLU, SwiGLU, ViT's patch embedding, class token and
// position embedding, BERT's embeddings and post-LayerNorm block, a tied LM head), each
// checked by hand against what PyTorch 2.11 eager autograd keeps: FusedRmsNormBackward keeps
// the input and an fp32 rstd per row, SiluBackward its input, MulBackward both factors,
// torch.cat and an add nothing, EmbeddingBackward its int64 ids; and the ready-made specs'
// parameter counts against the published ones.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include "sim/core/config_node.h"
#include "sim/core/error.h"
#include "sim/workload/builder.h"
#include "sim/workload/spec.h"
#include "tests/unit/workload/graph_lookup.h"
#include "tests/unit/workload/torch_measured.h"

using namespace bpsim;
using namespace bpsim::workload;

namespace {

OpGraph build(const std::string& yaml) { return build_step(parse_net_spec(config::parse_yaml(yaml, "net.yaml"))); }

/// Elements of the trained parameters (each tied table once).
uint64_t parameters(const OpGraph& g, uint64_t elem_bytes) {
  uint64_t b = 0;
  for (const Tensor& t : g.tensors)
    if (t.role == TensorRole::weight) b += t.bytes;
  return b / elem_bytes;
}

bool has_op(const OpGraph& g, const std::string& name) {
  for (const Op& o : g.ops)
    if (o.name == name) return true;
  return false;
}

}  // namespace

TEST_CASE("workload: RMSNorm keeps its input and an fp32 rstd per row", "[workload]") {
  // bf16, batch 2, 16 tokens × 64. A linear first, so that the norm's input is an activation.
  const OpGraph g = build(
      "dtype: bf16\nbatch: 2\ninput: {shape: [16, 64]}\nlayers:\n"
      "  - {kind: linear, name: l, out_features: 64, bias: false}\n  - {kind: rmsnorm, name: n}\n");
  // Kept: the linear's input is the network input (not counted); the norm's input 2·16·64·2 =
  // 4096; rstd 2·16 rows · 4 = 128; the output the loss reads 4096.
  CHECK(g.memory.saved_after_forward_bytes == 4096 + 128 + 4096);
  CHECK(parameters(g, 2) == 64 * 64 + 64);  // the norm's weight, no bias
  const Op& bwd = test::find_op(g, "n.bwd");
  CHECK(bwd.kind == OpKind::normalization);
  CHECK(test::find_op(g, "n.dw").kind == OpKind::reduction);
}

TEST_CASE("workload: SwiGLU keeps x, gate(x), silu(gate(x)), up(x) and their product", "[workload]") {
  // bf16, batch 1, 16 tokens, h = 64, intermediate 128, no bias.
  const OpGraph g = build(
      "dtype: bf16\ninput: {shape: [16, 64]}\nlayers:\n"
      "  - {kind: linear, name: l, out_features: 64, bias: false}\n"
      "  - {kind: swiglu, name: m, hidden: 64, intermediate: 128}\n");
  // x (the linear's output, read by gate and up) 16·64·2 = 2048; gate(x) (SiLU's input),
  // silu(gate(x)) and up(x) (the product's factors) and the product (down's input),
  // 16·128·2 = 4096 each; the output 2048.
  CHECK(g.memory.saved_after_forward_bytes == 2048 + 4 * 4096 + 2048);
  CHECK(parameters(g, 2) == 64 * 64 + 3 * 64 * 128);
  // MulBackward: one product per factor, dy times the other factor.
  CHECK(test::find_op(g, "m.glu.bwd0").reads.size() == 2);
  CHECK(test::find_op(g, "m.glu.bwd1").reads.size() == 2);
  CHECK(test::find_op(g, "m.silu.bwd").detail == "silu_bwd");
  CHECK(test::find_op(g, "m.down.fwd").macs == 16 * 128 * 64);
}

TEST_CASE("workload: ViT patch embedding, class token, position embedding and head", "[workload]") {
  // fp32, batch 2, a 3×32×32 image in 16×16 patches: 4 tokens of 8, a class token, 5 tokens.
  const OpGraph g = build(
      "batch: 2\ninput: {shape: [3, 32, 32]}\nlayers:\n  - {kind: patch_embedding, name: p, patch: 16, hidden: 8}\n"
      "  - {kind: layernorm, name: ln}\n  - {kind: select_token, name: cls}\n"
      "  - {kind: linear, name: head, out_features: 10}\n");
  // The conv keeps the image (the input: not counted); its output, the concatenation and
  // the sum with the position table are kept by nobody but the next layer: the LayerNorm
  // keeps the sum 2·5·8·4 = 320 and 2·5 rows · 2 · 4 = 80 of statistics; the head keeps its
  // input x[:, 0], a view of the whole LayerNorm output (320); the logits 2·10·4 = 80.
  CHECK(g.memory.saved_after_forward_bytes == 320 + 80 + 320 + 80);
  // conv 8·3·16·16 + 8, class token 8, position table 5·8, LayerNorm 16, head 8·10 + 10.
  CHECK(parameters(g, 4) == 8 * 3 * 256 + 8 + 8 + 5 * 8 + 16 + 90);
  CHECK(test::find_op(g, "p.conv_proj.fwd").macs == 2 * 4 * 8 * 3 * 256);
  CHECK(test::find_op(g, "head.fwd").macs == 2 * 8 * 10);
  CHECK(has_op(g, "p.class_token.dw"));
  CHECK(has_op(g, "p.pos_embedding.dw"));
  CHECK(has_op(g, "cls.bwd"));  // SelectBackward scatters into zeros of the input's shape
}

TEST_CASE("workload: a ViT encoder block keeps nn.MultiheadAttention's contiguous copy", "[workload]") {
  // fp32, batch 1, 4 tokens, h = 32, 2 heads of 16, MLP 64, no dropout; the attention is
  // SDPA's memory-efficient kernel (vit_block's default, what PyTorch picks for fp32).
  const OpGraph g = build(
      "input: {shape: [4, 32]}\nlayers:\n  - {kind: linear, name: l, out_features: 32}\n"
      "  - {kind: vit_block, name: b, hidden: 32, heads: 2, intermediate: 64}\n");
  // sbh = 4·32·4 = 512 bytes. ln_1: its input 512 + statistics 4·2·4 = 32; the in-projection
  // keeps ln_1's output 512; the kernel keeps the packed q, k, v 3·512 (views of one copy),
  // its output 512 and an fp32 log-sum-exp per head and row, rows padded to 32: 2·32·4 = 256;
  // out_proj keeps the permuted contiguous copy of the output 512; ln_2: the sum 512 + 32;
  // fc1 ln_2's output 512; GELU its input 4·64·4 = 1024; fc2 GELU's output 1024; the block
  // output 512. torchvision's ViT-B/16 measured this way to the byte (vit_b16.yaml, below).
  CHECK(g.memory.saved_after_forward_bytes ==
        512 + 32 + 512 + 1536 + 512 + 256 + 512 + 512 + 32 + 512 + 1024 + 1024 + 512);
  CHECK(has_op(g, "b.attn_contiguous.fwd"));
}

TEST_CASE("workload: BERT embeddings and a post-LayerNorm encoder block", "[workload]") {
  // fp32, batch 2, 4 tokens, h = 8, 2 heads, FFN 16, dropout 0.1.
  const OpGraph g = build(
      "batch: 2\ninput: {shape: [4]}\nlayers:\n"
      "  - {kind: bert_embeddings, name: e, vocab: 50, hidden: 8, positions: 6, token_types: 2}\n"
      "  - {kind: bert_block, name: b, hidden: 8, heads: 2, intermediate: 16}\n");
  // sbh = 2·4·8·4 = 256 bytes, masks 64; probabilities 2·2·4·4 = 64 elements.
  // Embeddings: position ids 4·8 = 32 and token-type ids 2·4·8 = 64 (made in the forward);
  // the sum 256 + statistics 2·4·2·4 = 64 (LayerNorm); the dropout mask 64; its output 256.
  const uint64_t emb = 32 + 64 + 256 + 64 + 64 + 256;
  // Block: Q, K and V 3·256 (the attention keeps the QKV output); softmax output 256, its
  // dropout mask 64 and output 256; the merged heads (out proj's input) 256; the dropout mask
  // after out proj 64; LayerNorm 1: the sum 256 + 64; its output 256 (fc1 and the residual);
  // GELU's input 2·4·16·4 = 512, its output 512 (fc2); mask 64; LayerNorm 2: 256 + 64; out 256.
  const uint64_t block = 768 + 256 + 64 + 256 + 256 + 64 + 320 + 256 + 1024 + 64 + 320 + 256;
  CHECK(g.memory.saved_after_forward_bytes == emb + block);
  // word 50·8, position 6·8, token type 2·8, LayerNorm 16; block 4·(64 + 8) + 8·16 + 16 +
  // 16·8 + 8 + 2·16.
  CHECK(parameters(g, 4) == 400 + 48 + 16 + 16 + 4 * 72 + 144 + 136 + 32);
}

TEST_CASE("workload: a tied LM head shares the embedding's table and adds its gradient", "[workload]") {
  // bf16, batch 1, 4 token ids, vocab 10, width 8: embedding, LM head tied to it.
  const std::string base =
      "dtype: bf16\ninput: {shape: [4]}\nlayers:\n  - {kind: embedding, name: wte, vocab: 10, dim: 8}\n";
  const OpGraph g = build(base + "  - {kind: linear, name: head, out_features: 10, bias: false, tied: wte}\n");
  CHECK(parameters(g, 2) == 80);  // one table
  size_t grads = 0, updates = 0;
  for (const Tensor& t : g.tensors) grads += t.role == TensorRole::weight_gradient;
  for (const Op& o : g.ops) updates += o.phase == Phase::update;
  CHECK(grads == 1);
  CHECK(updates == 1);
  // The head's dW writes .grad; the embedding's backward writes a temporary that is added in.
  CHECK(test::find_op(g, "wte.grad_accumulate").reads.size() == 2);
  const OpGraph u = build(base + "  - {kind: linear, name: head, out_features: 10, bias: false}\n");
  CHECK(parameters(u, 2) == 160);
  // A tied layer must name an earlier embedding of the same shape.
  CHECK_THROWS_WITH(build(base + "  - {kind: linear, name: head, out_features: 9, tied: wte}\n"),
                    Catch::Contains("tied: embedding 'wte' has a [10, 8] table, but this layer's weight is [9, 8]"));
  CHECK_THROWS_WITH(build(base + "  - {kind: linear, name: head, out_features: 10, tied: emb}\n"),
                    Catch::Contains("tied: no earlier embedding layer is named 'emb'"));
}

TEST_CASE("workload: bad keys of the new layers are refused with their path", "[workload]") {
  const std::string head = "input: {shape: [4, 8]}\nlayers:\n";
  CHECK_THROWS_WITH(build(head + "  - {kind: swiglu, hidden: 8}\n"), Catch::Contains("intermediate"));
  CHECK_THROWS_WITH(build(head + "  - {kind: vit_block, hidden: 8, heads: 3, intermediate: 8}\n"),
                    Catch::Contains("hidden 8 does not divide by 3 heads"));
  CHECK_THROWS_WITH(build(head + "  - {kind: position_embedding, rows: 2, lookup: true}\n"),
                    Catch::Contains("a table of 2 rows cannot cover 4 tokens"));
  CHECK_THROWS_WITH(build(head + "  - {kind: position_embedding, rows: 4}\n"),
                    Catch::Contains("a table added whole has one row per token"));
  CHECK_THROWS_WITH(build(head + "  - {kind: swiglu, hidden: 16, intermediate: 8}\n"),
                    Catch::Contains("expects an input of shape [tokens, 16]"));
  CHECK_THROWS_WITH(build("input: {shape: [3, 8, 8]}\nlayers:\n  - {kind: class_token}\n"),
                    Catch::Contains("class_token expects [tokens, features]"));
}

TEST_CASE("workload: BERT-base's spec, parameters and saved bytes by hand", "[workload]") {
  const OpGraph g = build_step(
      parse_net_spec(config::load_file(std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/bert_base.yaml")));
  CHECK(parameters(g, 4) == 108891648);  // derived in the spec's header
  // b = 8, s = 512, h = 768, a = 12, fp32: sbh = 12,582,912 bytes, as² b = 25,165,824 elements.
  const uint64_t sbh = 12582912, probs = 25165824, mask = sbh / 4, stats = 8 * 512 * 2 * 4;
  // Per layer as in the small block above: Q, K, V 3sbh; softmax output 4·probs, its mask
  // probs, the dropped 4·probs; merged heads sbh; mask; LN1 sum + stats; LN1 out; GELU in and
  // out 2·4sbh; mask; LN2 sum + stats; output sbh.
  const uint64_t layer = 3 * sbh + 9 * probs + sbh + mask + sbh + stats + sbh + 8 * sbh + mask + sbh + stats + sbh;
  // Embeddings: position ids 512·8, token-type ids 8·512·8, LN sum + stats, mask, output.
  const uint64_t emb = 512 * 8 + 8 * 512 * 8 + sbh + stats + mask + sbh;
  CHECK(g.memory.saved_after_forward_bytes == 12 * layer + emb);
  CHECK(12 * layer + emb == test::torch_figure("bert_base_none", "saved_requested_bytes"));
}
