#pragma once
// Shared by the co-simulation CLI tests: a config run with the model and with `backend:
// rtl`, and reading signals back from a VCD.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

namespace bpsim::test {

struct BackendReports {
  nlohmann::json model, rtl;
};

/// Runs `cfg` (plus `extra` arguments) once as is and once with accelerator.backend=rtl,
/// into `s`/m and `s`/r; both must succeed.
inline BackendReports run_model_and_rtl(const Scratch& s, const std::string& cfg, const std::string& extra = "") {
  CliResult m = run_bpsim("run " + cfg + " --quiet" + extra + " --out " + (s / "m"));
  CliResult r = run_bpsim("run " + cfg + " --quiet" + extra + " --set accelerator.backend=rtl --out " + (s / "r"));
  INFO(m.err << r.err);
  REQUIRE(m.code == 0);
  REQUIRE(r.code == 0);
  return {nlohmann::json::parse(slurp(s / "m/report.json")), nlohmann::json::parse(slurp(s / "r/report.json"))};
}

/// A backend: rtl run of `cfg` with --trace-vcd into `s`/w.vcd: the VCD's text (checked to
/// hold `scope`) and the run's report.
struct VcdRun {
  std::string text;
  nlohmann::json report;
};
inline VcdRun run_rtl_with_vcd(const Scratch& s, const std::string& cfg, const std::string& scope) {
  CliResult r = run_bpsim("run " + cfg + " --quiet --set accelerator.backend=rtl --out " + (s / "r") + " --trace-vcd " +
                          (s / "w.vcd"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  VcdRun v{slurp(s / "w.vcd"), nlohmann::json::parse(slurp(s / "r/report.json"))};
  CHECK_THAT(v.text, Catch::StartsWith("$version") && Catch::Contains("$scope module " + scope + " $end"));
  return v;
}

/// A misspelt backend is an input error naming the key.
inline void check_backend_typo(const Scratch& s, const std::string& cfg) {
  CliResult typo = run_bpsim("run " + cfg + " --set accelerator.backend=rtll --out " + (s / "t"));
  CHECK(typo.code == 2);
  CHECK_THAT(typo.err, Catch::Contains("accelerator.backend"));
}

/// The VCD identifier of the first variable declared as `decl` (e.g. " clk $end").
inline std::string vcd_id(const std::string& text, const std::string& decl) {
  const size_t at = text.find(decl);
  REQUIRE(at != std::string::npos);
  const size_t start = text.rfind(' ', at - 1) + 1;
  return text.substr(start, at - start);
}

/// Rising edges of the 1-bit variable declared as `decl`.
inline uint64_t vcd_rising_edges(const std::string& text, const std::string& decl) {
  const std::string rise = "\n1" + vcd_id(text, decl) + "\n";
  uint64_t edges = 0;
  for (size_t p = text.find(rise); p != std::string::npos; p = text.find(rise, p + 1)) ++edges;
  return edges;
}

/// Every value a vector variable declared as `decl` takes, with its time: (time, value).
inline std::vector<std::pair<uint64_t, uint64_t>> vcd_values(const std::string& text, const std::string& decl) {
  const std::string id = " " + vcd_id(text, decl);
  std::vector<std::pair<uint64_t, uint64_t>> out;
  uint64_t now = 0;
  std::istringstream in(text.substr(text.find("$enddefinitions")));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '#') now = std::stoull(line.substr(1));
    if (line.size() > id.size() && line[0] == 'b' && line.compare(line.size() - id.size(), id.size(), id) == 0)
      out.emplace_back(now, std::stoull(line.substr(1, line.size() - id.size() - 1), nullptr, 2));
  }
  return out;
}

}  // namespace bpsim::test
