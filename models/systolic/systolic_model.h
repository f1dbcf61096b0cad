#pragma once
/// The systolic array's model in the framework's shell (sim/engine/op_runner.h), which runs
/// the ops one by one (from a graph, or from a trace as it is read): per op it asks the
/// core for the fold timing and moves the op's operand bytes through the memory system
/// (double buffering overlaps the next folds' loads with compute).
#include <array>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include <systemc>

#include "models/systolic/op_cost.h"
#include "models/systolic/rtl_array.h"
#include "models/systolic/systolic_params.h"
#include "sim/engine/op_runner.h"

namespace bpsim::systolic {

class SystolicModel : public OpRunner {
 public:
  /// What cost_gemm reads of an op: its shape and, with output sparsity on, its resolved
  /// mask (cost_and_fill's memo key).
  using ShapeKey = std::array<uint64_t, 24>;
  /// Runs `graph`, validated against the array (dims, tile fit) before elaboration ends,
  /// or, when it is null, `stream`, whose ops are validated as they arrive.
  SystolicModel(sc_core::sc_module_name name, SystolicSpec spec, std::shared_ptr<const workload::OpGraph> graph,
                std::shared_ptr<workload::OpStream> stream, memory::MemorySystem& mem, const EnergyTable& energy,
                const config::Values& where, uint64_t seed);
  double clock_ghz() const override { return m_spec.clock_ghz; }
  /// One MAC per PE per cycle (stages split the rows, they add no PEs).
  double peak_macs_per_cycle() const override { return double(m_spec.rows) * m_spec.cols; }
  std::vector<LeakingPart> leaking_parts() const override;

 private:
  /// The array's counters into m_stats, once (bound by reference; the RTL's with backend: rtl).
  void register_stats();
  /// Dims and tile fit; an InputError naming `sram` when the op's tiles do not fit.
  void check_op(const workload::Op& op) override;
  std::set<workload::DType> m_fit_checked;    ///< dtypes whose tiles were checked against the buffers
  std::set<workload::DType> m_dtype_refused;  ///< op dtypes the array's type cannot hold (refused once each)
  void run_op(const workload::Op& op, OpRecord& rec) override;
  void run_gemm(const workload::Op& op, OpRecord& rec);
  /// The op's GemmCost (cost_gemm, with the RTL's cycles under backend: rtl) with its
  /// record filled (fill_gemm_record); costed once per shape where that is exact (m_memo,
  /// with run.reuse on).
  const GemmCost& cost_and_fill(const workload::Op& op, OpRecord& rec);
  /// backend: rtl — runs every instance of the GEMM on the array; returns its cycles.
  /// `masked_cols` output columns are masked (gate, column granularity): the bitmap's
  /// unneeded columns, or that many seeded positions.
  /// Bytes of input and weight the GEMM needs from DRAM at least once (compute dtype).
  uint64_t compulsory_operand_bytes(const workload::Op& op, const GemmCost& c) const;
  uint64_t rtl_gemm_cycles(const workload::Op& op, uint64_t masked_cols);
  void run_vector(const workload::Op& op, OpRecord& rec);
  uint64_t addr_of(const workload::Op& op, bool write, size_t i) const;
  /// Moves `bytes` starting at `addr`, issued at `issue_ps`; returns completion (ps).
  uint64_t move(uint64_t addr, uint64_t bytes, bool write, uint64_t issue_ps);
  /// The op's cycles from its end time, its stalls and utilisation; advances the clock.
  /// `busy_cycles`: the cycles of compute_cycles the array (or the vector lanes) computed;
  /// the rest of the op's cycles are its stall_cycles.
  void close(OpRecord& rec, uint64_t t0_ps, uint64_t end_ps, uint64_t compute_cycles, uint64_t busy_cycles);

  static constexpr uint64_t kMetaAddr = uint64_t(1) << 40;  ///< mask metadata region, far from tensors (below scratch)

  SystolicSpec m_spec;
  Buffers m_buffers;           ///< counts and leakage; register.cpp prices them
  workload::DType m_pe_dtype;  ///< what the PEs are built for (the widest op type with dtype: workload)
  memory::MemorySystem& m_mem;
  const EnergyTable& m_energy;
  const config::Values& m_where;
  std::mt19937_64 m_rng;
  double m_period_ps = 1000.0;
  uint64_t m_now_ps = 0;
  uint64_t m_stall_cycles = 0, m_cycles_saved = 0, m_metadata_bytes = 0, m_spill_bytes = 0;
  uint64_t m_drain_stall_cycles = 0;    ///< single-buffered outputs draining (GemmCost::drain_stall_cycles)
  uint64_t m_idle_stage_pe_cycles = 0;  ///< stages > 1: PE-cycles of idle stages
  std::array<OperandBytes, 3> m_operand{};
  /// A shape's cost and the record fields fill_gemm_record wrote for it (cost_and_fill).
  struct Costed {
    GemmCost cost;
    OpRecord fill;
  };
  std::map<ShapeKey, Costed> m_memo;
  GemmCost m_scratch;               ///< the cost of an op not memoised
  std::unique_ptr<RtlArray> m_rtl;  ///< backend: rtl
  std::mt19937_64 m_rtl_rng;        ///< operand values for the RTL (its own stream)
  uint64_t m_rtl_folds = 0;
  uint64_t m_rtl_masked_toggles = 0, m_rtl_masked_samples = 0;  ///< masked PEs' multiplier inputs
};

}  // namespace bpsim::systolic
