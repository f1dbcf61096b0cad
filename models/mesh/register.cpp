// Registers the `mesh` accelerator kind.
#include "models/mesh/mesh_actions.h"
#include "models/mesh/mesh_model.h"
#include "sim/memory/dram_system.h"

namespace bpsim {

void register_mesh(Registry& r) {
  AcceleratorKind k;
  k.kind = "mesh";
  k.idle_words = "the clusters are mostly idle";  // peak_macs_per_cycle counts them
  k.description = "X×Y processor clusters on a coordinate-routed message mesh (training or synthetic traffic)";
  k.schema = mesh::mesh_schema();
  k.actions = mesh::mesh_actions().vocabulary.decls();
  k.leakage = mesh::mesh_actions().units.decls();
  k.needs_workload = false;       // synthetic mode runs without one
  k.memory = MemoryUse::per_run;  // a training step spills to DRAM what its clusters cannot hold
  k.make = [](const BuildContext& ctx) -> std::unique_ptr<Accelerator> {
    mesh::MeshSpec spec = mesh::parse_mesh_spec(ctx.params);
    // Cluster SRAM at cluster.sram_kib, as every model's SRAM; synthetic traffic uses none.
    if (spec.mode == mesh::Mode::training) mesh::cluster_sram(spec.cluster).price(ctx.energy);
    memory::DramSystem* dram = spec.mode == mesh::Mode::training ? &ctx.dram_device() : nullptr;
    return std::make_unique<mesh::MeshModel>(ctx.name.c_str(), std::move(spec), ctx.workload, ctx.params, ctx.seed,
                                             dram);
  };
  r.add(std::move(k));
}

}  // namespace bpsim
