// Data, pipeline and tensor parallelism through a config and `bpsim run` (docs/system.md
// "Parallelism"), each figure derived by hand from the config, the α–β formulas and the
// report's own per-stage figures; the refusals with exit 2.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;

namespace {

const std::string kConfigs = std::string(BPSIM_SOURCE_DIR) + "/configs/";

// Batch 8, 8 inputs → fc1(16) → ReLU → fc2(12) → ReLU → fc3(4), fp32, SGD: weights and biases
// 8·16+16 + 16·12+12 + 12·4+4 = 400 parameters, 1600 bytes of gradients.
std::string mlp(const Scratch& s) {
  return s.file("mlp.yaml",
                "name: tiny\ndtype: fp32\nbatch: 8\ninput: { shape: [8] }\noptimizer: sgd\nlayers:\n"
                "  - { kind: linear, name: fc1, out_features: 16 }\n  - { kind: relu, name: r1 }\n"
                "  - { kind: linear, name: fc2, out_features: 12 }\n  - { kind: relu, name: r2 }\n"
                "  - { kind: linear, name: fc3, out_features: 4 }\n");
}

// Two GPT-style blocks, h = 64, 4 heads, 16 tokens, batch 1, fp32, no dropout.
std::string blocks(const Scratch& s) {
  return s.file("blocks.yaml",
                "name: blocks\ndtype: fp32\nbatch: 1\ninput: { shape: [16, 64] }\noptimizer: sgd\nlayers:\n"
                "  - repeat: 2\n    layers:\n"
                "      - { kind: transformer_block, hidden: 64, heads: 4, mlp_ratio: 4, dropout: 0 }\n"
                "  - { kind: layernorm, name: ln_f }\n");
}

// N devices of an 8×8 fp32 array on a switch whose links carry 1 GB/s (β = 1e9 B/s) with
// α = 1 µs per hop and 10 pJ per byte per hop; `parallel` and `workload` as given.
std::string config(const Scratch& s, const std::string& name, const std::string& spec, uint32_t devices,
                   const std::string& parallel, const std::string& workload_extra = "") {
  return s.file(name + ".yaml", "include: [" + kConfigs + "memory/ddr4_2400.yaml, " + kConfigs + "energy/45nm.yaml, " +
                                    kConfigs +
                                    "energy/45nm/systolic.yaml]\n"
                                    "workload: { spec: " +
                                    spec + workload_extra +
                                    " }\n"
                                    "system:\n  devices:\n    npu:\n      count: " +
                                    std::to_string(devices) +
                                    "\n      accelerator: { kind: systolic, rows: 8, cols: 8, dtype: fp32 }\n"
                                    "  fabric: { topology: switch, link: { bandwidth_gbps: 1, latency_ns: 1000, "
                                    "energy_pj_per_byte: 10 } }\n"
                                    "  parallel: " +
                                    parallel + "\nrun: { seed: 1 }\n");
}

nlohmann::json run_parallel(const Scratch& s, const std::string& cfg) {
  const CliResult r = run_bpsim("run " + cfg + " --out " + (s / "out") + " --force --quiet");
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(slurp(s / "out/report.json"));
}

}  // namespace

TEST_CASE("parallel cli: data parallelism splits the batch and all-reduces the gradients by the ring formula",
          "[cli][system][parallel]") {
  Scratch s("par_dp");
  const std::string spec = mlp(s);
  // One 1 MB bucket holds all 1600 bytes; without overlap it is all-reduced after the backward.
  const nlohmann::json rep = run_parallel(s, config(s, "dp", spec, 4, "{ data: 4, bucket_mb: 1, overlap: false }"));
  const nlohmann::json& p = rep["system"]["parallel"];
  CHECK(p["device_batch"] == 2);  // 8 / 4
  CHECK(p["gradient"]["bytes"] == 1600);
  REQUIRE(p["gradient"]["buckets"].size() == 1);
  // Ring all-reduce of n = 1600 B over p = 4 devices on a switch: 2(p−1) = 6 steps, each
  // device sending n/p = 400 B to the next over two hops (d_i→sw→d_i+1, each link carrying
  // 400 B): a step is 2α + 400/β = 2 µs + 0.4 µs, the all-reduce 6 × 2.4 µs = 14.4 µs.
  const nlohmann::json& b = p["gradient"]["buckets"][0];
  CHECK(b["end_s"].get<double>() - b["start_s"].get<double>() == Approx(14.4e-6));
  CHECK(p["communication_s"].get<double>() == Approx(14.4e-6));
  // Its bytes on the links: 6 steps × 4 senders × 400 B × 2 hops = 19 200 B, at 10 pJ/B.
  CHECK(p["link_bytes"] == 19200);
  CHECK(p["link_energy_pj"].get<double>() == Approx(192000));
  // Without overlap every optimizer op waits for the one all-reduce, which starts when the
  // backward ends: the step is the device's own ops plus 14.4 µs, all of it exposed.
  CHECK(p["step_s"].get<double>() == Approx(p["compute_s"].get<double>() + 14.4e-6));
  CHECK(p["exposed_communication_s"].get<double>() == Approx(14.4e-6));

  // Overlapped, with 400-byte buckets (several of them): each bucket is all-reduced as soon
  // as its last gradient is final, or when the one before it leaves the fabric, and takes the
  // ring's 6 × (2α + bytes/(4β)).
  const nlohmann::json o =
      run_parallel(s, config(s, "dpo", spec, 4, "{ data: 4, bucket_mb: 0.0004, overlap: true }"))["system"]["parallel"];
  const nlohmann::json& bs = o["gradient"]["buckets"];
  REQUIRE(bs.size() > 1);
  double prev_end = 0, sum = 0;
  uint64_t bytes = 0;
  for (const nlohmann::json& k : bs) {
    const double ring = 6 * (2e-6 + k["bytes"].get<double>() / 4 / 1e9);
    CHECK(k["start_s"].get<double>() == Approx(std::max(k["ready_s"].get<double>(), prev_end)));
    CHECK(k["end_s"].get<double>() - k["start_s"].get<double>() == Approx(ring));
    prev_end = k["end_s"];
    sum += ring;
    bytes += k["bytes"].get<uint64_t>();
  }
  CHECK(bytes == 1600);
  CHECK(o["communication_s"].get<double>() == Approx(sum));
  // The first bucket is ready before the backward ends: it overlaps the backward.
  CHECK(bs[0]["ready_s"].get<double>() < bs[bs.size() - 1]["ready_s"].get<double>());
}

TEST_CASE("parallel cli: system.parallel.allreduce picks the ring, tree or hierarchical all-reduce",
          "[cli][system][parallel]") {
  Scratch s("par_allreduce");
  const std::string spec = mlp(s);
  // n = 1600 B of gradients in one bucket, p = 8 devices (batch 1 each) on the switch, α = 1 µs
  // per hop, β = 1e9 B/s; every message crosses two hops (d_i→sw→d_j), senders of one step use
  // distinct links, so a step of m bytes per message is 2α + m/β.
  //   ring: 2(p−1) = 14 steps of n/p = 200 B: 14 × 2.2 µs = 30.8 µs; 14 × 8 × 200 B × 2 hops.
  //   tree (binomial, not pipelined): 2·log2 8 = 6 steps of n: 6 × 3.6 µs = 21.6 µs; reduce
  //     4 + 2 + 1 senders, then the broadcast's 1 + 2 + 4, each 1600 B × 2 hops.
  //   hierarchical, inner groups of 2: a reduce-scatter in each pair (one step of n/2 = 800 B,
  //     2.8 µs), a ring all-reduce of n/2 across the 4 pairs (6 steps of 200 B, 13.2 µs), an
  //     all-gather in each pair (2.8 µs): 18.8 µs; 8 × 800 × 2 + 6 × 8 × 200 × 2 + 8 × 800 × 2.
  // Each moves 44 800 link bytes. Without overlap the all-reduce follows the backward, exposed.
  const struct {
    const char* allreduce;
    double seconds;
  } cases[] = {{"ring", 30.8e-6}, {"tree", 21.6e-6}, {"hierarchical, inner_group: 2", 18.8e-6}};
  for (const auto& c : cases) {
    INFO(c.allreduce);
    const nlohmann::json p =
        run_parallel(s, config(s, "ar", spec, 8,
                               std::string("{ data: 8, bucket_mb: 1, overlap: false, allreduce: ") + c.allreduce +
                                   " }"))["system"]["parallel"];
    CHECK(p["device_batch"] == 1);
    CHECK(p["communication_s"].get<double>() == Approx(c.seconds));
    CHECK(p["exposed_communication_s"].get<double>() == Approx(c.seconds));
    CHECK(p["link_bytes"] == 44800);
  }
}

TEST_CASE("parallel cli: a two-stage pipeline of one micro-batch adds its stages and transfers",
          "[cli][system][parallel]") {
  Scratch s("par_pp");
  const nlohmann::json p = run_parallel(
      s, config(s, "pp", mlp(s), 2, "{ pipeline: 2, microbatches: 1, schedule: gpipe }"))["system"]["parallel"];
  REQUIRE(p["stages"].size() == 2);
  const nlohmann::json &s0 = p["stages"][0], &s1 = p["stages"][1];
  // With M = 1 nothing overlaps: stage 0's forward f0, the activations' transfer a, stage 1's
  // forward and backward f1 + b1, the gradients' transfer g, stage 0's backward b0 and its
  // update u0 = busy0 − f0 − b0 (stage 1's update ends earlier). A transfer on a switch
  // crosses two links: 2α + bytes/β.
  const double a = 2e-6 + s0["activation_bytes_sent"].get<double>() / 1e9;
  const double g = 2e-6 + s0["gradient_bytes_received"].get<double>() / 1e9;
  const double f1 = s1["forward_s"], b1 = s1["backward_s"];
  CHECK(p["step_s"].get<double>() == Approx(s0["busy_s"].get<double>() + f1 + b1 + a + g));
  CHECK(p["pipeline_transfer_s"].get<double>() == Approx(a + g));
  // Batch 8 through a cut between two layers of this MLP: 8 samples × 16 or 12 fp32 features.
  const uint64_t sent = s0["activation_bytes_sent"];
  CHECK((sent == 8 * 16 * 4 || sent == 8 * 12 * 4));
  CHECK(s0["max_microbatches_held"] == 1);
}

TEST_CASE("parallel cli: GPipe holds every micro-batch, 1F1B at most P − s, checkpointing shrinks what is held",
          "[cli][system][parallel]") {
  Scratch s("par_hold");
  const std::string spec = mlp(s);
  // Batch 8 in M = 4 micro-batches of 2 over P = 2 stages.
  const nlohmann::json g = run_parallel(
      s, config(s, "g", spec, 2, "{ pipeline: 2, microbatches: 4, schedule: gpipe }"))["system"]["parallel"];
  const nlohmann::json o = run_parallel(
      s, config(s, "o", spec, 2, "{ pipeline: 2, microbatches: 4, schedule: 1f1b }"))["system"]["parallel"];
  CHECK(g["device_batch"] == 2);
  for (int st = 0; st < 2; ++st) {
    CHECK(g["stages"][st]["max_microbatches_held"] == 4);
    CHECK(o["stages"][st]["max_microbatches_held"] == 2 - st);
    for (const nlohmann::json* p : {&g, &o}) {
      const nlohmann::json& x = (*p)["stages"][st];
      CHECK(x["activation_bytes"].get<uint64_t>() ==
            x["max_microbatches_held"].get<uint64_t>() * x["saved_bytes_per_microbatch"].get<uint64_t>());
    }
  }
  // The bubble: 1 − Σ busy / (P · flush) lies in (0, 1).
  CHECK(g["bubble_fraction"].get<double>() > 0);
  CHECK(g["bubble_fraction"].get<double>() < 1);
  // Two transformer blocks on two stages: checkpointing each block keeps only its input for
  // the backward (the rest is recomputed), so a stage saves less per micro-batch than with
  // every activation kept.
  const std::string b = blocks(s);
  const nlohmann::json none = run_parallel(
      s, config(s, "none", b, 2, "{ pipeline: 2, microbatches: 1 }", ", policy: { kind: none }"))["system"]["parallel"];
  const nlohmann::json ckpt = run_parallel(s, config(s, "ckpt", b, 2, "{ pipeline: 2, microbatches: 1 }",
                                                     ", policy: { kind: checkpoint }"))["system"]["parallel"];
  CHECK(ckpt["stages"][0]["saved_bytes_per_microbatch"].get<uint64_t>() <
        none["stages"][0]["saved_bytes_per_microbatch"].get<uint64_t>());
  CHECK(ckpt["stages"][0]["backward_s"].get<double>() > none["stages"][0]["backward_s"].get<double>());
}

TEST_CASE("parallel cli: tensor parallelism's four all-reduces per block by the ring formula",
          "[cli][system][parallel]") {
  Scratch s("par_tp");
  const nlohmann::json p = run_parallel(s, config(s, "tp", blocks(s), 2, "{ tensor: 2 }"))["system"]["parallel"];
  const nlohmann::json& t = p["tensor_parallel"];
  CHECK(t["blocks"] == 2);
  CHECK(t["allreduces"] == 8);  // 2 forward + 2 backward per block
  CHECK(t["replicated_layers"] == nlohmann::json::array({"ln_f"}));
  // Each all-reduces the block's activation or its gradient: batch 1 × 16 tokens × 64 × 4 B =
  // 4096 B. Ring over p = 2 on a switch: 2 steps of n/2 over two hops, 2 × (2 µs + 2048 B /
  // 1 GB/s) = 8.096 µs; 8 of them 64.768 µs, each blocking its device.
  CHECK(t["allreduce_s"].get<double>() == Approx(8 * 8.096e-6));
  CHECK(p["step_s"].get<double>() == Approx(p["compute_s"].get<double>() + 8 * 8.096e-6));
}

TEST_CASE("parallel cli: what is not modelled is refused with exit 2 and a reason", "[cli][system][parallel]") {
  Scratch s("par_bad");
  const std::string spec = mlp(s);
  auto refused = [&](const std::string& name, uint32_t devices, const std::string& parallel, const std::string& why,
                     const std::string& extra = "") {
    const CliResult r = run_bpsim("run " + config(s, name, spec, devices, parallel, extra) + " --out " +
                                  (s / ("o" + name)) + " --quiet");
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find(why) != std::string::npos);
  };
  refused("odd", 4, "{ data: 4 }", "must split evenly over data × microbatches = 4", ", batch: 6");
  refused("count", 3, "{ data: 4 }", "needs 4 devices; the system has 3");
  refused("accum", 2, "{ data: 2, microbatches: 2 }", "gradient accumulation without a pipeline is not modelled");
  refused("mlp_tp", 2, "{ tensor: 2 }", "outside a block");
  refused("deep", 8, "{ pipeline: 8 }", "8 stages need at least as many layers");
  const CliResult r =
      run_bpsim("run " + config(s, "heads", blocks(s), 3, "{ tensor: 3 }") + " --out " + (s / "oheads") + " --quiet");
  CHECK(r.code == 2);
  CHECK(r.err.find("4 attention heads, not a multiple of 3") != std::string::npos);
  // Two kinds at once on a ring: their groups would share links.
  std::string ring = slurp(config(s, "combo", spec, 4, "{ data: 2, pipeline: 2 }"));
  ring.replace(ring.find("topology: switch"), 16, "topology: ring");
  const CliResult c = run_bpsim("run " + s.file("ring.yaml", ring) + " --out " + (s / "oring") + " --quiet");
  CHECK(c.code == 2);
  CHECK(c.err.find("modelled on a switch") != std::string::npos);
}

TEST_CASE("parallel cli: data × pipeline × tensor together", "[cli][system][parallel]") {
  Scratch s("par_all");
  // 8 devices: 2 replicas of a 2-stage pipeline of 2 tensor shards, batch 2 (1 per replica).
  const nlohmann::json p =
      run_parallel(s, config(s, "all", blocks(s), 8, "{ data: 2, pipeline: 2, tensor: 2, microbatches: 1 }",
                             ", batch: 2"))["system"]["parallel"];
  CHECK(p["devices"] == 8);
  CHECK(p["device_batch"] == 1);
  CHECK(p["stages"].size() == 2);
  // Both blocks are split, whichever stage runs them: 4 all-reduces each, as with T alone.
  CHECK(p["tensor_parallel"]["allreduces"] == 8);
  CHECK(p["tensor_parallel"]["allreduce_s"].get<double>() == Approx(8 * 8.096e-6));
  CHECK(p["gradient"]["allreduce_s"].get<double>() > 0);
}

TEST_CASE("parallel cli: the 1,024-device GPT-2 example", "[cli][system][parallel]") {
  Scratch s("par_gpt2");
  const nlohmann::json p = run_parallel(s, kConfigs + "examples/gpt2_data_parallel.yaml")["system"]["parallel"];
  CHECK(p["devices"] == 1024);
  CHECK(p["device_batch"] == 1);  // batch 1024 over 1,024 replicas
  // GPT-2-small without embeddings: per block q/k/v 768·2304 + 2304, projection 768·768 + 768,
  // MLP 768·3072 + 3072 and 3072·768 + 768, two LayerNorms 4·768: 7 087 872 parameters; 12
  // blocks and ln_f (2·768): 85 056 000 bf16 parameters, 170 112 000 bytes of gradients.
  CHECK(p["gradient"]["bytes"] == 170112000);
  // Each bucket's ring all-reduce on the switch: 2·1023 steps of 2α + bytes/1024/β, α = 1 µs,
  // β = 82 GB/s (configs/system/npu_switch.yaml).
  uint64_t bytes = 0;
  for (const nlohmann::json& b : p["gradient"]["buckets"]) {
    CHECK(b["end_s"].get<double>() - b["start_s"].get<double>() ==
          Approx(2046 * (2e-6 + b["bytes"].get<double>() / 1024 / 82e9)));
    bytes += b["bytes"].get<uint64_t>();
  }
  CHECK(bytes == 170112000);
  // The console: the 1,024 identical devices as one line, their 2,048 switch links (each
  // device's up and down link carry the same bytes) as one line, and the parallel figures of
  // report.json's `parallel` in human units.
  const CliResult r = run_bpsim("run " + kConfigs + "examples/gpt2_data_parallel.yaml --out " + (s / "console"));
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("npu0…npu1023 (1024 devices)"));
  CHECK_THAT(r.out, Catch::Contains("d0->sw…sw->d1023 (2048 links)"));
  CHECK_THAT(r.out, Catch::Contains("parallel: data 1024 × pipeline 1 × tensor 1; compute "));
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') < 12);
}

TEST_CASE("parallel cli: bpsim validate makes a parallel run's checks", "[cli][system][parallel]") {
  // validate builds each device's step as a run does (batch / data, the tensor split) and stops
  // before simulating: a batch of 8 over 4 replicas is 2 samples each; over 3 it is refused,
  // as `bpsim run` refuses it.
  Scratch s("par_validate");
  const std::string spec = mlp(s);
  const CliResult ok = run_bpsim("validate " + config(s, "v", spec, 4, "{ data: 4 }"));
  INFO(ok.err);
  REQUIRE(ok.code == 0);
  CHECK_THAT(ok.out, Catch::Contains("ok (system of 4 identical devices, data 4 × pipeline 1 × tensor 1; each device's "
                                     "step tiny: "));
  const std::string bad = config(s, "b", spec, 3, "{ data: 3 }");
  const CliResult v = run_bpsim("validate " + bad);
  CHECK(v.code == 2);
  CHECK_THAT(v.err,
             Catch::Contains("system.parallel.data: the batch (8) must split evenly over data × microbatches = 3"));
  const CliResult r = run_bpsim("run " + bad + " --out " + (s / "out"));
  CHECK(r.code == 2);
  CHECK(r.err == v.err);
}
