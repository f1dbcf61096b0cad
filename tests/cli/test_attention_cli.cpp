// Attention variants from the user's side: specs through `bpsim workload` and `bpsim run`,
// the fused kernels refused by the accelerators that cannot cost them, bad values refused
// with the file, line and key (docs/workloads.md "Attention variants").
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;
using Catch::Contains;

namespace {

/// One attention layer, bf16, batch 2, 40 tokens of 64 features, 4 heads (d = 16).
std::string spec(const Scratch& s, const std::string& name, const std::string& keys, const std::string& dtype = "bf16",
                 const std::string& heads = "4") {
  return s.file(name + ".yaml", "name: " + name + "\ndtype: " + dtype +
                                    "\nbatch: 2\ninput: {shape: [40, 64]}\nlayers:\n"
                                    "  - {kind: attention, name: att, hidden: 64, heads: " +
                                    heads + (keys.empty() ? "" : ", " + keys) + "}\n");
}

std::string run_config(const Scratch& s, const std::string& arch, const std::string& spec_file) {
  return s.file(arch + ".run.yaml", preset_includes(arch + ".yaml") + "workload: {spec: " + spec_file + "}\n");
}

}  // namespace

TEST_CASE("cli attention: fused kernels keep the log-sum-exp, not the probabilities", "[cli][workload][attention]") {
  Scratch s("attn_cli");
  // Explicit: projection output b·s·3h·2 = 30720, probabilities b·a·s²·2 = 25600, attention
  // output and network output b·s·h·2 = 10240 each: 76800 (tests/unit/.../test_attention_variants.cpp).
  CliResult e = run_bpsim("workload " + spec(s, "ex", "") + " --json");
  REQUIRE(e.code == 0);
  CHECK(nlohmann::json::parse(e.out)["saved_after_forward_bytes"] == 76800);
  // Flash: 30720 + log-sum-exp b·a·s·4 = 1280 + RNG state 24 + 20480 = 52504.
  CliResult f = run_bpsim("workload " + spec(s, "fl", "attention: flash, dropout: 0.1") + " --json");
  REQUIRE(f.code == 0);
  const auto g = nlohmann::json::parse(f.out);
  CHECK(g["saved_after_forward_bytes"] == 52504);
  std::vector<std::string> fused;
  for (const auto& o : g["ops"])
    if (o["name"].get<std::string>().find(".sdpa_") != std::string::npos) fused.push_back(o["name"]);
  // Forward QKᵀ and softmax (P·V is the layer's .fwd); backward D, QKᵀ, dV, dP, dS, dQ, dK.
  const std::vector<std::string> want = {"att.attn.sdpa_qk",     "att.attn.sdpa_softmax", "att.attn.sdpa_bwd_delta",
                                         "att.attn.sdpa_bwd_qk", "att.attn.sdpa_bwd_dv",  "att.attn.sdpa_bwd_dp",
                                         "att.attn.sdpa_bwd_ds", "att.attn.sdpa_bwd_dq",  "att.attn.sdpa_bwd_dk"};
  CHECK(fused == want);
  // Grouped-query with rotary embeddings on separate projections (the Llama form):
  // rotated q 10240 and k 5120, v 5120, 1280 + 24, 20480.
  CliResult l =
      run_bpsim("workload " + spec(s, "ll", "attention: flash, kv_heads: 2, rope: true, qkv: separate") + " --json");
  INFO(l.err);
  REQUIRE(l.code == 0);
  CHECK(nlohmann::json::parse(l.out)["saved_after_forward_bytes"] == 10240 + 5120 + 5120 + 1280 + 24 + 20480);
}

TEST_CASE("cli attention: bad values stop with the key", "[cli][workload][attention]") {
  Scratch s("attn_bad");
  CliResult k = run_bpsim("workload " + spec(s, "kv", "kv_heads: 3"));
  CHECK(k.code == 2);
  CHECK_THAT(k.err, Contains("kv.yaml:") && Contains("layers[0].kv_heads") && Contains("kv_heads must divide heads"));
  CliResult f = run_bpsim("workload " + spec(s, "f32", "attention: flash", "fp32"));
  CHECK(f.code == 2);
  CHECK_THAT(f.err, Contains("att.attn") && Contains("flash runs in bf16 or fp16 only, not fp32") &&
                        Contains("attention: mem_efficient"));
  CliResult d = run_bpsim("workload " + spec(s, "d4", "attention: mem_efficient", "bf16", "16"));
  CHECK(d.code == 2);
  CHECK_THAT(d.err, Contains("layers[0].attention") && Contains("hidden/heads = 4") && Contains("multiple of 8"));
  CliResult m = run_bpsim("workload " + spec(s, "mk", "attention: cudnn, causal_mask: kept"));
  CHECK(m.code == 2);
  CHECK_THAT(m.err, Contains("layers[0].causal_mask"));
  CliResult v = run_bpsim("workload " + spec(s, "bv", "attention: fast"));
  CHECK(v.code == 2);
  CHECK_THAT(v.err, Contains("explicit") && Contains("flash") && Contains("mem_efficient") && Contains("cudnn"));
}

TEST_CASE("cli attention: accelerators refuse the fused kernel, run the explicit variants",
          "[cli][workload][attention][systolic][mesh]") {
  Scratch s("attn_run");
  const std::string fl = spec(s, "fl", "attention: flash");
  for (const char* arch : {"systolic_32x32_bf16", "mesh_8x8"}) {
    CliResult r = run_bpsim("validate " + run_config(s, arch, fl));
    INFO(arch << ": " << r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("att.attn") && Contains("fused scaled-dot-product attention") &&
                          Contains("attention: explicit"));
  }
  // The explicit variants run on the systolic array: the copies, rotary embedding and the
  // kept mask as vector ops, the GEMMs at their own shapes.
  const std::string ex = spec(s, "ex", "kv_heads: 2, rope: true, causal_mask: kept");
  CliResult r = run_bpsim("run " + run_config(s, "systolic_32x32_bf16", ex) + " -q --out " + (s / "o"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  const std::string ops = slurp(s / "o/ops.csv");
  CHECK_THAT(ops, Contains("att.attn.qkv_copy") && Contains("att.attn.q_rope") && Contains("att.attn.causal_mask") &&
                      Contains("att.attn.repeat_kv_bwd"));
  // The mesh maps attention on a 3·heads·d projection only: refused with the reason.
  CliResult m = run_bpsim("validate " + run_config(s, "mesh_8x8", ex));
  CHECK(m.code == 2);
  CHECK_THAT(m.err, Contains("layer 'att.attn'") && Contains("rotary embeddings"));
}
