// Registers the `systolic` accelerator kind.
#include "models/systolic/systolic_actions.h"
#include "models/systolic/systolic_model.h"
#include "sim/memory/dram_system.h"

namespace bpsim {

void register_systolic(Registry& r) {
  AcceleratorKind k;
  k.kind = "systolic";
  k.idle_words = "the array is mostly idle";  // peak_macs_per_cycle counts them
  k.description = "R×C MAC array (ws/os/is, pipeline stages, SRAM tiling) with output-sparsity gating and skipping";
  k.schema = systolic::systolic_schema();
  k.actions = systolic::systolic_actions().vocabulary.decls();
  k.leakage = systolic::systolic_actions().units.decls();
  k.needs_workload = true;
  k.streams_ops = true;
  k.memory = MemoryUse::dram;  // operands stream through DRAM
  // Each GEMM's mapping and its DRAM traffic against the floor (op_cost.cpp, extra).
  k.csv_columns = {{"map_family", "/mapping/family"},
                   {"loop_order", "/mapping/loop_order"},
                   {"tile_m", "/mapping/tile/m"},
                   {"tile_n", "/mapping/tile/n"},
                   {"tile_k", "/mapping/tile/k"},
                   {"input_passes", "/mapping/dram_passes/input"},
                   {"weight_passes", "/mapping/dram_passes/weight"},
                   {"spill_passes", "/mapping/spill_passes"},
                   {"dram_vs_floor", "/dram_floor/ratio"}};
  k.op_cost = [](const config::Values& params) -> workload::OpCostFn {
    const systolic::SystolicSpec& spec = systolic::systolic_spec_of(params);
    return [spec](const workload::OpGraph&, const workload::Op& op) { return systolic::op_cycles_estimate(op, spec); };
  };
  k.op_energy = [](const config::Values& params, const OpEnergyPrices& prices) -> workload::OpCostFn {
    auto est = std::make_shared<const systolic::OpEnergyEstimate>(systolic::systolic_spec_of(params), prices);
    return [est](const workload::OpGraph& g, const workload::Op& op) { return (*est)(g, op); };
  };
  k.make = [](const BuildContext& ctx) -> std::unique_ptr<Accelerator> {
    systolic::SystolicSpec spec = systolic::systolic_spec_of(ctx.params);  // parsed once, shared with op_cost
    systolic::Buffers(spec).price(ctx.energy);
    return std::make_unique<systolic::SystolicModel>(ctx.name.c_str(), spec, ctx.workload, ctx.stream,
                                                     ctx.dram_device(), ctx.energy, ctx.params, ctx.seed);
  };
  r.add(std::move(k));
}

}  // namespace bpsim
