#include "models/systolic/systolic_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "models/systolic/systolic_actions.h"
#include "sim/core/error.h"
#include "sim/memory/memory_system.h"
#include "sim/memory/sram.h"

namespace bpsim::systolic {

SystolicModel::SystolicModel(sc_core::sc_module_name name, SystolicSpec spec,
                             std::shared_ptr<const workload::OpGraph> graph, std::shared_ptr<workload::OpStream> stream,
                             memory::MemorySystem& mem, const EnergyTable& energy, const config::Values& where,
                             uint64_t seed)
    : OpRunner(name, &mem),
      m_spec(spec),
      m_buffers(m_spec),
      m_mem(mem),
      m_energy(energy),
      m_where(where),
      m_rng(seed),
      m_rtl_rng(seed ^ 0x9e3779b97f4a7c15ull) {
  m_period_ps = 1000.0 / m_spec.clock_ghz;
  // With dtype: workload the array must compute every op's type: its PEs are as wide as the
  // widest GEMM type of the graph (the graph's type when it has none); a streamed trace is
  // not known ahead, so fp32, the widest.
  m_pe_dtype = m_spec.dtype_from_workload ? workload::DType::fp32 : m_spec.dtype;
  if (!graph && !stream) throw InputError("accelerator 'systolic' needs a 'workload:' section");
  if (graph) {
    std::optional<workload::DType> widest;
    for (const workload::Op& op : graph->ops) {
      const workload::DType d = m_spec.compute_dtype(op.dtype);
      if (is_gemm(op) && (!widest || workload::dtype_bits(d) > workload::dtype_bits(*widest))) widest = d;
    }
    if (m_spec.dtype_from_workload) m_pe_dtype = widest.value_or(m_spec.compute_dtype(graph->dtype));
  }
  take_ops(std::move(graph), std::move(stream));
  if (m_spec.rtl_backend) m_rtl = make_rtl_array("rtl_array", m_spec.rows, m_spec.cols, m_spec.stages, m_period_ps);
  register_stats();
}

void SystolicModel::check_op(const workload::Op& op) {
  if (!is_gemm(op)) return;
  check_gemm_dims(op);
  if (op.kind == workload::OpKind::conv && op.weight_density < 1 && m_spec.weight_skip == WeightSkip::row)
    throw m_where.error("weight_skip",
                        "op '" + op.name +
                            "': row skipping of a compact conv weight is not modelled (the line "
                            "buffer builds each window's whole K column); use weight_skip: off for conv layers");
  const std::string refusal = m_spec.dtype_refusal(op.dtype);
  if (!refusal.empty()) {
    // Once per type: every op of that type is refused for the same reason.
    if (m_dtype_refused.insert(op.dtype).second) throw m_where.error("dtype", "op '" + op.name + "': " + refusal);
    return;
  }
  const workload::DType d = m_spec.compute_dtype(op.dtype);
  if (!m_fit_checked.insert(d).second) return;  // the buffers' fit depends on the dtype alone
  const std::string msg = check_tile_fit(m_spec, std::max(1u, workload::dtype_bits(d) / 8), acc_bytes_of(d));
  if (!msg.empty()) throw m_where.error("sram", msg + " (" + workload::to_string(d) + ", op '" + op.name + "')");
}

uint64_t SystolicModel::addr_of(const workload::Op& op, bool write, size_t i) const {
  const std::vector<uint32_t>& ids = write ? op.writes : op.reads;
  if (i < ids.size()) return tensor_addr(ids[i]);
  return kScratchAddr;  // an operand the op does not name
}

uint64_t SystolicModel::move(uint64_t addr, uint64_t bytes, bool write, uint64_t issue_ps) {
  return bytes ? m_mem.transfer(addr, bytes, write, issue_ps) : issue_ps;
}

void SystolicModel::run_op(const workload::Op& op, OpRecord& rec) {
  if (is_gemm(op)) run_gemm(op, rec);
  else run_vector(op, rec);
}

namespace {
/// Every field of an op that cost_gemm reads: kind, phase (a conv's input view), dtype, the
/// GEMM's and the conv's dims (the name only goes into errors, which a shape seen before
/// cannot raise) and the mask resolve_mask makes of the op's out_mask and the spec (off: the
/// defaults). A mask with a bitmap or one that draws from the RNG never gets here. A field
/// added to Op, GemmDims, ConvShape or OutputMask fails "[reuse]"'s size check until it is
/// either put here (cost_gemm reads it) or found not to matter.
SystolicModel::ShapeKey shape_key(const workload::Op& op, const MaskSpec& mask) {
  const workload::GemmDims& g = op.gemm;
  const workload::ConvShape& c = op.conv;
  uint64_t density = 0;
  static_assert(sizeof density == sizeof mask.density);
  std::memcpy(&density, &mask.density, sizeof density);  // the bits: equal keys, equal doubles
  return {uint64_t(op.kind),
          uint64_t(op.phase),
          uint64_t(op.dtype),
          g.m,
          g.n,
          g.k,
          g.batch,
          c.n,
          c.c,
          c.h,
          c.w,
          c.k,
          c.r,
          c.s,
          c.stride,
          c.pad,
          c.groups,
          c.p,
          c.q,
          uint64_t(mask.active),
          uint64_t(mask.nm),
          density,
          mask.n,
          mask.m};
}
/// Whether apply_mask draws from the model's RNG for this mask: a random pattern at element
/// or tile granularity (a bitmap, N:M, row and column masks are exact). Costing such an op
/// again moves every later draw, so its cost is never reused.
bool mask_draws(const MaskSpec& k, const SparsityConfig& cfg) {
  return k.active && !k.bitmap && !k.nm &&
         (cfg.granularity == Granularity::element || cfg.granularity == Granularity::tile);
}
/// Shapes remembered at most: a trace of ever new shapes keeps its memory flat (the rest are costed afresh).
constexpr size_t kMemoShapes = 4096;
}  // namespace

const GemmCost& SystolicModel::cost_and_fill(const workload::Op& op, OpRecord& rec) {
  // The DRAM's peak and the spec are fixed for the run.
  const double dram_per_cycle = m_mem.peak_bytes_per_s() / (m_spec.clock_ghz * 1e9);
  // cost_gemm and fill_gemm_record are pure functions of the op's shape, its resolved mask
  // and the spec, except where a mask is drawn from m_rng (a random pattern at element or
  // tile granularity: skipping a draw would move every later one), where a bitmap decides
  // (its bits are not in the key) or where the RTL replaces the cycles (drawing its operands
  // from m_rtl_rng). Elsewhere, with run.reuse on, a shape's cost and record fields are kept
  // and reused: the same bits as costing it again, so the reports cannot differ (a trace
  // repeats its layers' shapes; "[systolic][memo]" and scripts/reuse_check.py run both ways).
  // The DRAM transfers that follow are always simulated: their timing and the refreshes
  // charged depend on the memory's state (channels' queues, elapsed time), not on the op.
  const MaskSpec mask = m_spec.sparsity.mode == SparsityMode::off ? MaskSpec{} : resolve_mask(op, m_spec.sparsity);
  // A compact weight's density and index bytes are not in the key either: such ops are costed.
  const bool memo = reuse() && !m_rtl && !mask.bitmap && !mask_draws(mask, m_spec.sparsity) && rec.actions.empty() &&
                    rec.extra.empty() && op.weight_density >= 1 && op.weight_index_bytes == 0;
  if (memo) {
    ++m_reuse_stats.eligible;
    const ShapeKey key = shape_key(op, mask);
    auto it = m_memo.find(key);
    if (it != m_memo.end()) ++m_reuse_stats.reused;
    if (it == m_memo.end() && m_memo.size() < kMemoShapes) {
      Costed e{cost_gemm(op, m_spec, m_rng, dram_per_cycle), OpRecord{}};
      fill_gemm_record(e.cost, m_spec, m_buffers, e.fill);
      // Every op of the shape points at one copy of its extra figures (close() adds the
      // op's own, stall_cycles and utilisation, to rec.extra: other keys).
      e.fill.shared_extra = std::make_shared<const nlohmann::json>(std::move(e.fill.extra));
      e.fill.extra = nlohmann::json::object();
      it = m_memo.emplace(key, std::move(e)).first;
    }
    if (it != m_memo.end()) {
      copy_gemm_fill(it->second.fill, rec);
      return it->second.cost;
    }
  }
  GemmCost& c = m_scratch;
  c = cost_gemm(op, m_spec, m_rng, dram_per_cycle);
  if (m_rtl) {
    // The RTL's cycles replace the fold core's (equal for supported configs: the
    // lockstep test); a buffer-bandwidth stall the core added on top is kept.
    const uint64_t per_col = op.gemm.m * op.gemm.batch;  // column granularity: a masked column's outputs
    const uint64_t rtl = rtl_gemm_cycles(op, per_col ? c.masked_outputs / per_col : 0);
    c.compute_cycles = c.compute_cycles - c.array_cycles + rtl;
    c.array_cycles = c.dense_cycles = rtl;
  }
  fill_gemm_record(c, m_spec, m_buffers, rec);
  return c;
}

void SystolicModel::run_gemm(const workload::Op& op, OpRecord& rec) {
  const GemmCost& c = cost_and_fill(op, rec);
  const uint64_t t0 = m_now_ps;
  const Traffic& tr = c.traffic;
  // Operand addresses: reads[0] input, reads[1] weight, writes[0] output.
  const uint64_t addr[3] = {addr_of(op, false, 0), addr_of(op, false, 1), addr_of(op, true, 0)};
  const uint64_t compute_ps = uint64_t(std::llround(double(c.compute_cycles) * m_period_ps));
  // Operands beyond input and weight (a bias) are read whole before the folds.
  uint64_t t_in = t0;
  for (size_t i = 2; i < op.reads.size(); ++i) {
    const uint64_t b = tensor_bytes(op.reads[i]);
    t_in = move(addr_of(op, false, i), b, false, t_in);
    rec.compulsory_read_bytes += b;
  }
  rec.compulsory_read_bytes += compulsory_operand_bytes(op, c);
  uint64_t end = 0;
  if (m_spec.sram.double_buffer) {
    // The first fold's tiles (and the mask) arrive before it starts; the rest stream in
    // and the outputs stream out while folds run; the last fold's outputs leave after it.
    uint64_t first = std::min(tr.first_fold_read_bytes, tr.dram_read());
    uint64_t t_first = move(kMetaAddr, c.metadata_bytes, false, t_in);
    uint64_t reads_end = t_first;
    for (int o = 0; o < 3; ++o) {
      const uint64_t take = std::min(first, tr.op[size_t(o)].dram_read);
      t_first = move(addr[o], take, false, t_first);
      first -= take;
    }
    first = std::min(tr.first_fold_read_bytes, tr.dram_read());
    reads_end = t_first;
    for (int o = 0; o < 3; ++o) {
      const uint64_t take = std::min(first, tr.op[size_t(o)].dram_read);
      first -= take;
      reads_end = move(addr[o] + take, tr.op[size_t(o)].dram_read - take, false, reads_end);
    }
    const uint64_t last = std::min(tr.last_fold_write_bytes, tr.dram_write());
    const uint64_t writes_end = move(addr[2], tr.dram_write() - last, true, t_first);
    const uint64_t main_end = std::max({t_first + compute_ps, reads_end, writes_end});
    end = move(addr[2] + tr.dram_write() - last, last, true, main_end);
  } else {
    uint64_t t = move(kMetaAddr, c.metadata_bytes, false, t_in);
    for (int o = 0; o < 3; ++o) t = move(addr[o], tr.op[size_t(o)].dram_read, false, t);
    end = move(addr[2], tr.dram_write(), true, t + compute_ps);
  }
  m_cycles_saved += c.dense_cycles - std::min(c.dense_cycles, c.array_cycles);
  m_metadata_bytes += c.metadata_bytes;
  m_idle_stage_pe_cycles += c.idle_stage_pe_cycles;
  m_spill_bytes += tr.spill_bytes;
  m_drain_stall_cycles += c.drain_stall_cycles;
  for (size_t o = 0; o < 3; ++o) {
    m_operand[o].dram_read += tr.op[o].dram_read;
    m_operand[o].dram_write += tr.op[o].dram_write;
    m_operand[o].sram_read += tr.op[o].sram_read;
    m_operand[o].sram_write += tr.op[o].sram_write;
  }
  const Action& mac = systolic_actions().mac(c.dtype);
  const Action& gated = systolic_actions().mac_gated;
  if (c.macs_gated && m_energy.has(mac) && m_energy.has(gated))
    rec.extra["energy_saved_by_gating_pj"] = double(c.macs_gated) * (m_energy.pj(mac) - m_energy.pj(gated));
  close(rec, t0, end, c.compute_cycles, c.array_cycles);
}

uint64_t SystolicModel::compulsory_operand_bytes(const workload::Op& op, const GemmCost& c) const {
  // The unique elements of an operand: its tensor's (conv: the ifmap, not its im2col
  // copies), at most the GEMM view's; only the rows / columns still scheduled, and only the
  // reduction rows of a compact weight the array does not skip (their inputs are not needed).
  //
  // Why the skipped case is a lower bound where the input is the GEMM's A itself (a = m·k,
  // each row its own k elements: a linear layer, and a conv's dX = dY·W, whose A is dY):
  // every needed output (i, j) needs all of row i of A. Row and element skipping leave one
  // piece of needed_rows rows, read whole: needed_rows·k. Tile skipping keeps, in each block
  // of `cols` output columns, len_b rows (SubGemm.m); the rows any block keeps must be read
  // at least once, so A's reads are at least |∪_b rows_b| · k ≥ max_b len_b · k =
  // needed_rows · k = a / m · needed_rows. The same holds for B's columns. So where this law
  // failed under tile skipping (resnet18 / lenet5 examples with output_sparsity skip, tile),
  // the traffic was short: cost_gemm scaled the streamed operands by the kept-tile share (the
  // mean of len_b / m), right for an operand re-read for every column block, but an operand
  // read once for all blocks needs the union; it now reads at least that (op_cost.cpp).
  workload::GemmDims g = op.gemm;
  g.k = kept_weight_rows(op, m_spec);
  const auto elements = [&](size_t i) {
    return i < op.reads.size() ? tensor_bytes(op.reads[i]) * 8 / std::max(1u, workload::dtype_bits(op.dtype))
                               : UINT64_MAX;
  };
  // A conv's input: at most the ifmap elements its windows reach (padding is not read).
  const uint64_t unique_in =
      c.conv_input.view == ConvView::none ? UINT64_MAX : c.conv_input.unique_bytes / c.elem_bytes * g.batch;
  const uint64_t a = std::min({g.m * g.k * g.batch, elements(0), unique_in}),
                 b = std::min(g.k * g.n * g.batch, elements(1));
  return (a / g.m * c.needed_rows + b / g.n * c.needed_cols) * c.elem_bytes;
}

uint64_t SystolicModel::rtl_gemm_cycles(const workload::Op& op, uint64_t masked_cols) {
  const workload::GemmDims& g = op.gemm;
  std::vector<bool> colmask(g.n, false);
  if (masked_cols && op.out_mask.source == workload::OutputMask::Source::bitmap) {
    const auto bits = workload::mask_bitmap_of(op);
    for (uint64_t j = 0; j < g.n; ++j) colmask[j] = bits->needed_in(0, g.m, j, j + 1) == 0;
  } else if (masked_cols) {
    std::vector<uint64_t> cols(g.n);
    for (uint64_t j = 0; j < g.n; ++j) cols[j] = j;
    std::shuffle(cols.begin(), cols.end(), m_rtl_rng);
    for (uint64_t j = 0; j < std::min(masked_cols, g.n); ++j) colmask[cols[j]] = true;
  }
  uint64_t cycles = 0;
  for (uint64_t b = 0; b < g.batch; ++b) {
    MatI8 a(g.m, std::vector<int>(g.k)), w(g.k, std::vector<int>(g.n));
    for (auto& row : a)
      for (auto& x : row) x = int(m_rtl_rng() % 256) - 128;
    for (auto& row : w)
      for (auto& x : row) x = int(m_rtl_rng() % 256) - 128;
    MatI32 y;
    const RtlGemmStats st = m_rtl->gemm(a, w, colmask, y);
    cycles += st.cycles;
    m_rtl_folds += st.folds;
    m_rtl_masked_toggles += st.masked_toggles;
    m_rtl_masked_samples += st.masked_pe_samples;
  }
  return cycles;
}

void SystolicModel::run_vector(const workload::Op& op, OpRecord& rec) {
  const uint64_t t0 = m_now_ps;
  const uint64_t cycles = vector_cycles(op, m_spec.lanes());
  uint64_t rd = 0, wr = 0, end = t0 + uint64_t(std::llround(double(cycles) * m_period_ps));
  for (uint32_t t : op.reads) rec.compulsory_read_bytes += tensor_bytes(t);  // tensors live in DRAM
  uint64_t t = t0;
  for (size_t i = 0; i < op.reads.size(); ++i) {
    const uint64_t b = tensor_bytes(op.reads[i]);
    t = move(addr_of(op, false, i), b, false, t);
    rd += b;
  }
  for (size_t i = 0; i < op.writes.size(); ++i) {
    const uint64_t b = tensor_bytes(op.writes[i]);
    t = move(addr_of(op, true, i), b, true, std::max(t0, t));
    wr += b;
  }
  end = std::max(end, t);
  fill_vector_record(op, rd, wr, m_buffers, rec);
  rec.extra["vector_cycles"] = cycles;
  close(rec, t0, end, cycles, cycles);
}

void SystolicModel::close(OpRecord& rec, uint64_t t0_ps, uint64_t end_ps, uint64_t compute_cycles,
                          uint64_t busy_cycles) {
  rec.cycles = uint64_t(std::ceil(double(end_ps - t0_ps) / m_period_ps - 1e-9));
  rec.cycles = std::max(rec.cycles, compute_cycles);
  rec.extra["stall_cycles"] = rec.cycles - compute_cycles;
  // The report's figure: every cycle the array (or the vector lanes) did not compute, DRAM
  // waits above and the buffer-bandwidth and drain stalls inside compute_cycles alike.
  rec.stall_cycles = rec.cycles - std::min(rec.cycles, busy_cycles);
  const double peak = double(rec.cycles) * m_spec.rows * m_spec.cols;
  rec.extra["utilisation"] = peak > 0 ? double(rec.macs_executed - rec.macs_gated) / peak : 0.0;
  m_stall_cycles += rec.cycles - compute_cycles;
  m_now_ps = t0_ps + uint64_t(std::llround(double(rec.cycles) * m_period_ps));
}

std::vector<LeakingPart> SystolicModel::leaking_parts() const {
  // The buffers leak by their full capacity (Buffers: both halves of a double buffer, the
  // mask buffer with output sparsity on). Operands stream from DRAM: its kind declares
  // MemoryUse::dram.
  std::vector<LeakingPart> parts = {
      {"systolic.pe", systolic_actions().pe(m_pe_dtype), double(m_spec.rows) * m_spec.cols},
      {"systolic.vector", systolic_actions().vector_lane, double(m_spec.lanes())}};
  const std::vector<LeakingPart> buffers = m_buffers.leaking_parts();
  parts.insert(parts.end(), buffers.begin(), buffers.end());
  return parts;
}

void SystolicModel::register_stats() {
  StatGroup& g = m_stats;
  g.formula(
      "cycles", [this] { return total_cycles(); }, "simulated accelerator cycles");
  g.add("stall_cycles", m_stall_cycles, "cycles the array waited for DRAM or buffer bandwidth");
  if (m_rtl) {
    g.add("rtl_folds", m_rtl_folds, "folds run on the Verilated PE array (backend: rtl)");
    g.add("rtl_masked_pe_cycles", m_rtl_masked_samples, "PE-cycles of masked output columns on the RTL array");
    g.add("rtl_masked_pe_toggles", m_rtl_masked_toggles,
          "multiplier-input changes of masked PEs (operand isolation: 0)");
  }
  // Area of the compute, when the energy table gives it per unit (its area_um2 section): PEs
  // (multiplier and accumulator adder) and the vector unit's lanes; buffers, registers and
  // wiring are not included.
  const double pe_um2 = m_energy.area_um2(systolic_actions().pe(m_pe_dtype));
  if (pe_um2 > 0) {
    StatGroup& a = g.child("area");
    a.set("pe_um2", pe_um2,
          std::string("one ") + workload::to_string(m_pe_dtype) + " PE: multiplier and " +
              accumulator_name(m_pe_dtype) + " accumulator adder (no registers or wiring)");
    a.set("pe_array_mm2", pe_um2 * m_spec.rows * m_spec.cols * 1e-6, "rows x cols PEs (as pe_um2)");
    const double lane_um2 = m_energy.area_um2(systolic_actions().vector_lane);
    if (lane_um2 > 0)
      a.set("vector_unit_mm2", lane_um2 * m_spec.lanes() * 1e-6, "the vector unit's lanes (an fp32 adder each)");
  }
  g.add("cycles_saved", m_cycles_saved, "fold cycles removed by skipping masked outputs");
  g.add("metadata_bytes", m_metadata_bytes, "output-mask metadata read");
  g.add("spill_bytes", m_spill_bytes, "partial sums spilled to DRAM and read back (each way)");
  g.add("drain_stall_cycles", m_drain_stall_cycles,
        "cycles the array waited for a single-buffered output block to drain (in the ops' compute time, not in "
        "stall_cycles)");
  if (m_spec.stages > 1)
    g.add("idle_stage_pe_cycles", m_idle_stage_pe_cycles,
          "PE-cycles of stages no reduction row reached (bypassed, power-gated; leakage still charged)");
  for (int o = 0; o < 3; ++o) {
    StatGroup& c = g.child(std::string("operand_") + operand_name(o));
    c.add("dram_read_bytes", m_operand[size_t(o)].dram_read, "bytes read from DRAM into the buffer");
    c.add("dram_write_bytes", m_operand[size_t(o)].dram_write, "bytes written from the buffer to DRAM");
    c.add("sram_read_bytes", m_operand[size_t(o)].sram_read, "buffer bytes read");
    c.add("sram_write_bytes", m_operand[size_t(o)].sram_write, "buffer bytes written");
  }
}

}  // namespace bpsim::systolic
