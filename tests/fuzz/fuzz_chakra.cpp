// libFuzzer harness: the Chakra execution-trace importer (sim/trace/chakra_et.cpp) on the
// input's bytes, as `bpsim trace chakra` and `workload: {chakra: FILE}` read a file's.
#include <google/protobuf/stubs/logging.h>

#include "sim/trace/chakra_et.h"
#include "tests/fuzz/fuzz_util.h"

// protobuf logs every string field with invalid UTF-8 to stderr; the parse fails either
// way (an InputError), so the log only slows the fuzzer down.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpsim;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  fuzz::expect_input_errors_only([&] { trace::read_chakra_et(bytes, "fuzz.et"); });
  return 0;
}
