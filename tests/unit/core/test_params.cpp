// Strict, typed config: every kind of error names file:line:column and the key path.
#include <catch2/catch.hpp>

#include "sim/core/config_node.h"
#include "sim/core/params.h"

using namespace bpsim;
using namespace bpsim::config;

namespace {

std::shared_ptr<const Schema> test_schema() {
  auto sram = std::make_shared<Schema>("sram", "buffers");
  sram->integer("input_kib", "KiB", "input buffer").def(64).range(1, 1 << 20);
  sram->boolean("double_buffer", "overlap loads").def(true);
  auto s = std::make_shared<Schema>("toy", "a toy accelerator");
  s->integer("rows", "PEs", "array rows").req().range(1, 4096);
  s->integer("cols", "PEs", "array cols").def(16).range(1, 4096);
  s->real("clock_ghz", "GHz", "clock").def(1.0).positive();
  s->choice("dataflow", {"ws", "os", "is"}, "dataflow").def("ws");
  s->string("label", "free text").def("\"x\"");
  s->group("sram", sram, "buffers");
  s->list("shape", ParamType::Int, "a shape");
  return s;
}

std::string error_of(const std::string& yaml) {
  try {
    Node n = parse_yaml(yaml, "t.yaml");
    validate(*n.find("toy"), *test_schema(), "toy");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("params: defaults fill in and typed reads work", "[core][params]") {
  Node n = parse_yaml("toy:\n  rows: 8\n  sram: {input_kib: 128}\n  shape: [2, 3]\n", "t.yaml");
  Values v = validate(*n.find("toy"), *test_schema(), "toy");
  CHECK(v.i("rows") == 8);
  CHECK(v.i("cols") == 16);
  CHECK(v.f("clock_ghz") == 1.0);
  CHECK(v.s("dataflow") == "ws");
  CHECK(v.s("label") == "x");
  CHECK(v.g("sram").i("input_kib") == 128);
  CHECK(v.g("sram").b("double_buffer"));
  CHECK(v.strings("shape") == std::vector<std::string>{"2", "3"});
  CHECK(v.where("rows").line == 2);
  CHECK(v.where("rows").column == 9);
}

TEST_CASE("params: unknown key names file, line, column, path and the valid keys", "[core][params]") {
  std::string e = error_of("toy:\n  rows: 8\n  rowz: 9\n");
  CHECK(e ==
        "t.yaml:3:3: toy.rowz: unknown key (did you mean 'rows'?) (valid: rows, cols, clock_ghz, "
        "dataflow, label, sram, shape)");
}

TEST_CASE("params: unknown key inside a group", "[core][params]") {
  std::string e = error_of("toy:\n  rows: 8\n  sram: {input_kb: 4}\n");
  CHECK_THAT(e, Catch::StartsWith("t.yaml:3:10: toy.sram.input_kb: unknown key (did you mean 'input_kib'?)"));
}

TEST_CASE("params: wrong types", "[core][params]") {
  CHECK(error_of("toy:\n  rows: eight\n") == "t.yaml:2:9: toy.rows: expected an integer, found 'eight'");
  CHECK(error_of("toy:\n  rows: 8.5\n") == "t.yaml:2:9: toy.rows: expected an integer, found '8.5'");
  CHECK(error_of("toy:\n  rows: \"8\"\n") == "t.yaml:2:9: toy.rows: expected an integer, found '8'");
  CHECK(error_of("toy:\n  rows: 8\n  clock_ghz: fast\n") ==
        "t.yaml:3:14: toy.clock_ghz: expected a number, found 'fast'");
  CHECK(error_of("toy:\n  rows: 8\n  sram: {double_buffer: 1}\n") ==
        "t.yaml:3:25: toy.sram.double_buffer: expected true or false, found '1'");
  CHECK(error_of("toy:\n  rows: [1]\n") == "t.yaml:2:9: toy.rows: expected an integer, found a list");
  CHECK(error_of("toy:\n  rows: 8\n  sram: 4\n") == "t.yaml:3:9: toy.sram: expected a map, found a scalar");
  CHECK(error_of("toy:\n  rows: 8\n  shape: [1, x]\n") == "t.yaml:3:14: toy.shape[1]: expected an integer, found 'x'");
}

TEST_CASE("params: out of range and bad choices", "[core][params]") {
  CHECK(error_of("toy:\n  rows: 0\n") == "t.yaml:2:9: toy.rows: value 0 is out of range [1, 4096] PEs");
  CHECK(error_of("toy:\n  rows: 8\n  clock_ghz: 0\n") ==
        "t.yaml:3:14: toy.clock_ghz: value 0 is out of range (0, inf] GHz");
  CHECK(error_of("toy:\n  rows: 99999999999999999999\n") ==
        "t.yaml:2:9: toy.rows: integer '99999999999999999999' does not fit in 64 bits");
  CHECK(error_of("toy:\n  rows: 8\n  dataflow: rs\n") ==
        "t.yaml:3:13: toy.dataflow: 'rs' is not valid (expected one of: ws, os, is)");
}

TEST_CASE("params: missing required key", "[core][params]") {
  CHECK(error_of("toy:\n  cols: 8\n") == "t.yaml:2:3: toy: missing required key 'rows' (array rows)");
}

TEST_CASE("params: YAML syntax errors carry the position", "[core][params]") {
  CHECK_THAT(error_of("toy:\n  rows: [1, 2\n"), Catch::StartsWith("t.yaml:3:1: YAML syntax error"));
  CHECK(error_of("toy:\n  rows: 1\n  rows: 2\n") == "t.yaml:3:3: rows: duplicate key");
}

TEST_CASE("params: --set overrides go through the same checks", "[core][params]") {
  Node n = parse_yaml("toy:\n  rows: 8\n", "t.yaml");
  apply_override(n, "toy.sram.input_kib=256");
  apply_override(n, "toy.rows=32");
  Values v = validate(*n.find("toy"), *test_schema(), "toy");
  CHECK(v.i("rows") == 32);
  CHECK(v.g("sram").i("input_kib") == 256);
  apply_override(n, "toy.rows=big");
  try {
    validate(*n.find("toy"), *test_schema(), "toy");
    FAIL("expected an error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) == "--set toy.rows=big: toy.rows: expected an integer, found 'big'");
  }
  CHECK_THROWS_WITH(apply_override(n, "novalue"), "--set novalue: expected key.path=value");
  CHECK_THROWS_WITH(apply_override(n, "toy.rows.x=1"),
                    "--set toy.rows.x=1: toy.rows: cannot set a key inside a scalar");
}

TEST_CASE("params: describe() documents every parameter from its declaration", "[core][params]") {
  std::string d = test_schema()->describe();
  CHECK_THAT(d, Catch::Contains("rows (int, PEs, [1, 4096], required): array rows"));
  CHECK_THAT(d, Catch::Contains("dataflow (one of ws|os|is, default ws): dataflow"));
  CHECK_THAT(d, Catch::Contains("    input_kib (int, KiB, [1, 1048576], default 64): input buffer"));
}
