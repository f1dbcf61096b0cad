#include "models/mesh/mesh_actions.h"

namespace bpsim::mesh {

const MeshActions& mesh_actions() {
  static const MeshActions a;
  return a;
}

memory::OnChipBuffer cluster_sram(const ClusterConfig& c) {
  const MeshActions& A = mesh_actions();
  return {"mesh.sram", c.sram_bytes, A.sram_read, &A.sram_write};
}

}  // namespace bpsim::mesh
