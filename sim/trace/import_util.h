#pragma once
/// Pieces the importers of other tools' formats (SCALE-Sim, Chakra) share.
#include <cstdint>
#include <string>

#include "sim/ir/ir.h"

namespace bpsim::trace {

using workload::add_tensor;  // sim/ir/ir.h

/// Bytes per element of `d`, at least 1 (binary operands are stored a byte each here).
uint64_t elem_bytes(workload::DType d);

/// workload::account_memory of an imported graph; its errors (bytes live at once that
/// overflow 64 bits) name `file`.
void account_imported_memory(workload::OpGraph& g, const std::string& file);

}  // namespace bpsim::trace
