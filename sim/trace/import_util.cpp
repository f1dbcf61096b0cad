#include "sim/trace/import_util.h"

#include <algorithm>

#include "sim/core/error.h"
#include "sim/ir/liveness.h"

namespace bpsim::trace {

uint64_t elem_bytes(workload::DType d) { return std::max(1u, workload::dtype_bits(d) / 8); }

void account_imported_memory(workload::OpGraph& g, const std::string& file) {
  try {
    workload::account_memory(g);  // the liveness walk, as for a built step
  } catch (const InputError& e) {
    throw InputError(Location{file}, "", e.what());
  }
}

}  // namespace bpsim::trace
