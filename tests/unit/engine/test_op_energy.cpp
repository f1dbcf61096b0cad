// The systolic model's per-op energy estimate (AcceleratorKind::op_energy, for the
// energy_optimal policy), derived by hand on one vector op.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include "models/systolic/op_cost.h"
#include "sim/core/config_node.h"
#include "sim/engine/engine.h"
#include "sim/memory/memory_system.h"

using namespace bpsim;

TEST_CASE("op energy: a vector op's actions, DRAM bursts and leakage over its cycles", "[engine][op_energy]") {
  // The 45 nm table (its systolic prices: vector_op 0.9 pJ; leakage per int8 PE 0.01218 mW,
  // per vector lane 0.05975 mW, per SRAM KiB 0.1575 mW; configs/energy/45nm/).
  config::Node n = config::load_file(std::string(BPSIM_SOURCE_DIR) + "/configs/energy/45nm.yaml");
  OpEnergyPrices prices{EnergyTable::parse(*n.find("energy"), "energy", all_known_actions(), all_known_leakage())};
  // Round DRAM figures in place of a preset's IDD-derived ones.
  const memory::DramActions& d = memory::dram_actions();
  prices.table.set_price(d.rd_burst, 1000, "test");
  prices.table.set_price(d.wr_burst, 2000, "test");
  prices.table.set_leakage(d.background, 100, "test");
  prices.dram_burst_bytes = 64;
  systolic::SystolicSpec s = systolic::systolic_defaults();
  s.rows = s.cols = 32;
  s.vector_lanes = 0;  // lanes = cols = 32
  s.clock_ghz = 1.0;
  s.dtype_from_workload = false;
  s.dtype = workload::DType::int8;
  s.sram.input_bytes = s.sram.weight_bytes = 64 * 1024;
  s.sram.output_bytes = 32 * 1024;
  s.sram.double_buffer = true;
  s.sparsity.mode = systolic::SparsityMode::off;
  const systolic::OpEnergyEstimate est(s, prices);

  workload::OpGraph g;
  g.dtype = workload::DType::fp32;
  g.tensors = {{0, "x", 16384, workload::TensorRole::activation}, {1, "y", 16384, workload::TensorRole::activation}};
  workload::Op relu;
  relu.kind = workload::OpKind::elementwise;
  relu.detail = "relu";
  relu.elements = relu.flops = 4096;
  relu.reads = {0};
  relu.writes = {1};
  // Lanes: 4096 FLOPs × 0.9 pJ = 3686.4 pJ.
  // Buffers: 16384 B in = 2048 words written and read in the input buffer (a 32 KiB half:
  // 20 pJ), 2048 written and read in the output buffer (a 16 KiB half: 15 pJ):
  // 4096·20 + 4096·15 = 143360 pJ.
  // DRAM: 256 read bursts × 1000 + 256 write bursts × 2000 = 768000 pJ.
  // Leakage over ⌈4096/32⌉ = 128 cycles = 128 ns: buffers 160 KiB × 0.1575 mW = 25.2 mW,
  // lanes 32 × 0.05975 = 1.912 mW, int8 PEs 1024 × 0.01218 = 12.47232 mW, DRAM 100 mW:
  // 139.58432 mW × 128 ns = 17866.79296 pJ (mW·ns = pJ).
  CHECK(est(g, relu) == Approx(3686.4 + 143360 + 768000 + 17866.79296).epsilon(1e-9));
}
