// bpsim list --layers against the spec parser: every kind the parser accepts is in the
// reference, and for every kind the parser names, as the valid keys of a map with an unknown
// key, exactly the keys the reference lists (so the reference documents what is validated).
#include <catch2/catch.hpp>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;

namespace {

/// The reference as `bpsim list --layers` prints it: kind → its keys, in order.
std::map<std::string, std::vector<std::string>> parse_reference(const std::string& text) {
  std::map<std::string, std::vector<std::string>> kinds;
  std::istringstream in(text);
  std::string line, kind;
  while (std::getline(in, line)) {
    if (line.empty() || line.rfind("workload layers", 0) == 0) continue;
    if (line[0] != ' ') {  // "linear: …" or "residual (group): …"
      kind = line.substr(0, line.find_first_of(" :"));
      kinds[kind];
    } else if (line.rfind("  ", 0) == 0 && line[2] != ' ') {  // "  key (type, …): meaning"
      kinds[kind].push_back(line.substr(2, line.find(' ', 2) - 2));
    }
  }
  return kinds;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

TEST_CASE("cli list --layers: the reference lists what the spec parser validates", "[cli][workload][docs]") {
  const CliResult r = run_bpsim("list --layers");
  REQUIRE(r.code == 0);
  const auto kinds = parse_reference(r.out);
  CHECK(kinds.size() == 32);  // 31 kinds a `kind:` names (the parser's list below) and `repeat`

  Scratch s("layers_reference");
  // The parser's own list of kinds, from the message of an unknown one.
  const std::string unknown = s.file("unknown.yaml", "input: {shape: [4]}\nlayers: [{kind: no_such_layer}]\n");
  const CliResult u = run_bpsim("workload " + unknown);
  REQUIRE(u.code == 2);
  const size_t at = u.err.find("(supported: ");
  REQUIRE(at != std::string::npos);
  std::istringstream supported(u.err.substr(at + 12, u.err.find(')', at) - at - 12));
  int accepted = 0;
  for (std::string k; std::getline(supported, k, ',');) {
    if (k[0] == ' ') k = k.substr(1);
    INFO(k);
    CHECK(kinds.count(k) == 1);
    ++accepted;
  }
  CHECK(accepted == 31);

  // For each kind, a map with an unknown key: the parser names the reference's keys as valid.
  for (const auto& [kind, keys] : kinds) {
    INFO(kind);
    const std::string layer = kind == "repeat" ? "{repeat: 1, layers: [{kind: relu}], zzz_unknown: 1}"
                                               : "{kind: " + kind + ", zzz_unknown: 1}";
    const std::string spec = s.file(kind + ".yaml", "input: {shape: [4]}\nlayers: [" + layer + "]\n");
    const CliResult e = run_bpsim("workload " + spec);
    CHECK(e.code == 2);
    CHECK_THAT(e.err, Catch::Contains("layers[0].zzz_unknown: unknown key") &&
                          Catch::Contains("(valid: " + joined(keys) + ")"));
  }
}

TEST_CASE("cli list --layers --markdown: a table per kind, --markdown alone is refused", "[cli][docs]") {
  const CliResult m = run_bpsim("list --layers --markdown");
  REQUIRE(m.code == 0);
  CHECK_THAT(m.out, Catch::StartsWith("# Workload layers"));
  // The linear layer's required key as a table row: name, type, default, range, meaning.
  CHECK_THAT(m.out, Catch::Contains("| `out_features` | int | required | [1, "));
  CHECK_THAT(m.out, Catch::Contains("| `weight_density` | float | `1` | [0, 1] |"));
  const CliResult bad = run_bpsim("list --markdown");
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Catch::Contains("--markdown goes with --layers"));
}
