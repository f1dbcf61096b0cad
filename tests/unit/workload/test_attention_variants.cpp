// Attention variants (docs/workloads.md "Attention variants"): what each keeps after the
// forward, its MACs and its backward ops, derived by hand for one small attention layer.
//
// The layer: bf16 (2 bytes), batch b = 2, s = 40 tokens, hidden h = 64, heads a = 4, so
// d = 16; causal, no dropout unless said. Its input is the network input (not counted);
// what stays after the forward is, per variant, listed in each check. Common parts:
//   qkv projection output, fused, 3 heads' worth: b·s·(a + 2·kv)·d·2 = 30720 (kv = a)
//   attention output (kept by the output projection): b·s·h·2 = 10240
//   output projection's output (the network output the loss reads): 10240
//   explicit probabilities: b·a·s²·2 = 25600
#include <catch2/catch.hpp>

#include "sim/core/config_node.h"
#include "sim/core/error.h"
#include "sim/workload/builder.h"
#include "sim/workload/spec.h"
#include "tests/unit/workload/graph_lookup.h"
#include "tests/unit/workload/torch_measured.h"

using namespace bpsim;
using namespace bpsim::workload;

namespace {

/// `before`: a layer map ahead of the attention (empty: the attention reads the input).
NetSpec layer(const std::string& keys, const std::string& dtype = "bf16", const std::string& before = "") {
  const std::string yaml = "dtype: " + dtype + "\nbatch: 2\ninput: {shape: [40, 64]}\nlayers:\n" +
                           (before.empty() ? "" : "  - " + before + "\n") +
                           "  - {kind: attention, name: att, hidden: 64, heads: 4" + (keys.empty() ? "" : ", " + keys) +
                           "}\n";
  return parse_net_spec(config::parse_yaml(yaml, "att.yaml"));
}

uint64_t saved(const std::string& keys) { return build_step(layer(keys)).memory.saved_after_forward_bytes; }

uint64_t macs(const OpGraph& g, Phase ph, const std::string& layer_name) {
  uint64_t m = 0;
  for (const Op& o : g.ops)
    if (o.phase == ph && o.layer == layer_name) m += o.macs;
  return m;
}

constexpr uint64_t kOuts = 2 * 10240;  // attention output + network output
constexpr uint64_t kQkv = 30720;
/// One s×s×d GEMM per (sample, head): b·a·s²·d MACs.
constexpr uint64_t kHeadGemm = 2 * 4 * 40 * 40 * 16;

}  // namespace

TEST_CASE("attention variants: saved bytes after the forward, by hand", "[workload][attention]") {
  // Explicit: projection output (matmul's copies of q, k, v have its bytes), probabilities.
  CHECK(saved("") == kQkv + 25600 + kOuts);  // 76800
  // Explicit with dropout 0.1: + the 1-byte mask b·a·s² = 12800 + dropped probabilities 25600.
  CHECK(saved("dropout: 0.1") == kQkv + 25600 + 12800 + 25600 + kOuts);
  // Kept causal mask: + s² bool = 1600.
  CHECK(saved("causal_mask: kept") == kQkv + 25600 + 1600 + kOuts);
  // Flash: no probabilities; fp32 log-sum-exp b·a·s·4 = 1280, rng_state 16 + 8 bytes.
  CHECK(saved("attention: flash") == kQkv + 1280 + 24 + kOuts);
  // Dropout changes nothing for a fused kernel (the mask comes back from the RNG state).
  CHECK(saved("attention: flash, dropout: 0.1") == kQkv + 1280 + 24 + kOuts);
  // Memory-efficient: log-sum-exp rows rounded up to 32: b·a·64·4 = 2048; RNG on the host.
  CHECK(saved("attention: mem_efficient") == kQkv + 2048 + kOuts);
  // cuDNN: log-sum-exp b·a·s·4, seed and offset 8 bytes each.
  CHECK(saved("attention: cudnn") == kQkv + 1280 + 16 + kOuts);
  // Grouped-query, kv_heads 2: the projection is (4 + 2·2)·16 = 128 wide: b·s·128·2 = 20480.
  CHECK(saved("attention: flash, kv_heads: 2") == 20480 + 1280 + 24 + kOuts);
  // Explicit grouped-query: repeat_kv's and matmul's copies, 3·b·s·h·2 = 30720; the
  // projection's output is freed once copied.
  CHECK(saved("kv_heads: 2") == 30720 + 25600 + kOuts);
  CHECK(saved("rope: true") == 30720 + 25600 + kOuts);
  // Rotary on flash, fused projection: rotated q b·s·a·d·2 = 10240, rotated k b·s·kv·d·2 =
  // 5120, and the whole projection output (20480) that v is a view of.
  CHECK(saved("attention: flash, kv_heads: 2, rope: true") == 10240 + 5120 + 20480 + 1280 + 24 + kOuts);
  // Separate projections: v is its own tensor, b·s·kv·d·2 = 5120; q's and k's are freed.
  CHECK(saved("attention: flash, kv_heads: 2, rope: true, qkv: separate") == 10240 + 5120 + 5120 + 1280 + 24 + kOuts);
}

TEST_CASE("attention variants: MACs and backward ops", "[workload][attention]") {
  const OpGraph ex = build_step(layer(""));
  const OpGraph fl = build_step(layer("attention: flash, kv_heads: 2"));
  // Forward: QKᵀ and P·V, two head GEMMs, either way.
  CHECK(macs(ex, Phase::forward, "att.attn") == 2 * kHeadGemm);
  CHECK(macs(fl, Phase::forward, "att.attn") == 2 * kHeadGemm);
  // Backward: explicit dV, dP, dQ, dK; flash recomputes S first: five (2.5× the forward).
  CHECK(macs(ex, Phase::backward_data, "att.attn") == 4 * kHeadGemm);
  CHECK(macs(fl, Phase::backward_data, "att.attn") == 5 * kHeadGemm);
  // The fused kernel never makes an s×s tensor: its QKᵀ writes nothing, and no tensor has
  // the probabilities' b·a·s² bf16 elements (25600 bytes).
  CHECK(test::find_op(fl, "att.attn.sdpa_qk").writes.empty());
  for (const Tensor& t : fl.tensors) CHECK(t.bytes != 25600);
  bool explicit_probs = false;
  for (const Tensor& t : ex.tensors)
    explicit_probs = explicit_probs || (t.name == "att.attn.probs" && t.bytes == 25600);
  CHECK(explicit_probs);
  // Grouped heads: dk and dv written per query head (workspaces b·s·h·2 = 10240 each),
  // then summed per group into b·s·kv·d tensors; the split's backward concatenates.
  const Op& sum = test::find_op(fl, "att.attn.sdpa_bwd_dkv_sum");
  REQUIRE(sum.reads.size() == 2);
  CHECK(fl.tensors[sum.reads[0]].bytes == 10240);
  CHECK(fl.tensors[sum.writes[0]].bytes == 2 * 40 * 2 * 16 * 2);
  CHECK(fl.tensors[test::find_op(fl, "att.attn.dqkv").writes[0]].bytes == 20480);
  // Flash's workspaces: D over ⌈40/128⌉·128 rows, b·a·128·4 = 4096; the dQ accumulator
  // [b, 128, a, 32 (d = 16 rounded to 32)] fp32 = 131072.
  const Op& delta = test::find_op(fl, "att.attn.sdpa_bwd_delta");
  REQUIRE(delta.writes.size() == 2);
  CHECK(fl.tensors[delta.writes[0]].bytes == 4096);
  CHECK(fl.tensors[delta.writes[1]].bytes == 131072);
  CHECK(fl.tensors[delta.writes[1]].role == TensorRole::workspace);
  // The projection's MACs follow its width: rows b·s = 80, K = 64, N = 128.
  CHECK(test::find_op(fl, "att.qkv.fwd").macs == 80 * 64 * 128);
  // Rotary embedding: 3.5 FLOPs per element of q (b·s·a·d = 5120) and k (2560).
  const OpGraph ro = build_step(layer("attention: flash, kv_heads: 2, rope: true"));
  CHECK(test::find_op(ro, "att.attn.q_rope").flops == 5120 * 7 / 2);
  CHECK(test::find_op(ro, "att.attn.k_rope").flops == 2560 * 7 / 2);
  CHECK(test::find_op(ro, "att.attn.q_rope_bwd").flops == 5120 * 7 / 2);
}

TEST_CASE("attention variants: separate projections feed one attention", "[workload][attention]") {
  // A LayerNorm first, so that the projections' input needs a gradient.
  const OpGraph g = build_step(layer("qkv: separate, kv_heads: 2, attention: flash", "bf16", "{kind: layernorm}"));
  CHECK(test::find_op(g, "att.q.fwd").macs == 80 * 64 * 64);
  CHECK(test::find_op(g, "att.k.fwd").macs == 80 * 64 * 32);
  CHECK(test::find_op(g, "att.v.fwd").macs == 80 * 64 * 32);
  // The three dX meet in the input's gradient: two sums, as autograd accumulates them.
  int sums = 0;
  for (const Op& o : g.ops) sums += o.detail == "grad_accumulate";
  CHECK(sums == 2);
  // Same parameters as one fused projection of width 128.
  const OpGraph f = build_step(layer("kv_heads: 2, attention: flash", "bf16", "{kind: layernorm}"));
  uint64_t ws = 0, wf = 0;
  for (const Tensor& t : g.tensors) ws += t.role == TensorRole::weight ? t.bytes : 0;
  for (const Tensor& t : f.tensors) wf += t.role == TensorRole::weight ? t.bytes : 0;
  CHECK(ws == wf);
}

TEST_CASE("attention variants: refused values", "[workload][attention]") {
  auto refused = [](const std::string& keys, const std::string& dtype, const std::string& what) {
    INFO(keys);
    try {
      build_step(layer(keys, dtype));
      FAIL("accepted");
    } catch (const InputError& e) {
      CHECK_THAT(e.what(), Catch::Contains(what));
    }
  };
  refused("kv_heads: 3", "bf16", "kv_heads must divide heads");
  refused("attention: flash", "fp32", "flash runs in bf16 or fp16 only, not fp32");
  refused("attention: cudnn", "fp32", "cudnn runs in bf16 or fp16 only");
  refused("attention: flash, causal_mask: kept", "bf16", "a kept mask belongs to explicit causal attention");
  refused("causal: false, causal_mask: kept", "bf16", "a kept mask belongs to explicit causal attention");
  // fp32 is the memory-efficient kernel's own: accepted.
  CHECK(build_step(layer("attention: mem_efficient", "fp32")).memory.saved_after_forward_bytes ==
        2 * (kQkv + kOuts) + 2048);
}

TEST_CASE("attention variants: PyTorch 2.11's live tensors after the forward, to the byte", "[workload][attention]") {
  // Measured on an H200 (torch 2.11.0+cu130; the project's torch ground truth, tensors alive
  // after the forward): GPT-2 small, bf16, b 8, s 1024, dropout 0.1, 12 blocks + ln_f.
  auto gpt2 = [](const std::string& keys, const std::string& seq = "1024") {
    const std::string yaml = "dtype: bf16\nbatch: 8\ninput: {shape: [" + seq +
                             ", 768]}\nlayers:\n  - repeat: 12\n    layers:\n"
                             "      - {kind: transformer_block, hidden: 768, heads: 12, dropout: 0.1" +
                             keys + "}\n  - {kind: layernorm}\n";
    return build_step(parse_net_spec(config::parse_yaml(yaml, "gpt2.yaml"))).memory.saved_after_forward_bytes;
  };
  CHECK(gpt2("") == test::torch_figure("gpt2_none", "saved_requested_bytes"));  // gpt2_none (explicit, mask a buffer)
  CHECK(gpt2(", causal_mask: kept") ==
        test::torch_figure("gpt2_mask_none", "saved_requested_bytes"));  // gpt2_mask_none: + 12 · 1024² bool
  CHECK(gpt2(", attention: flash") ==
        test::torch_figure("gpt2_flash_none", "saved_requested_bytes"));  // gpt2_flash_none
  CHECK(gpt2(", attention: mem_efficient") ==
        test::torch_figure("gpt2_efficient_none", "saved_requested_bytes"));  // gpt2_efficient_none
  // s = 1000: flash keeps the log-sum-exp [8, 12, 1000], the memory-efficient kernel
  // [8, 12, 1024]: 12 · 8 · 12 · 24 · 4 = 110592 bytes more, less flash's 12 · 24 RNG bytes
  // (gpt2_s1000_efficient_none − gpt2_s1000_flash_none = 110304 = 110592 − 288).
  CHECK(gpt2(", attention: flash", "1000") ==
        test::torch_figure("gpt2_s1000_flash_none", "saved_requested_bytes"));  // gpt2_s1000_flash_none
  CHECK(gpt2(", attention: mem_efficient", "1000") ==
        test::torch_figure("gpt2_s1000_efficient_none", "saved_requested_bytes"));  // gpt2_s1000_efficient_none
  // Llama-3.2-1B's attention (llama_none, cuDNN's kernel chosen by SDPA): per block the rotated
  // q [1, 32, 2048, 64] and k [1, 8, 2048, 64], v_proj's output, the output, the log-sum-exp
  // [1, 32, 2048, 1] fp32 and two 8-byte RNG scalars: 8388608 + 2097152 + 2097152 + 8388608
  // + 262144 + 16; here one attention alone, whose o_proj output (8388608) is the network's.
  const std::string llama =
      "dtype: bf16\nbatch: 1\ninput: {shape: [2048, 2048]}\nlayers:\n  - {kind: attention, hidden: 2048, heads: 32, "
      "kv_heads: 8, rope: true, qkv: separate, attention: cudnn}\n";
  CHECK(build_step(parse_net_spec(config::parse_yaml(llama, "llama.yaml"))).memory.saved_after_forward_bytes ==
        8388608 + 2097152 + 2097152 + 8388608 + 262144 + 16 + 8388608);
}
