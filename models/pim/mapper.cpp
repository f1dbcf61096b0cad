#include "models/pim/mapper.h"

#include <algorithm>

#include "sim/core/error.h"

namespace bpsim::pim {

using workload::Op;
using workload::OpKind;
using workload::Phase;

namespace {
uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
uint64_t bits_to_bytes(uint64_t bits) { return ceil_div(bits, 8); }
/// The op's i-th read tensor (GEMMs: forward {x, w}, dX {dY, w}, dW {x, dY}), if it names one.
uint32_t read_tensor(const Op& op, size_t i) { return i < op.reads.size() ? op.reads[i] : Transfer::kNoTensor; }
/// A spec's binary layer keeps real-valued latent weights and binarises them each step (a
/// `sign` op reading them, workload builder): their plain-SGD update is the in-DRAM
/// latent-weight update (subtract, sign copied out). Momentum and Adam keep real state
/// that the bit-serial programs do not model: those run on the host.
bool latent_in_dram(uint32_t weight, const workload::OpGraph& g) {
  bool binarised = false, sgd = false;
  for (const Op& o : g.ops) {
    if (o.reads.empty() || o.reads[0] != weight) continue;
    binarised |= o.kind == OpKind::bitwise && o.detail == "sign";
    sgd |= o.kind == OpKind::optimizer && o.detail == "sgd";
  }
  return binarised && sgd;
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
      case Phase::recompute: return forward_xnor(op);
      case Phase::backward_data: return signed_accumulate(op, false);
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

OpPlan Mapper::forward_xnor(const Op& op) const {
  // out[M×N] = sign(Σ_K xnor(x, w)). Lanes hold (m, n) pairs, an Mt × Nt tile per row. A
  // subarray holds a K-slice of kc = data_rows/2 inputs as two rows per input: x[m][k]
  // replicated over the tile's Nt outputs (segment copies of the vertical X row) and
  // w[k][n] broadcast over its Mt samples (controller reads the bit, copies the all-0 or
  // all-1 constant row's segment). Both are RowClone-PSM row moves. XNOR in place (Ambit
  // 6 AAP + 2 AP), then one charge-domain accumulate per tile and slice.
  const uint64_t M = op.gemm.m * op.gemm.batch, K = op.gemm.k, N = op.gemm.n;
  const uint64_t kc_max = m_s.data_rows() / 2;
  if (kc_max == 0)
    fail("subarrays_per_bank", "op '" + op.name + "' does not fit: a subarray has no room for an x and a w row");
  const uint64_t kc = std::min(K, kc_max);
  const uint64_t S = ceil_div(K, kc);
  const Tiles t = tiles(M, N);
  OpPlan p = tiled_plan(t, M, N, S);
  const uint64_t items = t.count * S;  // subarray work units
  const uint64_t rows = t.count * K;   // x rows (and w rows) laid out over all items
  p.jobs.push_back({"layout_x", m_p.rowclone_psm(t.row_bytes), rows});
  p.jobs.push_back({"layout_w", m_p.rowclone_psm(t.row_bytes), rows});
  p.jobs.push_back({"xnor", m_p.bitwise(BitOp::xnor_), rows});
  if (S == 1) {
    p.jobs.push_back({"xnor_acc", m_p.xnor_accumulate(K), t.count, K, 1});
  } else {
    // Each slice yields its partial popcount by successive approximation (⌈log2(kc+1)⌉
    // senses); partials are copied together and summed bit-serially, one more AAP signs.
    const unsigned b = Primitives::count_bits(kc);
    const unsigned w = b + Primitives::count_bits(S - 1);
    check_width(w, "op '" + op.name + "': partial-popcount accumulator");
    p.jobs.push_back({"xnor_acc_sar", m_p.xnor_accumulate(kc) * b, items, kc, b});
    const Seq combine = m_p.rowclone_psm(t.row_bytes) * ((S - 1) * b) + m_p.add(w) * S + m_p.aap();
    p.jobs.push_back({"combine_sign", combine, t.count});
  }
  // The host writes X in vertical layout (the transposition: X read and written once).
  // Lane order is chosen so that the cheaper operand is the broadcast one: w bits re-read
  // per sample tile, or x bits per output tile.
  const uint64_t w_reads = bits_to_bytes(K * N) * ceil_div(M, t.mt), x_reads = bits_to_bytes(M * K) * ceil_div(N, t.nt);
  if (w_reads <= x_reads) p.transfers.push_back({"weight_bits", w_reads, false, read_tensor(op, 1)});
  else p.transfers.push_back({"input_bits", x_reads, false, read_tensor(op, 0)});
  p.transfers.push_back({"transpose_x_read", bits_to_bytes(M * K), false, read_tensor(op, 0)});
  p.transfers.push_back({"transpose_x_write", bits_to_bytes(M * K), true, read_tensor(op, 0)});
  p.baseline_read_bytes = bits_to_bytes(M * K) + bits_to_bytes(K * N) * op.gemm.batch;
  p.baseline_write_bytes = bits_to_bytes(M * N);
  return p;
}

OpPlan Mapper::tiled_plan(const Tiles& t, uint64_t M, uint64_t N, uint64_t slices) const {
  OpPlan p;
  p.slices = slices;
  p.tiles = t.count;
  p.lanes_used = t.mt * t.nt;
  p.lane_utilization = double(M * N) / double(t.count * m_s.lanes);
  return p;
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
