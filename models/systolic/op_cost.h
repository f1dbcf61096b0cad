#pragma once
/// What one op costs on the array before DRAM timing: mapping, fold timing, mask effect,
/// SRAM traffic and the array's actions, for all `batch` instances. Pure C++ (no SystemC).
#include <cstdint>
#include <random>

#include "models/systolic/fold_core.h"
#include "models/systolic/mapper.h"
#include "models/systolic/sparsity.h"
#include "sim/engine/accelerator.h"

namespace bpsim::systolic {

struct GemmCost {
  FoldMap map;  ///< dense mapping of one instance
  workload::DType dtype = workload::DType::int8;
  unsigned elem_bytes = 1, acc_bytes = 4;
  uint64_t macs = 0, macs_executed = 0, macs_skipped = 0, macs_gated = 0;
  uint64_t dense_cycles = 0;    ///< fold timing without any skipping
  uint64_t array_cycles = 0;    ///< fold timing of what is scheduled
  uint64_t compute_cycles = 0;  ///< array_cycles, or longer when a buffer's bandwidth cannot feed it
  uint64_t masked_outputs = 0, metadata_bytes = 0;
  /// Output rows and columns still scheduled (the largest piece when skipping splits the
  /// GEMM): the operand rows and columns the op cannot do without.
  uint64_t needed_rows = 0, needed_cols = 0;
  ArrayCounts counts;
  Traffic traffic;  ///< all instances
};

/// Accumulator width: int32 for int8, fp32 otherwise.
unsigned acc_bytes_of(workload::DType d);
/// Throws InputError (no location: ops come from a spec or trace) for dims that cannot map.
void check_gemm_dims(const workload::Op& op);
GemmCost cost_gemm(const workload::Op& op, const SystolicSpec& s, std::mt19937_64& rng);
/// Counts, bytes and actions of a GEMM cost into `rec` (cycles and DRAM are the shell's).
void fill_gemm_record(const GemmCost& c, const SystolicSpec& s, OpRecord& rec);

/// Non-GEMM ops run on a vector unit of `lanes` elements per cycle: one pass over the
/// op's flops (or its elements when it declares none); their tensors stream from DRAM.
uint64_t vector_cycles(const workload::Op& op, unsigned lanes);

/// Ops that run on the array (as their GEMM); the rest run on the vector unit.
bool is_gemm(const workload::Op& op);

/// The array's cycles for one op without DRAM stalls (GEMMs: the fold timing with the
/// op's mask; other ops: the vector unit), for recompute policies (`cost: accelerator`).
double op_cycles_estimate(const workload::Op& op, const SystolicSpec& s);

/// Prices each operand buffer's 64-bit access at its own capacity (interpolated from the
/// table's SRAM points, memory::sram_access_pj). With double buffering an access reaches
/// one half, so the half's capacity sets the price.
void price_buffers(EnergyTable& table, const SystolicSpec& s);

}  // namespace bpsim::systolic
