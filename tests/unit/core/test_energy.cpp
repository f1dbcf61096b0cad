// Energy tables: every price has a source; unknown actions and bad numbers are errors.
#include <catch2/catch.hpp>

#include "sim/core/config_node.h"
#include "sim/core/energy.h"

using namespace bpsim;

namespace {

const std::vector<ActionDecl> kKnown = {{"mac.int8", "one 8-bit MAC"}, {"sram.read_64b", "one 64-bit read"}};

EnergyTable parse(const std::string& yaml) {
  config::Node n = config::parse_yaml(yaml, "e.yaml");
  return EnergyTable::parse(*n.find("energy"), "energy", kKnown);
}

std::string error_of(const std::string& yaml) {
  try {
    parse(yaml);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("energy: a table prices actions and leakage", "[core][energy]") {
  EnergyTable t = parse(
      "energy:\n  name: t45\n  actions:\n"
      "    mac.int8: {pj: 0.23, source: \"Horowitz 2014: 0.2 mult + 0.03 add\"}\n"
      "  leakage_mw:\n    sram: {mw: 2.5, source: assumed}\n");
  CHECK(t.name() == "t45");
  CHECK(t.pj("mac.int8") == Approx(0.23));
  CHECK_FALSE(t.has("sram.read_64b"));
  std::map<std::string, double> b;
  // 10 MACs × 0.23 pJ = 2.3 pJ.
  CHECK(t.dynamic_pj({{"mac.int8", 10}}, &b) == Approx(2.3));
  // 2.5 mW × 1 µs = 2.5e-3 W × 1e-6 s = 2.5e-9 J = 2500 pJ.
  CHECK(t.static_pj(1e-6, &b) == Approx(2500.0));
  CHECK(b["sram.leakage"] == Approx(2500.0));
  // Leakage of components absent from the simulation is not charged.
  t.keep_leakage_of({{"mac.int8", ""}});
  CHECK(t.static_pj(1e-6, nullptr) == 0.0);
}

TEST_CASE("energy: errors name the entry", "[core][energy]") {
  CHECK(error_of("energy:\n  actions:\n    mac.int9: {pj: 1, source: x}\n") ==
        "e.yaml:3:5: energy.actions.mac.int9: unknown key (did you mean 'mac.int8'?) (valid: mac.int8, sram.read_64b)");
  CHECK(error_of("energy:\n  actions:\n    mac.int8: {pj: 1}\n") ==
        "e.yaml:3:15: energy.actions.mac.int8: every number needs a 'source' (a citation)");
  CHECK(error_of("energy:\n  actions:\n    mac.int8: {pj: -1, source: x}\n") ==
        "e.yaml:3:20: energy.actions.mac.int8.pj: energy and power cannot be negative");
  CHECK(error_of("energy:\n  actions:\n    mac.int8: {pj: lots, source: x}\n") ==
        "e.yaml:3:20: energy.actions.mac.int8.pj: expected a number, found 'lots'");
  CHECK(error_of("energy:\n  leakage_mw:\n    dram: {mw: 1, source: x}\n") ==
        "e.yaml:3:5: energy.leakage_mw.dram: unknown key (did you mean 'sram'?) (valid: mac, sram)");
  CHECK(error_of("energy:\n  colour: red\n") ==
        "e.yaml:2:3: energy.colour: unknown key (valid: name, actions, leakage_mw)");
}
