#pragma once
/// Helpers for the pim tests that run the executable: a run whose report must exist, an op
/// of a report by name, and the include line of the shipped pim preset and its tables.
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

namespace bpsim::test {

/// `bpsim run CFG -q -o S/DIR SETS`, which must exit 0; its report.
inline nlohmann::json run_report(const Scratch& s, const std::string& cfg, const std::string& dir,
                                 const std::string& sets) {
  const CliResult r = run_bpsim("run " + cfg + " -q -o " + (s / dir) + " " + sets);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(slurp(s / (dir + "/report.json")));
}

inline const nlohmann::json& op_named(const nlohmann::json& rep, const std::string& name) {
  for (const auto& o : rep["ops"])
    if (o["name"] == name) return o;
  FAIL("no op " << name);
  return rep;
}

/// `include:` line of the pim preset, the DDR4-2400 memory and the 45 nm tables with pim's.
inline std::string pim_includes() {
  const std::string src = std::string(BPSIM_SOURCE_DIR) + "/configs/";
  return "include: [" + src + "arch/pim_ddr4.yaml, " + src + "memory/ddr4_2400.yaml, " + src + "energy/45nm.yaml, " +
         src + "energy/45nm/pim.yaml]\n";
}

}  // namespace bpsim::test
