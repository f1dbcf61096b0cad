// What bpsim prints for people (issue #23 item 5): the summary's units, the mesh's figures as
// words, warnings, the progress line on a terminal, `-` for standard input and output, and
// --quiet. Every printed figure is checked against report.json's value through the one
// formatter (sim/core/units.h, whose own cases pin hand-made values in tests/unit/core).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <regex>
#include <string>

#include "sim/core/units.h"
#include "tests/cli/cli_harness.h"

using namespace bpsim;
using namespace bpsim::test;
using json = nlohmann::json;

namespace {

const std::string kSrc = BPSIM_SOURCE_DIR;

/// The summary line of `phase` ("total", "forward", …) after its name.
std::string row_of(const std::string& out, const std::string& phase) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex("\\n" + phase + " +([^\\n]*)\\n"))) return "";
  return m[1].str();
}

/// Runs configs/examples/NAME.yaml into s/o; its report in `report`.
CliResult run_example(const Scratch& s, const std::string& name, json& report) {
  const CliResult r = run_bpsim_bounded(
      "run " + shell_quote(kSrc + "/configs/examples/" + name + ".yaml") + " --out " + shell_quote(s / "o"), 120);
  if (r.code == 0) report = json::parse(slurp(s / "o/report.json"));
  return r;
}

}  // namespace

TEST_CASE("console: the summary prints SI sub-units and a rounded clock, as report.json has them", "[cli][console]") {
  Scratch s("console_units");
  // The PIM example runs on DDR3-1600's 1/0.833 ns clock (1.2004801920768309 GHz in the
  // report) and spends microjoules.
  json rep;
  const CliResult run = run_example(s, "pim_bitwise", rep);
  REQUIRE(run.code == 0);
  const json& t = rep["totals"];
  CHECK_THAT(run.out, Catch::Contains("on pim @ " + units::clock_ghz(rep["clock_ghz"].get<double>()) + "\n"));
  CHECK_THAT(run.out, Catch::Contains(" @ 1.2 GHz\n"));
  const std::string total = row_of(run.out, "total");
  REQUIRE_FALSE(total.empty());
  CHECK_THAT(total, Catch::Contains(units::energy_pj(t["energy_pj"].get<double>())));
  CHECK_THAT(total, Catch::Contains(units::seconds(t["seconds"].get<double>())));
  CHECK_THAT(total, Catch::Contains("\u00b5J"));  // microjoules, not 4.21e-06 J
  // No exponent anywhere and no bare fraction of a joule.
  CHECK_FALSE(std::regex_search(run.out, std::regex("[0-9]e[-+][0-9]")));
  CHECK_FALSE(std::regex_search(run.out, std::regex(" 0\\.0[0-9]* J")));
  CHECK_THAT(run.out, Catch::Contains("peak " + units::bytes(double(rep["memory"]["peak_bytes"].get<uint64_t>()))));
}

TEST_CASE("console: a mesh run prints its network figures as words, not JSON", "[cli][console][mesh]") {
  Scratch s("console_mesh");
  json rep;
  const CliResult r = run_example(s, "mlp_train_mesh", rep);
  REQUIRE(r.code == 0);
  CHECK(r.out.find('{') == std::string::npos);
  CHECK(r.out.find('"') == std::string::npos);
  // Each scalar of report["network"] is a phrase: "packets N", "flit hops N", …
  CHECK_THAT(r.out, Catch::Contains("network: "));
  CHECK_THAT(r.out, Catch::Contains("packets " + units::exact(rep["network"]["packets"].get<double>())));
  CHECK_THAT(r.out, Catch::Contains("accepted rate " + units::number(rep["network"]["accepted_rate"].get<double>())));
  // A nested object gets its own line; a list is named with its length and where it is.
  CHECK_THAT(r.out, Catch::Contains("(network.cluster_memory.layers in report.json)"));
}

TEST_CASE("console: bpsim list prints exact values, not 1.04858e+06", "[cli][console]") {
  const CliResult r = run_bpsim("list");
  REQUIRE(r.code == 0);
  CHECK_FALSE(std::regex_search(r.out, std::regex("[0-9]e\\+[0-9]")));
  CHECK_THAT(r.out, Catch::Contains("[1, 1048576]"));  // 2^20, once 1.04858e+06
  CHECK_THAT(r.out, Catch::Contains("default 0.1)"));  // once 0.10000000000000001
}

TEST_CASE("console: a config from standard input runs as the same file does", "[cli][console][stdin]") {
  Scratch s("console_stdin");
  const std::string dir = kSrc + "/configs/examples";
  const CliResult a =
      run_bpsim("run " + shell_quote(dir + "/mlp_train_systolic.yaml") + " --quiet --out " + shell_quote(s / "file"),
                "cd " + shell_quote(dir) + " &&");
  REQUIRE(a.code == 0);
  // The config's include: and spec: names are relative: from standard input they resolve
  // from the working directory, here the config's own folder.
  const CliResult b = run_bpsim("run - --quiet --out " + shell_quote(s / "stdin") + " < mlp_train_systolic.yaml",
                                "cd " + shell_quote(dir) + " &&");
  REQUIRE(b.code == 0);
  CHECK(slurp(s / "stdin/report.json") == slurp(s / "file/report.json"));
  CHECK(slurp(s / "stdin/ops.csv") == slurp(s / "file/ops.csv"));

  // Errors name standard input, with line and key.
  const CliResult bad =
      run_bpsim("run - --out " + shell_quote(s / "bad"), "printf 'accelerator:\\n  kind: systolic\\n  rowz: 3\\n' |");
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Catch::Contains("<stdin>:3:3: accelerator.rowz: unknown key"));
  CHECK_FALSE(std::filesystem::exists(s / "bad"));
  // Standard input holds one input: a trace from it as well is refused, naming the first.
  const CliResult twice = run_bpsim("run - --trace - --out " + shell_quote(s / "twice") + " < mlp_train_systolic.yaml",
                                    "cd " + shell_quote(dir) + " &&");
  CHECK(twice.code == 2);
  CHECK_THAT(twice.err, Catch::Contains("already gave the config"));
  // A sweep and a compare read their config again in other processes: refused by name.
  for (const char* cmd : {"sweep -", "compare -"}) {
    const CliResult r = run_bpsim(std::string(cmd) + " < /dev/null");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("standard input"));
  }
  // `bpsim validate -` names it <stdin>.
  const CliResult v = run_bpsim("validate - < mlp_train_systolic.yaml", "cd " + shell_quote(dir) + " &&");
  CHECK(v.code == 0);
  CHECK_THAT(v.out, Catch::StartsWith("<stdin>: ok (accelerator systolic, workload mlp: "));
}

TEST_CASE("console: trace export -o - pipes into trace check -, and workload reads a spec from -",
          "[cli][console][stdin]") {
  Scratch s("console_pipe");
  const std::string spec = shell_quote(kSrc + "/configs/workloads/mlp.yaml");
  const CliResult file = run_bpsim("trace export " + spec + " -o " + shell_quote(s / "step.jsonl"));
  REQUIRE(file.code == 0);
  const CliResult piped =
      run_bpsim("trace export " + spec + " -o - 2>/dev/null | " + std::string(BPSIM_EXE) + " trace check -");
  REQUIRE(piped.code == 0);
  const CliResult checked = run_bpsim("trace check " + shell_quote(s / "step.jsonl"));
  REQUIRE(checked.code == 0);
  // The same ops, tensors and MACs, the file's name replaced by <stdin>.
  CHECK(piped.out == std::regex_replace(checked.out, std::regex("^[^:]*:"), "<stdin>:"));
  // Standard output holds the trace alone; what was written goes to standard error.
  const CliResult out = run_bpsim("trace export " + spec + " -o -");
  REQUIRE(out.code == 0);
  CHECK(out.out == slurp(s / "step.jsonl"));
  CHECK_THAT(out.err, Catch::StartsWith("<stdout>: "));

  const CliResult w1 = run_bpsim("workload " + spec + " --json");
  const CliResult w2 = run_bpsim("workload - --json < " + spec);
  REQUIRE(w1.code == 0);
  REQUIRE(w2.code == 0);
  CHECK(w1.out == w2.out);
}

TEST_CASE("console: the progress line shows on a terminal only, and never with --quiet", "[cli][console][progress]") {
  Scratch s("console_progress");
  const std::string config = shell_quote(kSrc + "/configs/examples/mlp_train_systolic.yaml");
  // `script` gives the run a terminal; BPSIM_PROGRESS_AFTER_S=0 draws from the first op on
  // (by default only runs past 2 s show it).
  const std::string inner = "BPSIM_PROGRESS_AFTER_S=0 " + std::string(BPSIM_EXE) + " run " + config + " --out " +
                            shell_quote(s / "o") + " --force";
  const int tty =
      std::system(("script -qec " + shell_quote(inner) + " /dev/null > " + shell_quote(s / "tty.txt")).c_str());
  REQUIRE(tty == 0);
  const std::string text = slurp(s / "tty.txt");
  // mlp.yaml's step has a known op count; the first draw comes after the first op.
  CHECK_THAT(text, Catch::Contains("\rsimulating: 1 / "));
  CHECK_THAT(text, Catch::Contains(" ops ("));
  const int quiet = std::system(
      ("script -qec " + shell_quote(inner + " --quiet") + " /dev/null > " + shell_quote(s / "q.txt")).c_str());
  REQUIRE(quiet == 0);
  CHECK(slurp(s / "q.txt").find("simulating") == std::string::npos);
  // Not a terminal: nothing, whatever the delay.
  const CliResult piped =
      run_bpsim("run " + config + " --force --out " + shell_quote(s / "o"), "BPSIM_PROGRESS_AFTER_S=0");
  REQUIRE(piped.code == 0);
  CHECK(piped.err.find("simulating") == std::string::npos);
}

TEST_CASE("console: a run that stalls or idles says so on stderr, from report.json's totals", "[cli][console]") {
  Scratch s("console_warnings");
  // mlp_train_systolic: small GEMMs on a 32×32 array wait on DRAM, so its totals (docs/report.md,
  // "Derived figures") have stall_cycles above half of cycles and utilisation
  // = macs_executed / (1024 × cycles) below 0.1. The warnings quote both from the report.
  json rep;
  const CliResult r = run_example(s, "mlp_train_systolic", rep);
  REQUIRE(r.code == 0);
  const json& t = rep["totals"];
  const double stalled = t["stall_cycles"].get<double>() / t["cycles"].get<double>();
  const double used = t["macs_executed"].get<double>() /
                      (rep["roofline"]["peak_macs_per_cycle"].get<double>() * t["cycles"].get<double>());
  REQUIRE(stalled > 0.5);
  REQUIRE(used < 0.1);
  CHECK(t["utilisation"].get<double>() == Approx(used).epsilon(1e-12));
  CHECK_THAT(r.err, Catch::Contains("warning: the compute units stalled " + units::percent(stalled) +
                                    " of the step's cycles (totals.stall_cycles " +
                                    std::to_string(t["stall_cycles"].get<uint64_t>()) + " of " +
                                    std::to_string(t["cycles"].get<uint64_t>()) + ")"));
  CHECK_THAT(r.err, Catch::Contains("warning: utilisation " + units::percent(used) + " of the peak MAC rate"));
  // The idle part is named as the systolic model's peak counts it: its R×C array.
  CHECK_THAT(r.err, Catch::Contains("(totals.utilisation): the array is mostly idle\n"));
  CHECK_THAT(r.out, !Catch::Contains("warning:"));  // standard output keeps the table alone
  // --quiet drops them.
  const CliResult q = run_bpsim_bounded("run " + shell_quote(kSrc + "/configs/examples/mlp_train_systolic.yaml") +
                                            " --quiet --out " + shell_quote(s / "q"),
                                        120);
  REQUIRE(q.code == 0);
  CHECK_THAT(q.err, !Catch::Contains("warning:"));
}

TEST_CASE("console: the idle warning names what each model's peak counts", "[cli][console]") {
  Scratch s("console_idle_words");
  // The mesh's peak is its clusters' MAC elements (nodes × cluster.elements), PIM's its compute
  // subarrays' lanes (plus the host's rate): each run below uses under 10 % of it (the MLP on
  // the mesh 0.14 %, the binary MLP in DRAM 0.00013 %), so each warns in its own words and
  // never in another model's.
  for (const auto& [example, words] : {std::pair<std::string, std::string>{"mlp_train_mesh", "the clusters"},
                                       {"binary_mlp_pim", "the compute subarrays"}}) {
    json rep;
    const CliResult r = run_example(s, example, rep);
    INFO(example << ": " << r.err);
    REQUIRE(r.code == 0);
    REQUIRE(rep["totals"]["utilisation"].get<double>() < 0.1);
    CHECK_THAT(r.err, Catch::Contains("of the peak MAC rate (totals.utilisation): " + words + " are mostly idle\n"));
    CHECK_THAT(r.err, !Catch::Contains("the array"));
    std::filesystem::remove_all(s / "o");  // the next example writes there
  }
}
