// libFuzzer harness: the SCALE-Sim topology CSV importer (sim/trace/scalesim_csv.cpp),
// with the default options and with a batch and the backward GEMMs (other code paths).
#include <sstream>

#include "sim/core/limits.h"
#include "sim/trace/scalesim_csv.h"
#include "tests/fuzz/fuzz_util.h"

// Small limits: a depth-wise row of many channels is legal up to the ops limit, and the
// default 2^22 ops would make the fuzzer spend seconds (and report timeouts) per input.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  bpsim::limits::apply_flag("ops=16384");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpsim;
  const std::string text(reinterpret_cast<const char*>(data), size);
  trace::ScalesimOptions training;
  training.batch = 3;
  training.backward = true;
  training.dtype = workload::DType::bf16;
  for (const trace::ScalesimOptions& opt : {trace::ScalesimOptions{}, training}) {
    std::istringstream in(text);
    fuzz::expect_input_errors_only([&] { trace::read_scalesim_csv(in, "fuzz.csv", opt); });
  }
  return 0;
}
