#pragma once
/// What one op costs on the array before DRAM timing: mapping, fold timing, mask effect,
/// SRAM traffic and the array's actions, for all `batch` instances. Pure C++ (no SystemC).
#include <cstdint>
#include <random>
#include <vector>

#include "models/systolic/conv_input.h"
#include "models/systolic/fold_core.h"
#include "models/systolic/mapper.h"
#include "models/systolic/sparsity.h"
#include "sim/engine/accelerator.h"
#include "sim/memory/sram.h"

namespace bpsim::systolic {

struct GemmCost {
  FoldMap map;  ///< dense mapping of one instance
  workload::DType dtype = workload::DType::int8;
  unsigned elem_bytes = 1, acc_bytes = 4;
  uint64_t macs = 0, macs_executed = 0, macs_skipped = 0, macs_gated = 0;
  uint64_t macs_zero_weights = 0;   ///< of macs_skipped: reduction steps of zero weight rows (weight_skip: row)
  uint64_t dense_cycles = 0;        ///< fold timing without any skipping
  uint64_t array_cycles = 0;        ///< fold timing of what is scheduled
  uint64_t compute_cycles = 0;      ///< array_cycles, or longer when a buffer's bandwidth cannot feed it
  uint64_t drain_stall_cycles = 0;  ///< the array waiting for a single-buffered output's blocks to drain
  uint64_t masked_outputs = 0, metadata_bytes = 0;
  /// Output rows and columns still scheduled (the largest piece when skipping splits the
  /// GEMM): the operand rows and columns the op cannot do without.
  uint64_t needed_rows = 0, needed_cols = 0;
  ArrayCounts counts;
  uint64_t idle_stage_pe_cycles = 0;  ///< PE-cycles of stages left idle by short reductions (power-gated)
  ConvInputPlan conv_input;           ///< how a conv's input operand reaches the array (one instance)
  Traffic traffic;                    ///< all instances
  Mapping mapping;                    ///< of one instance of the scheduled GEMM
  DramFloor floor;                    ///< all instances, of the dense GEMM
};

/// The array's on-chip SRAM, one memory::OnChipBuffer each, all leaking as "systolic.sram":
/// the input, weight and output buffers (double-buffered: two banks, an access reaches one
/// half, so the half's capacity sets the price; both halves leak) and the controller's 8 KiB
/// mask buffer (its reads are systolic.metadata_read_64b; the mask's arrival is not
/// counted), which leaks only with output sparsity on.
struct Buffers {
  explicit Buffers(const SystolicSpec& s);
  std::vector<memory::OnChipBuffer> operand;  ///< kInput, kWeight, kOutput
  memory::OnChipBuffer mask;
  bool mask_in_use = false;  ///< output sparsity on
  /// Prices every buffer's 64-bit access at its capacity (memory::sram_access_pj).
  void price(EnergyTable& table) const;
  std::vector<LeakingPart> leaking_parts() const;
};

/// Accumulator width: int32 for int8, fp32 otherwise.
unsigned acc_bytes_of(workload::DType d);
/// Throws InputError (no location: ops come from a spec or trace) for dims that cannot map.
void check_gemm_dims(const workload::Op& op);
/// Bytes of one full DRAM pass over each operand of `op` mapped as `f` (mapper.h,
/// PassBytes): where the traffic, the compulsory bytes and the bound take them from. A
/// conv's input under a line buffer (`ci`, conv_input.h) passes over what the buffer reads.
PassBytes op_pass_bytes(const ConvInputPlan& ci, const workload::Op& op, const FoldMap& f, Dataflow df,
                        unsigned elem_bytes);
/// The GEMM form of `op` its DRAM floor is taken of (mapper.h, FloorGemm): a conv under a
/// line buffer loads its distinct ifmap elements, each up to ⌈R/stride⌉·⌈S/stride⌉ of A's.
FloorGemm floor_gemm(const workload::Op& op, const ConvInputPlan& ci, unsigned elem_bytes);
/// The reduction steps (weight rows) of `op` the array still schedules: K, or with a compact
/// weight and weight_skip: row the rows not zero across a whole column fold (expected count).
uint64_t kept_weight_rows(const workload::Op& op, const SystolicSpec& s);
/// `dram_bytes_per_cycle`: the DRAM's peak per array cycle, for mapper objective cycles (0: unknown).
GemmCost cost_gemm(const workload::Op& op, const SystolicSpec& s, std::mt19937_64& rng,
                   double dram_bytes_per_cycle = 0);
/// Counts, bytes and actions of a GEMM cost into `rec` (cycles and DRAM are the shell's);
/// buffer accesses are counted through `b`.
void fill_gemm_record(const GemmCost& c, const SystolicSpec& s, const Buffers& b, OpRecord& rec);
/// Copies into `to` (a fresh record) the fields fill_gemm_record wrote into the fresh record
/// `from`, its extra figures (OpRecord::extra, or a pointer to them: shared_extra) too.
void copy_gemm_fill(const OpRecord& from, OpRecord& to);
/// A mapping as report.json's per-op `extra.mapping` shows it, dimensions named m, n, k.
nlohmann::json mapping_json(const Mapping& m, const SystolicSpec& s);

/// Non-GEMM ops run on a vector unit of `lanes` elements per cycle: one pass over the
/// op's flops (or its elements when it declares none); their tensors stream from DRAM.
uint64_t vector_cycles(const workload::Op& op, unsigned lanes);

/// Ops that run on the array (as their GEMM); the rest run on the vector unit.
bool is_gemm(const workload::Op& op);

/// A vector-unit op's record fields: its MACs, its operands staged through the input and
/// output buffers both ways (`rd` bytes read from DRAM, `wr` written), its lane actions.
void fill_vector_record(const workload::Op& op, uint64_t rd, uint64_t wr, const Buffers& b, OpRecord& rec);

/// The array's cycles for one op without DRAM stalls (GEMMs: the fold timing with the
/// op's mask; other ops: the vector unit), for recompute policies (`cost: accelerator`).
double op_cycles_estimate(const workload::Op& op, const SystolicSpec& s);

/// One op's energy in pJ as the model would count it, for `energy_optimal`: the actions the
/// model counts (fill_gemm_record, fill_vector_record) priced with the run's table, the DRAM
/// bytes the mapping moves as bursts (the GEMM's traffic; a vector op's tensors once each),
/// and the leakage of the array, its buffers and the DRAM over op_cycles_estimate. Left out:
/// DRAM activates and precharges, refresh, and the stall cycles DRAM timing adds.
class OpEnergyEstimate {
 public:
  OpEnergyEstimate(const SystolicSpec& s, const OpEnergyPrices& prices);
  double operator()(const workload::OpGraph& g, const workload::Op& op) const;

 private:
  SystolicSpec m_spec;
  Buffers m_buffers;
  EnergyTable m_table;
  uint64_t m_burst_bytes;
  double m_read_burst_pj, m_write_burst_pj;
  /// Leakage pJ per array cycle of everything but the PEs (buffers, vector lanes, DRAM
  /// background), and of the whole PE array per PE type (index: DType).
  double m_static_pj_per_cycle = 0;
  std::vector<double> m_pe_pj_per_cycle;
};

}  // namespace bpsim::systolic
