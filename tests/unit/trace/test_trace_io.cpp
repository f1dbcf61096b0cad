// Trace format: write → read gives the same graph; every malformed input names line and field.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/core/error.h"
#include "sim/trace/trace_io.h"

using namespace bpsim;
using namespace bpsim::workload;

namespace {

OpGraph small_graph() {
  OpGraph g;
  g.name = "tiny";
  g.dtype = DType::bf16;
  g.batch = 4;
  // The liveness walk's numbers (write_trace writes its alloc/free events, and the reader
  // checks they agree with the header): only y (256 B) is counted (x is the input, w a
  // weight, dy is never written); it lives during op 0 and is freed after it, so the peak
  // is 256 and nothing is left after the last forward op (op 2).
  g.memory = {"checkpoint", 0, 256};
  g.tensors = {{0, "x", 512, TensorRole::input},
               {1, "w", 256, TensorRole::weight},
               {2, "y", 256, TensorRole::activation},
               {3, "dy", 256, TensorRole::gradient},
               {4, "unused", 8, TensorRole::workspace}};
  Op f;
  f.id = 0;
  f.name = "fc.fwd";
  f.layer = "fc";
  f.kind = OpKind::gemm;
  f.dtype = DType::bf16;
  f.gemm = {4, 32, 64, 1};
  f.macs = f.gemm.macs();
  f.reads = {0, 1};
  f.writes = {2};
  Op b = f;
  b.id = 1;
  b.name = "fc.dx";
  b.phase = Phase::backward_data;
  b.reads = {3, 1};
  b.writes = {0};
  b.deps = {0};
  b.out_mask.source = OutputMask::Source::relu;
  b.out_mask.density = 0.25;
  Op c;
  c.id = 2;
  c.name = "conv";
  c.kind = OpKind::conv;
  c.conv = {1, 3, 8, 8, 4, 3, 3, 1, 1, 1, 8, 8};
  c.gemm = {64, 4, 27, 1};
  c.macs = c.gemm.macs();
  c.deps = {1};
  g.ops = {f, b, c};
  return g;
}

std::string trace_text(const OpGraph& g) {
  std::ostringstream o;
  trace::write_trace(g, o);
  return o.str();
}

std::string error_of(const std::string& text) {
  std::istringstream in(text);
  try {
    trace::read_trace(in, "t.jsonl");
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

const std::string kHeader = "{\"format\":\"bpsim-trace\",\"version\":1}\n";

}  // namespace

TEST_CASE("trace: write then read reproduces the graph exactly", "[trace]") {
  OpGraph g = small_graph();
  std::string text = trace_text(g);
  std::istringstream in(text);
  auto r = trace::read_trace(in, "t.jsonl");
  CHECK(r->name == "tiny");
  CHECK(r->dtype == DType::bf16);
  CHECK(r->batch == 4);
  CHECK(r->memory.policy == "checkpoint");
  CHECK(r->memory.peak_bytes == 256);
  REQUIRE(r->tensors.size() == 5);
  CHECK(r->tensors[4].name == "unused");
  REQUIRE(r->ops.size() == 3);
  CHECK(r->ops[1].out_mask.source == OutputMask::Source::relu);
  CHECK(r->ops[1].out_mask.density == 0.25);
  CHECK(r->ops[1].deps == std::vector<uint32_t>{0});
  CHECK(r->ops[2].conv.k == 4);
  CHECK(r->ops[2].macs == 64 * 4 * 27);
  // The strongest check: writing what was read gives the same bytes.
  CHECK(trace_text(*r) == text);
}

TEST_CASE("trace: malformed input names the line and the field", "[trace]") {
  CHECK(error_of("") == "t.jsonl: empty trace (the first line must be the header)");
  CHECK(error_of("{\"format\":\"x\",\"version\":1}\n") ==
        "t.jsonl:1: format: expected \"bpsim-trace\" on the first line");
  CHECK(error_of(kHeader + "{\"tensor\":0,\"bytes\":4}\n{not json\n") == "t.jsonl:3: malformed JSON");
  CHECK(error_of(kHeader + "{\"op\":0,\"name\":\"a\",\"phase\":\"forward\",\"kind\":\"fft\"}\n") ==
        "t.jsonl:2: kind: unknown value 'fft' (valid: gemm, conv, xnor_gemm, elementwise, reduction, "
        "normalization, softmax, pool, embedding, bitwise, optimizer)");
  CHECK(error_of(kHeader + "{\"op\":0,\"name\":\"a\",\"phase\":\"forward\",\"kind\":\"gemm\"}\n") ==
        "t.jsonl:2: gemm: missing field (a gemm op needs {m, n, k})");
  CHECK(error_of(kHeader + "{\"op\":0,\"phase\":\"forward\",\"kind\":\"gemm\"}\n") ==
        "t.jsonl:2: name: missing field (a string)");
  CHECK(error_of(kHeader + "{\"op\":0,\"name\":\"a\",\"phase\":\"forward\",\"kind\":\"elementwise\",\"deps\":[3]}\n") ==
        "t.jsonl:2: deps: op 3 is not defined before this op: a dependency cycle or a dangling dependency "
        "(ops must come in execution order)");
  CHECK(error_of(kHeader + "{\"op\":0,\"name\":\"a\",\"phase\":\"forward\",\"kind\":\"elementwise\",\"deps\":[0]}\n") ==
        "t.jsonl:2: deps: op 0 is this op itself: a dependency cycle or a dangling dependency "
        "(ops must come in execution order)");
  CHECK(
      error_of(kHeader + "{\"op\":0,\"name\":\"a\",\"phase\":\"forward\",\"kind\":\"elementwise\",\"reads\":[0]}\n") ==
      "t.jsonl:2: reads: tensor 0 is not declared before this op");
  CHECK(error_of(kHeader + "{\"tensor\":0,\"bytes\":-4}\n") ==
        "t.jsonl:2: bytes: expected a non-negative integer, found a negative integer");
  CHECK(error_of(kHeader + "{\"tensor\":0,\"bytes\":4,\"colour\":1}\n") ==
        "t.jsonl:2: colour: unknown field (valid: tensor, name, bytes, role, bits)");
  CHECK(error_of(kHeader + "{\"tensor\":1,\"bytes\":4}\n") ==
        "t.jsonl:2: tensor: tensor ids must be 0, 1, 2… without gaps; missing 0");
  CHECK(error_of(kHeader + "{\"op\":0,\"name\":\"a\",\"phase\":\"forward\",\"kind\":\"elementwise\","
                           "\"mask\":{\"source\":\"relu\",\"density\":1.5}}\n") ==
        "t.jsonl:2: mask.density: must be in [0, 1]");
  CHECK(error_of(kHeader + "[1]\n") == "t.jsonl:2: expected a JSON object per line");
  CHECK(error_of(kHeader + "{\"x\":1}\n") ==
        "t.jsonl:2: expected a record with \"tensor\", \"op\", \"alloc\" or \"free\"");
}

TEST_CASE("trace: alloc and free events give the memory accounting", "[trace]") {
  // x (1000 B) and y (300 B) live during op 0; x is freed after it; op 1 (still forward)
  // allocates g (50 B): 350 live during it; y is freed after it, leaving g. Then a
  // backward op allocates d (7 B): 57 live. Peak 1300 (op 0); saved after the forward
  // pass = what is live after op 1's frees = 50.
  const std::string body =
      "{\"tensor\":0,\"name\":\"x\",\"bytes\":1000}\n{\"tensor\":1,\"name\":\"y\",\"bytes\":300}\n"
      "{\"tensor\":2,\"name\":\"g\",\"bytes\":50}\n{\"tensor\":3,\"name\":\"d\",\"bytes\":7}\n"
      "{\"alloc\":0}\n{\"alloc\":1}\n"
      "{\"op\":0,\"name\":\"a\",\"phase\":\"forward\",\"kind\":\"elementwise\",\"reads\":[0],\"writes\":[1]}\n"
      "{\"free\":0}\n{\"alloc\":2}\n"
      "{\"op\":1,\"name\":\"b\",\"phase\":\"forward\",\"kind\":\"elementwise\",\"reads\":[1],\"writes\":[2]}\n"
      "{\"free\":1}\n{\"alloc\":3}\n"
      "{\"op\":2,\"name\":\"c\",\"phase\":\"backward_data\",\"kind\":\"elementwise\",\"reads\":[2],\"writes\":[3]}\n";
  std::istringstream in(kHeader + body);
  auto g = trace::read_trace(in, "t.jsonl");
  CHECK(g->memory.peak_bytes == 1300);
  CHECK(g->memory.saved_after_forward_bytes == 50);
  // The stream computes the same numbers as it goes.
  const auto dir = std::filesystem::temp_directory_path() / ("bpsim_tev_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "t.jsonl") << kHeader << body;
    auto s = trace::open_trace_stream((dir / "t.jsonl").string());
    int n = 0;
    while (s->next()) ++n;
    CHECK(n == 3);
    CHECK(s->memory().peak_bytes == 1300);
    CHECK(s->memory().saved_after_forward_bytes == 50);
    CHECK(s->tensor_bytes(2) == 50);
  }
  std::filesystem::remove_all(dir);

  // A header that states other numbers than its events is an error at the header's line.
  CHECK(error_of("{\"format\":\"bpsim-trace\",\"version\":1,\"memory\":{\"peak_bytes\":1299}}\n" + body) ==
        "t.jsonl:1: memory.peak_bytes: the header says 1299 but the trace's alloc/free events give 1300");
  const std::string t0 = kHeader + "{\"tensor\":0,\"bytes\":8}\n";
  CHECK(error_of(t0 + "{\"alloc\":0}\n{\"alloc\":0}\n") == "t.jsonl:4: alloc: tensor 0 is already allocated");
  CHECK(error_of(t0 + "{\"free\":0}\n") == "t.jsonl:3: free: tensor 0 is not allocated");
  CHECK(error_of(t0 + "{\"alloc\":5}\n") == "t.jsonl:3: alloc: tensor 5 is not declared before this record");
  CHECK(error_of(t0 + "{\"alloc\":0,\"free\":0}\n") == "t.jsonl:3: free: unknown field (valid: alloc)");
  // Exporting writes the liveness walk's events, so a built graph's numbers survive a replay
  // (small_graph's 256-byte peak is checked by the round trip above).
  const std::string text = trace_text(small_graph());
  const size_t op0 = text.find("\"name\":\"fc.fwd\""), op1 = text.find("\"name\":\"fc.dx\"");
  CHECK(text.find("{\"alloc\":2}\n") < op0);  // y: allocated before op 0, freed after it
  CHECK(text.find("{\"free\":2}\n") > op0);
  CHECK(text.find("{\"free\":2}\n") < op1);
}

TEST_CASE("trace: a .gz file is read through zlib and a damaged one is an input error", "[trace]") {
  const std::string text = trace_text(small_graph());
  const auto dir = std::filesystem::temp_directory_path() / ("bpsim_tgz_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string gz = (dir / "t.jsonl.gz").string();
  gzFile f = gzopen(gz.c_str(), "wb");
  REQUIRE(f);
  REQUIRE(gzwrite(f, text.data(), static_cast<unsigned>(text.size())) == static_cast<int>(text.size()));
  gzclose(f);
  CHECK(trace_text(*trace::read_trace_file(gz)) == text);

  // Cut the compressed file in half: zlib reports the truncation, and so does the reader.
  const auto size = std::filesystem::file_size(gz);
  std::filesystem::resize_file(gz, size / 2);
  std::string err = "no error";
  try {
    trace::read_trace_file(gz);
  } catch (const InputError& e) {
    err = e.what();
  }
  CHECK_THAT(err, Catch::StartsWith(gz));
  CHECK(err != "no error");
  std::filesystem::remove_all(dir);
}
