// Registers the `pim` accelerator kind.
#include "models/pim/pim_actions.h"
#include "models/pim/pim_model.h"
#include "sim/core/error.h"
#include "sim/memory/dram_system.h"

namespace bpsim {

void register_pim(Registry& r) {
  AcceleratorKind k;
  k.kind = "pim";
  k.description = "DRAM computing in its subarrays: charge-domain XNOR-accumulate, Ambit primitives, SIMDRAM bit-serial arithmetic";
  k.schema = pim::pim_schema();
  k.actions = pim::pim_actions().vocabulary.decls();
  k.leakage = pim::pim_actions().units.decls();
  k.needs_workload = true;
  k.make = [](const BuildContext& ctx) -> std::unique_ptr<Accelerator> {
    auto* dram = dynamic_cast<memory::DramSystem*>(&ctx.memory);
    if (!dram) throw InputError("accelerator.kind: 'pim' needs a DDR memory system (memory: a DDR preset)");
    return std::make_unique<pim::PimModel>(ctx.name.c_str(), pim::parse_pim_spec(ctx.params, dram->spec()),
                                           ctx.workload, ctx.memory, &ctx.params, ctx.seed);
  };
  r.add(std::move(k));
}

}  // namespace bpsim
