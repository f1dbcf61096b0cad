#pragma once
/// The pim accelerator's model in the framework's shell (sim/engine/op_runner.h): per op it
/// times the op's command sequences in plain C++ (mapper + core) and moves its
/// host/controller traffic through the memory system's bulk path; the shell waits once for
/// the whole op.
#include <map>
#include <memory>
#include <random>
#include <vector>

#include <systemc>

#include "models/pim/core.h"
#include "models/pim/mapper.h"
#include "models/pim/rtl_column.h"
#include "sim/engine/op_runner.h"
#include "sim/memory/memory_system.h"

namespace bpsim::pim {

class PimModel : public OpRunner {
 public:
  /// Maps every op at construction, so that input errors surface before elaboration ends.
  PimModel(sc_core::sc_module_name name, PimSpec spec, std::shared_ptr<const workload::OpGraph> graph,
           memory::MemorySystem& mem, const config::Values* where, uint64_t seed = 1);
  double clock_ghz() const override { return m_spec.clock_ghz(); }
  /// Every unit's lanes accumulating max_rows_per_step rows each cycle (a loose upper
  /// bound: a step takes many cycles), plus the host's rate.
  double peak_macs_per_cycle() const override {
    return double(m_spec.units_total()) * double(m_spec.lanes) * m_spec.max_rows_per_step +
           m_spec.host_macs_per_cycle();
  }
  std::vector<LeakingPart> leaking_parts() const override;
  const std::vector<OpPlan>& plans() const { return m_plans; }

 private:
  /// Maps the op (the plan run_op replays).
  void check_op(const workload::Op& op) override;
  void run_op(const workload::Op& op, OpRecord& rec) override;
  /// The model's counters into m_stats, once (the RTL column's with backend: rtl).
  void register_stats();
  /// backend: rtl — the plan with each XNOR-accumulate job's steps measured on the RTL
  /// column: every accumulate of the job runs on it with seeded operands.
  OpPlan on_rtl(const OpPlan& plan);
  /// backend: rtl refuses an op needing more column passes than this (about a minute of wall time).
  static constexpr uint64_t kMaxRtlPasses = 4'000'000;
  PimSpec m_spec;
  std::shared_ptr<const workload::OpGraph> m_graph;
  memory::MemorySystem& m_mem;
  Mapper m_mapper;
  std::vector<OpPlan> m_plans;
  size_t m_next_plan = 0;  ///< the plan of the op run_op meets next
  Seq m_total;
  uint64_t m_compute_cycles = 0, m_transfer_cycles = 0, m_host_ops = 0;
  uint64_t m_baseline_read = 0, m_baseline_write = 0, m_if_read = 0, m_if_write = 0;
  /// Per phase, ops computed in DRAM only: interface bytes and a host's bus bytes.
  struct PhaseBytes {
    uint64_t dram_ops = 0, interface = 0, host = 0;
  };
  std::map<std::string, PhaseBytes> m_phase_bytes;
  /// A phase's figures, registered in m_stats when its first in-DRAM op runs.
  PhaseBytes& phase_bytes(const std::string& phase);
  std::unique_ptr<RtlColumn> m_rtl;  ///< backend: rtl
  std::mt19937_64 m_rtl_rng;
  bool m_any_accumulate = false;  ///< a planned op has an XNOR-accumulate (what backend: rtl runs)
  uint64_t m_rtl_accumulates = 0, m_rtl_passes = 0, m_rtl_step_cycles = 0, m_model_steps = 0, m_rtl_mismatches = 0;
};

}  // namespace bpsim::pim
