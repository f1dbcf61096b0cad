// Chakra execution traces from the command line: replay on the systolic accelerator,
// conversion to a bpsim JSONL trace, and bad .et files (exit 2, no report).
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/unit/trace/chakra_et_builder.h"

using namespace bpsim::test;

namespace {

const std::string kSample = std::string(BPSIM_SOURCE_DIR) + "/traces/chakra_mlp_step.et";

std::string systolic_config(const Scratch& s, const std::string& workload) {
  return s.file("c.yaml", std::string("include: [") + BPSIM_SOURCE_DIR + "/configs/arch/systolic_32x32_int8.yaml, " +
                              BPSIM_SOURCE_DIR + "/configs/memory/ddr4_2400.yaml, " + BPSIM_SOURCE_DIR +
                              "/configs/energy/45nm.yaml]\naccelerator: {dtype: workload}\nworkload: " + workload +
                              "\n");
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string write_bytes(const Scratch& s, const std::string& name, const std::string& bytes) {
  std::ofstream(s.path / name, std::ios::binary) << bytes;
  return s / name;
}

}  // namespace

TEST_CASE("cli chakra: the sample replays on the systolic array, and as converted JSONL to the same report",
          "[cli][trace][chakra]") {
  Scratch s("chakra_run");
  const std::string cfg = systolic_config(s, "{chakra: " + kSample + "}");
  CliResult r = run_bpsim("run " + cfg + " --quiet --out " + (s / "direct"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto a = nlohmann::json::parse(slurp(s / "direct/report.json"));
  // MACs of the sample, derived in tests/unit/trace/test_chakra_et.cpp: 4,980,736, of which
  // forward fc1 + fc2 = 2,097,152 + 262,144 = 2,359,296.
  CHECK(a["totals"]["macs"] == 4980736);
  CHECK(a["phases"]["forward"]["macs"] == 2359296);
  CHECK(a["totals"]["cycles"].get<double>() > 0);

  const std::string jsonl = s / "mlp.jsonl";
  CliResult c = run_bpsim("trace chakra " + kSample + " -o " + jsonl);
  INFO(c.err);
  REQUIRE(c.code == 0);
  CHECK_THAT(c.out, Catch::Contains("19 ops"));
  CHECK(run_bpsim("trace chakra " + kSample + " -o " + jsonl).code == 2);  // never overwrites
  // The streamed replay's op entries are compared too, so report.json gets them.
  CliResult t =
      run_bpsim("run " + cfg + " --quiet --trace " + jsonl + " --set run.report_ops=all --out " + (s / "replay"));
  INFO(t.err);
  REQUIRE(t.code == 0);
  auto b = nlohmann::json::parse(slurp(s / "replay/report.json"));
  for (const char* k : {"totals", "phases", "ops", "memory", "energy_breakdown_pj"}) {
    INFO(k);
    CHECK(a[k] == b[k]);
  }
}

TEST_CASE("cli chakra: bad .et files exit 2 naming the file, node and field, and write nothing",
          "[cli][trace][chakra]") {
  Scratch s("chakra_bad");
  const std::string good = read_bytes(kSample);
  REQUIRE(good.size() > 100);
  // The first node of the sample starts after the GlobalMetadata: its length varint (one
  // byte, < 128) and its bytes.
  const size_t meta_end = 1 + size_t(static_cast<unsigned char>(good[0]));
  struct Case {
    std::string name, bytes, message;
  };
  const std::vector<Case> cases = {
      {"truncated.et", good.substr(0, good.size() - 5), "node[19]: truncated file"},
      {"varint.et", good.substr(0, meta_end) + std::string(6, '\xff'), "node[0]: bad message length varint"},
      {"garbage.et", good.substr(0, meta_end) + std::string("\x03\x0f\x0f\x0f", 4),
       "node[0]: cannot parse the Node message"},
  };
  for (const Case& c : cases) {
    const std::string f = write_bytes(s, c.name, c.bytes);
    CliResult r = run_bpsim("trace chakra " + f + " -o " + (s / (c.name + ".jsonl")));
    INFO(c.name << ": " << r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains(f + ": " + c.message));
    CHECK_FALSE(std::filesystem::exists(s / (c.name + ".jsonl")));
  }
  // A node rewritten in place: the sample's node[0] is the MEM_LOAD of x (id 0, type 2).
  // Its bytes start 0x08 0x00 (id = 0), 0x12 len "load.x" (name), then 0x18 0x02 (type).
  const size_t type_at = good.find(std::string("load.x\x18\x02", 8));
  REQUIRE(type_at != std::string::npos);
  std::string unknown = good;
  unknown[type_at + 7] = 0x2a;  // type 42
  const std::string f = write_bytes(s, "type.et", unknown);
  CliResult r = run_bpsim("run " + systolic_config(s, "{chakra: type.et}") + " --out " + (s / "o"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains(f + ": node[0] (id 0).type: unknown node type 42"));
  CHECK_FALSE(std::filesystem::exists(s.path / "o/report.json"));
  // Node contents: a missing attribute, a dangling dependency, a cycle (built with the
  // classes protoc generates from sim/trace/chakra_et.proto).
  namespace ch = bpsim::test::chakra;
  ch::pb::Node a = ch::load(1, 64), b = ch::load(2, 64);
  a.add_data_deps(2);
  b.add_ctrl_deps(1);
  const std::vector<Case> nodes = {
      {"attr.et", ch::frame({ch::node(5, "ld", ch::pb::MEM_STORE_NODE)}),
       "node[0] (id 5).attr.tensor_size: missing required attribute"},
      {"dangling.et", ch::frame({ch::load(1, 64), ch::node(2, "aten::relu", ch::pb::COMP_NODE, {7})}),
       "node[1] (id 2).data_deps: dangling dependency: no node has id 7"},
      {"cycle.et", ch::frame({a, b}), "node[0] (id 1).data_deps: dependency cycle: node ids 1 -> 2 -> 1"},
  };
  for (const Case& c : nodes) {
    const std::string path = write_bytes(s, c.name, c.bytes);
    CliResult x = run_bpsim("trace chakra " + path + " -o " + (s / (c.name + ".jsonl")));
    INFO(c.name << ": " << x.err);
    CHECK(x.code == 2);
    CHECK_THAT(x.err, Catch::Contains(path + ": " + c.message));
    CHECK_FALSE(std::filesystem::exists(s / (c.name + ".jsonl")));
  }
  // The config's own keys are checked too.
  CliResult d =
      run_bpsim("run " + systolic_config(s, "{chakra: " + kSample + ", dtype: int3}") + " --out " + (s / "o2"));
  CHECK(d.code == 2);
  CHECK_THAT(d.err, Catch::Contains("workload.dtype: 'int3' is not valid"));
  CliResult t = run_bpsim("trace chakra " + kSample + " --dtype int3 -o " + (s / "t.jsonl"));
  CHECK(t.code == 2);
  CHECK_THAT(t.err, Catch::Contains("--dtype: 'int3' is not valid"));
}

TEST_CASE("cli chakra: a gzip-compressed .et reads as the plain one", "[cli][trace][chakra]") {
  Scratch s("chakra_gz");
  const std::string gz = s / "mlp.et.gz";
  REQUIRE(std::system(("gzip -c " + kSample + " > " + gz).c_str()) == 0);
  CliResult a = run_bpsim("trace chakra " + kSample + " -o " + (s / "a.jsonl"));
  CliResult b = run_bpsim("trace chakra " + gz + " -o " + (s / "b.jsonl"));
  REQUIRE(a.code == 0);
  REQUIRE(b.code == 0);
  // Same ops and tensors; only the header's name (the file it came from) differs.
  std::string ta = slurp(s / "a.jsonl"), tb = slurp(s / "b.jsonl");
  CHECK(ta.substr(ta.find('\n')) == tb.substr(tb.find('\n')));
  CliResult x = run_bpsim("trace chakra " + (s / "missing.et") + " -o " + (s / "c.jsonl"));
  CHECK(x.code == 2);
  CHECK_THAT(x.err, Catch::Contains("missing.et: cannot open Chakra trace file"));
}

TEST_CASE("chakra sample: traces/chakra_mlp_step.et is what its generator writes", "[cli][trace][chakra]") {
  // Debian's python3 with python3-protobuf, and protoc (scripts/setup.sh installs both).
  Scratch s("chakra_gen");
  const std::string out = s / "fresh.et";
  const std::string cmd =
      "/usr/bin/python3 " + std::string(BPSIM_SOURCE_DIR) + "/scripts/gen_chakra_sample.py -o " + out + " >/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  CHECK(read_bytes(out) == read_bytes(kSample));
}
