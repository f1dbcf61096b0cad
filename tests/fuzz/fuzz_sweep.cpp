// libFuzzer harness: the sweep spec (sim/sweep/sweep_spec.cpp) as `bpsim sweep --list`
// reads it. An input packs up to three files separated by a line "@@": the sweep
// (sweep.yaml), the base config it may name (base.yaml) and a file an include axis may
// name (inc.yaml); each point's config is resolved and hashed, as the sweep does.
#include "sim/sweep/sweep_spec.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpsim;
  const std::vector<std::string> parts = fuzz::split_parts(data, size, 3);
  const std::string sweep = fuzz::write_scratch("sweep.yaml", parts[0]);
  fuzz::write_scratch("base.yaml", parts[1]);
  fuzz::write_scratch("inc.yaml", parts[2]);
  fuzz::expect_input_errors_only([&] {
    const sweep::SweepSpec spec = sweep::load_sweep(sweep, {});
    for (const sweep::Point& p : spec.points) {
      p.assignments();
      p.label();
    }
  });
  return 0;
}
