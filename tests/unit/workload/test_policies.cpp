// Cost-based recomputation policies (threshold, evaluation, optimal) on graphs small
// enough to follow op by op, Chen et al. 2016's √n checkpointing, and Korthikanti et al.
// 2022's selective recomputation of the attention core. Graphs are built from inline
// specs (not configs/workloads/) so every number below can be derived from the spec.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include "sim/core/config_node.h"
#include "sim/core/error.h"
#include "sim/workload/builder.h"
#include "sim/workload/spec.h"
#include "tests/unit/workload/policy_yaml.h"

using namespace bpsim;
using namespace bpsim::workload;

namespace {

NetSpec spec(const std::string& yaml) { return parse_net_spec(config::parse_yaml(yaml, "net.yaml")); }

// batch 100, fp32: X[100×8] → linear 64 → relu → dropout → linear 4. One activation
// [100×64] is 25600 bytes, the dropout mask 6400 (1 byte per element), the logits 1600.
const char* const kSmall =
    "name: t\nbatch: 100\ninput: {shape: [8]}\nlayers:\n  - {kind: linear, out_features: 64}\n"
    "  - {kind: relu}\n  - {kind: dropout, p: 0.5}\n  - {kind: linear, out_features: 4}\n";

using test::policy;

std::unique_ptr<const Policy> threshold_policy(double t, const std::string& more = "") {
  return policy(fmt::format("{{kind: threshold, threshold: {}{}}}", t, more));
}
std::unique_ptr<const Policy> budget_policy(const char* kind, uint64_t bytes) {
  return policy(fmt::format("{{kind: {}, budget_bytes: {}}}", kind, bytes));
}

std::vector<std::string> recomputed(const OpGraph& g) {
  std::vector<std::string> names;
  for (const Op& o : g.ops)
    if (o.phase == Phase::recompute) names.push_back(o.name);
  return names;
}

NetSpec gpt_layer(uint64_t s, uint64_t h, uint64_t a) {
  return spec("dtype: bf16\nbatch: 1\ninput: {shape: [" + std::to_string(s) + ", " + std::to_string(h) +
              "]}\nlayers:\n  - {kind: transformer_block, hidden: " + std::to_string(h) +
              ", heads: " + std::to_string(a) + ", dropout: 0.1}\n");
}

}  // namespace

TEST_CASE("policies: node costs and stored sizes of a small MLP, by hand", "[policies]") {
  const NetSpec net = spec(kSmall);
  const NetPlan plan = plan_network(net);
  const StepAnalysis a = analyse_step(net, plan, CostModel{});
  REQUIRE(a.nodes.size() == 4);
  // linear0: 2·100·64·8 MAC-FLOPs + 6400 bias adds; its output is read only by the ReLU's
  // forward, so it stores nothing.
  CHECK(a.nodes[0].cost == 2.0 * 100 * 64 * 8 + 6400);
  CHECK(a.nodes[0].size == 0);
  // relu: one FLOP per output; its output is read by its own backward.
  CHECK(a.nodes[1].cost == 6400);
  CHECK(a.nodes[1].size == 25600);
  // Recomputed alone, the ReLU's own output is no longer kept (relu.bwd reads the copy),
  // but its recompute reads linear0's output (25600), which is kept instead: 0 saved.
  CHECK(a.nodes[1].saved == 0);
  // dropout: output (read by linear3's dW) + mask (read by its backward).
  CHECK(a.nodes[2].size == 25600 + 6400);
  // Recomputed alone it frees the mask; its input (the ReLU output) is kept anyway.
  CHECK(a.nodes[2].saved == 6400);
  // linear3: 2·100·4·64 + 400 bias adds; the logits are read by the loss.
  CHECK(a.nodes[3].cost == 2.0 * 100 * 4 * 64 + 400);
  CHECK(a.nodes[3].size == 1600);
}

TEST_CASE("policies: threshold stores what is dear to recompute per byte, by hand", "[policies]") {
  const NetSpec net = spec(kSmall);
  const OpGraph none = build_step(net);
  // ReLU output + dropout output + mask + logits.
  CHECK(none.memory.saved_after_forward_bytes == 25600 + 25600 + 6400 + 1600);
  // Only the dropout frees memory when recomputed alone (6400 bytes for 6400 FLOPs: cost
  // per byte 1). At threshold 0.99 it is stored: nothing changes.
  const OpGraph low = build_step(net, *threshold_policy(0.99));
  CHECK(recomputed(low).empty());
  CHECK(low.memory.saved_after_forward_bytes == none.memory.saved_after_forward_bytes);
  // At 1 (cost/byte not above it) the dropout is recomputed: its mask is not kept.
  const OpGraph at = build_step(net, *threshold_policy(1.0));
  CHECK(recomputed(at) == std::vector<std::string>{"dropout2.recompute"});
  CHECK(at.memory.saved_after_forward_bytes == none.memory.saved_after_forward_bytes - 6400);
  CHECK(at.memory.policy == "threshold(1, flops)");
  // Nodes that free nothing (ReLU, linears) are never recomputed, however large the threshold.
  CHECK(recomputed(build_step(net, *threshold_policy(1e12))) == recomputed(at));
}

TEST_CASE("policies: threshold reproduces Korthikanti's selective recomputation on a GPT-3 layer", "[policies]") {
  // GPT-3 175B's layer (Korthikanti et al. 2022, Table 3): s 2048, h 12288, a 96, b 1.
  // With tensor and sequence parallelism every term of sbh·(34 + 5as/h) divides by t, so
  // the fraction saved is the same per GPU; one whole layer is built here.
  const uint64_t s = 2048, h = 12288, a = 96, b = 1;
  const NetSpec net = gpt_layer(s, h, a);
  const uint64_t full = 34 * s * b * h + 5 * a * s * s * b + 16 * s * b;  // test_transformer's check
  const OpGraph none = build_step(net);
  REQUIRE(none.memory.saved_after_forward_bytes == full);
  // Cost per byte freed, recomputing one node alone (FLOPs):
  //  attention core: QKᵀ and P·V 2·2bs²h, softmax 6as²b, dropout as²b; frees the
  //  probabilities (2as²b), the mask (as²b) and the dropped probabilities (2as²b):
  //  (4h + 7a)/(5a) = (49152 + 672)/480 = 103.8.
  //  LayerNorm: 8sbh FLOPs; frees only its fp32 mean and rstd, 8sb bytes: h = 12288.
  //  Linears, GELU and residual adds free nothing alone; a dropout frees its mask but
  //  keeps its input alive (frees a negative amount).
  auto saved_with = [&](double threshold) {
    return build_step(net, *threshold_policy(threshold)).memory.saved_after_forward_bytes;
  };
  CHECK(saved_with(103.7) == full);
  const uint64_t selective = 34 * s * b * h + 16 * s * b;
  CHECK(saved_with(103.9) == selective);
  CHECK(saved_with(12287) == selective);
  CHECK(saved_with(12288) == selective - 2 * 8 * s * b);  // both LayerNorms' statistics too
  // Korthikanti: 5as/h = 80 of 34 + 80 per sbh, "about 70%" of the activation memory.
  const double fraction = 1.0 - double(selective) / double(full);
  CHECK(fraction == Approx(80.0 / 114.0).epsilon(1e-4));
  CHECK(fraction > 0.70);
  CHECK(fraction < 0.71);
  // The recomputed work: the attention core's forward, 2·bs²h MACs, as the paper says
  // (far less than a full layer's 12bsh² + 2bs²h).
  const OpGraph sel = build_step(net, *threshold_policy(1000));
  uint64_t macs = 0;
  for (const Op& o : sel.ops)
    if (o.phase == Phase::recompute) macs += o.macs;
  CHECK(macs == 2 * b * s * s * h);
}

TEST_CASE("policies: roofline cost makes the same choice on the GPT-3 layer", "[policies]") {
  const uint64_t s = 2048, h = 12288, a = 96;
  // 2^17 FLOP/cycle against 1024 B/cycle: 128 FLOP/byte
  const std::string roofline = ", cost: roofline, flops_per_cycle: 131072, bytes_per_cycle: 1024";
  // Cycles per byte freed (bf16, b 1):
  //  attention core, every op bandwidth-bound: QKᵀ reads qkv 3sh·2 and writes s²a·2 bytes
  //  (933888 cycles); softmax reads and writes 2as² (1572864); dropout reads 2as², writes
  //  2as² + as² (1966080); P·V reads 2as² + 6sh, writes 2sh (983040): 5455872 cycles for
  //  5as² = 2013265920 bytes, 0.0027 cycles/byte.
  //  LayerNorm: reads 2sh + 2·2h, writes 2sh + 8s bytes, 98368 cycles for 8s = 16384
  //  bytes freed: 6.0 cycles/byte.
  const OpGraph g = build_step(gpt_layer(s, h, a), *threshold_policy(0.01, roofline));
  CHECK(g.memory.saved_after_forward_bytes == 34 * s * h + 16 * s);
  CHECK(g.memory.policy == "threshold(0.01, roofline)");
  // just below 5455872 / 2013265920 = 0.00271
  CHECK(build_step(gpt_layer(s, h, a), *threshold_policy(0.0027, roofline)).memory.saved_after_forward_bytes ==
        34 * s * h + 5 * a * s * s + 16 * s);
}

TEST_CASE("policies: a custom per-op cost callback replaces FLOPs", "[policies]") {
  int calls = 0;
  // Every op costs 10^9: nothing is cheap enough per byte to recompute.
  PolicyContext ctx;
  ctx.accelerator_cost = [&](const OpGraph&, const Op&) {
    ++calls;
    return 1e9;
  };
  const OpGraph g = build_step(spec(kSmall), *policy("{kind: threshold, threshold: 1, cost: accelerator}", ctx));
  CHECK(recomputed(g).empty());
  CHECK(calls == 4);  // one forward op per node
  CHECK(g.memory.policy == "threshold(1, custom)");
}

TEST_CASE("policies: evaluation recomputes by bytes per cost until the peak fits, by hand", "[policies]") {
  const NetSpec net = spec(kSmall);
  // Peak without recomputation, at linear3.dW: ReLU output, dropout output (read by this
  // dW), mask, loss gradient 1600, linear3.dx 25600, linear3.weight.grad 64·4·4 = 1024.
  const OpGraph none = build_step(net);
  CHECK(none.memory.peak_bytes == 3 * 25600 + 6400 + 1600 + 1024);  // 85824
  // A budget above it: nothing recomputed.
  CHECK(recomputed(build_step(net, *budget_policy("evaluation", 85824))).empty());
  // Evaluation parameters (stored bytes / FLOPs): dropout 32000/6400 = 5, ReLU
  // 25600/6400 = 4, linear3 1600/51600; linear0 stores nothing. The dropout goes first:
  // its mask is no longer kept, and the peak moves to its recompute, where the ReLU
  // output, linear3.dx, the two linear3 weight gradients (1024 + 16) and the recomputed
  // output and mask are live: 25600·3 + 1040 + 6400 = 84240.
  const OpGraph one = build_step(net, *budget_policy("evaluation", 85000));
  CHECK(recomputed(one) == std::vector<std::string>{"dropout2.recompute"});
  CHECK(one.memory.peak_bytes == 84240);
  CHECK(one.memory.saved_after_forward_bytes == none.memory.saved_after_forward_bytes - 6400);
  // Adding the ReLU (one segment with the dropout) or linear3 never gets below 84240.
  CHECK_THROWS_AS(build_step(net, *budget_policy("evaluation", 84000)), BudgetError);
  CHECK_THROWS_WITH(build_step(net, *budget_policy("evaluation", 84000)),
                    Catch::Contains("budget_bytes 84000 cannot be met") && Catch::Contains("is 84240 bytes"));
}

namespace {
// n stages that each keep 10 bytes, 2 of them their output, which the next stage's backward
// (or the loss) reads; recomputing a stage costs 1.
ChainModel uniform_chain(size_t n) {
  ChainModel m;
  m.cost.assign(n, 1.0);
  m.stored.assign(n, 10);
  m.out.assign(n, 2);
  m.out_kept_stored.assign(n, true);
  m.out_kept_after.assign(n, true);
  m.kept.assign(n, std::vector<uint64_t>(n + 1, 2));  // a segment keeps its output
  return m;
}
double plan_cost(const ChainModel& m, const std::vector<int>& seg) {
  double c = 0;
  for (size_t i = 0; i < seg.size(); ++i) c += seg[i] >= 0 ? m.cost[i] : 0;
  return c;
}
}  // namespace

TEST_CASE("policies: chain DP on hand-sized stages", "[policies]") {
  const ChainModel m = uniform_chain(4);
  // Everything stored: 40.
  CHECK(chain_memory(m, {-1, -1, -1, -1}) == 40);
  CHECK(chain_optimal(m, 40) == std::vector<int>{-1, -1, -1, -1});
  // Stage 0 recomputed: kept 2 (its output) + 30; its recompute comes last, when only
  // itself (10) is live: 32. Stage 3 recomputed instead: its recompute comes first, with
  // the 30 kept before it: 40 — no gain, as on a real step.
  CHECK(chain_memory(m, {0, -1, -1, -1}) == 32);
  CHECK(chain_memory(m, {-1, -1, -1, 3}) == 40);
  CHECK(chain_optimal(m, 35) == std::vector<int>{0, -1, -1, -1});
  // 31: every single-stage plan keeps 32; stages 0–1 as one segment keep 2 + 20 = 22 with
  // a recompute of 20; two single segments keep 24: cost 2.
  CHECK(chain_memory(m, {0, 0, -1, -1}) == 22);
  CHECK(plan_cost(m, chain_optimal(m, 31)) == 2);
  // 21: three single segments keep 2·3 + 10 = 16, the third recompute peaks at 4 + 10.
  CHECK(plan_cost(m, chain_optimal(m, 21)) == 3);
  CHECK(chain_memory(m, {0, 1, 2, 3}) == 16);
  CHECK(chain_memory(m, {0, 1, 2, -1}) == 16);
  CHECK(plan_cost(m, chain_optimal(m, 16)) == 3);
  // Any two-stage segment needs 20 while it is recomputed, so 16 is the least: 15 fails.
  CHECK(chain_optimal(m, 15).empty());
}

TEST_CASE("policies: chain DP equals exhaustive search on random chains", "[policies]") {
  // Every plan of n stages: each stage stored, starting a segment, or continuing one;
  // chain_memory is the definition the DP must minimise cost under.
  uint64_t state = 12345;
  auto rnd = [&](uint64_t k) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % k;
  };
  int feasible = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const size_t n = 2 + rnd(6);
    ChainModel m;
    for (size_t i = 0; i < n; ++i) {
      m.cost.push_back(double(1 + rnd(9)));
      m.stored.push_back(1 + rnd(20));
      m.out.push_back(rnd(8));
      m.out_kept_stored.push_back(rnd(2) == 1);
      m.out_kept_after.push_back(rnd(2) == 1);
    }
    m.kept.assign(n, std::vector<uint64_t>(n + 1, 0));
    for (auto& row : m.kept)
      for (auto& k : row) k = rnd(10);
    for (size_t i = 0; i < n; ++i) m.grad.push_back(rnd(12));
    const uint64_t budget = rnd(80);
    double best = INFINITY;
    std::vector<int> label(n, 0);  // 0 stored, 1 new segment, 2 continue
    std::function<void(size_t)> walk = [&](size_t i) {
      if (i == n) {
        std::vector<int> seg(n, -1);
        for (size_t t = 0; t < n; ++t)
          if (label[t]) seg[t] = label[t] == 1 ? int(t) : seg[t - 1];
        if (chain_memory(m, seg) <= budget) best = std::min(best, plan_cost(m, seg));
        return;
      }
      for (int l = 0; l < 3; ++l) {
        if (l == 2 && (i == 0 || label[i - 1] == 0)) continue;
        label[i] = l;
        walk(i + 1);
      }
    };
    walk(0);
    const std::vector<int> dp = chain_optimal(m, budget);
    INFO("trial " << trial << " n " << n << " budget " << budget);
    if (std::isinf(best)) {
      CHECK(dp.empty());
      continue;
    }
    ++feasible;
    REQUIRE(dp.size() == n);
    CHECK(chain_memory(m, dp) <= budget);
    CHECK(plan_cost(m, dp) == best);
  }
  CHECK(feasible > 10);
}

TEST_CASE("policies: the chain model's kept bytes equal the liveness walk's", "[policies]") {
  // For plans on a chain of nodes, chain_kept is exactly what account_memory finds kept
  // after the forward.
  const NetSpec net = spec(
      "batch: 32\ninput: {shape: [24]}\nlayers:\n  - repeat: 3\n    layers:\n"
      "      - {kind: linear, out_features: 24}\n      - {kind: relu}\n"
      "      - {kind: dropout, p: 0.2}\n  - {kind: linear, out_features: 5}\n");
  const NetPlan plan = plan_network(net);
  const StepAnalysis a = analyse_step(net, plan, CostModel{}, false);
  std::vector<size_t> stage;
  const ChainModel m = chain_model(plan, a, stage);
  REQUIRE(m.size() == plan.nodes.size());  // a chain: one stage per node
  uint64_t state = 7;
  for (int trial = 0; trial < 30; ++trial) {
    std::vector<int> seg(m.size(), -1);
    for (size_t i = 0; i < seg.size(); ++i) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      const int r = int((state >> 33) % 3);
      seg[i] = r == 0 ? -1 : r == 1 || i == 0 || seg[i - 1] < 0 ? int(i) : seg[i - 1];
    }
    OpGraph g = build_with_segments(net, plan, seg);
    account_memory(g);
    INFO("trial " << trial);
    CHECK(chain_kept(m, seg) == g.memory.saved_after_forward_bytes);
  }
}

namespace {
// n linear layers of 16 features without bias on a batch of 4096, fp32: one activation
// a = 4096·16·4 = 262144 bytes, one weight 16·16·4 = 1024 bytes.
NetSpec chain(int n) {
  return spec("batch: 4096\ninput: {shape: [16]}\nlayers:\n  - repeat: " + std::to_string(n) +
              "\n    layers: [{kind: linear, out_features: 16, bias: false}]\n");
}
constexpr uint64_t kAct = 4096 * 16 * 4;
}  // namespace

TEST_CASE("policies: √n checkpoint segments give O(√n) memory for about one extra forward (Chen 2016)", "[policies]") {
  for (int n : {16, 64, 256}) {
    const int k = int(std::lround(std::sqrt(double(n)))), m = n / k;
    INFO("n " << n << " segments " << k);
    const OpGraph none = build_step(chain(n));
    // Every linear keeps its input (the first one's is the network input), plus the logits.
    CHECK(none.memory.saved_after_forward_bytes == uint64_t(n) * kAct);
    const OpGraph ck = build_step(chain(n), *policy(fmt::format("{{kind: checkpoint_sequential, segments: {}}}", k)));
    // Checkpointed segments 1…k−2 keep their inputs (k − 2), the normal last segment its m
    // inputs, plus the logits: (k − 1 + m)·a = (2√n − 1)·a.
    CHECK(ck.memory.saved_after_forward_bytes == uint64_t(k - 1 + m) * kAct);
    // Recomputed: every layer but the last segment's, (1 − 1/√n) of a forward.
    uint64_t fwd = 0, re = 0;
    for (const Op& o : ck.ops) {
      if (o.phase == Phase::forward) fwd += o.macs;
      if (o.phase == Phase::recompute) re += o.macs;
    }
    CHECK(double(re) / double(fwd) == Approx(1.0 - 1.0 / k));
    // Peak: the stored (2√n − 1)·a, one segment recomputed (m·a, its first input already
    // stored: m − 1 more) and the two gradients in flight, plus weight gradients: O(√n).
    // Without recomputation the peak grows like n.
    const double ratio_ck = double(ck.memory.peak_bytes) / double(kAct),
                 ratio_none = double(none.memory.peak_bytes) / double(kAct);
    CHECK(ratio_ck < 3.5 * k);
    CHECK(ratio_none > n);
  }
  // From 16 to 256 layers (16×), the checkpointed peak grows about 4× (√16), not 16×.
  const auto p16 = policy("{kind: checkpoint_sequential, segments: 4}");
  const auto p256 = policy("{kind: checkpoint_sequential, segments: 16}");
  const double growth =
      double(build_step(chain(256), *p256).memory.peak_bytes) / double(build_step(chain(16), *p16).memory.peak_bytes);
  CHECK(growth > 3.0);
  CHECK(growth < 5.0);
}

TEST_CASE("policies: optimal meets a budget with no more recompute than √n checkpointing or evaluation", "[policies]") {
  const NetSpec net = chain(64);
  const OpGraph ck = build_step(net, *policy("{kind: checkpoint_sequential, segments: 8}"));
  const CostModel flops;
  // At the peak √n checkpointing reaches, the DP (exact on this chain) recomputes no more.
  const OpGraph opt = build_step(net, *budget_policy("optimal", ck.memory.peak_bytes));
  CHECK(opt.memory.peak_bytes <= ck.memory.peak_bytes);
  CHECK(recompute_cost(opt, flops) <= recompute_cost(ck, flops));
  // Against evaluation over a range of budgets (how far the greedy is from the DP).
  const uint64_t none_peak = build_step(net).memory.peak_bytes;
  int compared = 0;
  for (double f : {0.9, 0.7, 0.5, 0.3, 0.2}) {
    const uint64_t budget = uint64_t(f * double(none_peak));
    OpGraph ev;
    try {
      ev = build_step(net, *budget_policy("evaluation", budget));
    } catch (const BudgetError&) {
      continue;
    }
    const OpGraph o = build_step(net, *budget_policy("optimal", budget));
    INFO("budget " << budget << " evaluation " << recompute_cost(ev, flops) << " optimal " << recompute_cost(o, flops));
    CHECK(o.memory.peak_bytes <= budget);
    CHECK(recompute_cost(o, flops) <= recompute_cost(ev, flops));
    ++compared;
  }
  CHECK(compared >= 2);
}

TEST_CASE("policies: unmeetable budgets name the least peak reached", "[policies]") {
  const NetSpec net = chain(16);
  // Weight gradients (16 × 1024) and the gradients in flight can never be recomputed away.
  CHECK_THROWS_WITH(build_step(net, *budget_policy("optimal", 1000)),
                    Catch::Contains("budget_bytes 1000 cannot be met: the least peak optimal reaches"));
  CHECK_THROWS_AS(build_step(net, *budget_policy("evaluation", 1000)), BudgetError);
}

TEST_CASE("policies: sparse_storage keeps values plus offsets when smaller, by hand", "[policies]") {
  const NetSpec net = spec(kSmall);
  const OpGraph g = build_step(net, *policy("{kind: sparse_storage, density: 0.25, index_bits: 16}"));
  // The ReLU output and the dropout output (6400 fp32 elements each, kept for relu.bwd and
  // linear3.dW) become 1600 values of 4 bytes + 1600 offsets of 2 bytes: 9600 bytes each,
  // instead of 25600. The mask (not an activation) and the logits (the loss reads them
  // right away) stay as they are: 9600·2 + 6400 + 1600.
  CHECK(g.memory.saved_after_forward_bytes == 9600 * 2 + 6400 + 1600);
  CHECK(g.memory.policy == "sparse_storage(0.25, 16-bit offsets)");
  CHECK(g.memory.figures.at("sparse_tensors") == 2);
  CHECK(g.memory.figures.at("sparse_bytes_saved") == 2 * (25600 - 9600));
  CHECK(g.memory.figures.at("sparse_encode_flops") == 2 * 6400);
  CHECK(g.memory.figures.at("sparse_decode_flops") == 2 * 6400);
  // Peak, at the dropout output's decode (just before linear3.dW): both sparse copies,
  // the mask, the loss gradient 1600, linear3.dx 25600 and the decoded copy 25600.
  CHECK(g.memory.peak_bytes == 9600 * 2 + 6400 + 1600 + 25600 + 25600);
  int encodes = 0, decodes = 0;
  for (const Op& o : g.ops) {
    encodes += o.detail == "sparse_encode" && o.phase == Phase::forward;
    decodes += o.detail == "sparse_decode" && o.phase == Phase::backward_data;
    CHECK(o.id == uint32_t(&o - g.ops.data()));
    for (uint32_t d : o.deps) CHECK(d < o.id);
  }
  CHECK(encodes == 2);
  CHECK(decodes == 2);
  for (const Op& o : g.ops)
    if (o.name == "relu1.bwd") CHECK(g.tensors[o.reads[1]].name == "relu1.out.decoded");
  // At density 0.7 with 32-bit offsets, 4480·(4 + 4) = 35840 > 25600: nothing changes.
  const OpGraph dense = build_step(net, *policy("{kind: sparse_storage, density: 0.7, index_bits: 32}"));
  CHECK(dense.memory.saved_after_forward_bytes == 25600 * 2 + 6400 + 1600);
  CHECK(dense.memory.figures.at("sparse_tensors") == 0);
  CHECK(dense.ops.size() == build_step(net).ops.size());
  // No density given: each ReLU output at its layer's density (0.5 by default), 3200·6 =
  // 19200 bytes; the dropout output is taken as dense and stays.
  CHECK(build_step(net, *policy("{kind: sparse_storage}")).memory.saved_after_forward_bytes ==
        19200 + 25600 + 6400 + 1600);
}

TEST_CASE("policies: confidence_skip picks samples by the gradient mass they drop, by hand", "[policies]") {
  // 1 − c per sample: 0.01, 0.1, 0.4, 0.5 (Σ 1.01), taken from the most confident.
  double t = 0;
  CHECK(choose_skipped({0.5, 0.99, 0.6, 0.9}, 0.0, t) == 0);
  CHECK(t == 1.0);
  CHECK(choose_skipped({0.5, 0.99, 0.6, 0.9}, 0.1, t) == 1);  // 0.01 ≤ 0.101 < 0.11
  CHECK(t == 0.99);
  CHECK(choose_skipped({0.5, 0.99, 0.6, 0.9}, 0.2, t) == 2);  // 0.11 ≤ 0.202 < 0.51
  CHECK(t == 0.9);
  CHECK(choose_skipped({0.5, 0.99, 0.6, 0.9}, 1.0, t) == 3);  // one sample is always kept
  CHECK(t == 0.6);
}

TEST_CASE("policies: skipping samples scales the backward, by hand", "[policies]") {
  OpGraph g = build_step(spec(kSmall));
  apply_sample_skip(g, 25);  // 75 of 100 samples keep their backward
  auto op = [&](const std::string& name) -> const Op& {
    for (const Op& o : g.ops)
      if (o.name == name) return o;
    FAIL("no op " << name);
    return g.ops[0];
  };
  CHECK(op("linear3.dx").gemm.m == 75);  // dX = dY·Wᵀ: one row per kept sample
  CHECK(op("linear3.dx").macs == 75 * 64 * 4);
  CHECK(op("linear3.dw").gemm.k == 75);  // dW = Xᵀ·dY: summed over kept samples
  CHECK(op("linear0.dw").macs == 8 * 64 * 75);
  CHECK(op("relu1.bwd").flops == 6400 * 3 / 4);
  CHECK(op("linear3.db").elements == 4);   // a bias gradient still has 4 outputs
  CHECK(op("linear3.db").flops == 300);    // summing 75 rows of 4
  CHECK(op("loss.bwd").flops == 400 * 4);  // every sample's loss gradient is computed
  // A quarter of the backward MACs: (25600 + 25600 + 51200) / 4.
  CHECK(g.memory.figures.at("backward_macs_saved") == 25600);
  for (const Tensor& t : g.tensors) {
    if (t.name == "linear3.dx") CHECK(t.bytes == 19200);
    if (t.name == "loss.grad") CHECK(t.bytes == 1600);
    if (t.name == "linear0.weight.grad") CHECK(t.bytes == 2048);  // a weight's gradient is whole
  }
  // Attention's per-(sample, head) GEMMs lose whole instances: batch 4, 2 heads, 1 skipped.
  OpGraph tg =
      build_step(spec("batch: 4\ninput: {shape: [16, 32]}\nlayers:\n"
                      "  - {kind: transformer_block, hidden: 32, heads: 2, dropout: 0.0}\n"));
  apply_sample_skip(tg, 1);
  int batched = 0;
  for (const Op& o : tg.ops)
    if (o.phase == Phase::backward_data && o.detail.rfind("attention_d", 0) == 0 && o.gemm.macs()) {
      CHECK(o.gemm.batch == 3 * 2);
      ++batched;
    }
  CHECK(batched == 4);  // dV, dP, dQ, dK
}

TEST_CASE("policies: confidence_skip is seeded and reports what it skipped", "[policies]") {
  const NetSpec net = spec(kSmall);
  const auto p = policy("{kind: confidence_skip, allowable_error: 0.05}");
  const OpGraph a = build_step(net, *p), b = build_step(net, *p);
  const double k = a.memory.figures.at("skipped_samples");
  CHECK(a.memory.figures == b.memory.figures);  // same seed, same draw
  CHECK(k > 0);
  CHECK(a.memory.figures.at("skipped_fraction") == k / 100);
  CHECK(a.memory.policy == "confidence_skip(0.05)");
  // The draw, redone: the skipped count and threshold follow from it.
  double t = 0;
  CHECK(choose_skipped(sample_confidences(ConfidenceSkip{}, 100), 0.05, t) == size_t(k));  // Beta(8, 2), seed 1
  CHECK(a.memory.figures.at("confidence_threshold") == t);
  // Backward MACs fall by exactly the skipped share (every backward GEMM here has the
  // batch as its row count): 102400·k/100.
  CHECK(a.memory.figures.at("backward_macs_saved") == 102400 * k / 100);
  // A histogram with every sample in [0.9, 1): the threshold is in that bin.
  const OpGraph h = build_step(net, *policy("{kind: confidence_skip, histogram: [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]}"));
  CHECK(h.memory.figures.at("confidence_threshold") >= 0.9);
  // No error allowed: nothing skipped, the step's backward untouched.
  const auto strict = policy("{kind: confidence_skip, allowable_error: 0}");
  CHECK(build_step(net, *strict).memory.figures.at("skipped_samples") == 0);
}

TEST_CASE("policies: reversible blocks rebuild their inputs instead of keeping them, by hand", "[policies]") {
  // batch 8, fp32, one activation [8×16] = 512 bytes: a stem linear, three residual
  // blocks (linear, relu, linear, + identity), a linear head to 4 outputs (logits 128).
  const NetSpec net = spec(
      "batch: 8\ninput: {shape: [16]}\nlayers:\n  - {kind: linear, out_features: 16}\n"
      "  - repeat: 3\n    layers:\n      - kind: residual\n"
      "        layers: [{kind: linear, out_features: 16}, {kind: relu}, "
      "{kind: linear, out_features: 16}]\n  - {kind: linear, out_features: 4}\n");
  const NetPlan plan = plan_network(net);
  CHECK(reversible_blocks(plan) == std::vector<bool>{false, true, true, true, false});
  // Kept without a policy: per block its input (read by its first linear's dW) and its
  // ReLU output, 3·2·512; the last block's output (the head's input) 512; logits 128.
  CHECK(build_step(net).memory.saved_after_forward_bytes == 7 * 512 + 128);
  const OpGraph g = build_step(net, *policy("{kind: reversible}"));
  // Reversible: every block input is rebuilt from the block's output, so only the last
  // output and the logits stay.
  CHECK(g.memory.saved_after_forward_bytes == 512 + 128);
  CHECK(g.memory.figures.at("reversible_blocks") == 3);
  CHECK(g.memory.figures.at("inverse_flops") == 3 * 8 * 16);  // two half-width subtractions per block
  // Recomputed: each block's forward once (the F and G evaluations), 2·8·16·16 MACs each.
  uint64_t re = 0;
  std::vector<std::string> inverses;
  for (const Op& o : g.ops) {
    if (o.phase == Phase::recompute) re += o.macs;
    if (o.detail == "reversible_inverse")
      inverses.push_back(g.tensors[o.reads[0]].name + ">" + g.tensors[o.writes[0]].name);
    for (uint32_t d : o.deps) CHECK(d < o.id);
  }
  CHECK(re == 3 * 2 * 8 * 16 * 16);
  // The last block inverts the kept output; each earlier one the input rebuilt after it.
  CHECK(inverses == std::vector<std::string>{"residual3.out>residual2.out.rebuilt",
                                             "residual2.out.rebuilt>residual1.out.rebuilt",
                                             "residual1.out.rebuilt>linear0.out.rebuilt"});
  // Checkpointing every layer keeps the three block inputs instead: 4·512 + 128.
  CHECK(build_step(net, *policy("{kind: checkpoint}")).memory.saved_after_forward_bytes == 4 * 512 + 128);
}
