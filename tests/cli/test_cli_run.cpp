// bpsim run / validate / list end to end on the traffic model.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;
namespace fs = std::filesystem;

namespace {
std::string traffic_config(const Scratch& s, const std::string& extra = "") {
  return s.file("t.yaml", preset_includes() + "accelerator: {kind: traffic, pattern: random, requests: 500" + extra +
                              "}\nrun: {seed: 7}\n");
}
}  // namespace

TEST_CASE("cli run: writes the report contract and ops.csv", "[cli]") {
  Scratch s("cli_run");
  std::string cfg = traffic_config(s);
  CliResult r = run_bpsim("run " + cfg + " --out " + (s / "out"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("total"));
  CHECK_THAT(r.out, Catch::Contains("report: " + (s / "out") + "/report.json"));
  auto rep = nlohmann::json::parse(slurp(s / "out/report.json"));
  CHECK(rep["schema"] == "bpsim-report-1");
  CHECK(rep["accelerator"] == "traffic");
  for (const char* k : {"cycles", "seconds", "energy_pj", "macs", "macs_executed", "macs_gated", "dram_read_bytes",
                        "dram_write_bytes", "onchip_read_bytes", "onchip_write_bytes"})
    CHECK(rep["totals"].contains(k));
  // 500 requests of 64 B each, split between reads and writes.
  CHECK(rep["totals"]["dram_read_bytes"].get<uint64_t>() + rep["totals"]["dram_write_bytes"].get<uint64_t>() ==
        500 * 64);
  CHECK(rep["totals"]["energy_pj"].get<double>() > 0);
  CHECK(rep["memory"].contains("peak_bytes"));
  CHECK(rep["ops"].size() >= 1);
  CHECK_THAT(slurp(s / "out/ops.csv"), Catch::StartsWith("name,phase,kind,"));
}

TEST_CASE("cli run: same config and seed give a byte-identical report", "[cli]") {
  Scratch s("cli_det");
  std::string cfg = traffic_config(s);
  REQUIRE(run_bpsim("run " + cfg + " --quiet --out " + (s / "a")).code == 0);
  REQUIRE(run_bpsim("run " + cfg + " --quiet --out " + (s / "b")).code == 0);
  CHECK(slurp(s / "a/report.json") == slurp(s / "b/report.json"));
  REQUIRE(run_bpsim("run " + cfg + " --quiet --set run.seed=8 --out " + (s / "c")).code == 0);
  CHECK(slurp(s / "a/report.json") != slurp(s / "c/report.json"));
}

TEST_CASE("cli run: never writes into a folder it did not create", "[cli]") {
  Scratch s("cli_out");
  std::string cfg = traffic_config(s);
  fs::create_directories(s.path / "mine");
  s.file("mine/notes.txt", "precious");
  CliResult r = run_bpsim("run " + cfg + " --out " + (s / "mine"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("folder is not empty and was not made by bpsim"));
  CHECK(slurp(s / "mine/notes.txt") == "precious");
  CHECK_FALSE(fs::exists(s.path / "mine/report.json"));
  // --force writes and keeps the user's file.
  CHECK(run_bpsim("run " + cfg + " --quiet --force --out " + (s / "mine")).code == 0);
  CHECK(slurp(s / "mine/notes.txt") == "precious");
  CHECK(fs::exists(s.path / "mine/report.json"));
  // A folder bpsim made may be reused without --force.
  CHECK(run_bpsim("run " + cfg + " --quiet --out " + (s / "mine")).code == 0);
}

TEST_CASE("cli run: a failed run leaves no report behind", "[cli]") {
  Scratch s("cli_fail");
  std::string good = traffic_config(s);
  REQUIRE(run_bpsim("run " + good + " --quiet --out " + (s / "o")).code == 0);
  REQUIRE(fs::exists(s.path / "o/report.json"));
  // Bad input is caught before the folder is touched: the old report stays as it was.
  CliResult bad = run_bpsim("run " + good + " --set accelerator.requests=-1 --out " + (s / "o"));
  CHECK(bad.code == 2);
  CHECK(fs::exists(s.path / "o/report.json"));
  // A file where the folder should be is an input error.
  s.file("plain", "x");
  CHECK(run_bpsim("run " + good + " --out " + (s / "plain")).code == 2);
}

TEST_CASE("cli validate and list", "[cli]") {
  Scratch s("cli_list");
  CliResult v = run_bpsim("validate " + traffic_config(s));
  CHECK(v.code == 0);
  CHECK_THAT(v.out, Catch::Contains(": ok (accelerator traffic)"));
  CliResult l = run_bpsim("list");
  CHECK(l.code == 0);
  CHECK_THAT(l.out, Catch::Contains("traffic: "));
  CHECK_THAT(l.out, Catch::Contains("memory presets"));
  CHECK_THAT(l.out, Catch::Contains("ddr4_2400.yaml"));
  CHECK_THAT(l.out, Catch::Contains("45nm.yaml"));
  CHECK_THAT(l.out, Catch::Contains("seed (int, [0, inf], default 1)"));
}
