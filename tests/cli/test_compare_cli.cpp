// bpsim compare (one child bpsim per policy) and the recompute policies' input errors.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <cstdlib>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/cli/csv_rows.h"

using namespace bpsim::test;

namespace {
const std::string kExample = std::string(BPSIM_SOURCE_DIR) + "/configs/examples/mlp_compare_policies.yaml";
}  // namespace

TEST_CASE("cli compare: one run per policy, table, CSV, timeline and plot", "[cli][compare]") {
  Scratch s("compare");
  CliResult r =
      run_bpsim("compare " + kExample + " --policies none,threshold,optimal,sparse_storage --out " + (s / "c"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("peak mem") && Catch::Contains("threshold") && Catch::Contains("optimal"));
  const auto rows = csv_rows(slurp(s / "c/compare.csv"));
  REQUIRE(rows.size() == 5);  // header + 4 policies
  CHECK(rows[0][2] == "peak_bytes");
  CHECK(rows[1][0] == "none");
  CHECK(rows[3][0] == "optimal");
  for (size_t i = 1; i < rows.size(); ++i) CHECK(rows[i][1] == "ok");
  const uint64_t none_peak = std::stoull(rows[1][2]), opt_peak = std::stoull(rows[3][2]);
  CHECK(opt_peak <= 19000000);  // the example's budget_bytes
  CHECK(opt_peak < none_peak);
  // Each policy ran as a point of a sweep over workload.policy.kind, in its own folder
  // with its own report (the sweep's results name the folder).
  std::map<std::string, std::string> report;  // kind → its report.json
  std::stringstream results(slurp(s / "c/runs/results.jsonl"));
  for (std::string line; std::getline(results, line);) {
    const auto row = nlohmann::json::parse(line);
    report[row["axes"]["workload.policy.kind"].get<std::string>()] =
        s / ("c/runs/points/" + row["hash"].get<std::string>() + "/report.json");
  }
  REQUIRE(report.size() == 4);
  CHECK_THAT(slurp(report["threshold"]), Catch::Contains("\"policy\": \"threshold(1.5, flops)\""));
  // sparse_storage's own figures reach the report (ReLU outputs at density 0.5 in 6 bytes
  // per value instead of 4 per element: 1024·256·0.5·6 = 786432 B each, saving 262144 B;
  // eight ReLUs).
  const std::string sparse = slurp(report["sparse_storage"]);
  CHECK_THAT(sparse, Catch::Contains("\"sparse_bytes_saved\": 2097152.0"));
  CHECK(std::stoull(rows[4][3]) < std::stoull(rows[1][3]));  // kept after the forward
  // The timeline: every op of each policy with its live bytes.
  const auto tl = csv_rows(slurp(s / "c/timeline.csv"));
  CHECK(tl.size() > 4 * 50);
  CHECK(tl[0].back() == "live_bytes");
  // The PNG needs matplotlib (Debian's python3-matplotlib, scripts/setup.sh).
  if (std::system("/usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1") == 0)
    CHECK(std::filesystem::file_size(s / "c/memory.png") > 1000);
}

TEST_CASE("cli compare: bad policies and unmeetable budgets stop before any run", "[cli][compare]") {
  Scratch s("compare_err");
  CliResult u = run_bpsim("compare " + kExample + " --policies none,lazy --out " + (s / "c"));
  CHECK(u.code == 2);
  CHECK_THAT(u.err, Catch::Contains("unknown policy 'lazy'"));
  CliResult b =
      run_bpsim("compare " + kExample +
                " --policies none,optimal --set workload.policies.optimal.budget_bytes=1000 --out " + (s / "c"));
  CHECK(b.code == 2);
  CHECK_THAT(b.err, Catch::Contains("workload.policy.budget_bytes: budget_bytes 1000 cannot be met: the least peak "
                                    "optimal reaches") &&
                        Catch::Contains("(policy optimal)"));
  CHECK_FALSE(std::filesystem::exists(s / "c/runs"));
  // The memory timeline is built from the points' op entries: a config that leaves them out
  // of report.json is refused up front, not compared with an empty timeline.
  CliResult n = run_bpsim("compare " + kExample + " --policies none --set run.report_ops=none --out " + (s / "c"));
  CHECK(n.code == 2);
  CHECK_THAT(n.err, Catch::Contains("run.report_ops: compare needs the op entries"));
  CHECK_FALSE(std::filesystem::exists(s / "c/runs"));
  // A folder with someone else's files in it is left alone.
  s.file("mine.txt", "not bpsim's\n");
  CliResult f = run_bpsim("compare " + kExample + " --policies none --no-plot --out " + s.path.string());
  CHECK(f.code == 2);
  CHECK_THAT(f.err, Catch::Contains("was not made by bpsim"));
}

TEST_CASE("cli: recompute policy parameters are checked", "[cli][compare]") {
  Scratch s("policy_err");
  auto cfg = [&](const std::string& policy) {
    return s.file("c.yaml", preset_includes() +
                                "accelerator: {kind: systolic}\nworkload:\n  input: {shape: [8]}\n"
                                "  layers: [{kind: linear, out_features: 4}]\n  policy: " +
                                policy + "\n");
  };
  CliResult z = run_bpsim("validate " + cfg("{kind: threshold, threshold: 0}"));
  CHECK(z.code == 2);
  CHECK_THAT(z.err, Catch::Contains("c.yaml:6:") && Catch::Contains("workload.policy.threshold"));
  CliResult m = run_bpsim("validate " + cfg("{kind: threshold}"));
  CHECK(m.code == 2);
  CHECK_THAT(m.err, Catch::Contains("c.yaml:6:11: workload.policy: missing required key 'threshold'"));
  CliResult e = run_bpsim("validate " + cfg("{kind: evaluation}"));
  CHECK(e.code == 2);
  CHECK_THAT(e.err, Catch::Contains("workload.policy: missing required key 'budget_bytes'"));
  CliResult c = run_bpsim("validate " + cfg("{kind: threshold, threshold: 2, cost: cycles}"));
  CHECK(c.code == 2);
  CHECK_THAT(c.err, Catch::Contains("workload.policy.cost"));
  CliResult d = run_bpsim("validate " + cfg("{kind: sparse_storage, density: 1.5}"));
  CHECK(d.code == 2);
  CHECK_THAT(d.err, Catch::Contains("workload.policy.density: value 1.5 is out of range"));
  CliResult ae = run_bpsim("validate " + cfg("{kind: confidence_skip, allowable_error: 1.5}"));
  CHECK(ae.code == 2);
  CHECK_THAT(ae.err, Catch::Contains("workload.policy.allowable_error: value 1.5 is out of range"));
  CliResult hi = run_bpsim("validate " + cfg("{kind: confidence_skip, histogram: [1, -2]}"));
  CHECK(hi.code == 2);
  CHECK_THAT(hi.err, Catch::Contains("workload.policy.histogram: bin weights must be non-negative"));
  CliResult ok = run_bpsim("validate " + cfg("{kind: optimal, budget_bytes: 100000000}"));
  CHECK(ok.code == 0);
  // Each kind takes only its own keys: another kind's key is refused at that key, naming the valid ones.
  const std::string bad = cfg("{kind: checkpoint, beta_a: 3, index_bits: 4}");
  for (const std::string& cmd : {"validate " + bad, "run " + bad + " --quiet --out " + (s / "o")}) {
    CliResult k = run_bpsim(cmd);
    CHECK(k.code == 2);
    CHECK_THAT(k.err, Catch::Contains("c.yaml:6:30: workload.policy.beta_a: unknown key (valid: kind, level, at)"));
  }
  CliResult sq = run_bpsim("validate " + cfg("{kind: sparse_storage, threshold: 2}"));
  CHECK(sq.code == 2);
  CHECK_THAT(sq.err, Catch::Contains("workload.policy.threshold: unknown key (valid: kind, density, index_bits)"));
  // workload.policies.KIND holds a kind's keys until policy.kind names it; a key that kind
  // does not take is refused there too.
  CliResult pk = run_bpsim("validate " + cfg("{kind: threshold}\n  policies: {threshold: {threshold: 2}}"));
  CHECK(pk.code == 0);
  CliResult pb = run_bpsim("validate " + cfg("{kind: none}\n  policies: {checkpoint: {segments: 2}}"));
  CHECK(pb.code == 2);
  CHECK_THAT(pb.err, Catch::Contains("workload.policies.checkpoint.segments: unknown key (valid: level, at)"));
  const std::string mlp = std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/mlp.yaml";
  CliResult w = run_bpsim("workload " + mlp + " --policy threshold --threshold -1");
  CHECK(w.code == 2);
  CHECK_THAT(w.err, Catch::Contains("<command line>: workload.policy.threshold: value -1 is out of range"));
  CliResult wd = run_bpsim("workload " + mlp + " --policy sparse_storage --density -0.1");
  CHECK(wd.code == 2);
  CHECK_THAT(wd.err, Catch::Contains("workload.policy.density: value -0.1 is out of range"));
  CliResult wb = run_bpsim("workload " + mlp + " --policy evaluation --budget 1000");
  CHECK(wb.code == 2);
  CHECK_THAT(wb.err, Catch::Contains("budget_bytes 1000 cannot be met"));
}

TEST_CASE("cli list: every policy kind with its own keys", "[cli][compare]") {
  CliResult l = run_bpsim("list");
  REQUIRE(l.code == 0);
  const size_t at = l.out.find("memory policies (workload.policy.kind");
  REQUIRE(at != std::string::npos);
  const std::string policies = l.out.substr(at, l.out.find("\nmemory (the memory: section)") - at);
  for (const char* kind : {"none", "checkpoint", "checkpoint_sequential", "full_recompute", "threshold", "evaluation",
                           "optimal", "sparse_storage", "confidence_skip", "reversible"})
    CHECK_THAT(policies, Catch::Contains(std::string("\n") + kind + ": "));
  // Each kind lists only its keys: threshold's are required, full_recompute has none.
  CHECK_THAT(policies, Catch::Contains("threshold (float, cost/byte, (0, inf], required)"));
  CHECK_THAT(policies, Catch::Contains("budget_bytes (int, B, [1, inf], required)"));
  CHECK_THAT(policies, Catch::Contains("\nfull_recompute: store only the network input; the whole forward re-runs "
                                       "before the backward\n  (no parameters)\n"));
  CHECK_THAT(policies, Catch::Contains("\ncheckpoint: checkpoint every module of a level (default: every top-level "
                                       "layer or group): only its input is stored, its forward re-runs before its "
                                       "backward\n  level (int, [0, 64], optional)"));
  CHECK_THAT(policies, Catch::Contains("allowable_error (float, [0, 1], default 0.05)"));
}

TEST_CASE("cli compare --variant: named runs, each with its own --set values", "[cli][compare][variant]") {
  Scratch s("compare_variant");
  // plain runs the config as it is (policy none); same sets what the config already has, so
  // its config is plain's and the two share one run; thr sets two keys at once.
  CliResult r = run_bpsim("compare " + kExample +
                          " --variant plain: --variant ckpt:workload.policy.kind=checkpoint"
                          " --variant thr:workload.policy.kind=threshold,workload.policies.threshold.threshold=3"
                          " --variant same:workload.policy.kind=none --no-plot --out " +
                          (s / "v"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("variant ") && Catch::Contains("\nckpt ") && Catch::Contains("\nthr "));
  const auto rows = csv_rows(slurp(s / "v/compare.csv"));
  REQUIRE(rows.size() == 5);  // header + 4 variants
  CHECK(rows[0][0] == "variant");
  const std::vector<std::string> names = {"plain", "ckpt", "thr", "same"};
  for (size_t i = 1; i < rows.size(); ++i) {
    CHECK(rows[i][0] == names[i - 1]);
    CHECK(rows[i][1] == "ok");
  }
  for (size_t c = 1; c < rows[1].size(); ++c) CHECK(rows[4][c] == rows[1][c]);  // same = plain
  size_t points = 0;
  for (const auto& e : std::filesystem::directory_iterator(s / "v/runs/points")) points += e.is_directory();
  CHECK(points == 3);
  // Each variant's run is the config with its --set values: ckpt's numbers are those of the
  // checkpoint policy in a comparison of policies, thr's report names threshold 3.
  CliResult p = run_bpsim("compare " + kExample + " --policies none,checkpoint --no-plot -q --out " + (s / "p"));
  REQUIRE(p.code == 0);
  const auto prow = csv_rows(slurp(s / "p/compare.csv"));
  REQUIRE(prow.size() == 3);
  CHECK(prow[0][0] == "policy");
  for (size_t c = 1; c < prow[1].size(); ++c) {
    CHECK(prow[1][c] == rows[1][c]);  // none = plain
    CHECK(prow[2][c] == rows[2][c]);  // checkpoint = ckpt
  }
  // Checkpointing every layer re-runs the whole forward: recompute MACs = forward MACs.
  CHECK(rows[2][9] == rows[2][8]);
  CHECK(rows[1][9] == "0");
  bool thr_seen = false;
  std::stringstream results(slurp(s / "v/runs/results.jsonl"));
  for (std::string line; std::getline(results, line);) {
    const auto row = nlohmann::json::parse(line);
    if (row["axes"].value("workload.policies.threshold.threshold", nlohmann::json()) != 3) continue;
    thr_seen = true;
    CHECK_THAT(slurp(s / ("v/runs/points/" + row["hash"].get<std::string>() + "/report.json")),
               Catch::Contains("\"policy\": \"threshold(3, flops)\""));
  }
  CHECK(thr_seen);
  const auto tl = csv_rows(slurp(s / "v/timeline.csv"));
  CHECK(tl[0][0] == "variant");
  CHECK(tl.back()[0] == "same");
}

TEST_CASE("cli compare --variant: bad variants stop before any run", "[cli][compare][variant]") {
  Scratch s("compare_variant_err");
  const std::string out = " --no-plot --out " + (s / "c");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"--variant a:workload.policy.kind=checkpoint --policies none", "--variant and --policies are exclusive"},
      {"--variant :workload.policy.kind=none", "no name before ':'"},
      {"--variant a/b:workload.policy.kind=none", "a name is letters, digits and _ - . +"},
      {"--variant a:workload.policy.kind", "'workload.policy.kind' is not KEY=VALUE"},
      {"--variant a: --variant a:workload.policy.kind=checkpoint", "the name 'a' is given twice"},
      {"--variant a: --variant b:workload.policy.kind=lazy", "(variant b)"},
  };
  for (const auto& [args, why] : bad) {
    CliResult r = run_bpsim("compare " + kExample + " " + args + out);
    INFO(args);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains(why));
  }
  CHECK_FALSE(std::filesystem::exists(s / "c/runs"));
}
