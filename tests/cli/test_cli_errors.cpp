// Exit codes and messages of the command line on bad input (2), and help/version (0).
#include <catch2/catch.hpp>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;

TEST_CASE("cli: --version and --help", "[cli]") {
  CliResult v = run_bpsim("--version");
  CHECK(v.code == 0);
  CHECK(v.out == std::string("bpsim ") + BPSIM_VERSION + "\n");
  CliResult h = run_bpsim("--help");
  CHECK(h.code == 0);
  CHECK_THAT(h.out, Catch::Contains("run CONFIG.yaml"));
  for (const char* cmd : {"run", "validate", "list", "workload"}) {
    CliResult c = run_bpsim(std::string(cmd) + " --help");
    INFO(cmd);
    CHECK(c.code == 0);
    CHECK_THAT(c.out, Catch::Contains("usage: bpsim"));
  }
}

TEST_CASE("cli: bad command lines exit 2", "[cli]") {
  CHECK(run_bpsim("").code == 2);
  CliResult u = run_bpsim("frobnicate");
  CHECK(u.code == 2);
  CHECK_THAT(u.err, Catch::Contains("unknown command 'frobnicate'"));
  CliResult m = run_bpsim("run");
  CHECK(m.code == 2);
  CHECK_THAT(m.err, Catch::Contains("missing CONFIG.yaml"));
  CliResult o = run_bpsim("run x.yaml --no-such-option");
  CHECK(o.code == 2);
  CHECK_THAT(o.err, Catch::Contains("no-such-option"));
  CliResult f = run_bpsim("validate does_not_exist.yaml");
  CHECK(f.code == 2);
  CHECK(f.err == "bpsim: does_not_exist.yaml: cannot open config file: No such file or directory\n");
}

TEST_CASE("cli: config errors name file, line, column and key path", "[cli]") {
  Scratch s("cli_cfg");
  std::string unknown_top = s.file("a.yaml", preset_includes() + "accelerator: {kind: traffic}\nrunn: {seed: 1}\n");
  CliResult a = run_bpsim("validate " + unknown_top);
  CHECK(a.code == 2);
  CHECK(a.err == "bpsim: " + unknown_top +
                     ":3:1: runn: unknown key (did you mean 'run'?) (valid: accelerator, memory, energy, workload, "
                     "run, system)\n");

  std::string bad_kind = s.file("b.yaml", preset_includes() + "accelerator:\n  kind: gpu\n");
  CliResult b = run_bpsim("validate " + bad_kind);
  CHECK(b.code == 2);
  CHECK_THAT(b.err, Catch::StartsWith("bpsim: " + bad_kind +
                                      ":3:9: accelerator.kind: unknown accelerator 'gpu' (registered: "));

  std::string no_acc = s.file("c.yaml", preset_includes());
  CliResult c = run_bpsim("validate " + no_acc);
  CHECK(c.code == 2);
  CHECK_THAT(c.err, Catch::Contains("missing required section 'accelerator'"));

  std::string bad_seed = s.file("d.yaml", preset_includes() + "accelerator: {kind: traffic}\nrun: {seed: -4}\n");
  CliResult d = run_bpsim("validate " + bad_seed);
  CHECK(d.code == 2);
  CHECK(d.err == "bpsim: " + bad_seed + ":3:13: run.seed: value -4 is out of range [0, inf]\n");

  std::string syntax = s.file("e.yaml", "accelerator: {kind: traffic\n");
  CliResult e = run_bpsim("validate " + syntax);
  CHECK(e.code == 2);
  CHECK_THAT(e.err, Catch::StartsWith("bpsim: " + syntax + ":2:1: YAML syntax error"));
}

TEST_CASE("cli: --set goes through the same checks", "[cli]") {
  Scratch s("cli_set");
  std::string cfg = s.file("a.yaml", preset_includes() + "accelerator: {kind: traffic}\n");
  CliResult r = run_bpsim("validate " + cfg + " --set run.seed=abc");
  CHECK(r.code == 2);
  CHECK(r.err == "bpsim: --set run.seed=abc: run.seed: expected an integer, found 'abc'\n");
  CliResult k = run_bpsim("validate " + cfg + " --set run.sed=1");
  CHECK(k.code == 2);
  CHECK_THAT(k.err, Catch::Contains("run.sed: unknown key (did you mean 'seed'?)"));
}
