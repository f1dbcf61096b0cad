// Reformer's LSH attention (attention: lsh) from the user's side: its ops and MACs derived by
// hand on a small spec through `bpsim workload`, combined with the reversible policy, run on
// the systolic array, refused by the mesh, bad values refused with the key
// (docs/techniques.md "LSH attention").
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;
using Catch::Contains;

namespace {

/// fp32, batch 1, 32 tokens of 8 features; `blocks` transformer blocks (mlp_ratio 2) or one
/// attention layer, 2 heads (d = 4), non-causal, no dropout, with `keys`.
std::string spec(const Scratch& s, const std::string& name, const std::string& keys, int blocks = 0) {
  std::string layers;
  if (blocks == 0) layers = "  - {kind: attention, name: att, hidden: 8, heads: 2, causal: false, " + keys + "}\n";
  for (int b = 0; b < blocks; ++b)
    layers += "  - {kind: transformer_block, name: b" + std::to_string(b) +
              ", hidden: 8, heads: 2, mlp_ratio: 2, dropout: 0, causal: false, " + keys + "}\n";
  return s.file(name + ".yaml",
                "name: " + name + "\ndtype: fp32\nbatch: 1\ninput: {shape: [32, 8]}\nlayers:\n" + layers);
}

/// MACs of the ops whose name contains `part`, by phase.
std::map<std::string, uint64_t> macs_by_phase(const nlohmann::json& w, const std::string& part) {
  std::map<std::string, uint64_t> m;
  for (const auto& o : w["ops"])
    if (o["name"].get<std::string>().find(part) != std::string::npos) m[o["phase"]] += o["macs"].get<uint64_t>();
  return m;
}

uint64_t macs_of(const nlohmann::json& w, const std::string& name) {
  for (const auto& o : w["ops"])
    if (o["name"] == name) return o["macs"];
  FAIL("no op " << name);
  return 0;
}

const std::string kLsh = "attention: lsh, bucket_size: 4, rounds: 2";

}  // namespace

TEST_CASE("cli lsh: hash, chunked attention and saved tensors derived by hand", "[cli][workload][attention][lsh]") {
  Scratch s("lsh_cli");
  CliResult r = run_bpsim("workload " + spec(s, "lsh", kLsh) + " --json");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto w = nlohmann::json::parse(r.out);
  // b = 1, s = 32, heads 2, d = 4, c = 4, rounds r = 2: n_buckets = s/c = 8, chunks per
  // head and round s/c = 8, so b·heads·r·(s/c) = 32 chunk GEMMs of every kind.
  // Hash: [s × d]·[d × r·n_buckets/2] per head = 32·8·4 · 2 heads = 2048.
  CHECK(macs_of(w, "att.attn.lsh_hash") == 2048);
  // Each chunk: c queries × 2c keys × d = 4·8·4 = 128; × 32 chunks = 4096 = b·heads·r·s·2c·d.
  for (const char* op : {"att.attn.lsh_qk", "att.attn.lsh_pv", "att.attn.lsh_dv", "att.attn.lsh_dp", "att.attn.lsh_dq",
                         "att.attn.lsh_dk"})
    CHECK(macs_of(w, op) == 4096);
  // The shared-QK projection is 2·hidden wide: 32 tokens × 8 × 16 = 4096.
  CHECK(macs_of(w, "att.qkv.fwd") == 4096);
  // Saved after the forward (fp32; rows = b·heads·r·s = 128 query rows):
  //   sorted q, k, v and the sorted output (kept with r > 1): 4 × 128·4·4 B = 8192
  //   probabilities 128 × 2c = 1024 elements × 4 B = 4096
  //   the permutation and its inverse, int64: 2 × 128·8 = 2048; log-sum-exp fp32 128·4 = 512
  //   the attention output (proj's dW reads it) and the network output: 2 × 32·8·4 = 2048
  CHECK(w["saved_after_forward_bytes"] == 8192 + 4096 + 2048 + 512 + 2048);
  // The same layer as explicit attention: QKᵀ is s × s × d per head = 32·32·4·2 = 8192 MACs.
  CliResult e = run_bpsim("workload " + spec(s, "ex", "attention: explicit") + " --json");
  REQUIRE(e.code == 0);
  CHECK(macs_of(nlohmann::json::parse(e.out), "att.attn.scores") == 8192);
}

TEST_CASE("cli lsh: with reversible residuals the block's LSH forward is recomputed",
          "[cli][workload][attention][lsh][policy]") {
  Scratch s("lsh_rev");
  const std::string f = spec(s, "rev", kLsh, 2);
  CliResult n = run_bpsim("workload " + f + " --json");
  CliResult v = run_bpsim("workload " + f + " --policy reversible --json");
  INFO(v.err);
  REQUIRE(n.code == 0);
  REQUIRE(v.code == 0);
  const auto wn = nlohmann::json::parse(n.out), wv = nlohmann::json::parse(v.out);
  // Block b1 is rebuilt from its output (b0 reads the network input, which stays): its LSH
  // forward runs again before its backward, hash 2048 + QKᵀ 4096 + PV 4096 = 10240 MACs;
  // plain backprop recomputes nothing.
  CHECK(macs_by_phase(wv, ".attn.lsh_")["recompute"] == 10240);
  CHECK(macs_by_phase(wn, ".attn.lsh_").count("recompute") == 0);
  CHECK(wv["figures"]["reversible_blocks"] == 1);
  // What b1 saved is not kept through the forward: less saved than plain backprop.
  CHECK(wv["saved_after_forward_bytes"].get<uint64_t>() < wn["saved_after_forward_bytes"].get<uint64_t>());
}

TEST_CASE("cli lsh: the systolic array runs it, the mesh refuses it with the key", "[cli][lsh][systolic][mesh]") {
  Scratch s("lsh_run");
  const std::string f = spec(s, "lsh", kLsh);
  auto config = [&](const std::string& arch) {
    return s.file(arch + ".run.yaml", preset_includes(arch + ".yaml") + "workload: {spec: " + f + "}\n");
  };
  CliResult r =
      run_bpsim("run " + config("systolic_32x32_bf16") + " --set accelerator.dtype=fp32 -q --out " + (s / "o"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto rep = nlohmann::json::parse(slurp(s / "o/report.json"));
  // Every MAC of the step: qkv 4096 + hash 2048 + QKᵀ, PV 2·4096 + proj 32·8·8 = 2048
  // forward; proj dX 2048, LSH dV, dP, dQ, dK 4·4096 backward; dW proj 2048, qkv 4096:
  // 16384 + 18432 + 6144 = 40960.
  CHECK(rep["totals"]["macs"] == 40960);
  CHECK_THAT(slurp(s / "o/ops.csv"), Contains("att.attn.lsh_sort") && Contains("att.attn.lsh_scatter"));
  CliResult m = run_bpsim("validate " + config("mesh_8x8"));
  CHECK(m.code == 2);
  CHECK_THAT(m.err, Contains("layer 'att.attn'") && Contains("attention: lsh") && Contains("permutation"));
}

TEST_CASE("cli lsh: bad values stop with the key", "[cli][workload][attention][lsh]") {
  Scratch s("lsh_bad");
  CliResult b = run_bpsim("workload " + spec(s, "b", "attention: lsh, bucket_size: 5"));
  CHECK(b.code == 2);
  CHECK_THAT(b.err, Contains("att.attn") && Contains("32 tokens") && Contains("bucket_size 5"));
  // 32 tokens in chunks of 32: one bucket, no pair of rotations to take an argmax over.
  CliResult o = run_bpsim("workload " + spec(s, "o", "attention: lsh, bucket_size: 32"));
  CHECK(o.code == 2);
  CHECK_THAT(o.err, Contains("even number"));
  CliResult q = run_bpsim("workload " + spec(s, "q", "attention: lsh, qkv: separate"));
  CHECK(q.code == 2);
  CHECK_THAT(q.err, Contains("layers[0].qkv") && Contains("shared-QK"));
  CliResult p = run_bpsim("workload " + spec(s, "p", "attention: lsh, rope: true"));
  CHECK(p.code == 2);
  CHECK_THAT(p.err, Contains("layers[0].rope"));
  CliResult z = run_bpsim("workload " + spec(s, "z", "attention: lsh, rounds: 0"));
  CHECK(z.code == 2);
  CHECK_THAT(z.err, Contains("layers[0].rounds"));
}
