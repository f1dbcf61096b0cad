#include "models/mesh/mesh_actions.h"

namespace bpsim::mesh {

const MeshActions& mesh_actions() {
  static const MeshActions a;
  return a;
}

}  // namespace bpsim::mesh
