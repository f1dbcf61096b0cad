// bpsim workload, trace export/replay, and a training step end to end.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;

namespace {
const std::string kMlp = std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/mlp.yaml";
const std::string kMeshRun = std::string(BPSIM_SOURCE_DIR) + "/configs/examples/mlp_train_mesh.yaml";
}  // namespace

TEST_CASE("cli workload: table, JSON and errors", "[cli][workload]") {
  CliResult t = run_bpsim("workload " + kMlp);
  CHECK(t.code == 0);
  CHECK_THAT(t.out, Catch::Contains("saved_after_forward_bytes 1182208"));
  CliResult j = run_bpsim("workload " + kMlp + " --json --policy checkpoint");
  REQUIRE(j.code == 0);
  auto g = nlohmann::json::parse(j.out);
  CHECK(g["policy"] == "checkpoint");
  CHECK(g["ops"].size() > 0);
  CHECK(g.contains("peak_bytes"));
  CliResult p = run_bpsim("workload " + kMlp + " --policy lazy");
  CHECK(p.code == 2);
  CHECK_THAT(p.err, Catch::Contains("unknown policy 'lazy'"));
  CliResult s = run_bpsim("workload " + kMlp + " --policy checkpoint_sequential --segments 99");
  CHECK(s.code == 2);
  CHECK_THAT(s.err, Catch::Contains("<command line>: workload.policy.segments: 99 segments but the network has only 8 "
                                    "top-level layers"));
  // A flag of another kind is refused as the config key it sets.
  CliResult o = run_bpsim("workload " + kMlp + " --policy checkpoint --budget 1000");
  CHECK(o.code == 2);
  CHECK_THAT(o.err, Catch::Contains("workload.policy.budget_bytes: unknown key (valid: kind, level, at)"));
}

TEST_CASE("cli run: a LeNet-5 training step from its spec on the mesh", "[cli][workload][mesh]") {
  Scratch s("lenet");
  CliResult r = run_bpsim("run " + std::string(BPSIM_SOURCE_DIR) +
                          "/configs/examples/lenet5_train_mesh.yaml --quiet --out " + (s / "o"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto rep = nlohmann::json::parse(slurp(s / "o/report.json"));
  // Forward MACs, batch 16: conv1 16·28·28·6·25 = 1,881,600; conv2 16·10·10·16·150 =
  // 3,840,000; fc 16·(48,000 + 10,080 + 840) = 942,720 → 6,664,320.
  CHECK(rep["phases"]["forward"]["macs"] == 6664320);
  CHECK(rep["phases"]["backward_weight"]["macs"] == 6664320);
  CHECK(rep["network"]["packets"].get<uint64_t>() > 0);
}

TEST_CASE("cli trace: export then replay gives the same simulation as the spec", "[cli][trace]") {
  Scratch s("trace_rt");
  const std::string trace = s / "mlp.jsonl";
  CliResult e = run_bpsim("trace export " + kMlp + " --policy checkpoint_sequential --segments 2 -o " + trace);
  INFO(e.err);
  REQUIRE(e.code == 0);
  CHECK(run_bpsim("trace check " + trace).code == 0);
  CHECK(run_bpsim("trace export " + kMlp + " -o " + trace).code == 2);  // never overwrites
  // The mesh example runs the MLP at batch 16; export at the spec's batch (64) and replay
  // both ways at that batch.
  REQUIRE(run_bpsim("run " + kMeshRun + " --quiet --set workload.batch=64 --out " + (s / "spec")).code == 0);
  CliResult r = run_bpsim("run " + kMeshRun + " --quiet --trace " + trace + " --out " + (s / "trace"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto a = nlohmann::json::parse(slurp(s / "spec/report.json"));
  auto b = nlohmann::json::parse(slurp(s / "trace/report.json"));
  CHECK(a["totals"] == b["totals"]);
  CHECK(a["phases"] == b["phases"]);
  CHECK(a["ops"] == b["ops"]);
  CHECK(a["memory"] == b["memory"]);
  CHECK(a["energy_breakdown_pj"] == b["energy_breakdown_pj"]);
  // A malformed trace is an input error with its line, and leaves no report.
  const std::string bad = s.file("bad.jsonl", "{\"format\":\"bpsim-trace\",\"version\":1}\n{\"op\":0}\n");
  CliResult x = run_bpsim("run " + kMeshRun + " --trace " + bad + " --out " + (s / "bad"));
  CHECK(x.code == 2);
  CHECK_THAT(x.err, Catch::Contains(bad + ":2: name: missing field"));
  CHECK_FALSE(std::filesystem::exists(s.path / "bad/report.json"));
}

TEST_CASE("cli run: a SCALE-Sim topology CSV is a workload source", "[cli][systolic]") {
  Scratch s("scalesim");
  // GEMM form: one layer, M = 64, N = 32, K = 16 → 64·32·16 = 32,768 MACs.
  const std::string csv = s.file("t.csv", "Layer, M, N, K,\ng1, 64, 32, 16,\n");
  const std::string cfg =
      s.file("c.yaml", std::string("include: [") + BPSIM_SOURCE_DIR + "/configs/arch/systolic_32x32_int8.yaml, " +
                           BPSIM_SOURCE_DIR + "/configs/memory/ddr4_2400.yaml, " + BPSIM_SOURCE_DIR +
                           "/configs/energy/45nm.yaml]\nworkload: {scalesim: t.csv}\n");
  CliResult r = run_bpsim("run " + cfg + " --quiet --out " + (s / "o"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto rep = nlohmann::json::parse(slurp(s / "o/report.json"));
  CHECK(rep["totals"]["macs"] == 64 * 32 * 16);
  CliResult bad = run_bpsim("run " + cfg + " --set workload.dtype=int3 --out " + (s / "o2"));
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Catch::Contains("workload.dtype: 'int3' is not valid"));
}

TEST_CASE("cli workload: optimal never recomputes more than evaluation for the same budget", "[cli][workload]") {
  // Regression: on the deep MLP at an 18.1 MB budget, evaluation's plan peaks at 18,098,216
  // bytes for 2,097,152 recompute FLOPs, while the chain DP alone returned a 135 MFLOP plan
  // (its memory model differs from the liveness walk, so evaluation's plan lay off its front).
  const std::string spec = std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/deep_mlp.yaml";
  auto flops = [&](const std::string& policy) {
    CliResult r = run_bpsim("workload " + spec + " --json --policy " + policy + " --budget 18100000");
    INFO(r.err);
    REQUIRE(r.code == 0);
    const auto g = nlohmann::json::parse(r.out);
    CHECK(g["peak_bytes"].get<uint64_t>() <= 18100000);
    uint64_t f = 0;
    for (const auto& o : g["ops"])
      if (o["phase"] == "recompute") f += 2 * o["macs"].get<uint64_t>() + o["flops"].get<uint64_t>();
    return f;
  };
  const uint64_t evaluation = flops("evaluation"), optimal = flops("optimal");
  CHECK(evaluation == 2097152);
  CHECK(optimal <= evaluation);
}

TEST_CASE("cli trace: export takes every policy flag of bpsim workload, checked the same way", "[cli][trace]") {
  Scratch s("trace_flags");
  // threshold needs --threshold, which export did not take before: the exported trace's
  // header carries the policy and memory figures `bpsim workload` gives for the same flags.
  const std::string flags = " --policy threshold --threshold 0.5";
  const std::string trace = s / "mlp.jsonl";
  CliResult e = run_bpsim("trace export " + kMlp + flags + " -o " + trace);
  INFO(e.err);
  REQUIRE(e.code == 0);
  CHECK(run_bpsim("trace check " + trace).code == 0);
  CliResult w = run_bpsim("workload " + kMlp + flags + " --json");
  REQUIRE(w.code == 0);
  const auto graph = nlohmann::json::parse(w.out);
  const std::string text = slurp(trace);
  const auto header = nlohmann::json::parse(text.substr(0, text.find('\n')));
  CHECK(header["memory"]["policy"] == graph["policy"]);
  CHECK_THAT(graph["policy"].get<std::string>(), Catch::StartsWith("threshold"));
  CHECK(header["memory"]["peak_bytes"] == graph["peak_bytes"]);
  CHECK(header["memory"]["saved_after_forward_bytes"] == graph["saved_after_forward_bytes"]);
  // A flag of another kind is refused alike, naming the key the kind does not have.
  for (const std::string& cmd : {"trace export " + kMlp + " -o " + (s / "x.jsonl"), "workload " + kMlp}) {
    CliResult bad = run_bpsim(cmd + " --policy checkpoint --budget 1000");
    CHECK(bad.code == 2);
    CHECK_THAT(bad.err, Catch::Contains("workload.policy.budget_bytes: unknown key (valid: kind, level, at)"));
  }
  // The policy flags belong to export: elsewhere they are refused, not ignored.
  CliResult other = run_bpsim("trace check " + trace + " --policy checkpoint");
  CHECK(other.code == 2);
  CHECK_THAT(other.err, Catch::Contains("apply to 'trace export' only"));
}
