#include "models/systolic/op_cost.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "models/systolic/systolic_actions.h"
#include "sim/core/checked.h"
#include "sim/core/error.h"
#include "sim/core/int_math.h"
#include "sim/memory/memory_factory.h"
#include "sim/memory/sram.h"

namespace bpsim::systolic {

namespace {
constexpr uint64_t kMaxDim = uint64_t(1) << 40;
}  // namespace

unsigned acc_bytes_of(workload::DType) { return 4; }

void check_gemm_dims(const workload::Op& op) {
  const workload::GemmDims& g = op.gemm;
  for (auto [v, name] : {std::pair{g.m, "m"}, {g.n, "n"}, {g.k, "k"}, {g.batch, "batch"}}) {
    if (v == 0 || v > kMaxDim)
      throw InputError("op '" + op.name + "': gemm." + name + " = " + std::to_string(v) +
                       " cannot be mapped onto the array (expected 1 .. 2^40)");
  }
  // M·N·K·batch must fit 64 bits (MAC counts): each factor < 2^40, check the product.
  uint64_t macs = 0;
  if (!checked_product({g.m, g.n, g.k, g.batch}, macs))
    throw InputError("op '" + op.name + "': gemm m·n·k·batch overflows 64-bit MAC counts");
}

PassBytes op_pass_bytes(const ConvInputPlan& ci, const workload::Op& op, const FoldMap& f, Dataflow df, unsigned e) {
  PassBytes p = gemm_pass_bytes(f, df, e);
  if (!ci.line_buffer) return p;
  // A conv's line buffer reads ci.pass_bytes per pass over the whole input; rows that
  // skipping removes (f has fewer M rows than the op) take their share of it with them.
  const uint64_t whole = op.gemm.m * op.gemm.k * e;
  if (p.op[kInput] >= whole) {
    p.op[kInput] = ci.pass_bytes;
    // Every pass reads each ifmap byte the conv touches at least once.
    p.pinnable[kInput] = std::min(ci.pass_bytes, ci.unique_bytes);
  } else {
    const double kept = double(p.op[kInput]) / double(whole);
    p.op[kInput] = std::max<uint64_t>(1, uint64_t(std::llround(double(ci.pass_bytes) * kept)));
    p.pinnable[kInput] = 0;  // which ifmap bytes the kept rows touch is not tracked
  }
  return p;
}

FloorGemm floor_gemm(const workload::Op& op, const ConvInputPlan& ci, unsigned e) {
  FloorGemm g{op.gemm.m, op.gemm.k, op.gemm.n, op.gemm.m * op.gemm.k, 1};
  if (!ci.line_buffer) return g;
  // The line buffer loads ifmap elements; one stands for A's entries at every tap (r, s)
  // that reaches it from some output pixel: ⌈R/stride⌉ kernel rows × ⌈S/stride⌉ columns.
  const workload::ConvShape& c = op.conv;
  g.input_elems = ci.unique_bytes / e;
  g.input_uses = ceil_div(c.r, c.stride) * ceil_div(c.s, c.stride);
  return g;
}

namespace {
/// `f` with the T tile of mapping `m` (the fixed plan streams T whole).
FoldMap tiled(const FoldMap& f, const Mapping& m) { return m.fixed ? f : tile_t(f, m.tile[kT]); }
}  // namespace

namespace {
GemmCost cost_dense_weights(const workload::Op& op, const SystolicSpec& s, std::mt19937_64& rng,
                            double dram_bytes_per_cycle);
}  // namespace

uint64_t kept_weight_rows(const workload::Op& op, const SystolicSpec& s) {
  const workload::GemmDims& g = op.gemm;
  if (op.weight_density >= 1 || s.weight_skip != WeightSkip::row) return g.k;
  // N lies on the array's columns (ws, os): a fold covers min(cols, N) of them, and a
  // reduction step is free only when all of that fold's weights in its row are zero. Kept
  // weights at random positions (density δ) leave a row of w weights all zero with
  // probability (1 − δ)^w: the expected kept rows are K·(1 − (1 − δ)^w), rounded up.
  const double w = double(std::min<uint64_t>(s.cols, g.n));
  const double zero_row = std::pow(1.0 - op.weight_density, w);
  return std::min(g.k, std::max<uint64_t>(1, uint64_t(std::ceil(double(g.k) * (1.0 - zero_row) - 1e-9))));
}

GemmCost cost_gemm(const workload::Op& op, const SystolicSpec& s, std::mt19937_64& rng, double dram_bytes_per_cycle) {
  if (op.weight_density >= 1) return cost_dense_weights(op, s, rng, dram_bytes_per_cycle);
  // A compact weight: the GEMM the array schedules keeps the weight rows it cannot skip
  // (all of them with weight_skip: off, the zeros multiplied), and the weight arrives from
  // DRAM as its kept values and its index (metadata), then decoded into the weight buffer.
  workload::Op eff = op;
  eff.gemm.k = kept_weight_rows(op, s);
  eff.macs = eff.gemm.macs();
  GemmCost c = cost_dense_weights(eff, s, rng, dram_bytes_per_cycle);
  c.macs_zero_weights = op.gemm.macs() - eff.macs;
  c.macs = op.gemm.macs();
  c.macs_skipped += c.macs_zero_weights;
  // The scheduled rows hold every kept weight: their values are a δ·K/K_kept share of them.
  OperandBytes& w = c.traffic.op[kWeight];
  w.dram_read =
      uint64_t(std::llround(double(w.dram_read) * op.weight_density * double(op.gemm.k) / double(eff.gemm.k)));
  c.metadata_bytes += op.weight_index_bytes;
  return c;
}

namespace {
GemmCost cost_dense_weights(const workload::Op& op, const SystolicSpec& s, std::mt19937_64& rng,
                            double dram_bytes_per_cycle) {
  check_gemm_dims(op);
  const workload::GemmDims& g = op.gemm;
  GemmCost c;
  c.dtype = s.compute_dtype(op.dtype);
  c.elem_bytes = std::max(1u, workload::dtype_bits(c.dtype) / 8);
  c.acc_bytes = acc_bytes_of(c.dtype);
  c.map = map_gemm(g.m, g.k, g.n, s.dataflow, s.rows, s.cols);
  c.macs = g.macs();

  const MaskEffect eff =
      apply_mask(g.m, g.n, resolve_mask(op, s.sparsity), s.sparsity, s.dataflow, s.rows, s.cols, rng);
  c.masked_outputs = eff.masked_outputs * g.batch;
  c.metadata_bytes = eff.metadata_bytes() * g.batch;
  // The GEMM that is scheduled: one piece when skipping leaves one, else the dense GEMM
  // (tile skipping: its streamed operands are scaled by the tiles kept, below).
  uint64_t issued = 0;
  for (const SubGemm& w : eff.work) issued += w.m * w.n * w.count;
  const bool one_piece = issued && eff.work.size() == 1;
  const FoldMap sched = one_piece ? map_gemm(eff.work[0].m, g.k, eff.work[0].n, s.dataflow, s.rows, s.cols) : c.map;
  c.conv_input = plan_conv_input(op, s, c.elem_bytes);
  const PassBytes pass = op_pass_bytes(c.conv_input, op, sched, s.dataflow, c.elem_bytes);
  c.mapping = choose_mapping(sched, {s, c.elem_bytes, c.acc_bytes, dram_bytes_per_cycle}, pass);
  const DramFloor floor =
      dram_floor(floor_gemm(op, c.conv_input, c.elem_bytes), s.sram, uint64_t(s.rows) * s.cols, c.elem_bytes,
                 c.acc_bytes, op_pass_bytes(c.conv_input, op, c.map, s.dataflow, c.elem_bytes));
  c.floor = {floor.compulsory_bytes * g.batch, floor.bound_bytes * g.batch, floor.chip_bound_bytes * g.batch};

  const FoldTiming dense = time_folds(tiled(c.map, c.mapping), s.dataflow, s.timing, s.stages);
  c.dense_cycles = dense.total() * g.batch;
  // What is scheduled: fold groups back to back, filled and drained once per instance.
  uint64_t steady = 0, idle_stage = 0;
  ArrayCounts counts;
  const bool metadata = s.sparsity.mode != SparsityMode::off;
  for (const SubGemm& w : eff.work) {
    if (w.m == 0 || w.n == 0) continue;
    const FoldMap f = map_gemm(w.m, g.k, w.n, s.dataflow, s.rows, s.cols);
    const FoldTiming ft = time_folds(tiled(f, c.mapping), s.dataflow, s.timing, s.stages);
    steady += ft.steady_cycles * w.count;
    idle_stage += ft.idle_stage_pe_cycles * w.count;
    const ArrayCounts a = count_array(f, s.stages, metadata);
    counts.macs += a.macs * w.count;
    counts.reg_writes += a.reg_writes * w.count;
    counts.stage_reg_writes += a.stage_reg_writes * w.count;
    counts.meta_reg_writes += a.meta_reg_writes * w.count;
    c.needed_rows = std::max(c.needed_rows, w.m);
    c.needed_cols = std::max(c.needed_cols, w.n);
  }
  c.array_cycles = (steady + (issued ? dense.edge_cycles : 0)) * g.batch;
  c.counts = {counts.macs * g.batch, counts.reg_writes * g.batch, counts.stage_reg_writes * g.batch,
              counts.meta_reg_writes * g.batch};
  c.idle_stage_pe_cycles = idle_stage * g.batch;
  c.macs_executed = c.counts.macs;
  c.macs_gated = eff.gated_outputs(s.sparsity.mode) * g.k * g.batch;
  c.macs_skipped = eff.skipped_outputs * g.k * g.batch;  // each removed output drops its K MACs

  // Traffic: the scheduled GEMM's under its mapping (tile skipping: the dense GEMM's with
  // streamed operands scaled by the tiles kept; the stationary operand is still loaded).
  Traffic one;
  if (issued) {
    one = mapped_traffic(tiled(sched, c.mapping), s.dataflow, c.mapping, pass, c.elem_bytes, c.acc_bytes);
    if (!one_piece) {
      // The row-streamed operand (rt) is indexed along the axis tile skipping thins per column
      // block. Re-read for every block, it costs the mean block's share; held across blocks
      // (fewer DRAM passes than blocks), each pass reads at least the rows some block still
      // needs. Its DRAM reads are the larger of the two (a pass's bytes × the union share),
      // which is what the compulsory_reads law's bound assumes (SystolicModel::compulsory_operand_bytes).
      const Roles r = roles_of(s.dataflow);
      const uint64_t dense_pass =
          one.op[size_t(r.rt)].dram_read / std::max<uint64_t>(1, c.mapping.passes[size_t(r.rt)]);
      one.scale_streamed(r, eff.kept_tile_fraction);
      uint64_t& rt_read = one.op[size_t(r.rt)].dram_read;
      rt_read = std::max(rt_read, uint64_t(std::llround(double(dense_pass) * eff.kept_union_fraction)));
    }
  }
  c.traffic.add(one, g.batch);
  // A buffer moves bytes_per_cycle towards the array and from DRAM (one port).
  uint64_t sram_cycles = 0;
  for (const OperandBytes& b : c.traffic.op)
    sram_cycles = std::max(sram_cycles, ceil_div(b.sram_read + b.sram_write, s.sram.bytes_per_cycle));
  c.drain_stall_cycles =
      issued ? drain_stall_cycles(c.mapping, sched, s.sram, c.elem_bytes, dram_bytes_per_cycle, g.batch) : 0;
  c.compute_cycles = std::max(c.array_cycles + c.drain_stall_cycles, issued ? sram_cycles : 0);
  return c;
}
}  // namespace

nlohmann::json mapping_json(const Mapping& m, const SystolicSpec& s) {
  const std::array<const char*, 3> dim = loop_dim_names(s.dataflow);
  std::string order;
  for (int d : m.order) order += std::string(order.empty() ? "" : ">") + dim[size_t(d)];
  nlohmann::json j = {{"plan", m.fixed ? "fixed" : "tiled"},
                      {"family", m.family()},
                      {"loop_order", order},
                      {"candidates", m.candidates},
                      {"spill_passes", m.spill_passes}};
  for (int d = 0; d < 3; ++d) {
    j["tile"][dim[size_t(d)]] = m.tile[size_t(d)];
    j["trips"][dim[size_t(d)]] = m.trips[size_t(d)];
  }
  for (int o = 0; o < 3; ++o) j["dram_passes"][operand_name(o)] = m.passes[size_t(o)];
  for (int o : {int(kInput), int(kWeight)}) j["pinned_bytes"][operand_name(o)] = m.pinned[size_t(o)];
  if (m.output_single) j["output_buffer"] = "single";
  return j;
}

void fill_gemm_record(const GemmCost& c, const SystolicSpec& s, const Buffers& b, OpRecord& rec) {
  rec.macs = c.macs;
  rec.macs_executed = c.macs_executed;
  rec.macs_gated = c.macs_gated;
  rec.macs_skipped = c.macs_skipped;
  if (c.macs_skipped)
    rec.skip_reason = c.macs_zero_weights == 0                ? "output_sparsity"
                      : c.macs_skipped == c.macs_zero_weights ? "zero_weights"
                                                              : "output_sparsity, zero_weights";
  if (c.macs_zero_weights) rec.extra["macs_zero_weights"] = c.macs_zero_weights;
  rec.onchip_read_bytes = c.traffic.sram_read() + c.metadata_bytes;
  rec.onchip_write_bytes = c.traffic.sram_write();
  const SystolicActions& A = systolic_actions();
  rec.actions[A.mac(c.dtype)] += c.macs_executed - c.macs_gated;
  rec.actions[A.mac_gated] += c.macs_gated;
  rec.actions[A.reg_write] += c.counts.reg_writes;
  rec.actions[A.stage_reg_write] += c.counts.stage_reg_writes;
  if (c.counts.meta_reg_writes) rec.actions[A.stage_meta_write] += c.counts.meta_reg_writes;
  for (int o = 0; o < 3; ++o) {
    b.operand[size_t(o)].read(rec.actions, c.traffic.op[size_t(o)].sram_read);
    b.operand[size_t(o)].write(rec.actions, c.traffic.op[size_t(o)].sram_write);
    nlohmann::json& j = rec.extra["operands"][operand_name(o)];
    j = {{"sram_read_bytes", c.traffic.op[size_t(o)].sram_read},
         {"sram_write_bytes", c.traffic.op[size_t(o)].sram_write},
         {"dram_read_bytes", c.traffic.op[size_t(o)].dram_read},
         {"dram_write_bytes", c.traffic.op[size_t(o)].dram_write}};
  }
  b.mask.read(rec.actions, c.metadata_bytes);
  rec.extra["dataflow"] = to_string(s.dataflow);
  const FoldMap folds = tiled(c.map, c.mapping);
  rec.extra["folds"] = folds.folds();
  rec.extra["fold_t"] = folds.tt;
  rec.extra["dense_cycles"] = c.dense_cycles;
  rec.extra["array_cycles"] = c.array_cycles;
  rec.extra["cycles_saved"] = c.dense_cycles - std::min(c.dense_cycles, c.array_cycles);
  rec.extra["sram_stall_cycles"] = c.compute_cycles - c.array_cycles - c.drain_stall_cycles;
  if (c.drain_stall_cycles) rec.extra["drain_stall_cycles"] = c.drain_stall_cycles;
  rec.extra["masked_outputs"] = c.masked_outputs;
  rec.extra["metadata_bytes"] = c.metadata_bytes;
  rec.extra["spill_bytes"] = c.traffic.spill_bytes;
  if (s.stages > 1) rec.extra["idle_stage_pe_cycles"] = c.idle_stage_pe_cycles;
  const ConvInputPlan& ci = c.conv_input;
  if (ci.view != ConvView::none) {
    nlohmann::json& j = rec.extra["conv_input"];
    j = {{"mode", ci.line_buffer ? "line_buffer" : "im2col"},
         {"lowered_bytes", ci.lowered_bytes},
         {"unique_bytes", ci.unique_bytes},
         {"window_bytes", ci.window_bytes},
         {"tap_order", ci.order == TapOrder::rsc ? "rsc" : "crs"},
         {"pass_bytes", ci.pass_bytes}};
    if (!ci.note.empty()) j["note"] = ci.note;
  }
  rec.extra["mapping"] = mapping_json(c.mapping, s);
  const uint64_t moved = c.traffic.dram_read() + c.traffic.dram_write();
  const uint64_t floor = c.mapping.output_single ? c.floor.chip_floor() : c.floor.floor();
  rec.extra["dram_floor"] = {{"compulsory_bytes", c.floor.compulsory_bytes},
                             {"lower_bound_bytes", c.floor.bound_bytes},
                             {"chip_lower_bound_bytes", c.floor.chip_bound_bytes},
                             {"operand_dram_bytes", moved},
                             {"ratio", floor ? double(moved) / double(floor) : 0.0}};
}

void copy_gemm_fill(const OpRecord& from, OpRecord& to) {
  to.macs = from.macs;
  to.macs_executed = from.macs_executed;
  to.macs_gated = from.macs_gated;
  to.macs_skipped = from.macs_skipped;
  to.skip_reason = from.skip_reason;
  to.onchip_read_bytes = from.onchip_read_bytes;
  to.onchip_write_bytes = from.onchip_write_bytes;
  to.actions = from.actions;
  if (!from.extra.empty()) to.extra = from.extra;
  to.shared_extra = from.shared_extra;
}

uint64_t vector_cycles(const workload::Op& op, unsigned lanes) {
  const uint64_t work = op.flops ? op.flops : (op.elements ? op.elements : op.macs);
  return ceil_div(work, lanes);
}

bool is_gemm(const workload::Op& op) {
  return op.kind == workload::OpKind::gemm || op.kind == workload::OpKind::conv ||
         op.kind == workload::OpKind::xnor_gemm;
}

double op_cycles_estimate(const workload::Op& op, const SystolicSpec& s) {
  if (!is_gemm(op)) return double(vector_cycles(op, s.lanes()));
  std::mt19937_64 rng(1);  // an estimate: a fixed seed keeps it the same for every caller
  return double(cost_gemm(op, s, rng).compute_cycles);
}

void fill_vector_record(const workload::Op& op, uint64_t rd, uint64_t wr, const Buffers& b, OpRecord& rec) {
  rec.macs = rec.macs_executed = op.macs;
  rec.onchip_read_bytes = rd + wr;  // staged through the buffers both ways
  rec.onchip_write_bytes = rd + wr;
  const SystolicActions& A = systolic_actions();
  rec.actions[A.vector_op] += op.flops ? op.flops : (op.elements ? op.elements : op.macs);
  const memory::OnChipBuffer& in = b.operand[kInput];
  const memory::OnChipBuffer& out = b.operand[kOutput];
  in.write(rec.actions, rd);
  in.read(rec.actions, rd);
  out.write(rec.actions, wr);
  out.read(rec.actions, wr);
}

OpEnergyEstimate::OpEnergyEstimate(const SystolicSpec& s, const OpEnergyPrices& prices)
    : m_spec(s), m_buffers(s), m_table(prices.table), m_burst_bytes(std::max<uint64_t>(1, prices.dram_burst_bytes)) {
  m_buffers.price(m_table);
  const memory::DramActions& d = memory::dram_actions();
  m_read_burst_pj = m_table.pj(d.rd_burst);
  m_write_burst_pj = m_table.pj(d.wr_burst);
  const double cycle_s = 1e-9 / s.clock_ghz;
  std::vector<LeakingPart> parts = m_buffers.leaking_parts();
  parts.emplace_back("systolic.vector", systolic_actions().vector_lane, double(s.lanes()));
  parts.push_back(memory::dram_background());
  EnergyTable t = m_table;
  t.charge_leakage_of(parts);
  m_static_pj_per_cycle = t.static_pj(cycle_s, nullptr);
  // A PE type the table does not price leaks nothing here; a run on it is refused anyway.
  for (workload::DType dt : {workload::DType::fp32, workload::DType::bf16, workload::DType::fp16, workload::DType::int8,
                             workload::DType::binary}) {
    double pj = 0;
    if (m_table.leakage_mw().count(systolic_actions().pe(dt).name())) {
      EnergyTable pe = m_table;
      pe.charge_leakage_of({{"systolic.pe", systolic_actions().pe(dt), double(s.rows) * s.cols}});
      pj = pe.static_pj(cycle_s, nullptr);
    }
    m_pe_pj_per_cycle.push_back(pj);
  }
}

double OpEnergyEstimate::operator()(const workload::OpGraph& g, const workload::Op& op) const {
  OpRecord rec;
  uint64_t rd = 0, wr = 0, cycles = 0;
  if (is_gemm(op)) {
    std::mt19937_64 rng(1);  // as op_cycles_estimate: the same estimate for every caller
    const GemmCost c = cost_gemm(op, m_spec, rng);
    fill_gemm_record(c, m_spec, m_buffers, rec);
    rd = c.traffic.dram_read();
    wr = c.traffic.dram_write();
    cycles = c.compute_cycles;
  } else {
    for (uint32_t t : op.reads) rd += g.tensors[t].bytes;
    for (uint32_t t : op.writes) wr += g.tensors[t].bytes;
    fill_vector_record(op, rd, wr, m_buffers, rec);
    cycles = vector_cycles(op, m_spec.lanes());
  }
  // The PEs as the model builds them (dtype: workload: as wide as the graph's type).
  const workload::DType pe = m_spec.dtype_from_workload ? m_spec.compute_dtype(g.dtype) : m_spec.dtype;
  const double dram_pj =
      double(ceil_div(rd, m_burst_bytes)) * m_read_burst_pj + double(ceil_div(wr, m_burst_bytes)) * m_write_burst_pj;
  return m_table.dynamic_pj(rec.actions, static_cast<std::map<std::string, double>*>(nullptr)) + dram_pj +
         double(cycles) * (m_static_pj_per_cycle + m_pe_pj_per_cycle[size_t(pe)]);
}

namespace {
/// The controller's output-mask buffer (as Horowitz's smallest SRAM point).
constexpr uint64_t kMaskBufferBytes = 8 * 1024;
}  // namespace

Buffers::Buffers(const SystolicSpec& s)
    : mask("systolic.sram", kMaskBufferBytes, systolic_actions().metadata_read, nullptr),
      mask_in_use(s.sparsity.mode != SparsityMode::off) {
  const SystolicActions& A = systolic_actions();
  const unsigned banks = s.sram.double_buffer ? 2 : 1;
  for (uint64_t bytes : {s.sram.input_bytes, s.sram.weight_bytes, s.sram.output_bytes}) {
    const int o = int(operand.size());
    operand.emplace_back("systolic.sram", bytes, A.sram_read(o), &A.sram_write(o), banks);
  }
}

void Buffers::price(EnergyTable& table) const {
  for (const memory::OnChipBuffer& b : operand) b.price(table);
  mask.price(table);
}

std::vector<LeakingPart> Buffers::leaking_parts() const {
  std::vector<LeakingPart> parts;
  for (const memory::OnChipBuffer& b : operand) parts.push_back(b.leaking_part());
  if (mask_in_use) parts.push_back(mask.leaking_part());
  return parts;
}

}  // namespace bpsim::systolic
