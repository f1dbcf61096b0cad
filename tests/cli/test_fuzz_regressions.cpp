// Inputs the fuzzers found (tests/fuzz/regressions/), fed through the real bpsim executable:
// each must be refused as bad input (exit 2) with a message, never crash or hang. The files
// are split into their parts the way the harnesses split them.
#include "sim/core/build_info.h"
#include <catch2/catch.hpp>

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
  const auto parts = bpsim::fuzz::split_parts(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) s.file(names[i], parts[i]);
}

}  // namespace

TEST_CASE("fuzz regressions: a sweep whose axes make 2^40 points is refused at once", "[fuzz][sweep][cli]") {
  Scratch s("fuzz_sweep_points");
  unpack(s, "sweep", "hang-axes-product-2pow40.txt", {"sweep.yaml", "base.yaml", "inc.yaml"});
  const CliResult r = run_bpsim("sweep " + (s / "sweep.yaml") + " --list");
  INFO(r.out << r.err);
  CHECK(r.code == 2);
  // The axis that takes the product past the limit (2^14 > 10,000): k13, its first value.
  CHECK_THAT(r.err, Catch::Contains("sweep.yaml:16:9: k13: the axes make more than 10000 points"));
}
