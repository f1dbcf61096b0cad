// The ready-made specs of current networks (configs/workloads/): parameter counts against
// the published ones (each derived in its spec's header), and Llama's saved bytes by hand
// against PyTorch 2.11's on an H200 (#21's ground truth, case llama_none).
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include "sim/core/config_node.h"
#include "sim/workload/builder.h"
#include "sim/workload/spec.h"
#include "tests/unit/workload/torch_measured.h"

using namespace bpsim;
using namespace bpsim::workload;

namespace {

OpGraph load(const std::string& spec) {
  return build_step(parse_net_spec(config::load_file(std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/" + spec)));
}

uint64_t parameters(const OpGraph& g, uint64_t elem_bytes) {
  uint64_t b = 0;
  for (const Tensor& t : g.tensors)
    if (t.role == TensorRole::weight) b += t.bytes;
  return b / elem_bytes;
}

}  // namespace

TEST_CASE("workload: the specs of current networks have their published parameter counts", "[workload]") {
  // h = 2048, 32 heads of 64, 8 KV heads, SwiGLU 8192: q and o h², k and v h·512, gate, up
  // and down 3·h·8192, two RMSNorm weights 2h.
  const uint64_t llama_layer = 2 * 2048 * 2048 + 2 * 2048 * 512 + 3 * 2048 * 8192 + 2 * 2048;
  CHECK(parameters(load("llama_1b_layers.yaml"), 2) == 16 * llama_layer + 2048);
  // The released model's 1,235,814,400: the tied table 128256·2048 counted once.
  CHECK(parameters(load("llama_1b.yaml"), 2) == 128256ull * 2048 + 16 * llama_layer + 2048);
  CHECK(parameters(load("llama_1b.yaml"), 2) == 1235814400);
  // GPT-3 XL: 12h² + 13h per layer, final LayerNorm 2h; embeddings 50257·h + 2048·h.
  const uint64_t gpt_layer = 12ull * 2048 * 2048 + 13 * 2048;
  CHECK(parameters(load("gpt_1b_layers.yaml"), 2) == 24 * gpt_layer + 2 * 2048);
  CHECK(parameters(load("gpt_1b.yaml"), 2) == 24 * gpt_layer + 2 * 2048 + 50257ull * 2048 + 2048 * 2048);
  // torchvision vit_b_16: 86,567,656.
  CHECK(parameters(load("vit_b16.yaml"), 4) == 86567656);
}

TEST_CASE("workload: Llama-3.2-1B's decoder stack keeps what PyTorch keeps, by hand", "[workload]") {
  // bf16, b = 1, s = 2048, h = 2048: sbh = 8 MiB. Per layer (PyTorch 2.11, cuDNN SDPA):
  // the first RMSNorm's rstd 2048·4 and output sbh (q, k, v read it); q after rotary sbh, k
  // and v after rotary 2048·512·2 each; the attention output sbh (o reads it as a view), its
  // log-sum-exp 32·2048·4 and two int64 RNG scalars; the residual sum sbh; the second
  // RMSNorm's rstd and output sbh; gate(x), silu(gate(x)), up(x) and their product
  // 2048·8192·2 each; the layer output sbh (the next layer's input).
  const uint64_t sbh = 2048ull * 2048 * 2, kv = 2048 * 512 * 2, ffn = 2048ull * 8192 * 2, rstd = 2048 * 4;
  const uint64_t layer = 6 * sbh + 2 * kv + 4 * ffn + 2 * rstd + 32 * 2048 * 4 + 16;
  // The last layer's output is read by the final RMSNorm, which adds its rstd and output.
  const uint64_t expected = 16 * layer + rstd + sbh;
  CHECK(expected ==
        test::torch_figure("llama_none",
                           "saved_requested_bytes"));  // torch's traced after-forward bytes (case llama_none)
  CHECK(load("llama_1b_layers.yaml").memory.saved_after_forward_bytes == expected);
}

TEST_CASE("workload: ViT-B/16 and GPT-3 XL's stack keep what PyTorch keeps, by hand", "[workload]") {
  // ViT-B/16, fp32, b = 32, 197 tokens, h = 768: sbh = 19,365,888 bytes. Per layer: ln_1's
  // statistics 32·197·2·4 and output sbh; the packed q, k, v 3sbh; the memory-efficient
  // kernel's output sbh and log-sum-exp 32·12·224·4 (rows padded to 32); out_proj's
  // contiguous copy sbh; the residual sum sbh; ln_2's statistics and output sbh; GELU's input
  // and output 4sbh each; the layer output sbh: 17sbh. Before: the embedded tokens sbh
  // (ln_1's input); after: the final LayerNorm's statistics and output (the head keeps
  // x[:, 0], a view of all of it) and the logits 32·1000·4.
  const uint64_t vsbh = 19365888, vstats = 32 * 197 * 2 * 4;
  const uint64_t vit = 12 * (17 * vsbh + 2 * vstats + 32 * 12 * 224 * 4) + vsbh + vstats + vsbh + 128000;
  CHECK(vit == test::torch_figure("vit_b16_none",
                                  "saved_requested_bytes"));  // torch's traced after-forward bytes (case vit_b16_none)
  CHECK(load("vit_b16.yaml").memory.saved_after_forward_bytes == vit);
  // GPT-3 XL's stack, bf16, b = 1, s = 2048, h = 2048, 16 heads, dropout 0.1: sbh = 8 MiB.
  // Per layer: ln1's statistics 2048·2·4 and output sbh; q, k, v 3sbh (views of the fused
  // projection) and the flash kernel's output sbh, log-sum-exp 16·2048·4 and RNG state 24
  // bytes; two dropout masks sbh/2 each; the residual sum sbh; ln2's statistics and output
  // sbh; GELU's input and output 4sbh each; the layer output sbh: 16sbh. The final
  // LayerNorm adds its statistics and output.
  const uint64_t gsbh = 8388608, gstats = 2048 * 2 * 4;
  const uint64_t gpt = 24 * (16 * gsbh + gsbh + 2 * gstats + 16 * 2048 * 4 + 24) + gstats + gsbh;
  CHECK(gpt == test::torch_figure("gpt_1b_none",
                                  "saved_requested_bytes"));  // torch's traced after-forward bytes (case gpt_1b_none)
  CHECK(load("gpt_1b_layers.yaml").memory.saved_after_forward_bytes == gpt);
}
