// bpsim sweep end to end on the traffic model: rows per point, resume, failures recorded,
// and the same results under mpirun as locally.
#include "sim/core/build_info.h"
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;

namespace {

/// A small traffic config: few requests so each point takes milliseconds.
std::string base_config(const Scratch& s) {
  return s.file("base.yaml", preset_includes() +
                                 "accelerator: {kind: traffic, pattern: stream, requests: 200}\nrun: {seed: 1}\n");
}

size_t count_lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

}  // namespace

TEST_CASE("sweep cli: every point becomes a row, a re-run skips finished points", "[sweep][cli]") {
  Scratch s("sweep_cli");
  base_config(s);
  std::string sweep = s.file("s.yaml", "base: base.yaml\naxes:\n  accelerator.pattern: [stream, random]\n  run.seed: [1, 2]\n");
  CliResult r = run_bpsim("sweep " + sweep + " -j 2 --out " + (s / "out"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  std::string jsonl = slurp(s / "out/results.jsonl");
  CHECK(count_lines(jsonl) == 4);  // 2 patterns × 2 seeds
  std::string csv = slurp(s / "out/results.csv");
  CHECK(count_lines(csv) == 5);  // header + 4 rows
  CHECK_THAT(csv, Catch::StartsWith("index,hash,status,accelerator.pattern,run.seed,cycles,"));
  size_t i = 0;
  for (std::istringstream in(jsonl); std::getline(in, jsonl);) {
    auto row = nlohmann::json::parse(jsonl);
    CHECK(row["index"] == i++);  // finalize sorts rows by point
    CHECK(row["status"] == "ok");
    CHECK(row["totals"]["dram_read_bytes"].get<uint64_t>() + row["totals"]["dram_write_bytes"].get<uint64_t>() > 0);
  }
  const std::string before = slurp(s / "out/results.csv");
  CliResult again = run_bpsim("sweep " + sweep + " --out " + (s / "out"));
  CHECK(again.code == 0);
  CHECK_THAT(again.err, Catch::Contains("4 points, 4 already done"));
  CHECK(slurp(s / "out/results.csv") == before);
}

TEST_CASE("sweep cli: a failing point records its error and the sweep goes on", "[sweep][cli]") {
  Scratch s("sweep_fail");
  base_config(s);
  std::string sweep = s.file("s.yaml", "base: base.yaml\naxes:\n  accelerator.pattern: [stream, zigzag]\n");
  CliResult r = run_bpsim("sweep " + sweep + " --out " + (s / "out"));
  REQUIRE(r.code == 0);
  std::string csv = slurp(s / "out/results.csv");
  CHECK(count_lines(csv) == 3);
  CHECK_THAT(csv, Catch::Contains(",error,zigzag,"));
  CHECK_THAT(csv, Catch::Contains("accelerator.pattern: 'zigzag' is not valid"));
}

TEST_CASE("sweep cli: a partial last row (crash) is dropped and that point re-run", "[sweep][cli]") {
  Scratch s("sweep_crash");
  base_config(s);
  std::string sweep = s.file("s.yaml", "base: base.yaml\naxes: {run.seed: [1, 2, 3]}\n");
  REQUIRE(run_bpsim("sweep " + sweep + " --out " + (s / "out")).code == 0);
  const std::string full = slurp(s / "out/results.jsonl");
  // Simulate kill -9 during the third append: keep two rows and half of the third.
  size_t second_end = full.find('\n', full.find('\n') + 1);
  s.file("out/results.jsonl", full.substr(0, second_end + 1) + full.substr(second_end + 1, 20));
  CliResult r = run_bpsim("sweep " + sweep + " --out " + (s / "out"));
  CHECK(r.code == 0);
  CHECK_THAT(r.err, Catch::Contains("3 points, 2 already done"));
  CHECK(slurp(s / "out/results.jsonl") == full);
}

TEST_CASE("sweep cli: mpirun with 3 ranks gives the local results", "[sweep][cli][mpi]") {
  Scratch s("sweep_mpi");
  base_config(s);
  std::string sweep = s.file("s.yaml", "base: base.yaml\naxes:\n  accelerator.pattern: [stream, random]\n  run.seed: [1, 2]\n");
  REQUIRE(run_bpsim("sweep " + sweep + " -j 2 --out " + (s / "local")).code == 0);
  const std::string cmd = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader "
                          "mpirun --oversubscribe -np 3 " + std::string(BPSIM_EXE) + " sweep " + sweep + " --out " +
                          (s / "mpi") + " > " + (s / "mpi.log") + " 2>&1";
  int status = std::system(cmd.c_str());
  INFO(slurp(s / "mpi.log"));
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK_THAT(slurp(s / "mpi.log"), Catch::Contains("on 2 MPI workers"));
  CHECK(slurp(s / "mpi/results.csv") == slurp(s / "local/results.csv"));
  CHECK(slurp(s / "mpi/results.jsonl") == slurp(s / "local/results.jsonl"));
}
