#pragma once
/// Lookups into a parsed report.json for the CLI tests.
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace bpsim::test {

/// The entry of ops[] named `name`; fails the test when there is none.
inline nlohmann::json op_of(const nlohmann::json& rep, const std::string& name) {
  for (const auto& o : rep["ops"])
    if (o["name"] == name) return o;
  FAIL("no op " << name);
  return {};
}

}  // namespace bpsim::test
