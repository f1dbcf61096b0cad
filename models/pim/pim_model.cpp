#include "models/pim/pim_model.h"

#include <algorithm>
#include <cmath>

#include "models/pim/pim_actions.h"
#include "sim/core/error.h"

namespace bpsim::pim {

PimModel::PimModel(sc_core::sc_module_name name, PimSpec spec, std::shared_ptr<const workload::OpGraph> graph,
                   memory::MemorySystem& mem, const config::Values* where, uint64_t seed)
    : OpRunner(name, &mem),
      m_spec(std::move(spec)),
      m_graph(graph),
      m_mem(mem),
      m_mapper(m_spec, where),
      m_rtl_rng(seed) {
  if (!m_graph) throw InputError("accelerator 'pim' needs a 'workload:' section");
  take_ops(std::move(graph), nullptr);  // maps every op: all that cannot be mapped in one message
  // The column runs charge-domain accumulates only: a step without one (a bit-serial readout,
  // bitwise ops alone) would report the model's figures as if the RTL had checked them.
  if (m_spec.rtl_backend && !m_any_accumulate)
    throw InputError(
        "accelerator.backend: rtl runs the step's charge-domain XNOR-accumulates on the Verilated column, and "
        "this step has none (a bit-serial readout counts with bit-serial adds; bitwise ops share no charge): set "
        "accelerator.readout: charge, or backend: model");
  if (m_spec.rtl_backend) m_rtl = make_rtl_column("rtl_column", m_spec.ddr.tck_ns * 1000.0);
  register_stats();
}

void PimModel::check_op(const workload::Op& op) {
  // Real-valued layers run on the host as dense GEMMs (a roofline): a compact weight's skipped
  // zeros would be priced as if multiplied, so it is refused rather than approximated.
  if (op.weight_density < 1)
    throw InputError("workload: op '" + op.name + "' of layer '" + op.layer +
                     "' reads a compact weight (weight_format csr, bitmap or triplet); the pim model runs real-valued "
                     "layers on its host as dense GEMMs and models no sparse kernel: use weight_format: dense");
  m_plans.push_back(m_mapper.map(op, *m_graph));
  if (!m_spec.rtl_backend) return;
  // backend: rtl runs every accumulate on the column, one clocked pass per 64 rows: bound the
  // simulated passes of one op so that a large step is refused up front, not left to run for hours.
  uint64_t passes = 0;
  for (const Job& j : m_plans.back().jobs)
    if (j.acc_rows) passes += j.count * j.acc_times * ((j.acc_rows + RtlColumn::kLanes - 1) / RtlColumn::kLanes);
  m_any_accumulate = m_any_accumulate || passes > 0;
  if (passes > kMaxRtlPasses)
    throw InputError("accelerator.backend: rtl runs every XNOR-accumulate on the Verilated column; op '" + op.name +
                     "' needs " + std::to_string(passes) + " column passes (at most " + std::to_string(kMaxRtlPasses) +
                     "): use a smaller step (batch, layer widths) or backend: model");
}

OpPlan PimModel::on_rtl(const OpPlan& plan) {
  OpPlan p = plan;
  const Primitives prim(m_spec);
  for (Job& j : p.jobs) {
    if (j.acc_rows == 0) continue;
    // Every accumulate of the job, each on its own seeded operands: the column's popcount
    // and (one pass) its comparison are checked against plain arithmetic, and its step
    // count, the same for every accumulate of j.acc_rows rows, times the job.
    const uint64_t n = j.count * j.acc_times;
    const uint32_t threshold = static_cast<uint32_t>(std::min<uint64_t>(j.acc_rows, RtlColumn::kLanes) / 2);
    uint64_t steps = 0;
    std::vector<bool> x(j.acc_rows), w(j.acc_rows);
    for (uint64_t a = 0; a < n; ++a) {
      uint64_t expect = 0;
      for (uint64_t i = 0; i < j.acc_rows; ++i) {
        x[i] = m_rtl_rng() & 1;
        w[i] = m_rtl_rng() & 1;
        expect += x[i] == w[i];  // XNOR: a weight 1 keeps x, a weight 0 takes ¬x
      }
      const RtlAccumulate r = m_rtl->accumulate(x, w, threshold, false);
      const bool sign_ok = r.passes > 1 || r.last_sign == (expect >= threshold);
      if (r.count != expect || !sign_ok || (a > 0 && r.step_cycles != steps)) ++m_rtl_mismatches;
      steps = std::max(steps, r.step_cycles);
      ++m_rtl_accumulates;
      m_rtl_passes += r.passes;
      m_rtl_step_cycles += r.step_cycles;
      m_model_steps += prim.xnor_accumulate(j.acc_rows).shares;
    }
    j.seq = prim.xnor_accumulate(j.acc_rows, steps) * j.acc_times;
  }
  return p;
}

void PimModel::run_op(const workload::Op& op, OpRecord& r) {
  const OpPlan& model_plan = m_plans.at(m_next_plan++);
  const uint64_t start_ps = static_cast<uint64_t>(std::llround(sc_core::sc_time_stamp().to_seconds() * 1e12));
  const OpPlan rtl_plan = m_rtl ? on_rtl(model_plan) : OpPlan{};  // the RTL runs in simulated time
  const OpPlan& plan = m_rtl ? rtl_plan : model_plan;
  const Core core(m_spec);
  Seq total;
  const uint64_t compute = core.run(plan, &total);
  // Host/controller traffic through the DRAM model, one transfer after another, each at
  // the placed address of the tensor it moves.
  const double tck_ps = m_spec.ddr.tck_ns * 1000.0;
  uint64_t t_ps = start_ps, rd = 0, wr = 0;
  for (const Transfer& x : plan.transfers) {
    if (x.bytes == 0) continue;
    const uint64_t addr = x.tensor == Transfer::kNoTensor ? kScratchAddr : tensor_addr(x.tensor);
    t_ps = m_mem.transfer(addr, x.bytes, x.is_write, t_ps);
    (x.is_write ? wr : rd) += x.bytes;
  }
  const uint64_t transfer = static_cast<uint64_t>(std::ceil((t_ps - start_ps) / tck_ps - 1e-9));
  // A host op is a roofline: its arithmetic overlaps its own traffic.
  const uint64_t host =
      plan.host_work ? static_cast<uint64_t>(
                           std::ceil(double(2 * op.macs + op.flops) / (2.0 * m_spec.host_macs_per_cycle()) - 1e-9))
                     : 0;

  r.cycles = compute + std::max(transfer, host);
  // Cycles the op's arithmetic (command sequences in DRAM, the host's MACs) waits for the
  // DRAM interface: the transfers not overlapped by host arithmetic.
  r.stall_cycles = std::max(transfer, host) - host;
  r.macs = r.macs_executed = op.macs;                                      // in DRAM, or on the host
  if (plan.host_work) r.compulsory_read_bytes = plan.baseline_read_bytes;  // every operand, over the bus
  r.actions = Core::actions(total);  // the shell adds the memory's, and the DRAM bytes (rd, wr)
  const double bw = m_mem.peak_bytes_per_s();
  const uint64_t base_bytes = plan.baseline_read_bytes + plan.baseline_write_bytes;
  r.extra = {{"host_work", plan.host_work},
             {"commands",
              {{"act", total.acts},
               {"pre", total.pres},
               {"aap", total.aap},
               {"ap", total.ap},
               {"tra", total.tra},
               {"charge_shares", total.shares},
               {"senses", total.senses},
               {"psm_rows", total.psm},
               {"psm_bursts", total.bursts}}},
             {"row_activations", total.acts},
             {"extra_rows", total.extra_rows},
             {"compute_cycles", compute},
             {"transfer_cycles", transfer},
             {"host_cycles", host},
             {"lanes_used", plan.lanes_used},
             {"lane_utilization", plan.lane_utilization},
             {"slices", plan.slices},
             {"tiles", plan.tiles},
             {"interface_bytes", rd + wr},
             {"host_baseline",
              {{"read_bytes", plan.baseline_read_bytes},
               {"write_bytes", plan.baseline_write_bytes},
               {"bus_cycles", static_cast<uint64_t>(std::ceil(base_bytes / bw * 1e9 / m_spec.ddr.tck_ns))}}}};
  if (!plan.mapping.empty())
    r.extra["forward"] = {{"mapping", plan.mapping},
                          {"why", plan.mapping_reason},
                          {"readout", plan.readout},
                          {"rows_per_sense", plan.rows_per_sense},
                          {"sense_error_rate", plan.sense_error},
                          {"integer_readout", plan.integer_readout}};
  m_total += total;
  m_compute_cycles += compute;
  m_transfer_cycles += transfer;
  m_host_ops += plan.host_work;
  m_baseline_read += plan.baseline_read_bytes;
  m_baseline_write += plan.baseline_write_bytes;
  m_if_read += rd;
  m_if_write += wr;
  if (!plan.host_work) {
    PhaseBytes& pb = phase_bytes(r.phase);
    ++pb.dram_ops;
    pb.interface += rd + wr;
    pb.host += base_bytes;
  }
}

std::vector<LeakingPart> PimModel::leaking_parts() const {
  // The device computes in its subarrays: its kind declares MemoryUse::dram (the background
  // leaks for the whole run), and the compute additions are declared so that the table
  // states their figure. It has no on-chip SRAM, so no memory::OnChipBuffer:
  // operands stay in the DRAM rows and the host's transfers cross the interface directly.
  return {{"pim", pim_actions().logic}};
}

void PimModel::register_stats() {
  StatGroup& g = m_stats;
  g.formula(
      "cycles", [this] { return total_cycles(); }, "simulated DRAM cycles (tCK) of the step");
  g.add("compute_cycles", m_compute_cycles, "cycles of in-DRAM command sequences");
  g.add("transfer_cycles", m_transfer_cycles, "cycles of host/controller traffic over the DRAM interface");
  g.add("host_ops", m_host_ops, "ops run on the host (traffic only)");
  if (m_rtl) {
    g.add("rtl_accumulates", m_rtl_accumulates, "XNOR-accumulates run on the Verilated column (every one of the step)");
    g.add("rtl_passes", m_rtl_passes, "64-row passes of the column");
    g.add("rtl_step_cycles", m_rtl_step_cycles, "charge-sharing step cycles the column took");
    g.add("model_step_cycles", m_model_steps,
          "steps the model's formula gives for the same accumulates (⌈rows/16⌉ each)");
    g.add("rtl_count_mismatches", m_rtl_mismatches,
          "accumulates whose RTL popcount or one-pass sign differs from arithmetic, or whose steps differ from "
          "their job's (0)");
  }
  StatGroup& c = g.child("commands");
  c.add("act", m_total.acts, "ACT commands of in-DRAM compute");
  c.add("pre", m_total.pres, "PRE commands of in-DRAM compute");
  c.add("aap", m_total.aap, "ACT-ACT-PRE primitives");
  c.add("ap", m_total.ap, "ACT-PRE primitives");
  c.add("tra", m_total.tra, "triple-row activations (majority)");
  c.add("charge_shares", m_total.shares, "charge-sharing steps of XNOR-accumulates");
  c.add("senses", m_total.senses, "offset-voltage comparisons");
  c.add("psm_rows", m_total.psm, "rows copied between subarrays (RowClone-PSM)");
  c.add("psm_bursts", m_total.bursts, "internal bursts of RowClone-PSM copies");
  c.add("extra_rows", m_total.extra_rows, "wordlines raised beyond one per ACT");
  StatGroup& b = g.child("interface");
  b.add("read_bytes", m_if_read, "bytes read over the DRAM interface (host work, weight bits, transposition)");
  b.add("write_bytes", m_if_write, "bytes written over the DRAM interface");
  b.add("host_baseline_read_bytes", m_baseline_read, "bytes a host computing every op would read over the bus");
  b.add("host_baseline_write_bytes", m_baseline_write, "bytes a host computing every op would write over the bus");
  g.child("in_dram_by_phase");  // present, and empty, when no op computes in DRAM
}

PimModel::PhaseBytes& PimModel::phase_bytes(const std::string& phase) {
  auto [it, fresh] = m_phase_bytes.try_emplace(phase);
  PhaseBytes& pb = it->second;  // a map node: the registered references stay valid
  if (fresh) {
    StatGroup& x = m_stats.child("in_dram_by_phase").child(phase);
    x.add("ops", pb.dram_ops, "ops of this phase computed in DRAM");
    x.add("interface_bytes", pb.interface, "bytes those ops move over the DRAM interface");
    x.add("host_bytes", pb.host, "bytes a host computing those ops would move over the bus");
  }
  return pb;
}

}  // namespace bpsim::pim
