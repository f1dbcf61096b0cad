#include "models/pim/mapper.h"

#include <algorithm>
#include <cmath>

#include "models/pim/charge.h"
#include "models/pim/core.h"

#include "sim/core/error.h"
#include "sim/core/int_math.h"

namespace bpsim::pim {

using workload::Op;
using workload::OpKind;
using workload::Phase;

namespace {
uint64_t bits_to_bytes(uint64_t bits) { return ceil_div(bits, 8); }
/// The op's i-th read tensor (GEMMs: forward {x, w}, dX {dY, w}, dW {x, dY}), if it names one.
uint32_t read_tensor(const Op& op, size_t i) { return i < op.reads.size() ? op.reads[i] : Transfer::kNoTensor; }
/// A spec's binary layer keeps real-valued latent weights and binarises them each step (a
/// `sign` op reading them, workload builder): their plain-SGD update is the in-DRAM
/// latent-weight update (subtract, sign copied out). Momentum and Adam keep real state
/// that the bit-serial programs do not model: those run on the host.
bool latent_in_dram(uint32_t weight, const workload::OpGraph& g) {
  bool binarised = false, sgd = false, updated = false, all_sgd = true;
  for (const Op& o : g.ops) {
    if (o.kind == OpKind::optimizer) all_sgd = all_sgd && o.detail == "sgd";
    if (o.reads.empty() || o.reads[0] != weight) continue;
    binarised |= o.kind == OpKind::bitwise && o.detail == "sign";
    sgd |= o.kind == OpKind::optimizer && o.detail == "sgd";
    updated |= o.kind == OpKind::optimizer;
  }
  // A weight this step does not update (a block left out by training.block_update) keeps the
  // signs its last update wrote in DRAM, when that update was the network's SGD (the other
  // layers' updates say which optimizer it is).
  const bool parameter = weight < g.tensors.size() && g.tensors[weight].role == workload::TensorRole::weight;
  return binarised && (sgd || (parameter && !updated && all_sgd));
}
}  // namespace

void Mapper::fail(const std::string& key, const std::string& msg) const {
  if (m_where) throw m_where->error(key, msg);
  throw InputError("accelerator." + key + ": " + msg);
}

OpPlan Mapper::map(const Op& op, const workload::OpGraph& g) const {
  // The workload builder marks the backward GEMMs of binary layers by their detail
  // (binary_linear_dx / _dw): signed additions of real gradients, whatever the graph dtype.
  const bool binary_detail = op.detail.rfind("binary_linear", 0) == 0;
  const bool binary_gemm = op.kind == OpKind::xnor_gemm ||
                           (op.kind == OpKind::gemm && (op.dtype == workload::DType::binary || binary_detail));
  if (binary_gemm) {
    if (op.gemm.m == 0 || op.gemm.n == 0 || op.gemm.k == 0)
      fail("subarrays_per_bank", "op '" + op.name + "': GEMM dimensions must be positive");
    switch (op.phase) {
      case Phase::forward:
      case Phase::recompute: return forward(op, g);
      case Phase::backward_data: check_sign_feedback(op, g); return signed_accumulate(op, false);
      case Phase::backward_weight: return signed_accumulate(op, true);
      case Phase::update: break;
    }
  }
  // Latent weights of binary layers are updated in DRAM; other optimizers run on the host.
  if (op.kind == OpKind::optimizer && (op.dtype == workload::DType::binary || g.dtype == workload::DType::binary))
    return latent_update(op);
  const bool on_latent = !op.reads.empty() && latent_in_dram(op.reads[0], g);
  if (op.kind == OpKind::optimizer && on_latent) return latent_update(op);
  // The sign of latent weights updated in DRAM is already in the weight row: the previous
  // step's update copied it there (latent_update's last AAP).
  if (op.kind == OpKind::bitwise && op.detail == "sign" && on_latent) return OpPlan{};
  // sign() of a real tensor (binarising activations) runs where that tensor is made: on
  // the host, which writes the packed bits (traffic counted).
  if (op.kind == OpKind::bitwise && op.detail != "sign") return bitwise(op);
  if (op.kind == OpKind::elementwise && m_s.host_work == HostWork::dram && op.elements > 0) {
    OpPlan p;
    p.lanes_used = std::min<uint64_t>(op.elements, m_s.lanes);
    p.lane_utilization = double(op.elements) / double(lane_groups(op.elements) * m_s.lanes);
    p.jobs.push_back({"relu_like", m_p.relu(m_s.gradient_bits), lane_groups(op.elements)});
    for (uint32_t t : op.reads) p.baseline_read_bytes += g.tensors.at(t).bytes;
    for (uint32_t t : op.writes) p.baseline_write_bytes += g.tensors.at(t).bytes;
    return p;
  }
  return host(op, g);
}

Mapper::Tiles Mapper::tiles(uint64_t M, uint64_t N) const {
  // A row of `lanes` bits holds an Mt × Nt tile of (m, n) output pairs; Mt a whole number
  // of bytes (segments are copied with byte-masked bursts) unless M itself is smaller.
  Tiles t;
  t.mt = std::min<uint64_t>(M, m_s.lanes);
  t.nt = std::max<uint64_t>(1, std::min<uint64_t>(N, m_s.lanes / (t.mt < 8 ? t.mt : ceil_div(t.mt, 8) * 8)));
  t.count = ceil_div(M, t.mt) * ceil_div(N, t.nt);
  t.row_bytes = bits_to_bytes(t.mt * t.nt);
  return t;
}

bool Mapper::needs_integer(const Op& op, const workload::OpGraph& g) {
  // The graph asks for the integer popcount when the op writes more than one bit per output:
  // a tensor packed at `bits` > 1 per element (a spec's binary layer writes its pre-activation
  // at ⌈log2(K + 1)⌉ + 1 bits), or, where the width is not given (a trace without `bits`), a
  // tensor larger than one bit per output. A 1-bit output, or an op writing nothing
  // (hand-built), takes the sign only.
  const uint64_t outputs = op.gemm.m * op.gemm.batch * op.gemm.n;
  for (uint32_t t : op.writes) {
    if (t >= g.tensors.size()) continue;
    const workload::Tensor& x = g.tensors[t];
    if (x.bits ? x.bits > 1 : x.bytes > bits_to_bytes(outputs)) return true;
  }
  return false;
}

namespace {
const char* readout_name(Readout r) {
  switch (r) {
    case Readout::sense: return "sense";
    case Readout::sar: return "sar";
    case Readout::bit_serial: return "bit_serial";
  }
  return "";
}
}  // namespace

OpPlan Mapper::forward(const Op& op, const workload::OpGraph& g) const {
  const bool integer = needs_integer(op, g);
  const bool selected = m_s.forward_mapping == ForwardMapping::weight_selected;
  if (m_s.forward_mapping != ForwardMapping::automatic) {
    OpPlan p = best_readout(op, selected, integer);
    p.mapping_reason = std::string("configured (forward_mapping: ") + (selected ? "weight_selected" : "ambit_xnor") +
                       "); " + p.mapping_reason;
    return p;
  }
  // auto: the objective is time, the op's estimated cycles (its command sequences on the
  // device plus its transfers at the interface's peak); a tie keeps weight_selected.
  OpPlan ws = best_readout(op, true, integer), ax = best_readout(op, false, integer);
  const uint64_t cws = estimate_cycles(ws), cax = estimate_cycles(ax);
  OpPlan& best = cax < cws ? ax : ws;
  best.mapping_reason = "auto, fewer estimated cycles: weight_selected " + std::to_string(cws) + ", ambit_xnor " +
                        std::to_string(cax) + "; " + best.mapping_reason;
  return std::move(best);
}

OpPlan Mapper::best_readout(const Op& op, bool selected, bool integer) const {
  // One sense when the whole reduction fits one reliably and only the sign is wanted;
  // otherwise the faster (estimated cycles) of the successive-approximation readout and the
  // bit-serial popcount.
  std::vector<Readout> options;
  if (m_s.readout != ReadoutChoice::bit_serial) {
    if (!integer) options.push_back(Readout::sense);
    options.push_back(Readout::sar);
  }
  if (m_s.readout != ReadoutChoice::charge) options.push_back(Readout::bit_serial);
  OpPlan best;
  uint64_t best_cycles = 0;
  std::string why;
  for (Readout r : options) {
    const Slicing sl = slicing(r, op.gemm.k, selected);
    if (sl.kc == 0) continue;
    OpPlan p = selected ? forward_selected(op, sl, integer) : forward_xnor(op, sl, integer);
    const uint64_t c = estimate_cycles(p);
    why += std::string(why.empty() ? "" : ", ") + readout_name(r) + " " + std::to_string(c);
    if (best.mapping.empty() || c < best_cycles) {
      best = std::move(p);
      best_cycles = c;
    }
    if (r == Readout::sense) break;  // a single sense is the least any readout does
  }
  if (best.mapping.empty())
    fail("readout", "op '" + op.name + "': no charge-domain readout fits: reliable cells per sense " +
                        std::to_string(ChargeModel(m_s).rows_per_sense(m_s.data_rows())) +
                        ", successive approximation needs at least 2 (one operand, one reference)");
  best.mapping_reason = "readout " + best.readout + " (estimated cycles: " + why + ")";
  return best;
}

Mapper::Slicing Mapper::slicing(Readout r, uint64_t K, bool selected) const {
  // Rows a slice may take in a subarray: ambit_xnor keeps an x and a w row per input (XNOR in
  // place; the bit-serial popcount works in place of its operands); weight_selected keeps x
  // and ¬x plus room for the copies it senses or the popcount's first level. The
  // successive-approximation readout keeps its operands and senses copies: a third.
  const uint64_t cap = m_s.data_rows() / (selected || r == Readout::sar ? 3 : 2);
  const uint64_t reliable = ChargeModel(m_s).rows_per_sense(m_s.data_rows());
  Slicing sl;
  switch (r) {
    case Readout::sense:
      if (K <= reliable && K <= cap) sl = {K, 1, 1, K};
      break;
    case Readout::sar:
      // A lane's reference for bit j is its estimate so far plus 2^j: the sense shares the
      // kc operand cells with 2^b − 1 reference cells holding the complement of the estimate
      // in binary weights (2^i cells for bit i), against one lane-uniform offset level per
      // step. All kc + 2^b − 1 cells count against the reliable rows. Our derivation.
      for (uint64_t kc = std::min(K, cap); kc > 0; --kc) {
        const unsigned b = Primitives::count_bits(kc);
        const uint64_t cells = kc + (uint64_t(1) << b) - 1;
        if (cells <= reliable) {
          sl = {kc, ceil_div(K, kc), b, cells};
          break;
        }
      }
      break;
    case Readout::bit_serial: {
      const uint64_t kc = std::min(K, cap);
      if (kc > 0) sl = {kc, ceil_div(K, kc), Primitives::count_bits(kc), 0};
      break;
    }
  }
  sl.readout = r;
  return sl;
}

uint64_t Mapper::estimate_cycles(const OpPlan& p) const {
  uint64_t bytes = 0;
  for (const Transfer& t : p.transfers) bytes += t.bytes;
  const double bytes_per_cycle = double(m_s.ddr.channels * m_s.ddr.burst_bytes()) / double(m_s.ddr.tbl);
  return Core(m_s).run(p, nullptr) + static_cast<uint64_t>(std::ceil(double(bytes) / bytes_per_cycle));
}

void Mapper::accumulate(OpPlan& p, const Op& op, const Slicing& sl, uint64_t row_bytes, bool selected,
                        bool integer) const {
  const uint64_t items = p.tiles * sl.S;  // subarray work units
  // Sharing leaves every connected cell at the bitline's voltage and the sense writes its
  // result into those still open: a sense consumes its cells, so it shares copies (AAP) of
  // rows that must survive: weight_selected's x or ¬x rows (the weight bit picks the copy's
  // source) and the successive-approximation readout's operands and reference cells.
  switch (sl.readout) {
    case Readout::sense:
      if (selected) p.jobs.push_back({"select_copy", m_p.aap() * sl.kc, items});
      p.jobs.push_back({"xnor_acc", m_p.xnor_accumulate(sl.kc), items, sl.kc, 1});
      break;
    case Readout::sar:
      // b senses per slice, each sharing fresh copies of the kc operands and of the
      // reference cells (from the constant rows and the decided bits' rows).
      p.jobs.push_back({"sar_copy", m_p.aap() * (sl.cells * sl.b), items});
      p.jobs.push_back({"xnor_acc_sar", m_p.xnor_accumulate(sl.cells) * sl.b, items, sl.cells, sl.b});
      break;
    case Readout::bit_serial:
      // SIMDRAM adds over the slice's rows (weight_selected: the adder's operand addresses
      // are the x or ¬x rows the weight bits pick; nothing is shared, nothing consumed).
      p.jobs.push_back({"popcount", m_p.popcount(sl.kc), items});
      break;
  }
  if (sl.readout != Readout::sense) {
    // Partials copied together (RowClone-PSM) and summed bit-serially, one after another in
    // the tile's subarray; the sign is the sum less the threshold (an add from the constant
    // rows), copied out by one more AAP.
    const unsigned w = std::max(2u, sl.b + Primitives::count_bits(sl.S - 1));
    check_width(w, "op '" + op.name + "': partial-popcount accumulator");
    Seq combine = m_p.rowclone_psm(row_bytes) * ((sl.S - 1) * sl.b) + m_p.add(w) * (sl.S - 1);
    if (!integer) combine += m_p.add(w) + m_p.aap();
    if (combine.cycles > 0) p.jobs.push_back({integer ? "combine_count" : "combine_sign", combine, p.tiles});
  }
  p.readout = readout_name(sl.readout);
  p.rows_per_sense = sl.cells;
  p.sense_error = sl.cells > 0 ? ChargeModel(m_s).error_rate(sl.cells) : 0.0;
  p.integer_readout = integer;
}

OpPlan Mapper::forward_xnor(const Op& op, const Slicing& sl, bool integer) const {
  // out[M×N] = sign(Σ_K xnor(x, w)). Lanes hold (m, n) pairs, an Mt × Nt tile per row. A
  // subarray holds a K-slice of kc inputs as two rows per input: x[m][k] replicated over the
  // tile's Nt outputs (segment copies of the vertical X row) and w[k][n] broadcast over its
  // Mt samples (controller reads the bit, copies the all-0 or all-1 constant row's segment).
  // Both are RowClone-PSM row moves. XNOR in place (Ambit 5 AAP + 2 AP), then the accumulate.
  const uint64_t M = op.gemm.m * op.gemm.batch, K = op.gemm.k, N = op.gemm.n;
  const Tiles t = tiles(M, N);
  OpPlan p = tiled_plan(t, M, N, sl.S);
  p.mapping = "ambit_xnor";
  const uint64_t rows = t.count * K;  // x rows (and w rows) laid out over all items
  p.jobs.push_back({"layout_x", m_p.rowclone_psm(t.row_bytes), rows});
  p.jobs.push_back({"layout_w", m_p.rowclone_psm(t.row_bytes), rows});
  p.jobs.push_back({"xnor", m_p.bitwise(BitOp::xnor_), rows});
  accumulate(p, op, sl, t.row_bytes, false, integer);
  // The host writes X in vertical layout (the transposition: X read and written once).
  // Lane order is chosen so that the cheaper operand is the broadcast one: w bits re-read
  // per sample tile, or x bits per output tile.
  const uint64_t w_reads = bits_to_bytes(K * N) * ceil_div(M, t.mt), x_reads = bits_to_bytes(M * K) * ceil_div(N, t.nt);
  if (w_reads <= x_reads) p.transfers.push_back({"weight_bits", w_reads, false, read_tensor(op, 1)});
  else p.transfers.push_back({"input_bits", x_reads, false, read_tensor(op, 0)});
  add_transpose(p, op, M, K, N);
  return p;
}

OpPlan Mapper::forward_selected(const Op& op, const Slicing& sl, bool integer) const {
  // The weight bit, read by the controller, is a row address: for input k it picks the row
  // holding x[·][k] or the one holding ¬x[·][k], so the XNOR costs no operation. One row
  // address serves every lane, so lanes hold samples only: an Mt × 1 tile per output n. A
  // subarray keeps a K-slice of kc inputs as x and ¬x rows (¬x by one dual-contact NOT per
  // x row) and computes output after output from them. X is laid out in as many full copies
  // as keep the compute units busy.
  const uint64_t M = op.gemm.m * op.gemm.batch, K = op.gemm.k, N = op.gemm.n;
  Tiles t;
  t.mt = std::min<uint64_t>(M, m_s.lanes);
  t.nt = 1;
  const uint64_t tm = ceil_div(M, t.mt);
  t.count = tm * N;
  t.row_bytes = bits_to_bytes(t.mt);
  OpPlan p = tiled_plan(t, M, N, sl.S);
  p.mapping = "weight_selected";
  const uint64_t items = t.count * sl.S;
  const uint64_t sets = std::max<uint64_t>(1, std::min<uint64_t>(m_s.units_total(), items) / (tm * sl.S));
  const uint64_t rows = sets * tm * K;  // x rows laid out (and as many ¬x rows made)
  p.jobs.push_back({"layout_x", m_p.rowclone_psm(t.row_bytes), rows});
  p.jobs.push_back({"not_x", m_p.dcc_not(), rows});
  accumulate(p, op, sl, t.row_bytes, true, integer);
  // The controller reads every weight bit once per sample tile (its row addresses).
  p.transfers.push_back({"weight_bits", bits_to_bytes(K * N) * tm, false, read_tensor(op, 1)});
  add_transpose(p, op, M, K, N);
  return p;
}

void Mapper::add_transpose(OpPlan& p, const Op& op, uint64_t M, uint64_t K, uint64_t N) const {
  p.transfers.push_back({"transpose_x_read", bits_to_bytes(M * K), false, read_tensor(op, 0)});
  p.transfers.push_back({"transpose_x_write", bits_to_bytes(M * K), true, read_tensor(op, 0)});
  p.baseline_read_bytes = bits_to_bytes(M * K) + bits_to_bytes(K * N) * op.gemm.batch;
  p.baseline_write_bytes = bits_to_bytes(M * N);
}

OpPlan Mapper::tiled_plan(const Tiles& t, uint64_t M, uint64_t N, uint64_t slices) const {
  OpPlan p;
  p.slices = slices;
  p.tiles = t.count;
  p.lanes_used = t.mt * t.nt;
  p.lane_utilization = double(M * N) / double(t.count * m_s.lanes);
  return p;
}

void Mapper::check_sign_feedback(const Op& op, const workload::OpGraph& g) const {
  // Feedback alignment puts a fixed matrix B (`<layer>.feedback`) where the dX read W's
  // signs; the signed accumulate below needs B to be signs too (one bit per element).
  const uint32_t b = read_tensor(op, 1);
  if (b >= g.tensors.size() || g.tensors[b].name != op.layer + ".feedback") return;
  const uint64_t elements = op.gemm.n * op.gemm.k;
  if (g.tensors[b].bytes > bits_to_bytes(elements))
    throw InputError("workload.training.feedback.dtype: layer '" + op.layer +
                     "': the in-DRAM dX of a binary layer is a sign-conditioned accumulate, so its feedback matrix "
                     "must be signs (dtype: binary); B here has " +
                     std::to_string(g.tensors[b].bytes) + " bytes for " + std::to_string(elements) + " elements");
}

OpPlan Mapper::signed_accumulate(const Op& op, bool weight_grad) const {
  // out[m×n] = Σ_k s·g, s = ±1. dX: g = dY[m][k], s = w[n][k]; dW: g = dY[k][n], s = x[k][m].
  // Lanes hold (m, n) pairs in Mt × Nt tiles as in forward_xnor. Per term a subarray holds
  // the gb rows of g (segment copies) and one row t = ¬s (broadcast from the constant rows,
  // the controller reading s): all RowClone-PSM row moves. s·g = (g ⊕ t) + t: gb Ambit XORs
  // (5 AAP + 2 AP each) and an add of w = gb + ⌈log2 k⌉ bits with carry-in t (the same
  // count as add(w): the carry row is initialised from t instead of 0; the upper bits of
  // g ⊕ t re-read its top row, sign extension by row address). Our derivation.
  const unsigned gb = m_s.gradient_bits;
  const uint64_t M = op.gemm.m * op.gemm.batch, N = op.gemm.n, R = op.gemm.k;
  const unsigned w = gb + Primitives::count_bits(R - 1);
  check_width(w, "op '" + op.name + "': accumulator of " + std::to_string(gb) + "-bit gradients over " +
                     std::to_string(R) + " terms");
  const uint64_t per_term = uint64_t(gb) + 1;
  if (m_s.data_rows() < uint64_t(w) + per_term)
    fail("subarrays_per_bank", "op '" + op.name + "' does not fit: one subarray has " +
                                   std::to_string(m_s.data_rows()) + " data rows, an accumulator of " +
                                   std::to_string(w) + " bits plus one " + std::to_string(gb) +
                                   "-bit gradient and its sign row needs " + std::to_string(w + per_term));
  const uint64_t rc = std::min<uint64_t>(R, (m_s.data_rows() - w) / per_term);
  const uint64_t S = ceil_div(R, rc);
  const Tiles t = tiles(M, N);
  OpPlan p = tiled_plan(t, M, N, S);
  const uint64_t items = t.count * S;
  const uint64_t terms = t.count * R;
  p.jobs.push_back({"layout_g", m_p.rowclone_psm(t.row_bytes), terms * gb});
  p.jobs.push_back({"layout_sign", m_p.rowclone_psm(t.row_bytes), terms});
  p.jobs.push_back({"clear_acc", m_p.aap() * w, items});
  p.jobs.push_back({"signed_add", m_p.bitwise(BitOp::xor_) * gb + m_p.add(w), terms});
  if (S > 1) p.jobs.push_back({"combine", (m_p.rowclone_psm(t.row_bytes) * w + m_p.add(w)) * (S - 1), t.count});
  const uint64_t Ms = weight_grad ? op.gemm.k : op.gemm.m * op.gemm.batch;  // samples
  const uint64_t Kf = weight_grad ? op.gemm.m : op.gemm.n;                  // forward inputs
  const uint64_t Nf = weight_grad ? op.gemm.n : op.gemm.k;                  // forward outputs
  const uint64_t dy_bytes = bits_to_bytes(Ms * Nf * gb);
  // The controller reads the bits of the operand it broadcasts, once per tile of the other
  // index; the lane order makes the cheaper one broadcast: the signs (indexed by the
  // output's n for dX, m for dW) or the gb-bit gradients (indexed by m for dX, n for dW).
  const uint64_t sign_bytes = weight_grad ? bits_to_bytes(Ms * Kf) : bits_to_bytes(Kf * Nf);
  const uint64_t sign_reads = sign_bytes * (weight_grad ? ceil_div(N, t.nt) : ceil_div(M, t.mt));
  const uint64_t g_reads = dy_bytes * (weight_grad ? ceil_div(M, t.mt) : ceil_div(N, t.nt));
  // Reads: dX {dY, w}, dW {x, dY}.
  const uint32_t sign = read_tensor(op, weight_grad ? 0 : 1), grad = read_tensor(op, weight_grad ? 1 : 0);
  if (sign_reads <= g_reads)
    p.transfers.push_back({weight_grad ? "input_bits" : "weight_bits", sign_reads, false, sign});
  else p.transfers.push_back({"gradient_bits", g_reads, false, grad});
  if (weight_grad) {
    p.baseline_read_bytes = bits_to_bytes(Ms * Kf) + dy_bytes;
    p.baseline_write_bytes = bits_to_bytes(Kf * Nf * gb);
  } else {
    p.baseline_read_bytes = bits_to_bytes(Kf * Nf) + dy_bytes;
    p.baseline_write_bytes = bits_to_bytes(Ms * Kf * gb);
  }
  return p;
}

OpPlan Mapper::latent_update(const Op& op) const {
  OpPlan p;
  const uint64_t n = op.elements;
  if (n == 0) fail("latent_bits", "op '" + op.name + "': optimizer op has no elements (weights to update)");
  p.lanes_used = std::min<uint64_t>(n, m_s.lanes);
  p.lane_utilization = double(n) / double(lane_groups(n) * m_s.lanes);
  // latent −= (dW >> shift): the learning rate is a power of two, so a row-address offset;
  // the new sign bit is copied into the binary weight row.
  p.jobs.push_back({"latent_sub", m_p.sub(m_s.latent_bits) + m_p.aap(), lane_groups(n)});
  p.baseline_read_bytes = bits_to_bytes(n * (m_s.latent_bits + m_s.gradient_bits));
  p.baseline_write_bytes = bits_to_bytes(n * (m_s.latent_bits + 1));
  return p;
}

OpPlan Mapper::bitwise(const Op& op) const {
  BitOp b;
  if (!bitop_from_string(op.detail, b))
    fail("host_work",
         "op '" + op.name + "': bitwise detail '" + op.detail + "' is not one of and, or, nand, nor, xor, xnor, not");
  if (op.elements == 0) fail("host_work", "op '" + op.name + "': bitwise op needs elements > 0");
  OpPlan p;
  p.lanes_used = std::min<uint64_t>(op.elements, m_s.lanes);
  p.lane_utilization = double(op.elements) / double(lane_groups(op.elements) * m_s.lanes);
  p.jobs.push_back({op.detail, m_p.bitwise(b), lane_groups(op.elements)});
  p.baseline_read_bytes = bits_to_bytes(op.elements) * (b == BitOp::not_ ? 1 : 2);
  p.baseline_write_bytes = bits_to_bytes(op.elements);
  return p;
}

OpPlan Mapper::host(const Op& op, const workload::OpGraph& g) const {
  OpPlan p;
  p.host_work = true;
  for (uint32_t t : op.reads) {
    p.transfers.push_back({g.tensors.at(t).name, g.tensors.at(t).bytes, false, t});
    p.baseline_read_bytes += g.tensors.at(t).bytes;
  }
  for (uint32_t t : op.writes) {
    p.transfers.push_back({g.tensors.at(t).name, g.tensors.at(t).bytes, true, t});
    p.baseline_write_bytes += g.tensors.at(t).bytes;
  }
  return p;
}

}  // namespace bpsim::pim
