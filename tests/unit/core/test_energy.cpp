// Energy tables: every price has a source; unknown actions and bad numbers are errors.
#include <catch2/catch.hpp>

#include "sim/core/config_node.h"
#include "sim/core/energy.h"

using namespace bpsim;

namespace {

/// A toy component's vocabulary; "dram" stands apart: a unit the table does not know.
struct Toy {
  Vocabulary actions{""};
  const Action mac_int8 = actions.add("mac.int8", "one 8-bit MAC");
  const Action sram_read = actions.add("sram.read_64b", "one 64-bit read");
  Vocabulary units{""};
  const Action pe_int8 = units.add("pe_int8", "one int8 PE");
  const Action sram_kib = units.add("sram.kib", "one KiB of SRAM");
  Vocabulary other{""};
  const Action dram = other.add("dram", "a DRAM system's background");
};
const Toy kToy;
const std::vector<ActionDecl>& kKnown = kToy.actions.decls();
const std::vector<ActionDecl>& kLeak = kToy.units.decls();

EnergyTable parse(const std::string& yaml) {
  config::Node n = config::parse_yaml(yaml, "e.yaml");
  return EnergyTable::parse(*n.find("energy"), "energy", kKnown, kLeak);
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
      "  leakage_mw:\n    sram.kib: {mw: 2.5, source: assumed}\n");
  CHECK(t.name() == "t45");
  CHECK(t.pj(kToy.mac_int8) == Approx(0.23));
  CHECK_FALSE(t.has(kToy.sram_read));
  std::map<std::string, double> b;
  // 10 MACs × 0.23 pJ = 2.3 pJ.
  ActionCounts counts;
  counts[kToy.mac_int8] = 10;
  CHECK(t.dynamic_pj(counts, &b) == Approx(2.3));
  CHECK(b["mac.int8"] == Approx(2.3));
  // A priced unit leaks only once a part is charged in it: 2 KiB × 2.5 mW = 5 mW;
  // 5 mW × 1 µs = 5e-3 W × 1e-6 s = 5e-9 J = 5000 pJ.
  CHECK(t.static_pj(1e-6, &b) == 0.0);
  t.charge_leakage_of({{"buf", kToy.sram_kib, 2}});
  CHECK(t.static_pj(1e-6, &b) == Approx(5000.0));
  CHECK(b["buf.leakage"] == Approx(5000.0));
}

TEST_CASE("energy: only the parts a run declares leak, per component", "[core][energy]") {
  EnergyTable t =
      parse("energy:\n  leakage_mw:\n    pe_int8: {mw: 0.01, source: a}\n    sram.kib: {mw: 0.2, source: b}\n");
  t.set_leakage(kToy.dram, 800.0, "IDD3N");  // a component's own figure, as the memory system sets it
  // Nothing declared, nothing charged: the DRAM's figure alone does not make it leak.
  std::map<std::string, double> none;
  CHECK(t.static_pj(1e-3, &none) == 0.0);
  CHECK(none.empty());
  // 1024 PEs × 0.01 mW = 10.24 mW; the array's SRAM 64 + 32 KiB × 0.2 mW = 19.2 mW, two parts
  // of one component added up; over 1 ms: 10.24e-3 W × 1e-3 s = 10.24e-6 J = 10,240,000 pJ,
  // 19.2e-3 × 1e-3 = 19,200,000 pJ. No DRAM part: no dram.leakage.
  t.charge_leakage_of(
      {{"arr.pe", kToy.pe_int8, 1024}, {"arr.sram", kToy.sram_kib, 64}, {"arr.sram", kToy.sram_kib, 32}});
  std::map<std::string, double> b;
  CHECK(t.static_pj(1e-3, &b) == Approx(29.44e6));
  CHECK(b.size() == 2);
  CHECK(b["arr.pe.leakage"] == Approx(10.24e6));
  CHECK(b["arr.sram.leakage"] == Approx(19.2e6));
  // Charging again replaces the set: now the DRAM alone, 800 mW × 1 ms = 0.8 mJ = 8e8 pJ.
  t.charge_leakage_of({{"dram", kToy.dram, 1}});
  std::map<std::string, double> d;
  CHECK(t.static_pj(1e-3, &d) == Approx(8e8));
  CHECK(d.size() == 1);
  CHECK(d["dram.leakage"] == Approx(8e8));
  // A part the table states as leak-free (0 mW) adds no breakdown entry.
  t.set_leakage(kToy.pe_int8, 0.0, "none");
  t.charge_leakage_of({{"arr.pe", kToy.pe_int8, 4}});
  std::map<std::string, double> z;
  CHECK(t.static_pj(1.0, &z) == 0.0);
  CHECK(z.empty());
}

TEST_CASE("energy: a declared part without a figure is an error naming the table", "[core][energy]") {
  EnergyTable t = parse("energy:\n  name: t45\n  leakage_mw:\n    pe_int8: {mw: 0.01, source: a}\n");
  std::string what = "no error";
  try {
    t.charge_leakage_of({{"arr.pe", kToy.pe_int8, 4}, {"arr.sram", kToy.sram_kib, 8}});
  } catch (const InputError& e) {
    what = e.what();
  }
  CHECK(what ==
        "e.yaml:2:3: energy.leakage_mw: energy table 't45' has no leakage figure for 'sram.kib' (part 'arr.sram'; add "
        "it with its source)");
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
  // Leakage keys are the declared units (not components, as "sram" alone was once).
  CHECK(error_of("energy:\n  leakage_mw:\n    sram: {mw: 1, source: x}\n") ==
        "e.yaml:3:5: energy.leakage_mw.sram: unknown key (valid: pe_int8, sram.kib)");
  CHECK(error_of("energy:\n  leakage_mw:\n    sram.kb: {mw: 1, source: x}\n") ==
        "e.yaml:3:5: energy.leakage_mw.sram.kb: unknown key (did you mean 'sram.kib'?) (valid: pe_int8, sram.kib)");
  CHECK(error_of("energy:\n  leakage_mw:\n    sram.kib: {mw: 1}\n") ==
        "e.yaml:3:15: energy.leakage_mw.sram.kib: every number needs a 'source' (a citation)");
  CHECK(error_of("energy:\n  colour: red\n") ==
        "e.yaml:2:3: energy.colour: unknown key (valid: name, actions, leakage_mw, area_um2)");
}

TEST_CASE("energy: area per unit, each with its source", "[core][energy]") {
  const EnergyTable t = parse("energy:\n  area_um2:\n    pe_int8: {um2: 419, source: x}\n");
  CHECK(t.area_um2(kToy.pe_int8) == 419);
  CHECK(t.area_um2(kToy.sram_kib) == 0);  // no figure: 0, and the model reports no area
  CHECK(error_of("energy:\n  area_um2:\n    pe_int9: {um2: 1, source: x}\n") ==
        "e.yaml:3:5: energy.area_um2.pe_int9: unknown key (did you mean 'pe_int8'?) (valid: pe_int8, sram.kib)");
  CHECK(error_of("energy:\n  area_um2:\n    pe_int8: {um2: 1}\n") ==
        "e.yaml:3:14: energy.area_um2.pe_int8: every number needs a 'source' (a citation)");
  CHECK(error_of("energy:\n  area_um2:\n    pe_int8: {um2: -1, source: x}\n") ==
        "e.yaml:3:20: energy.area_um2.pe_int8.um2: area cannot be negative");
  CHECK(error_of("energy:\n  area_um2:\n    pe_int8: {um2: 2e9, source: x}\n") ==
        "e.yaml:3:20: energy.area_um2.pe_int8.um2: at most 1e9 um2");
}

TEST_CASE("energy: counts are kept in name order whatever order actions are declared or counted", "[core][energy]") {
  // Declared out of name order, in two vocabularies; "zeta.b" before "alpha.a" and
  // "mid.c" in between: iteration (and so pricing's summation order) follows the names.
  Vocabulary late{"zeta"};
  const Action z = late.add("b", "z");
  Vocabulary early{"alpha"};
  const Action a = early.add("a", "a");
  Vocabulary mid{"mid"};
  const Action m = mid.add("c", "m");
  // The same name declared again is the same action (one index).
  Vocabulary again{"alpha"};
  const Action a2 = again.add("a", "a again");
  CHECK(a2.id() == a.id());
  CHECK(a.id() != z.id());

  ActionCounts c;
  c[z] += 3;
  c[m] += 0;  // counted, even at 0: it iterates (as the name-keyed map's entry did)
  c[a] += 5;
  c[a2] += 1;
  std::vector<std::pair<std::string, uint64_t>> seen(c.begin(), c.end());
  const std::vector<std::pair<std::string, uint64_t>> want = {{"alpha.a", 6}, {"mid.c", 0}, {"zeta.b", 3}};
  CHECK(seen == want);
  CHECK(c.size() == 3);
  CHECK(c.count(a) == 6);
  CHECK(c.count(m) == 0);

  // += merges by action into name order; an action only the other side has is inserted.
  ActionCounts d;
  d[m] = 2;
  d += c;
  const std::vector<std::pair<std::string, uint64_t>> merged = {{"alpha.a", 6}, {"mid.c", 2}, {"zeta.b", 3}};
  CHECK(std::vector<std::pair<std::string, uint64_t>>(d.begin(), d.end()) == merged);
}

TEST_CASE("energy: pricing by index gives the name-keyed breakdown, bit for bit", "[core][energy]") {
  EnergyTable t = parse(
      "energy:\n  actions:\n"
      "    mac.int8: {pj: 0.23, source: s}\n"
      "    sram.read_64b: {pj: 1.7, source: s}\n");
  ActionCounts op1, op2;
  op1[kToy.sram_read] = 3;
  op1[kToy.mac_int8] = 7;
  op2[kToy.mac_int8] = 11;
  std::map<std::string, double> by_name;
  ActionEnergies by_id;
  double total_name = 0, total_id = 0;
  for (const ActionCounts* c : {&op1, &op2}) {
    total_name += t.dynamic_pj(*c, &by_name);
    total_id += t.dynamic_pj(*c, &by_id);
  }
  std::map<std::string, double> handed;
  by_id.add_to(handed);
  CHECK(total_id == total_name);  // exact: the same products summed in the same order
  CHECK(handed == by_name);
  // 7 × 0.23 + 11 × 0.23 MACs and 3 × 1.7 reads.
  CHECK(handed.at("mac.int8") == Approx(18 * 0.23));
  CHECK(handed.at("sram.read_64b") == Approx(3 * 1.7));
  // An action the table has no price for is still an error naming it.
  ActionCounts unpriced;
  unpriced[kToy.pe_int8] = 1;
  CHECK_THROWS_WITH(t.dynamic_pj(unpriced, &by_id), Catch::Contains("no price for action 'pe_int8'"));
}
