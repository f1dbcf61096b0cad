// Leakage from the user's side: `bpsim run` on shipped examples charges leakage for the
// parts the model instantiates (configs/energy/45nm/*.yaml figures × the config's sizes ×
// the step's simulated seconds), and no DRAM background when the run never touches DRAM;
// and on-chip SRAM accesses priced by the buffer's capacity, whatever the model.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;

namespace {

nlohmann::json run_example(const Scratch& s, const std::string& example, const std::string& extra = "") {
  const CliResult r = run_bpsim("run " + std::string(BPSIM_SOURCE_DIR) + "/configs/examples/" + example + " --quiet " +
                                extra + " --out " + (s / "out"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(slurp(s / "out/report.json"));
}

/// mW held for the step's simulated seconds, in pJ (1 mW × 1 s = 1e-3 J = 1e9 pJ).
double over_step(double mw, const nlohmann::json& report) {
  return mw * 1e9 * report["totals"]["seconds"].get<double>();
}

// configs/arch/mesh_8x8.yaml: 64 routers, 2 VCs × 8 flits of 16 B; clusters of 256 PEs and
// 512 KiB SRAM. Per router: 5 input ports × 2 × 8 × 128 bits = 10,240 buffer bits ×
// 0.0000832 mW = 0.851968 mW, plus 128 crossbar bits × 0.0004297 mW = 0.0550016 mW,
// = 0.9069696 mW; × 64 routers = 58.0460544 mW.
constexpr double kMeshRoutersMw = 64 * (5 * 2 * 8 * 128 * 0.0000832 + 128 * 0.0004297);

}  // namespace

TEST_CASE("leakage: a mesh training step that fits its clusters leaks routers, PEs and SRAM, and no DRAM",
          "[cli][energy][mesh]") {
  Scratch s("leak_mesh");
  // 640 KiB clusters (655,360 B) hold fc1's 641,920 B, the largest cluster's training memory
  // (docs/mesh.md): nothing spills (the example's 512 KiB spills fc1's excess to DRAM).
  const nlohmann::json rep = run_example(s, "lenet5_train_mesh.yaml", "--set accelerator.cluster.sram_kib=640");
  const nlohmann::json& bd = rep["energy_breakdown_pj"];
  // Training keeps weights, activations and gradients in cluster SRAM: no DRAM access, so
  // no DRAM background (before, 22% of this step's energy was dram.leakage).
  CHECK(rep["totals"]["dram_read_bytes"] == 0);
  CHECK(rep["totals"]["dram_write_bytes"] == 0);
  CHECK_FALSE(bd.contains("dram.leakage"));
  REQUIRE(rep["totals"]["seconds"].get<double>() > 0);
  CHECK(bd["mesh.router.leakage"].get<double>() == Approx(over_step(kMeshRoutersMw, rep)));
  // Only the clusters holding a layer leak (the others are power-gated). LeNet-5 in boxes
  // of whole rows × channels of at most 256 neurons: input 32×32×1 in 8-row boxes: 4;
  // conv1 28×28×6 in 1-row boxes of 6 channels: 28; conv2 10×10×16 in 1-row boxes: 10;
  // fc1, fc2, fc3: 1 each. 45 clusters.
  CHECK(rep["stats"]["mesh"]["cluster"]["clusters_used"] == 45);
  // 45 clusters × 256 PEs × 0.20256 mW = 2333.4912 mW.
  CHECK(bd["mesh.pe.leakage"].get<double>() == Approx(over_step(45 * 256 * 0.20256, rep)));
  // 45 clusters × 640 KiB × 0.1575 mW/KiB = 4536 mW.
  CHECK(bd["mesh.sram.leakage"].get<double>() == Approx(over_step(45 * 640 * 0.1575, rep)));
  // Every phase carries the same components' leakage over its own time.
  for (const auto& [name, phase] : rep["phases"].items()) {
    INFO(name);
    CHECK_FALSE(phase["energy_breakdown_pj"].contains("dram.leakage"));
    CHECK(phase["energy_breakdown_pj"].contains("mesh.sram.leakage"));
  }
}

TEST_CASE("energy: a mesh cluster's SRAM access is priced at cluster.sram_kib", "[cli][energy][mesh]") {
  // Per-access price = the breakdown's energy / the accesses (Σ over ops of whole 64-bit
  // words of on-chip bytes). Horowitz 45 nm points interpolated log-linearly in capacity
  // (configs/energy/45nm/sram.yaml; 32 KiB 20 pJ, 1 MiB 100 pJ):
  //   512 KiB: 20 + 80 · (19 − 15)/5 = 84 pJ; 2048 KiB: 20 + 80 · (21 − 15)/5 = 116 pJ,
  // a ratio of 116/84 (before, both were the 32 KiB point's 20 pJ).
  const auto price = [](const nlohmann::json& rep, const char* action, const char* bytes) {
    uint64_t words = 0;
    for (const auto& op : rep["ops"]) words += (op[bytes].get<uint64_t>() + 7) / 8;
    REQUIRE(words > 0);
    return rep["energy_breakdown_pj"][action].get<double>() / double(words);
  };
  Scratch s("sram_price");
  double read_pj[2] = {}, write_pj[2] = {};
  int i = 0;
  for (const char* kib : {"512", "2048"}) {
    const nlohmann::json rep =
        run_example(s, "lenet5_train_mesh.yaml", std::string("--set accelerator.cluster.sram_kib=") + kib);
    read_pj[i] = price(rep, "mesh.sram_read_64b", "onchip_read_bytes");
    write_pj[i] = price(rep, "mesh.sram_write_64b", "onchip_write_bytes");
    ++i;
  }
  CHECK(read_pj[0] == Approx(84.0));
  CHECK(write_pj[0] == Approx(84.0));
  CHECK(read_pj[1] == Approx(116.0));
  CHECK(write_pj[1] == Approx(116.0));
  CHECK(read_pj[1] / read_pj[0] == Approx(116.0 / 84.0));
}

TEST_CASE("leakage: mesh synthetic traffic leaks the routers only", "[cli][energy][mesh]") {
  Scratch s("leak_synth");
  // A short window keeps the test quick; the rule does not depend on its length.
  const nlohmann::json rep =
      run_example(s, "mesh_synthetic_uniform.yaml",
                  "--set accelerator.traffic.warmup_cycles=200 --set accelerator.traffic.measure_cycles=1000");
  const nlohmann::json& bd = rep["energy_breakdown_pj"];
  CHECK_FALSE(bd.contains("dram.leakage"));
  CHECK_FALSE(bd.contains("mesh.pe.leakage"));
  CHECK_FALSE(bd.contains("mesh.sram.leakage"));
  CHECK(bd["mesh.router.leakage"].get<double>() == Approx(over_step(kMeshRoutersMw, rep)));
}

TEST_CASE("leakage: a systolic step leaks its array, buffers and the DRAM it streams from", "[cli][energy][systolic]") {
  Scratch s("leak_systolic");
  // configs/arch/systolic_128x128_bf16.yaml with output_sparsity gate (the example).
  const nlohmann::json rep = run_example(s, "lenet5_train_systolic.yaml");
  const nlohmann::json& bd = rep["energy_breakdown_pj"];
  REQUIRE(rep["totals"]["seconds"].get<double>() > 0);
  // 128 × 128 bf16 PEs × 0.09329 mW = 1528.46336 mW.
  CHECK(bd["systolic.pe.leakage"].get<double>() == Approx(over_step(128 * 128 * 0.09329, rep)));
  // Vector unit: one lane per column, 128 × 0.05975 mW = 7.648 mW.
  CHECK(bd["systolic.vector.leakage"].get<double>() == Approx(over_step(128 * 0.05975, rep)));
  // Buffers 8192 + 4096 + 4096 KiB, plus the 8 KiB mask buffer (sparsity gate), = 16392 KiB ×
  // 0.1575 mW/KiB = 2581.74 mW.
  CHECK(bd["systolic.sram.leakage"].get<double>() == Approx(over_step(16392 * 0.1575, rep)));
  // configs/memory/ddr4_2400.yaml: 2 ranks × 8 x8 devices × 1.2 V × IDD3N 43 mA = 825.6 mW.
  CHECK(bd["dram.leakage"].get<double>() == Approx(over_step(2 * 8 * 1.2 * 43, rep)));
}

TEST_CASE("leakage: a table without a figure for a declared part is an input error", "[cli][energy]") {
  Scratch s("leak_missing");
  // Prices for every action synthetic traffic counts, but no leakage figures: the routers'
  // units are missing.
  const std::string dir = std::string(BPSIM_SOURCE_DIR) + "/configs/";
  const std::string cfg =
      s.file("m.yaml", "include: [" + dir + "arch/mesh_8x8.yaml, " + dir +
                           "memory/ddr4_2400.yaml]\n"
                           "accelerator: {mode: synthetic, traffic: {warmup_cycles: 10, measure_cycles: 10}}\n"
                           "energy:\n  name: partial\n  actions:\n"
                           "    mesh.buffer_write: {pj: 1, source: t}\n    mesh.buffer_read: {pj: 1, source: t}\n"
                           "    mesh.xbar: {pj: 1, source: t}\n    mesh.link: {pj: 1, source: t}\n");
  const CliResult r = run_bpsim("run " + cfg + " --quiet --out " + (s / "out"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("m.yaml:4:3: energy.leakage_mw: energy table 'partial' has no leakage figure for "
                                    "'mesh.router_buffer_bit'"));
}
