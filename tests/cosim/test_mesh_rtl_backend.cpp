// `backend: rtl` on the mesh accelerator: the same small training step runs with every
// firing's destination ranges, overlap tests and output ports taken from the Verilated
// router (rtl/mesh/router.sv); unsupported combinations are refused with exit code 2; the
// router's waveform goes into --trace-vcd.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cosim/cosim_harness.h"

using namespace bpsim::test;

namespace {
std::string config(Scratch& s, int fc_out = 10, const std::string& name = "c.yaml") {
  // A conv (8×8×1 → 4×4×2, stride 2, kernel 3, pad 1), ReLU, and a 32 → 10 linear layer on
  // a 4×4 mesh of 16-element clusters: input 4 clusters, conv 2, fc 1; batch 2.
  s.file("w.yaml",
         "name: tiny\ndtype: fp32\nbatch: 2\ninput: { shape: [1, 8, 8] }\noptimizer: momentum\nlayers:\n"
         "  - { kind: conv2d, name: conv1, out_channels: 2, kernel: 3, stride: 2, padding: 1 }\n"
         "  - { kind: relu, name: relu1 }\n  - { kind: flatten }\n  - { kind: linear, name: fc1, out_features: " +
             std::to_string(fc_out) + " }\n");
  const std::string src = BPSIM_SOURCE_DIR;
  return s.file(name, "include: [" + src + "/configs/arch/mesh_8x8.yaml, " + src + "/configs/memory/ddr4_2400.yaml, " +
                          src +
                          "/configs/energy/45nm.yaml]\n"
                          "accelerator: {cols: 4, rows: 4, cluster: {elements: 16, range_units: 1}}\n"
                          "workload: {spec: w.yaml}\nrun: {seed: 1}\n");
}
}  // namespace

TEST_CASE("cosim: mesh backend rtl runs the training step with the model's results", "[cosim][mesh][cli]") {
  Scratch s("mesh_rtl_backend");
  const std::string cfg = config(s);
  const auto [jm, jr] = run_model_and_rtl(s, cfg);
  // The lockstep test shows the router's results and its cycles per firing (one per
  // entry, = logic_cycles with range_units 1) equal the C++ logic module's, so the same
  // messages leave at the same cycles: the whole totals and every op agree.
  CHECK(jr["totals"] == jm["totals"]);
  CHECK(jr["ops"] == jm["ops"]);
  CHECK(jr["energy_breakdown_pj"] == jm["energy_breakdown_pj"]);
  const auto& c = jr["stats"]["mesh"]["cluster"];
  // Every firing the model counted went through the RTL, and each took one cycle per
  // control entry: conv1.fwd fires into conv1's 2 clusters (4×4×2 = 32 neurons on
  // 16-element clusters), fc1.fwd into fc1's 1 cluster (10 neurons), fc1.dx back into
  // conv1's 2 clusters.
  uint64_t fired = 0, cycles = 0;
  const std::map<std::string, uint64_t> entries = {{"conv1.fwd", 2}, {"fc1.fwd", 1}, {"fc1.dx", 2}};
  for (const auto& op : jm["ops"]) {
    if (!op.contains("extra") || !op["extra"].contains("fired")) continue;
    const uint64_t f = op["extra"]["fired"].get<uint64_t>();
    REQUIRE(entries.count(op["name"].get<std::string>()));
    fired += f;
    cycles += f * entries.at(op["name"].get<std::string>());
  }
  CHECK(fired > 0);
  CHECK(c["rtl_router_firings"] == fired);
  CHECK(c["rtl_router_cycles"] == cycles);
  CHECK(c["rtl_router_mismatches"] == 0);
  CHECK(jm["stats"]["mesh"]["cluster"].contains("rtl_router_firings") == false);
}

TEST_CASE("cosim: mesh backend rtl refuses unsupported configurations with exit 2", "[cosim][mesh][cli]") {
  Scratch s("mesh_rtl_backend_bad");
  const std::string cfg = config(s);
  const std::string rtl = " --set accelerator.backend=rtl --out " + (s / "o");
  const std::pair<std::string, std::string> cases[] = {
      {" --set accelerator.cluster.range_units=4", "cluster.range_units: 1"},
      {" --set accelerator.noc.routing=yx", "noc.routing: xy"},
      {" --set accelerator.mode=synthetic", "mode: training"},
  };
  for (const auto& [set, msg] : cases) {
    CliResult x = run_bpsim("run " + cfg + set + rtl);
    INFO(set << " -> " << x.err);
    CHECK(x.code == 2);
    CHECK_THAT(x.err, Catch::Contains("accelerator.backend") && Catch::Contains("rtl needs " + msg));
  }
  // fc1 with 1040 outputs on 16-element clusters: 65 tiles, one more than the RTL's store.
  const std::string big =
      config(s, 1040, "big.yaml") +
      " --set accelerator.cols=16 --set accelerator.rows=16 --set accelerator.cluster.max_control_entries=128";
  CliResult m = run_bpsim("run " + big + " --quiet --out " + (s / "bm"));
  INFO(m.err);
  CHECK(m.code == 0);
  CliResult x = run_bpsim("run " + big + rtl);
  CHECK(x.code == 2);
  CHECK_THAT(x.err,
             Catch::Contains("accelerator.backend") && Catch::Contains("rtl needs at most 64 control entries per layer "
                                                                       "(layer 'fc1' has 65)"));
  check_backend_typo(s, cfg);
}

TEST_CASE("cosim: --trace-vcd writes the mesh router's waveform", "[cosim][mesh][cli][vcd]") {
  Scratch s("mesh_rtl_vcd");
  const std::string cfg = config(s);
  const std::string vcd = s / "w.vcd";
  const auto [text, rep] = run_rtl_with_vcd(s, cfg, "accel.rtl_router.dut");
  CHECK_THAT(text, Catch::Contains("res_mask"));
  // The clock's rising edges in the file are every edge the router ran (rtl_router_edges:
  // two reset edges, one per control-store write, one accepting edge and one per entry
  // for each firing).
  const uint64_t edges = vcd_rising_edges(text, " clk $end");
  const auto& c = rep["stats"]["mesh"]["cluster"];
  CHECK(edges > 0);
  CHECK(edges == c["rtl_router_edges"].get<uint64_t>());
  CHECK(edges > c["rtl_router_cycles"].get<uint64_t>() + c["rtl_router_firings"].get<uint64_t>());
}
