// The mesh maps a graph, not a chain (issue #18, "every layer kind, every branch"):
// residual joins, attention's activation-by-activation products, row reductions, and the
// refusal of what is still not mapped — all from specs through `bpsim run`.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

std::string mesh_config(const Scratch& s, const std::string& spec, const std::string& accel) {
  return s.file("mesh.yaml", preset_includes("mesh_8x8.yaml") + "accelerator: " + accel + "\nworkload: {spec: " + spec +
                                 "}\nrun: {seed: 1}\n");
}

nlohmann::json run_report(const Scratch& s, const std::string& cfg) {
  CliResult r = run_bpsim("run " + cfg + " -q --out " + (s / "o"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(slurp(s / "o/report.json"));
}

nlohmann::json op_of(const nlohmann::json& rep, const std::string& name) {
  for (const auto& o : rep["ops"])
    if (o["name"] == name) return o;
  FAIL("no op " << name);
  return {};
}

uint64_t extra(const nlohmann::json& op, const char* key) { return op["extra"].value(key, uint64_t(0)); }

}  // namespace

TEST_CASE("mesh graph: a residual join routes the skip branch to the residual branch's clusters",
          "[cli][mesh][mesh_graph]") {
  Scratch s("mg_res");
  // stem (1×1 conv) → a (1×1) → b (1×1), and b + stem: the add joins two branches.
  const std::string spec = s.file("res.yaml",
                                  "name: res\nbatch: 1\ninput: { shape: [2, 4, 4] }\nlayers:\n"
                                  "  - { kind: conv2d, name: stem, out_channels: 2, kernel: 1, bias: false }\n"
                                  "  - kind: residual\n    name: res\n    layers:\n"
                                  "      - { kind: conv2d, name: a, out_channels: 2, kernel: 1, bias: false }\n"
                                  "      - { kind: conv2d, name: b, out_channels: 2, kernel: 1, bias: false }\n");
  const auto rep = run_report(s, mesh_config(s, spec, "{cols: 4, rows: 4, cluster: {elements: 16}}"));
  // P = 16: a 4×4×2 layer is tiled in boxes of 2 rows × 2 channels (16 neurons), 2 tiles.
  // Clusters in row-major order: input 0,1; stem 2,3; a 4,5; b 6,7; the join holds its sum
  // on b's clusters (the add's first operand) and takes none of its own: 8 used.
  CHECK(rep["stats"]["mesh"]["cluster"]["clusters_used"] == 8);
  // A 1×1 conv: each of the 32 input neurons fires one message to the tile holding its
  // row, worth K = 2 MACs there: 64 MACs = K·C·H·W = 2·2·4·4.
  for (const char* op : {"stem.fwd", "a.fwd", "b.fwd", "b.dx", "a.dx"}) {
    INFO(op);
    CHECK(op_of(rep, op)["macs_executed"] == 64);
    CHECK(extra(op_of(rep, op), "messages") == 32);
  }
  // The join: one message per skip neuron (32), no MACs. Stem tile t (cluster 2+t, mesh
  // (2+t, 0)) to b's tile t (cluster 6+t, mesh (2+t, 1)): one hop each, one flit per
  // message (8-byte header + 4-byte value ≤ 16-byte flit): 32 flit-hops. Had the sum
  // stayed on the stem's clusters it would be 0; on a's (clusters 4, 5), 3 hops each.
  const auto join = op_of(rep, "res.fwd");
  CHECK(join["macs_executed"] == 0);
  CHECK(extra(join, "messages") == 32);
  CHECK(extra(join, "flit_hops") == 32);
  // Backward, the gradient at the sum reaches b in place and goes back to the stem's tiles
  // with the stem's gradient sum (the fork of stem → a and stem → add): the same 32
  // messages, one hop each. b.dx carries only its own 32.
  const auto fork = op_of(rep, "stem.grad_sum9");
  CHECK(extra(fork, "messages") == 32);
  CHECK(extra(fork, "flit_hops") == 32);
}

TEST_CASE("mesh graph: a downsample conv reads its block's input, not the conv before it", "[cli][mesh][mesh_graph]") {
  Scratch s("mg_down");
  // A ResNet basic block with stride 2 on 2×4×4: conv1 (3×3, s2) → conv2 (3×3), and the
  // shortcut down.conv (1×1, s2) → down.bn, added.
  const std::string spec = s.file("blk.yaml",
                                  "name: blk\nbatch: 1\ninput: { shape: [2, 4, 4] }\nlayers:\n"
                                  "  - { kind: basic_block, out_channels: 4, stride: 2 }\n");
  const auto rep = run_report(s, mesh_config(s, spec, "{}"));
  // down.conv fires from the block input: its 2·4·4 = 32 neurons (input density 1), each
  // a 1×1 tap; the stride-2 conv reads only even (x, y): 2·2·2 = 8 of them send, each
  // worth K = 4 MACs: 32 = K·C·P·Q = 4·2·2·2. Fed from conv2 (4·2·2 = 16 neurons) it would
  // fire 16.
  const auto down = op_of(rep, "basic_block0.res.down.conv.fwd");
  CHECK(extra(down, "fired") == 32);
  CHECK(extra(down, "messages") == 8);
  CHECK(down["macs_executed"] == 32);
  // The join: down.bn's 4·2·2 = 16 outputs (no ReLU before the add) one message each.
  CHECK(extra(op_of(rep, "basic_block0.res.fwd"), "messages") == 16);
}

TEST_CASE(
    "mesh graph: attention over every token, every head, forward and backward, layernorm and softmax "
    "send partial sums",
    "[cli][mesh][mesh_graph]") {
  Scratch s("mg_attn");
  // s = 4 tokens, hidden 8, H = 2 heads of d = 4; no dropout (every value fires).
  const std::string spec = s.file("blk.yaml",
                                  "name: blk\nbatch: 1\ninput: { shape: [4, 8] }\nlayers:\n"
                                  "  - { kind: transformer_block, hidden: 8, heads: 2, mlp_ratio: 4, dropout: 0.0 }\n");
  const auto rep = run_report(s, mesh_config(s, spec, "{cluster: {elements: 2}}"));
  // QK^T: per query token the H·d = 8 query features fire, each to its head's s = 4 score
  // neurons: 4·8 = 32 messages, 32·4 = 128 MACs = H·s·s·d, the op's own. K rows reach
  // the score neurons once per sequence: s·H·d = 32 operand messages.
  const std::string a = "transformer_block0.attn.";
  const auto qk = op_of(rep, a + "scores");
  CHECK(qk["macs"] == 128);
  CHECK(qk["macs_executed"] == 128);
  CHECK(extra(qk, "messages") == 32);
  CHECK(extra(qk, "operand_messages") == 32);
  // PV: per query the H·s = 8 probabilities fire, each to its head's d = 4 outputs: 32
  // messages, 128 MACs; V rows: s·H·d = 32 operand messages.
  const auto pv = op_of(rep, a + "fwd");
  CHECK(pv["macs_executed"] == 128);
  CHECK(extra(pv, "messages") == 32);
  CHECK(extra(pv, "operand_messages") == 32);
  // Backward: dP = dO·V^T fires the 8 dO neurons per token to the scores (32 messages,
  // 128 MACs); dQ = dS·K fires the 8 dS neurons per token to the Q features (32, 128);
  // dV and dK are local (128 MACs each) and go back to the QKV neurons: 32 messages each.
  for (const char* op : {"dp", "dq"}) {
    INFO(op);
    CHECK(op_of(rep, a + op)["macs_executed"] == 128);
    CHECK(extra(op_of(rep, a + op), "messages") == 32);
  }
  for (const char* op : {"dv", "dk"}) {
    INFO(op);
    CHECK(op_of(rep, a + op)["macs_executed"] == 128);
    CHECK(extra(op_of(rep, a + op), "operand_messages") == 32);
  }
  // Softmax over each head's 4 keys: P = 2 puts a head on 2 tiles, so per token and head
  // one partial (max, Σe^x) to the first tile and one result back: 2·2·4 = 16 messages;
  // its backward (Σ dP·P) the same.
  CHECK(extra(op_of(rep, a + "softmax"), "messages") == 16);
  CHECK(extra(op_of(rep, a + "softmax_bwd"), "messages") == 16);
  // Layernorm over 8 features on 4 tiles of 2: per token 3 partials (Σx, Σx²) to the first
  // tile and one multicast back: 4·4 = 16 messages; ln2's backward the same.
  CHECK(extra(op_of(rep, "transformer_block0.ln1.fwd"), "messages") == 16);
  CHECK(extra(op_of(rep, "transformer_block0.ln2.fwd"), "messages") == 16);
  CHECK(extra(op_of(rep, "transformer_block0.ln2.bwd"), "messages") == 16);
  // ln2's dγ, dβ are per feature, local; the first backward op on res1's output (ln2.dw)
  // carries res2's skip gradient from fc2's tiles to res1's (proj's): one message per
  // token and feature, 4·8 = 32. res1's own skip is the network input: no gradient.
  CHECK(extra(op_of(rep, "transformer_block0.ln2.dw"), "messages") == 32);
  // Every MAC the graph asks for is executed (no zeros to skip, no padding).
  CHECK(rep["totals"]["macs_executed"] == rep["totals"]["macs"]);
}

TEST_CASE("mesh graph: batchnorm gathers each channel group's sums across its row tiles once per step",
          "[cli][mesh][mesh_graph]") {
  Scratch s("mg_bn");
  const std::string spec = s.file("bn.yaml",
                                  "name: bn\nbatch: 2\ninput: { shape: [1, 4, 4] }\nlayers:\n"
                                  "  - { kind: conv2d, name: c, out_channels: 2, kernel: 3, padding: 1 }\n"
                                  "  - { kind: batchnorm, name: bn }\n"
                                  "  - { kind: conv2d, name: d, out_channels: 2, kernel: 1 }\n");
  const auto rep = run_report(s, mesh_config(s, spec, "{cluster: {elements: 8}}"));
  // c's 4×4×2 outputs in boxes of 1 row × 2 channels (P = 8): 4 tiles, one channel group.
  // Per step (both samples summed locally first) 3 partial messages to the first tile and
  // one multicast back: 4; the backward the same; dγ, dβ gathered only: 3.
  CHECK(extra(op_of(rep, "bn.fwd"), "messages") == 4);
  CHECK(extra(op_of(rep, "bn.bwd"), "messages") == 4);
  CHECK(extra(op_of(rep, "bn.dw"), "messages") == 3);
}

TEST_CASE("mesh graph: what is still not mapped is refused in one error naming each layer", "[cli][mesh][mesh_graph]") {
  Scratch s("mg_refuse");
  const std::string spec = s.file("bad.yaml",
                                  "name: bad\nbatch: 1\ninput: { shape: [4, 8, 8] }\nlayers:\n"
                                  "  - { kind: conv2d, name: g, out_channels: 4, kernel: 3, padding: 1, groups: 2 }\n"
                                  "  - { kind: layernorm, name: ln }\n"
                                  "  - { kind: conv2d, name: c, out_channels: 4, kernel: 1 }\n");
  for (const std::string& cmd : {"run --out " + (s / "o"), std::string("validate")}) {
    CliResult r = run_bpsim(cmd + " " + mesh_config(s, spec, "{}"));
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains("accelerator.mode") && Contains("layer 'g': grouped convolutions are not mapped") &&
                          Contains("op 'ln.fwd' (layernorm) reduces over a layer's spatial positions"));
    CHECK_FALSE(fs::exists(s.path / "o/report.json"));
  }
  // The Verilated router has conv and full connections only: a residual join is refused.
  const std::string res = s.file("res.yaml",
                                 "name: res\nbatch: 1\ninput: { shape: [2, 4, 4] }\nlayers:\n"
                                 "  - { kind: conv2d, name: stem, out_channels: 2, kernel: 1, bias: false }\n"
                                 "  - kind: residual\n    name: res\n    layers:\n"
                                 "      - { kind: conv2d, name: a, out_channels: 2, kernel: 1, bias: false }\n");
  CliResult r = run_bpsim("validate " + mesh_config(s, res, "{backend: rtl, cluster: {range_units: 1}}"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("accelerator.backend") && Contains("layer 'res' is a residual join"));
}
