// Bad workload inputs through the real bpsim, one table per reader: JSONL traces, output-mask
// bitmaps, SCALE-Sim CSVs, Chakra .et files, and `bpsim run` on them. Each case writes a small
// input into a scratch folder, runs one command under a 2 GiB address-space limit and a 20 s
// timeout (a reader that allocates or loops without bound fails the case), and checks the exit
// code and a piece of the message. Gzip bombs are concatenated gzip members of one compressed
// block: megabytes on disk, gigabytes once decompressed, made in a few milliseconds.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <sys/stat.h>
#include <zlib.h>

#include <chrono>
#include <fstream>
#include <functional>

#include "tests/cli/cli_harness.h"
#include "tests/unit/trace/chakra_et_builder.h"

using namespace bpsim::test;

namespace {

/// The bounds every case runs under: 2 GiB of address space, 20 s.
const std::string kBounds = resource_bounds(20, 2048);

struct Case {
  std::string name;
  /// Writes the case's inputs into the folder and returns the bpsim arguments.
  std::function<std::string(const Scratch&)> setup;
  int code;
  std::string message;  ///< a piece of stderr (of stdout when the code is 0)
};

/// Runs every case; each must end within the bounds with its code and message, and its
/// message must not echo `secret` (content planted in the inputs).
void run_cases(const std::string& tag, const std::vector<Case>& cases, const std::string& secret = "SECRET") {
  for (const Case& c : cases) {
    Scratch s(tag);
    const std::string args = c.setup(s);
    const auto t0 = std::chrono::steady_clock::now();
    const CliResult r = run_bpsim(args, kBounds);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    INFO(c.name << ": bpsim " << args << "\nexit " << r.code << " after " << secs << " s\n" << r.err);
    CHECK(r.code == c.code);
    CHECK_THAT(c.code == 0 ? r.out : r.err, Catch::Contains(c.message));
    CHECK_THAT(r.err, !Catch::Contains(secret));
  }
}

std::string write_bytes(const Scratch& s, const std::string& name, const std::string& bytes) {
  std::ofstream(s.path / name, std::ios::binary) << bytes;
  return s / name;
}

/// `block` gzip-compressed, as one gzip member.
std::string gz_member(const Scratch& s, const std::string& block) {
  const std::string tmp = s / "member.gz";
  gzFile f = gzopen(tmp.c_str(), "wb9");
  gzwrite(f, block.data(), unsigned(block.size()));
  gzclose(f);
  std::ifstream in(tmp, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// A .gz of `head` then `copies` × `block` (zlib reads concatenated members as one stream).
std::string gz_bomb(const Scratch& s, const std::string& name, const std::string& head, const std::string& block,
                    size_t copies) {
  std::string bytes = head.empty() ? "" : gz_member(s, head);
  const std::string m = gz_member(s, block);
  for (size_t i = 0; i < copies; ++i) bytes += m;
  return write_bytes(s, name, bytes);
}

std::string fifo(const Scratch& s, const std::string& name) {
  ::mkfifo((s / name).c_str(), 0600);
  return s / name;
}

std::string dir(const Scratch& s, const std::string& name) {
  std::filesystem::create_directories(s.path / name);
  return s / name;
}

const std::string kHeader = "{\"format\":\"bpsim-trace\",\"version\":1}\n";
const std::string kTwoTensors =
    "{\"tensor\":0,\"bytes\":64,\"role\":\"input\"}\n{\"tensor\":1,\"bytes\":64,\"role\":\"activation\"}\n";
const std::string kMiB(size_t(1) << 20, 'x');

/// A trace of a header, two tensors and `records`.
std::string trace(const Scratch& s, const std::string& records, const std::string& name = "t.jsonl") {
  return s.file(name, kHeader + kTwoTensors + records);
}

/// `trace check` of a trace whose header has `fields` (",\"key\":value…") after format and
/// version, followed by `records`.
std::string check_with_header(const Scratch& s, const std::string& fields, const std::string& records = "") {
  return "trace check " + s.file("t.jsonl", "{\"format\":\"bpsim-trace\",\"version\":1" + fields + "}\n" + records);
}

/// An op record: gemm op 0 reading tensor 0 and writing tensor 1, with `extra` fields.
std::string op(const std::string& gemm, const std::string& extra = "") {
  return "{\"op\":0,\"name\":\"g\",\"phase\":\"forward\",\"kind\":\"gemm\",\"gemm\":" + gemm +
         ",\"reads\":[0],\"writes\":[1]" + extra + "}\n";
}

/// `trace check` of a trace whose gemm op (M×N) has a bitmap mask in `bitmap`.
std::string check_bitmap(const Scratch& s, const std::string& mn, const std::string& bitmap,
                         const std::string& flags = "") {
  return "trace check " + flags + " " +
         trace(s, op(mn + ",\"k\":1}", ",\"mask\":{\"source\":\"bitmap\",\"bitmap\":\"" + bitmap + "\"}"));
}

std::string cfg(const Scratch& s, const std::string& workload, const std::string& run = "") {
  return s.file("c.yaml", preset_includes("systolic_32x32_int8.yaml") +
                              "accelerator: {dtype: workload}\nworkload: " + workload + "\n" + run);
}

std::string run_cmd(const Scratch& s, const std::string& workload, const std::string& extra = "") {
  return "run " + cfg(s, workload) + " --out " + (s / "out") + " " + extra;
}

const std::string kChakraSample = std::string(BPSIM_SOURCE_DIR) + "/traces/chakra_mlp_step.et";
const std::string kHow = "raise it with run.limits.";  // every limit message says how to raise it

std::string chakra_bytes_of(const std::vector<bpsim_chakra::Node>& nodes) { return chakra::frame(nodes); }

/// A Chakra COMP node with gemm attributes m, n, k.
bpsim_chakra::Node chakra_gemm(uint64_t m, uint64_t n, uint64_t k) {
  auto g = chakra::node(1, "g", bpsim_chakra::COMP_NODE);
  chakra::int_attr(g, "gemm_m", m);
  chakra::int_attr(g, "gemm_n", n);
  chakra::int_attr(g, "gemm_k", k);
  return g;
}

}  // namespace

TEST_CASE("bad inputs: JSONL traces stop with exit 2 at their line, within bounded time and memory", "[cli][limits]") {
  const std::vector<Case> cases = {
      {"missing", [](const Scratch& s) { return "trace check " + (s / "none.jsonl"); }, 2,
       "cannot open trace file: No such file"},
      {"directory", [](const Scratch& s) { return "trace check " + dir(s, "d.jsonl"); }, 2, "it is a directory"},
      {"fifo", [](const Scratch& s) { return "trace check " + fifo(s, "p.jsonl"); }, 2, "it is a FIFO"},
      {"dev zero", [](const Scratch&) { return std::string("trace check /dev/zero"); }, 2,
       "/dev/zero: cannot open trace file: it is a character device"},
      {"dev null", [](const Scratch&) { return std::string("trace check /dev/null"); }, 2, "character device"},
      {"empty", [](const Scratch& s) { return "trace check " + s.file("e.jsonl", ""); }, 2, "empty trace"},
      {"not json, not echoed", [](const Scratch& s) { return "trace check " + s.file("x.jsonl", "SECRET=1\n"); }, 2,
       "x.jsonl:1: malformed JSON"},
      // 3 GiB of one line from ~3 MB of gzip: stops after line_bytes.
      {"gzip bomb: one 3 GiB line",
       [](const Scratch& s) { return "trace check " + gz_bomb(s, "b.jsonl.gz", kHeader, kMiB, 3072); }, 2,
       "b.jsonl.gz:2: line longer than 1048576 bytes (limit line_bytes = 1048576; " + kHow + "line_bytes"},
      {"plain long line", [](const Scratch& s) { return "trace check " + trace(s, std::string(3 << 20, ' ') + "\n"); },
       2, "t.jsonl:4: line longer than 1048576 bytes"},
      {"long line, raised limit",
       [](const Scratch& s) {
         return "trace check --limit line_bytes=4194304 " +
                trace(s, std::string(3 << 20, ' ') + "\n" + op("{\"m\":2,\"n\":2,\"k\":2}"));
       },
       0, "ok, 1 ops"},
      {"line limit lowered", [](const Scratch& s) { return "trace check --limit line_bytes=20 " + trace(s, ""); }, 2,
       "t.jsonl:1: line longer than 20 bytes"},
      // 2 MiB of blank lines against a 1 MB decompressed limit.
      {"gzip bomb: blank lines",
       [](const Scratch& s) {
         return "trace check --limit trace_bytes=1000000 " +
                gz_bomb(s, "n.jsonl.gz", kHeader, std::string(1 << 20, '\n'), 2);
       },
       2, ": file larger than 1000000 bytes (decompressed) by this line (limit trace_bytes = 1000000"},
      {"truncated gzip",
       [](const Scratch& s) {
         const std::string m = gz_member(s, kHeader + kTwoTensors);
         return "trace check " + write_bytes(s, "tr.jsonl.gz", m.substr(0, m.size() - 6));
       },
       2, "gzip: "},
      {"op id 2^32 is not op 0",
       [](const Scratch& s) {
         return "trace check " +
                trace(s, "{\"op\":4294967296,\"name\":\"g\",\"phase\":\"forward\",\"kind\":\"elementwise\"}\n");
       },
       2, "t.jsonl:4: op: ops are numbered 0, 1, 2… in order; expected 0"},
      {"tensor id 2^32 is not tensor 0",
       [](const Scratch& s) {
         return "trace check " + s.file("t.jsonl", kHeader + "{\"tensor\":4294967296,\"bytes\":1}\n");
       },
       2, "t.jsonl:2: tensor: tensor id 4294967296 is not below the tensor limit (limit tensors = 4194304"},
      {"tensor id just under 2^24",
       [](const Scratch& s) {
         return "trace check " + s.file("t.jsonl", kHeader + "{\"tensor\":16777215,\"bytes\":1}\n");
       },
       2, "tensor id 16777215 is not below the tensor limit"},
      {"tensor id under the limit but never filled",
       [](const Scratch& s) {
         return "trace check " + s.file("t.jsonl", kHeader + "{\"tensor\":4194303,\"bytes\":1}\n");
       },
       2, "tensor ids must be 0, 1, 2… without gaps; missing 0"},
      {"tensor limit lowered", [](const Scratch& s) { return "trace check --limit tensors=1 " + trace(s, ""); }, 2,
       "t.jsonl:3: tensor: tensor id 1 is not below"},
      {"op limit lowered",
       [](const Scratch& s) {
         return "trace check --limit ops=1 " +
                trace(s, op("{\"m\":1,\"n\":1,\"k\":1}") +
                             "{\"op\":1,\"name\":\"e\",\"phase\":\"forward\",\"kind\":\"elementwise\"}\n");
       },
       2, "t.jsonl:5: op: too many ops: more than 1 (limit ops = 1; " + kHow + "ops"},
      {"gemm m·n·k overflows",
       [](const Scratch& s) { return "trace check " + trace(s, op("{\"m\":4294967296,\"n\":4294967296,\"k\":1}")); }, 2,
       "t.jsonl:4: gemm.m: sizes too large: 4294967296 × 4294967296 × 1 × 1 × 4 overflows 64 bits"},
      {"gemm with a zero dim hiding an overflow",
       [](const Scratch& s) {
         return "trace check " + trace(s, op("{\"m\":1099511627776,\"n\":0,\"k\":1099511627776}"));
       },
       2, "overflows 64 bits"},
      {"gemm batch overflows",
       [](const Scratch& s) {
         return "trace check " + trace(s, op("{\"m\":65536,\"n\":65536,\"k\":65536,\"batch\":65536}"));
       },
       2, "× 65536 × 4 overflows 64 bits"},
      {"gemm bytes overflow (fp32)",
       [](const Scratch& s) { return "trace check " + trace(s, op("{\"m\":4611686018427387904,\"n\":1,\"k\":1}")); }, 2,
       "4611686018427387904 × 1 × 1 × 1 × 4 overflows"},
      {"gemm at the edge is legal (int8)",
       [](const Scratch& s) {
         return "trace check " + trace(s, op("{\"m\":4294967296,\"n\":4294967295,\"k\":1}", ",\"dtype\":\"int8\""));
       },
       0, "ok, 1 ops"},
      {"conv input bytes overflow",
       [](const Scratch& s) {
         return "trace check " + trace(s,
                                       "{\"op\":0,\"name\":\"c\",\"phase\":\"forward\",\"kind\":\"conv\",\"gemm\":{"
                                       "\"m\":1,\"n\":1,\"k\":1},"
                                       "\"conv\":{\"n\":4294967296,\"c\":4294967296,\"h\":1,\"w\":1,\"k\":1,\"r\":1,"
                                       "\"s\":1,\"p\":1,\"q\":1}}\n");
       },
       2, "t.jsonl:4: conv.c: sizes too large"},
      {"elements bytes overflow",
       [](const Scratch& s) {
         return "trace check " + trace(s,
                                       "{\"op\":0,\"name\":\"e\",\"phase\":\"forward\",\"kind\":\"elementwise\","
                                       "\"elements\":4611686018427387904}\n");
       },
       2, "elements: sizes too large: 4611686018427387904 × 4 overflows"},
      {"total MACs overflow",
       [](const Scratch& s) {
         const std::string e = ",\"phase\":\"forward\",\"kind\":\"elementwise\",\"macs\":9223372036854775808}\n";
         return "trace check " + trace(s, "{\"op\":0,\"name\":\"a\"" + e + "{\"op\":1,\"name\":\"b\"" + e);
       },
       2, "t.jsonl:5: macs: sizes too large: 9223372036854775808 + 9223372036854775808 overflows"},
      {"live bytes overflow",
       [](const Scratch& s) {
         return "trace check " +
                s.file("t.jsonl", kHeader +
                                      "{\"tensor\":0,\"bytes\":18446744073709551615}\n{\"tensor\":1,\"bytes\":2}\n"
                                      "{\"alloc\":0}\n{\"alloc\":1}\n");
       },
       2, "t.jsonl:5: alloc: sizes too large: 18446744073709551615 + 2 overflows"},
      {"nm n of 2^32",
       [](const Scratch& s) {
         return "trace check " +
                trace(s, op("{\"m\":2,\"n\":2,\"k\":2}", ",\"mask\":{\"source\":\"nm\",\"n\":4294967298,\"m\":4}"));
       },
       2, "t.jsonl:4: mask.n: expected an integer below 2^32, found one of 2^32 or more"},
      {"a read id of 2^32",
       [](const Scratch& s) {
         return "trace check " + trace(s,
                                       "{\"op\":0,\"name\":\"e\",\"phase\":\"forward\",\"kind\":\"elementwise\","
                                       "\"reads\":[4294967296]}\n");
       },
       2, "reads: expected a list of ids (integers below 2^32), found an id of 2^32 or more"},
      {"a value is described, not echoed",
       [](const Scratch& s) {
         return "trace check " + s.file("t.jsonl", kHeader + "{\"tensor\":0,\"bytes\":\"SECRET\"}\n");
       },
       2, "t.jsonl:2: bytes: expected a non-negative integer, found a string"},
      // JSON lets a key repeat without saying which value counts (simdjson's lookup took the
      // first, a Python reader the last): a repeated key is refused, at any depth.
      {"a key given twice in an op",
       [](const Scratch& s) { return "trace check " + trace(s, op("{\"m\":2,\"n\":2,\"k\":2}", ",\"reads\":[1]")); }, 2,
       "t.jsonl:4: reads: duplicate key: the field is given twice in this record"},
      {"a key given twice in a gemm",
       [](const Scratch& s) { return "trace check " + trace(s, op("{\"m\":2,\"n\":2,\"k\":2,\"m\":8}")); }, 2,
       "t.jsonl:4: gemm.m: duplicate key"},
      {"a key given twice in the header", [](const Scratch& s) { return check_with_header(s, ",\"version\":1"); }, 2,
       "t.jsonl:1: version: duplicate key"},
      {"a key given twice in a tensor",
       [](const Scratch& s) {
         return "trace check " + s.file("t.jsonl", kHeader + "{\"tensor\":0,\"bytes\":64,\"bytes\":1}\n");
       },
       2, "t.jsonl:2: bytes: duplicate key"},
      {"an unknown field in a gemm is named by its path",
       [](const Scratch& s) { return "trace check " + trace(s, op("{\"m\":2,\"n\":2,\"k\":2,\"kk\":2}")); }, 2,
       "t.jsonl:4: gemm.kk: unknown field (valid: m, n, k, batch)"},
      // The header's units were documentation only: sizes stated in other units were read as
      // bytes. They are checked now.
      {"units the reader does not use",
       [](const Scratch& s) { return check_with_header(s, ",\"units\":{\"bytes\":\"KiB\"}", kTwoTensors); }, 2,
       "t.jsonl:1: units.bytes: a trace gives sizes in bytes: expected \"B\""},
      {"dims in other units", [](const Scratch& s) { return check_with_header(s, ",\"units\":{\"dims\":\"bytes\"}"); },
       2, "t.jsonl:1: units.dims: a trace gives dimensions in elements"},
      {"an unknown unit", [](const Scratch& s) { return check_with_header(s, ",\"units\":{\"time\":\"s\"}"); }, 2,
       "t.jsonl:1: units.time: unknown field (valid: bytes, dims)"},
      {"units not an object", [](const Scratch& s) { return check_with_header(s, ",\"units\":\"B\""); }, 2,
       "t.jsonl:1: units: expected an object"},
      {"the units the reader uses",
       [](const Scratch& s) {
         return check_with_header(s, ",\"units\":{\"bytes\":\"B\",\"dims\":\"elements\"}",
                                  kTwoTensors + op("{\"m\":2,\"n\":2,\"k\":2}"));
       },
       0, "ok, 1 ops"},
      {"unknown --limit", [](const Scratch& s) { return "trace check --limit lines=3 " + trace(s, ""); }, 2,
       "--limit lines=3: unknown limit 'lines' (valid: line_bytes, trace_bytes"},
      {"--limit of 0", [](const Scratch& s) { return "trace check --limit ops=0 " + trace(s, ""); }, 2,
       "--limit ops=0: expected NAME=N with N a positive integer"},
      {"--limit not a number", [](const Scratch& s) { return "trace check --limit ops=-3 " + trace(s, ""); }, 2,
       "expected NAME=N"},
      {"--limit without a value", [](const Scratch& s) { return "trace check --limit ops " + trace(s, ""); }, 2,
       "expected NAME=N"},
      {"sample trace",
       [](const Scratch&) { return "trace check " + std::string(BPSIM_SOURCE_DIR) + "/traces/mlp_step.jsonl"; }, 0,
       "mlp_step.jsonl: ok"},
      {"gzip sample trace",
       [](const Scratch&) { return "trace check " + std::string(BPSIM_SOURCE_DIR) + "/traces/gpt2_small_b1.jsonl.gz"; },
       0, ": ok"},
  };
  run_cases("bad_traces", cases);
}

TEST_CASE("bad inputs: output-mask bitmaps are read only at their exact size, from regular files", "[cli][limits]") {
  const std::vector<Case> cases = {
      // m·n = 2^61 · 8 wraps to 0 on 64 bits: an empty bitmap passed and the check crashed.
      {"m·n wraps to 0, empty bitmap",
       [](const Scratch& s) {
         s.file("b.bin", "");
         return check_bitmap(s, "{\"m\":2305843009213693952,\"n\":8", "b.bin");
       },
       2, "t.jsonl:4: gemm.m: sizes too large: 2305843009213693952 × 8 × 1 × 1 × 4 overflows 64 bits"},
      // 2^60 · 8 int8 outputs fit 64 bits; their bitmap would be 2^60 bytes.
      {"m·n fits, its bitmap is over bitmap_bytes",
       [](const Scratch& s) {
         s.file("b.bin", "");
         return "trace check " +
                trace(s, op("{\"m\":1152921504606846976,\"n\":8,\"k\":1}",
                            ",\"dtype\":\"int8\",\"mask\":{\"source\":\"bitmap\",\"bitmap\":\"b.bin\"}"));
       },
       2, "t.jsonl:4: mask.bitmap: "},
      {"its message",
       [](const Scratch& s) {
         s.file("b.bin", "");
         return "trace check " +
                trace(s, op("{\"m\":1152921504606846976,\"n\":8,\"k\":1}",
                            ",\"dtype\":\"int8\",\"mask\":{\"source\":\"bitmap\",\"bitmap\":\"b.bin\"}"));
       },
       2, "an 1152921504606846976×8 output-mask bitmap needs 1152921504606846976 bytes (limit bitmap_bytes = 67108864"},
      {"directory",
       [](const Scratch& s) {
         dir(s, "b.bin");
         return check_bitmap(s, "{\"m\":4,\"n\":4", "b.bin");
       },
       2, "cannot open output-mask bitmap: it is a directory"},
      {"/dev/zero", [](const Scratch& s) { return check_bitmap(s, "{\"m\":4,\"n\":4", "/dev/zero"); }, 2,
       "/dev/zero: cannot open output-mask bitmap: it is a character device"},
      {"fifo",
       [](const Scratch& s) {
         fifo(s, "b.bin");
         return check_bitmap(s, "{\"m\":4,\"n\":4", "b.bin");
       },
       2, "it is a FIFO"},
      {"symlink to /dev/zero",
       [](const Scratch& s) {
         std::filesystem::create_symlink("/dev/zero", s.path / "b.bin");
         return check_bitmap(s, "{\"m\":4,\"n\":4", "b.bin");
       },
       2, "character device"},
      {"missing", [](const Scratch& s) { return check_bitmap(s, "{\"m\":4,\"n\":4", "none.bin"); }, 2,
       "none.bin: cannot open output-mask bitmap: No such file"},
      // 4×4 outputs = 16 bits = 2 bytes.
      {"one byte short",
       [](const Scratch& s) {
         s.file("b.bin", "S");
         return check_bitmap(s, "{\"m\":4,\"n\":4", "b.bin");
       },
       2, "output-mask bitmap holds 1 bytes; an 4×4 output needs ⌈M·N/8⌉ = 2"},
      {"one byte long, content not echoed",
       [](const Scratch& s) {
         s.file("b.bin", "SECRET");
         return check_bitmap(s, "{\"m\":4,\"n\":4", "b.bin");
       },
       2, "holds 6 bytes; an 4×4 output needs ⌈M·N/8⌉ = 2"},
      {"empty",
       [](const Scratch& s) {
         s.file("b.bin", "");
         return check_bitmap(s, "{\"m\":4,\"n\":4", "b.bin");
       },
       2, "holds 0 bytes"},
      {"exact size",
       [](const Scratch& s) {
         s.file("b.bin", "\xff\x0f");
         return check_bitmap(s, "{\"m\":4,\"n\":4", "b.bin");
       },
       0, "ok, 1 ops"},
      {"9 bits take 2 bytes",
       [](const Scratch& s) {
         s.file("b.bin", "\xff\x01");
         return check_bitmap(s, "{\"m\":3,\"n\":3", "b.bin");
       },
       0, "ok, 1 ops"},
      // 2^20 × 2^20 bits = 128 GiB: refused before the file is looked at.
      {"over bitmap_bytes",
       [](const Scratch& s) {
         s.file("b.bin", "");
         return check_bitmap(s, "{\"m\":1048576,\"n\":1048576", "b.bin");
       },
       2, "output-mask bitmap needs 137438953472 bytes (limit bitmap_bytes = 67108864; " + kHow + "bitmap_bytes"},
      {"bitmap_bytes lowered",
       [](const Scratch& s) {
         s.file("b.bin", "\xff\x0f");
         return check_bitmap(s, "{\"m\":4,\"n\":4", "b.bin", "--limit bitmap_bytes=1");
       },
       2, "needs 2 bytes (limit bitmap_bytes = 1"},
  };
  run_cases("bad_bitmaps", cases);
}

TEST_CASE("bad inputs: SCALE-Sim topologies are bounded and never wrap", "[cli][limits]") {
  auto scalesim = [](const Scratch& s, const std::string& rows, const std::string& flags = "") {
    return "trace scalesim " + flags + " " + s.file("t.csv", "Layer, M, N, K,\n" + rows) + " -o " + (s / "o.jsonl");
  };
  auto conv = [](const Scratch& s, const std::string& rows, const std::string& flags = "") {
    return "trace scalesim " + flags + " " +
           s.file(
               "t.csv",
               "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n" +
                   rows) +
           " -o " + (s / "o.jsonl");
  };
  const std::vector<Case> cases = {
      {"missing", [](const Scratch& s) { return "trace scalesim " + (s / "none.csv") + " -o " + (s / "o"); }, 2,
       "none.csv: cannot open SCALE-Sim topology file: No such file"},
      {"directory", [](const Scratch& s) { return "trace scalesim " + dir(s, "d.csv") + " -o " + (s / "o"); }, 2,
       "it is a directory"},
      {"fifo", [](const Scratch& s) { return "trace scalesim " + fifo(s, "p.csv") + " -o " + (s / "o"); }, 2,
       "it is a FIFO"},
      {"/dev/zero", [](const Scratch& s) { return "trace scalesim /dev/zero -o " + (s / "o"); }, 2,
       "it is a character device"},
      // 1e12 channels once made 1e12 ops.
      {"depthwise 1e12 channels",
       [conv](const Scratch& s) { return conv(s, "DP1, 8, 8, 3, 3, 1000000000000, 1, 1,\n"); }, 2,
       "t.csv:2:6: channels: size too large (limit scalesim_dim = 16777216; " + kHow + "scalesim_dim"},
      {"depthwise channels within dims, over ops",
       [conv](const Scratch& s) { return conv(s, "DP1, 8, 8, 3, 3, 16777216, 1, 1,\n"); }, 2,
       "t.csv:2:1: row: too many ops: this row makes 16777216 ops (limit ops = 4194304"},
      {"depthwise with backward, over lowered ops",
       [conv](const Scratch& s) { return conv(s, "DP1, 8, 8, 3, 3, 2, 1, 1,\n", "--backward --limit ops=5"); }, 2,
       "this row makes 2 forward ops, each with 2 backward ops (limit ops = 5"},
      {"depthwise with backward, at the ops limit",
       [conv](const Scratch& s) { return conv(s, "DP1, 8, 8, 3, 3, 2, 1, 1,\n", "--backward --limit ops=6"); }, 0,
       "6 ops"},
      {"20-digit size", [scalesim](const Scratch& s) { return scalesim(s, "g, 18446744073709551616, 1, 1,\n"); }, 2,
       "t.csv:2:2: M: size too large"},
      {"size not a number, not echoed", [scalesim](const Scratch& s) { return scalesim(s, "g, SECRET, 1, 1,\n"); }, 2,
       "t.csv:2:2: M: expected a positive integer"},
      // 2^24 · 2^24 · 2^24 MACs = 2^72: once 0 MACs and a 36-cycle report.
      {"m·n·k overflows", [scalesim](const Scratch& s) { return scalesim(s, "g, 16777216, 16777216, 16777216,\n"); }, 2,
       "t.csv:2:1: row: sizes too large: 16777216 × 16777216 × 16777216 overflows 64 bits"},
      {"M × batch × N bytes overflow",
       [scalesim](const Scratch& s) { return scalesim(s, "g, 16777216, 16777216, 1,\n", "--batch 16777216"); }, 2,
       "row: sizes too large: 281474976710656 × 16777216 × 1 overflows"},
      {"conv batch × P × Q overflows",
       [conv](const Scratch& s) { return conv(s, "c1, 16777216, 16777216, 1, 1, 1, 1, 1,\n", "--batch 16777216"); }, 2,
       "row: sizes too large: 16777216 × 16777216 × 16777216 overflows"},
      {"scalesim_dim lowered",
       [scalesim](const Scratch& s) { return scalesim(s, "g, 64, 64, 64,\n", "--limit scalesim_dim=32"); }, 2,
       "M: size too large (limit scalesim_dim = 32"},
      {"long line",
       [scalesim](const Scratch& s) { return scalesim(s, "g, 1, 1, 1," + std::string(2 << 20, ' ') + "\n"); }, 2,
       "t.csv:2: line longer than 1048576 bytes (limit line_bytes"},
      {"legal gemm", [scalesim](const Scratch& s) { return scalesim(s, "g, 64, 64, 64,\n", "--backward"); }, 0,
       "3 ops"},
      {"legal conv at the dim limit", [conv](const Scratch& s) { return conv(s, "c1, 16777216, 1, 1, 1, 1, 1, 1,\n"); },
       0, "1 ops"},
  };
  run_cases("bad_scalesim", cases);
}

TEST_CASE("bad inputs: Chakra files are bounded: bytes, nodes, tensors, sizes", "[cli][limits]") {
  auto chakra = [](const Scratch& s, const std::string& path, const std::string& flags = "") {
    return "trace chakra " + flags + " " + path + " -o " + (s / "out.jsonl");
  };
  const std::vector<Case> cases = {
      {"missing", [chakra](const Scratch& s) { return chakra(s, s / "none.et"); }, 2,
       "none.et: cannot open Chakra trace file: No such file"},
      {"directory", [chakra](const Scratch& s) { return chakra(s, dir(s, "d.et")); }, 2,
       "cannot open Chakra trace file: it is a directory"},
      {"fifo", [chakra](const Scratch& s) { return chakra(s, fifo(s, "p.et")); }, 2, "it is a FIFO"},
      {"/dev/zero", [](const Scratch& s) { return "trace chakra /dev/zero -o " + (s / "o"); }, 2,
       "it is a character device"},
      // 3 GiB of zeros from ~3 MB: stops at 256 MiB read.
      {"gzip bomb",
       [chakra](const Scratch& s) { return chakra(s, gz_bomb(s, "b.et.gz", "", std::string(1 << 20, '\0'), 3072)); }, 2,
       "b.et.gz: file larger than 268435456 bytes (decompressed) (limit chakra_bytes = 268435456; " + kHow +
           "chakra_bytes"},
      {"chakra_bytes lowered",
       [chakra](const Scratch& s) { return chakra(s, kChakraSample, "--limit chakra_bytes=1000"); }, 2,
       "file larger than 1000 bytes (decompressed)"},
      {"nodes over ops", [chakra](const Scratch& s) { return chakra(s, kChakraSample, "--limit ops=3"); }, 2,
       "node[3]: too many nodes: more than 3 (limit ops = 3"},
      {"tensors over the limit", [chakra](const Scratch& s) { return chakra(s, kChakraSample, "--limit tensors=2"); },
       2, "too many tensors: more than 2 (limit tensors = 2"},
      {"gemm m·n·k overflows",
       [chakra](const Scratch& s) {
         return chakra(s,
                       write_bytes(s, "g.et", chakra_bytes_of({chakra_gemm(uint64_t(1) << 32, uint64_t(1) << 32, 2)})));
       },
       2, "node[0] (id 1).attr: sizes too large: 4294967296 × 4294967296 × 2 × 1 overflows 64 bits"},
      {"gemm bytes overflow",
       [chakra](const Scratch& s) {
         return chakra(s, write_bytes(s, "g.et", chakra_bytes_of({chakra_gemm(uint64_t(1) << 62, 1, 1)})));
       },
       2, "sizes too large: 1 × 4611686018427387904 × 1 × 4 overflows"},
      // Four outputs of 2^59·2 fp32 elements: 2^62 bytes each, live together: 3·2^62 + 2^62.
      {"tensor sizes overflow the live bytes",
       [chakra](const Scratch& s) {
         auto n = chakra::node(1, "four_outputs", bpsim_chakra::COMP_NODE);
         const std::string shape = "[576460752303423488, 2]";
         n.mutable_outputs()->set_shapes("[" + shape + ", " + shape + ", " + shape + ", " + shape + "]");
         return chakra(s, write_bytes(s, "l.et", chakra_bytes_of({n})));
       },
       2,
       "l.et: memory accounting: the bytes live at once: sizes too large: 13835058055282163712 + 4611686018427387904 "
       "overflows"},
      {"garbage, not echoed", [chakra](const Scratch& s) { return chakra(s, s.file("x.et", "SECRET SECRET SECRET")); },
       2, "x.et: "},
      {"sample", [chakra](const Scratch& s) { return chakra(s, kChakraSample, ""); }, 0, "ops"},
  };
  run_cases("bad_chakra", cases);
}

TEST_CASE("bad inputs: bpsim run on bad workload files, and limits from the config", "[cli][limits]") {
  const std::string sample = std::string(BPSIM_SOURCE_DIR) + "/traces/mlp_step.jsonl";
  const std::vector<Case> cases = {
      {"--trace fifo",
       [](const Scratch& s) { return run_cmd(s, "{trace: " + (s / "t.jsonl") + "}", "--trace " + fifo(s, "p.jsonl")); },
       2, "p.jsonl: cannot open trace file: it is a FIFO"},
      {"--trace directory", [](const Scratch& s) { return run_cmd(s, "{trace: x}", "--trace " + dir(s, "d.jsonl")); },
       2, "it is a directory"},
      {"--trace gzip bomb",
       [](const Scratch& s) {
         return run_cmd(s, "{trace: x}", "--trace " + gz_bomb(s, "b.jsonl.gz", kHeader, kMiB, 3072));
       },
       2, "b.jsonl.gz:2: line longer than 1048576 bytes"},
      {"scalesim fifo",
       [](const Scratch& s) {
         fifo(s, "p.csv");
         return run_cmd(s, "{scalesim: p.csv}");
       },
       2, "p.csv: cannot open SCALE-Sim topology file: it is a FIFO"},
      {"chakra fifo",
       [](const Scratch& s) {
         fifo(s, "p.et");
         return run_cmd(s, "{chakra: p.et}");
       },
       2, "p.et: cannot open Chakra trace file: it is a FIFO"},
      {"chakra /dev/zero", [](const Scratch& s) { return run_cmd(s, "{chakra: /dev/zero}"); }, 2,
       "it is a character device"},
      {"run.limits lowered in the config",
       [sample](const Scratch& s) {
         return "run " + cfg(s, "{trace: " + sample + "}", "run: {limits: {ops: 2}}\n") + " --out " + (s / "o");
       },
       2, "op: too many ops: more than 2 (limit ops = 2"},
      {"run.limits by --set",
       [sample](const Scratch& s) { return run_cmd(s, "{trace: " + sample + "}", "--set run.limits.line_bytes=16"); },
       2, "mlp_step.jsonl:1: line longer than 16 bytes (limit line_bytes = 16"},
      {"run.limits raised: a long line passes",
       [](const Scratch& s) {
         const std::string t =
             s.file("t.jsonl", std::string(2 << 20, ' ') + kHeader + kTwoTensors + op("{\"m\":2,\"n\":2,\"k\":2}"));
         return run_cmd(s, "{trace: " + t + "}", "--set run.limits.line_bytes=4194304 --quiet");
       },
       0, ""},
      {"run.limits of 0", [](const Scratch& s) { return run_cmd(s, "{trace: x}", "--set run.limits.ops=0"); }, 2,
       "run.limits.ops"},
      {"run.limits unknown key", [](const Scratch& s) { return run_cmd(s, "{trace: x}", "--set run.limits.opz=3"); }, 2,
       "run.limits.opz: unknown key"},
      {"validate applies the limits too",
       [sample](const Scratch& s) {
         return "validate " + cfg(s, "{trace: " + sample + "}", "run: {limits: {tensors: 3}}\n");
       },
       2, "is not below the tensor limit (limit tensors = 3"},
  };
  run_cases("bad_run", cases);
}
