// Inputs the fuzzers found (tests/fuzz/regressions/), fed through the real bpsim executable:
// each must be refused as bad input (exit 2) with a message, never crash or hang. The files
// are split into their parts the way the harnesses split them.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <string>
#include <vector>

#include "tests/cli/cli_harness.h"
#include "tests/fuzz/fuzz_util.h"

using namespace bpsim::test;

namespace {

/// The parts of a regression input, written into `s` under `names` (in harness order).
void unpack(const Scratch& s, const std::string& target, const std::string& input,
            const std::vector<std::string>& names) {
  const std::string bytes = slurp(std::string(BPSIM_SOURCE_DIR) + "/tests/fuzz/regressions/" + target + "/" + input);
  REQUIRE(!bytes.empty());
  const auto parts =
      bpsim::fuzz::split_parts(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) s.file(names[i], parts[i]);
}

/// Runs `bpsim ARGS` and expects bad input: exit 2 and `message` on stderr.
void expect_input_error(const std::string& args, const std::string& message) {
  const CliResult r = run_bpsim(args);
  INFO(r.out << r.err);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains(message));
}

}  // namespace

TEST_CASE("fuzz regressions: a sweep whose axes make 2^40 points is refused at once", "[fuzz][sweep][cli]") {
  Scratch s("fuzz_sweep_points");
  unpack(s, "sweep", "hang-axes-product-2pow40.txt", {"sweep.yaml", "base.yaml", "inc.yaml"});
  // The axis that takes the product past the limit (2^14 > 10,000): k13, its first value.
  expect_input_error("sweep " + (s / "sweep.yaml") + " --list",
                     "sweep.yaml:16:9: k13: the axes make more than 10000 points");
}

TEST_CASE("fuzz regressions: a path too long for the OS is a missing file, not an internal error", "[fuzz][cli]") {
  Scratch s("fuzz_long_name");
  const std::vector<std::string> sweep_files = {"sweep.yaml", "base.yaml", "inc.yaml"};
  const std::vector<std::string> config_files = {"config.yaml", "inc.yaml", "overrides"};
  SECTION("sweep base") {
    unpack(s, "sweep", "crash-base-name-too-long", sweep_files);
    expect_input_error("sweep " + (s / "sweep.yaml") + " --list", "sweep.yaml:1:7: base: no such file: ");
  }
  SECTION("sweep include axis") {
    unpack(s, "sweep", "crash-include-axis-name-too-long.txt", sweep_files);
    expect_input_error("sweep " + (s / "sweep.yaml") + " --list", "sweep.yaml:3:13: axes.include: no such file: ");
  }
  SECTION("config include") {
    unpack(s, "config", "crash-include-name-too-long.txt", config_files);
    expect_input_error("validate " + (s / "config.yaml"), "config.yaml:1:11: include: no such file: ");
  }
  SECTION("workload spec") {
    unpack(s, "config", "crash-spec-name-too-long.txt", config_files);
    // A whole config around it (accelerator, memory, energy), so that validation reaches the workload.
    std::string includes = preset_includes("systolic_32x32_int8.yaml");
    includes.insert(includes.rfind(']'), ", config.yaml");
    expect_input_error("validate " + s.file("run.yaml", includes), "config.yaml:1:18: workload.spec: no such file: ");
  }
}
