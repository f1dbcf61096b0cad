// libFuzzer harness: bpsim's JSONL trace reader (sim/trace/trace_io.cpp) on a file, so that
// gzip-compressed inputs go through trace_file.cpp's zlib stream too. Both ways a trace is
// read: whole (read_trace_file) and replayed op by op (open_trace_stream).
#include "sim/trace/trace_io.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpsim;
  const std::string path = fuzz::write_scratch("trace.jsonl", std::string(reinterpret_cast<const char*>(data), size));
  fuzz::expect_input_errors_only([&] { trace::read_trace_file(path); });
  fuzz::expect_input_errors_only([&] {
    auto s = trace::open_trace_stream(path);
    while (const workload::Op* op = s->next())
      for (uint32_t t : op->reads) s->tensor_bytes(t);
    s->memory();
  });
  return 0;
}
