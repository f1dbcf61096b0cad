// The worked example of docs/adding_a_model.md: the `example` kind registered in this test
// process, then run through the CLI's own entry point (cli::main_of, what `bpsim run` calls)
// on a spec, and the page's code blocks checked against example_kind.cpp.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include "sim/core/build_info.h"

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/cli/commands.h"
#include "tests/cli/cli_harness.h"
#include "tests/models/example/example_kind.h"

using bpsim::test::Scratch;
using bpsim::test::slurp;

namespace {

/// The step: one linear layer, 4 → 3, no bias, batch 2, SGD, on 16 PEs. The op-graph
/// builder makes four ops: the forward GEMM (2×4)·(4×3) = 24 MACs, `loss.bwd` (the
/// output-sized gradient of `loss: none`, no MACs), the dW GEMM (4×2)·(2×3) = 24 MACs (no dX:
/// the layer's input is the network input) and the SGD update (no MACs).
std::string config(const Scratch& s, const std::string& accelerator,
                   const std::string& layer = "{ kind: linear, out_features: 3, bias: false }") {
  const std::string src = BPSIM_SOURCE_DIR;
  return s.file("example.yaml", "include: [" + src + "/configs/memory/ddr4_2400.yaml, " + src +
                                    "/configs/energy/45nm.yaml]\n"
                                    "accelerator: " +
                                    accelerator +
                                    "\n"
                                    "energy:\n"
                                    "  actions:\n"
                                    "    example.mac: { pj: 4.6, source: \"as systolic.mac_fp32\" }\n"
                                    "  leakage_mw:\n"
                                    "    example.pe: { mw: 0.20256, source: \"as systolic.pe_fp32\" }\n"
                                    "workload:\n"
                                    "  input: { shape: [4] }\n"
                                    "  batch: 2\n"
                                    "  layers: [" +
                                    layer +
                                    "]\n"
                                    "  policy: { kind: none }\n");
}

/// bpsim's exit code; what it wrote to stderr goes to `err` when given.
int bpsim_run(std::vector<std::string> args, std::string* err = nullptr) {
  bpsim::example::register_example(bpsim::Registry::instance());
  args.insert(args.begin(), "bpsim");
  std::ostringstream captured;
  std::streambuf* const was = std::cerr.rdbuf(captured.rdbuf());
  const int code = bpsim::cli::main_of(args);
  std::cerr.rdbuf(was);
  if (err) *err = captured.str();
  return code;
}

}  // namespace

TEST_CASE("example kind: a training step through bpsim run with cycles and energy by hand", "[example][cli]") {
  Scratch s("example_kind");
  const std::string cfg = config(s, "{ kind: example, pes: 16 }");
  REQUIRE(bpsim_run({"run", cfg, "--out", s / "out"}) == 0);
  const nlohmann::json r = nlohmann::json::parse(slurp(s / "out/report.json"));
  const auto& ops = r.at("ops");
  // Two GEMMs of 24 MACs, the rest (the update) none.
  int gemms = 0;
  for (const auto& o : ops)
    if (o.at("macs").get<uint64_t>() > 0) {
      ++gemms;
      CHECK(o.at("macs").get<uint64_t>() == 24);
      CHECK(o.at("cycles").get<uint64_t>() == 3);  // ⌈24 / 16⌉ + 1
    } else {
      CHECK(o.at("cycles").get<uint64_t>() == 1);  // issue only
    }
  CHECK(gemms == 2);
  CHECK(ops.size() == 4);
  const auto& t = r.at("totals");
  const uint64_t n = ops.size();
  CHECK(t.at("macs").get<uint64_t>() == 48);
  CHECK(t.at("cycles").get<uint64_t>() == 2 * 3 + (n - 2) * 1);
  // Dynamic: 48 MACs × 4.6 pJ = 220.8 pJ. Leakage: 16 PEs × 0.20256 mW over cycles ns at
  // 1 GHz = 3.24096 pJ per cycle.
  const auto& e = r.at("energy_breakdown_pj");
  CHECK(e.at("example.mac").get<double>() == Approx(220.8));
  CHECK(e.at("example.pe.leakage").get<double>() == Approx(3.24096 * double(t.at("cycles").get<uint64_t>())));
  CHECK(e.find("dram.leakage") == e.end());                                   // MemoryUse::none: no DRAM background
  CHECK(r.at("stats").at("example").dump().find("48") != std::string::npos);  // the model's counter
}

TEST_CASE("example kind: its parameters are checked and its refusals are input errors", "[example][cli]") {
  Scratch s("example_bad");
  std::string err;
  // Out of the declared range, or a key not declared: exit 2 before anything is built (the Binder's checks).
  CHECK(bpsim_run({"validate", config(s, "{ kind: example, pes: 0 }")}, &err) == 2);
  CHECK(err.find("accelerator.pes: value 0 is out of range [1, ") != std::string::npos);
  CHECK(bpsim_run({"validate", config(s, "{ kind: example, pez: 4 }")}, &err) == 2);
  CHECK(err.find("accelerator.pez: unknown key (did you mean 'pes'?)") != std::string::npos);
  // An op the model cannot run (check_op): exit 2 naming the op, found when the model is built.
  CHECK(bpsim_run({"validate", config(s, "{ kind: example }", "{ kind: binary_linear, out_features: 3 }")}, &err) == 2);
  CHECK(err.find("example has no binary datapath; op 'binary_linear0.fwd' is xnor_gemm") != std::string::npos);
}

TEST_CASE("example kind: the code blocks of docs/adding_a_model.md are the compiled ones", "[example][docs]") {
  const std::string page = slurp(std::string(BPSIM_SOURCE_DIR) + "/docs/adding_a_model.md");
  const std::string source = slurp(std::string(BPSIM_SOURCE_DIR) + "/tests/models/example/example_kind.cpp");
  int blocks = 0;
  for (size_t at = page.find("```cpp\n"); at != std::string::npos; at = page.find("```cpp\n", at)) {
    at += 7;
    const size_t end = page.find("```\n", at);
    REQUIRE(end != std::string::npos);
    const std::string block = page.substr(at, end - at);
    INFO(block);
    CHECK(source.find(block) != std::string::npos);
    ++blocks;
    at = end;
  }
  CHECK(blocks == 4);
}
