// Registers the `pim` accelerator kind.
#include "models/pim/pim_actions.h"
#include "models/pim/pim_model.h"
#include "sim/memory/dram_system.h"

namespace bpsim {

void register_pim(Registry& r) {
  AcceleratorKind k;
  k.kind = "pim";
  k.idle_words = "the compute subarrays are mostly idle";  // peak_macs_per_cycle counts them
  k.description =
      "DRAM computing in its subarrays: charge-domain XNOR-accumulate, Ambit primitives, SIMDRAM bit-serial arithmetic";
  k.schema = pim::pim_schema();
  k.actions = pim::pim_actions().vocabulary.decls();
  k.leakage = pim::pim_actions().units.decls();
  k.needs_workload = true;
  k.memory = MemoryUse::dram;  // it computes inside the DRAM device and times its commands
  k.make = [](const BuildContext& ctx) -> std::unique_ptr<Accelerator> {
    memory::DramSystem& dram = ctx.dram_device();
    return std::make_unique<pim::PimModel>(ctx.name.c_str(), pim::parse_pim_spec(ctx.params, dram.spec()), ctx.workload,
                                           dram, &ctx.params, ctx.seed);
  };
  r.add(std::move(k));
}

}  // namespace bpsim
