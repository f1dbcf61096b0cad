// Trace replay on the systolic model streams the trace (one op in memory at a time, op
// rows written to ops.csv as they finish): same results as running the spec, errors found
// late still exit 2 and leave no report behind.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;

namespace {
const std::string kSrc = BPSIM_SOURCE_DIR;
const std::string kSysRun = kSrc + "/configs/examples/mlp_train_systolic.yaml";
}  // namespace

TEST_CASE("trace stream: a systolic replay equals the spec run", "[cli][trace][stream]") {
  Scratch s("trace_stream");
  const std::string trace = s / "mlp.jsonl";
  // Sequential checkpointing: the trace holds recompute ops and alloc/free events.
  REQUIRE(run_bpsim("trace export " + kSrc +
                    "/configs/workloads/mlp.yaml --policy checkpoint_sequential --segments 2 -o " + trace)
              .code == 0);
  const std::string pol = " --set 'workload.policy={kind: checkpoint_sequential, segments: 2}'";
  CliResult a = run_bpsim("run " + kSysRun + " --quiet" + pol + " --out " + (s / "spec"));
  INFO(a.err);
  REQUIRE(a.code == 0);
  // run.report_ops: all puts the streamed ops' entries into report.json as well.
  CliResult b =
      run_bpsim("run " + kSysRun + " --quiet --trace " + trace + " --set run.report_ops=all --out " + (s / "trace"));
  INFO(b.err);
  REQUIRE(b.code == 0);
  auto x = nlohmann::json::parse(slurp(s / "spec/report.json"));
  auto y = nlohmann::json::parse(slurp(s / "trace/report.json"));
  REQUIRE(x["ops"].size() > 20);
  CHECK(x["phases"].contains("recompute"));
  // Everything but the echoed config (whose workload section differs) is identical.
  x.erase("config");
  y.erase("config");
  CHECK(x == y);
  CHECK(y["memory"]["peak_bytes"].get<uint64_t>() > 0);  // from the trace's alloc/free events
  CHECK(slurp(s / "spec/ops.csv") == slurp(s / "trace/ops.csv"));

  // By default (auto) a streamed replay's report has no op entries, only their number; its
  // ops.csv is the same file, and everything else in report.json the same values.
  CliResult d = run_bpsim("run " + kSysRun + " --quiet --trace " + trace + " --out " + (s / "default"));
  INFO(d.err);
  REQUIRE(d.code == 0);
  auto z = nlohmann::json::parse(slurp(s / "default/report.json"));
  CHECK_FALSE(z.contains("ops"));
  CHECK(z["op_count"].get<size_t>() == x["ops"].size());
  CHECK(slurp(s / "default/ops.csv") == slurp(s / "spec/ops.csv"));
  z.erase("config");
  z.erase("op_count");
  y.erase("ops");
  CHECK(z == y);
  // none leaves them out of a spec run's report too, and all keeps them: same ops.csv.
  CliResult n = run_bpsim("run " + kSysRun + " --quiet" + pol + " --set run.report_ops=none --out " + (s / "none"));
  INFO(n.err);
  REQUIRE(n.code == 0);
  auto w = nlohmann::json::parse(slurp(s / "none/report.json"));
  CHECK_FALSE(w.contains("ops"));
  CHECK(w["op_count"].get<size_t>() == x["ops"].size());
  CHECK(slurp(s / "none/ops.csv") == slurp(s / "spec/ops.csv"));
  // Any other value is refused before anything runs, naming the key and the choices.
  CliResult bad = run_bpsim("run " + kSysRun + " --quiet --set run.report_ops=some --out " + (s / "bad"));
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Catch::Contains("run.report_ops"));
  CHECK_FALSE(std::filesystem::exists(s.path / "bad/report.json"));

  // validate reads a streamed trace through once.
  CliResult v = run_bpsim("validate " + kSysRun + " --set 'workload={trace: " + trace + "}'");
  CHECK(v.code == 0);
  CHECK_THAT(v.out, Catch::Contains("trace streamed: " + std::to_string(x["ops"].size()) + " ops"));
}

TEST_CASE("trace stream: an error late in the trace exits 2 and leaves no report", "[cli][trace][stream]") {
  Scratch s("trace_stream_bad");
  const std::string trace = s / "mlp.jsonl";
  REQUIRE(run_bpsim("trace export " + kSrc + "/configs/workloads/mlp.yaml -o " + trace).code == 0);
  int lines = 0;
  {
    std::ifstream in(trace);
    std::string l;
    while (std::getline(in, l)) ++lines;
  }
  // An op after the last one that depends on an op not yet defined (a dangling dependency).
  std::ofstream(trace, std::ios::app)
      << "{\"op\":26,\"name\":\"late\",\"phase\":\"update\",\"kind\":\"elementwise\",\"deps\":[99]}\n";
  CliResult r = run_bpsim("run " + kSysRun + " --quiet --trace " + trace + " --out " + (s / "out"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err,
             Catch::Contains(trace + ":" + std::to_string(lines + 1) + ": deps: op 99 is not defined before this op"));
  // The run had already simulated 26 ops: nothing of them is left looking finished.
  CHECK_FALSE(std::filesystem::exists(s.path / "out/report.json"));
  CHECK_FALSE(std::filesystem::exists(s.path / "out/ops.csv"));
  for (const auto& e : std::filesystem::directory_iterator(s.path / "out"))
    CHECK(e.path().filename().string() == ".bpsim-output");
}
