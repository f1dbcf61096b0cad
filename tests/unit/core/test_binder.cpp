// Typed binding: one declaration per parameter fills its field; the schema it builds
// validates, documents and reports errors exactly as a hand-declared schema does.
#include <catch2/catch.hpp>

#include <optional>

#include "sim/core/binder.h"
#include "sim/core/config_node.h"

using namespace bpsim;
using namespace bpsim::config;

namespace {

enum class Flow { ws, os, is };
constexpr EnumName<Flow> kFlowNames[] = {{Flow::ws, "ws"}, {Flow::os, "os"}, {Flow::is, "is"}};

struct Buffers {
  uint64_t input_bytes;
  bool double_buffer;
};
struct Grid {
  unsigned cols;
};
struct Toy {
  unsigned rows;
  Grid grid;
  double clock_ghz;
  Flow flow;
  bool rtl;
  std::string label;
  std::optional<int64_t> seed;
  std::vector<unsigned> shape;
  Buffers sram;
};

const Binder<Toy>& toy_binder() {
  static const Binder<Toy> b = [] {
    Binder<Buffers> sram("toy.sram", "buffers");
    sram.integer("input_kib", &Buffers::input_bytes, "KiB", "input buffer").def(64).range(1, 1 << 20).scale(1024);
    sram.boolean("double_buffer", &Buffers::double_buffer, "overlap loads").def(true);
    Binder<Toy> b("toy", "a toy accelerator");
    b.integer("rows", &Toy::rows, "PEs", "array rows").req().range(1, 4096);
    b.integer("cols", into(&Toy::grid, &Grid::cols), "PEs", "array cols").def(16).range(1, 4096);
    b.real("clock_ghz", &Toy::clock_ghz, "GHz", "clock").def(1.0).positive();
    b.choice("dataflow", &Toy::flow, kFlowNames, "dataflow").def("ws");
    b.choice("backend", &Toy::rtl, kBackendNames, "backend").def("model");
    b.string("label", &Toy::label, "free text").def("\"x\"");
    b.integer("seed", &Toy::seed, "", "optional seed");
    b.list("shape", &Toy::shape, "a shape");
    b.group("sram", &Toy::sram, sram, "buffers");
    return b;
  }();
  return b;
}

Values values_of(const std::string& yaml) {
  Node n = parse_yaml(yaml, "t.yaml");
  return validate(*n.find("toy"), *toy_binder().schema(), "toy");
}

std::string error_of(const std::string& yaml) {
  try {
    toy_binder().parse(values_of(yaml));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("binder: every type fills its field, defaults come from the declaration", "[core][params][binder]") {
  const Toy t = toy_binder().parse(values_of("toy:\n  rows: 8\n"));
  CHECK(t.rows == 8);
  CHECK(t.grid.cols == 16);  // into(): a member of a member
  CHECK(t.clock_ghz == 1.0);
  CHECK(t.flow == Flow::ws);
  CHECK_FALSE(t.rtl);
  CHECK(t.label == "x");
  CHECK_FALSE(t.seed.has_value());  // optional, absent: stays empty
  CHECK(t.shape.empty());           // an absent list is empty
  CHECK(t.sram.input_bytes == 64 * 1024);
  CHECK(t.sram.double_buffer);
}

TEST_CASE("binder: given values, enum tables, scale, optional and group", "[core][params][binder]") {
  const Toy t = toy_binder().parse(values_of(
      "toy:\n  rows: 8\n  cols: 4\n  clock_ghz: 2.5\n  dataflow: os\n  backend: rtl\n  label: hi\n  seed: -3\n"
      "  shape: [2, 3]\n  sram: {input_kib: 128, double_buffer: false}\n"));
  CHECK(t.grid.cols == 4);
  CHECK(t.clock_ghz == 2.5);
  CHECK(t.flow == Flow::os);
  CHECK(t.rtl);
  CHECK(t.label == "hi");
  REQUIRE(t.seed.has_value());
  CHECK(*t.seed == -3);
  CHECK(t.shape == std::vector<unsigned>{2, 3});
  CHECK(t.sram.input_bytes == 128 * 1024);  // KiB × 1024
  CHECK_FALSE(t.sram.double_buffer);
  CHECK(std::string(enum_name(kFlowNames, Flow::is)) == "is");
  CHECK(std::string(enum_name(kBackendNames, true)) == "rtl");
}

TEST_CASE("binder: the schema documents and rejects as a hand-declared one does", "[core][params][binder]") {
  const std::string d = toy_binder().schema()->describe();
  CHECK_THAT(d, Catch::Contains("rows (int, PEs, [1, 4096], required): array rows"));
  CHECK_THAT(d, Catch::Contains("dataflow (one of ws|os|is, default ws): dataflow"));  // the table's order
  CHECK_THAT(d, Catch::Contains("seed (int, optional): optional seed"));
  CHECK_THAT(d, Catch::Contains("    input_kib (int, KiB, [1, 1048576], default 64): input buffer"));
  CHECK(error_of("toy:\n  rows: 0\n") == "t.yaml:2:9: toy.rows: value 0 is out of range [1, 4096] PEs");
  CHECK(error_of("toy:\n  rows: 8\n  dataflow: rs\n") ==
        "t.yaml:3:13: toy.dataflow: 'rs' is not valid (expected one of: ws, os, is)");
  CHECK(error_of("toy:\n  cols: 8\n") == "t.yaml:2:3: toy: missing required key 'rows' (array rows)");
  CHECK(error_of("toy:\n  rows: 8\n  sram: {input_kb: 4}\n") ==
        "t.yaml:3:10: toy.sram.input_kb: unknown key (did you mean 'input_kib'?) (valid: input_kib, double_buffer)");
}

TEST_CASE("binder: a value the field cannot hold is an input error, not a wrap", "[core][params][binder]") {
  // shape elements are unsigned: -1 would wrap to 4294967295 and 2^32 to 0.
  CHECK(error_of("toy:\n  rows: 8\n  shape: [1, -1]\n") == "t.yaml:3:10: toy.shape: value -1 must not be negative");
  CHECK(error_of("toy:\n  rows: 8\n  shape: [4294967296]\n") ==
        "t.yaml:3:10: toy.shape: value 4294967296 does not fit the model's field (at most 4294967295)");
}

TEST_CASE("binder: a field without a default that is not optional is a declaration bug", "[core][params][binder]") {
  struct Bare {
    int width;
  };
  Binder<Bare> b("bare", "a parameter nobody must give, but a plain field");
  b.integer("width", &Bare::width, "", "width");
  const Values v = validate(Node{}, *b.schema(), "bare");
  CHECK_THROWS_AS(b.parse(v), std::logic_error);
  CHECK_THROWS_AS(b.integer("w2", &Bare::width, "", "w").def(1).scale(0), std::logic_error);
}

TEST_CASE("binder: errors after binding point into groups by dotted path", "[core][params][binder]") {
  const Values v = values_of("toy:\n  rows: 8\n  sram:\n    input_kib: 4\n");
  const InputError e = v.error("sram.input_kib", "too small");
  CHECK(std::string(e.what()) == "t.yaml:4:16: toy.sram.input_kib: too small");
  CHECK(v.where("sram.input_kib").line == 4);
}

TEST_CASE("binder: parsed() makes the typed struct once per values", "[core][params][binder]") {
  const Values v = values_of("toy:\n  rows: 8\n");
  int calls = 0;
  auto parse = [&calls](const Values& x) {
    ++calls;
    return toy_binder().parse(x);
  };
  const Toy& a = v.parsed<Toy>(parse);
  const Values copy = v;
  const Toy& b = copy.parsed<Toy>(parse);
  CHECK(calls == 1);
  CHECK(&a == &b);  // the copy shares it
  CHECK(a.rows == 8);
  CHECK_THROWS_AS(v.parsed<Grid>([](const Values&) { return Grid{1}; }), std::logic_error);
}
