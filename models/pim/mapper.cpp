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
}  // namespace

void Mapper::fail(const std::string& key, const std::string& msg) const {
  if (m_where) throw m_where->error(key, msg);
  throw InputError("accelerator." + key + ": " + msg);
}

OpPlan Mapper::map(const Op& op, const workload::OpGraph& g) const {
  const bool binary_gemm = op.kind == OpKind::xnor_gemm || (op.kind == OpKind::gemm && op.dtype == workload::DType::binary);
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
  if (op.kind == OpKind::bitwise) return bitwise(op);
  if (op.kind == OpKind::elementwise && m_s.host_work == HostWork::dram && op.elements > 0) {
    OpPlan p;
    p.lanes_used = std::min<uint64_t>(op.elements, m_s.lanes);
    p.jobs.push_back({"relu_like", m_p.relu(m_s.gradient_bits), lane_groups(op.elements)});
    for (uint32_t t : op.reads) p.baseline_read_bytes += g.tensors.at(t).bytes;
    for (uint32_t t : op.writes) p.baseline_write_bytes += g.tensors.at(t).bytes;
    return p;
  }
  return host(op, g);
}

OpPlan Mapper::forward_xnor(const Op& op) const {
  const uint64_t M = op.gemm.m * op.gemm.batch, K = op.gemm.k, N = op.gemm.n;
  const uint64_t kc_max = m_s.data_rows() / 2;  // x and ¬x rows of one slice
  const uint64_t kc = std::min(K, kc_max);
  const uint64_t S = ceil_div(K, kc), G = lane_groups(M);
  OpPlan p;
  p.slices = S;
  p.lanes_used = std::min<uint64_t>(M, m_s.lanes);
  const uint64_t row_bytes = bits_to_bytes(p.lanes_used);
  p.jobs.push_back({"not_x", m_p.dcc_not(), K * G});  // ¬x rows made in place (DCC NOT)
  // Each unit holds one slice of X; units beyond one per slice need their own copy.
  const uint64_t items = N * S * G;
  const uint64_t holders = std::max<uint64_t>(std::min<uint64_t>(m_s.units_total(), items), S * G);
  p.jobs.push_back({"copy_x", m_p.rowclone_psm(row_bytes), holders * 2 * kc});
  if (S == 1) {
    p.jobs.push_back({"xnor_acc", m_p.xnor_accumulate(K), N * G});
  } else {
    const unsigned b = Primitives::count_bits(kc);
    const unsigned w = b + Primitives::count_bits(S - 1);
    check_width(w, "op '" + op.name + "': partial-popcount accumulator");
    p.jobs.push_back({"xnor_acc_sar", m_p.xnor_accumulate(kc) * b, items});
    const Seq combine = m_p.rowclone_psm(row_bytes) * ((S - 1) * b) + m_p.add(w) * S + m_p.aap();
    p.jobs.push_back({"combine_sign", combine, N * G});
  }
  // The controller reads the weight bits it turns into row addresses.
  p.transfers.push_back({"weight_bits", bits_to_bytes(K * N) * op.gemm.batch, false});
  p.baseline_read_bytes = bits_to_bytes(M * K) + bits_to_bytes(K * N) * op.gemm.batch;
  p.baseline_write_bytes = bits_to_bytes(M * N);
  return p;
}

OpPlan Mapper::signed_accumulate(const Op& op, bool weight_grad) const {
  // out[m×n] = Σ_k ±g. dX: lanes = m (samples), outputs n; dW: lanes = n, outputs m.
  const unsigned gb = m_s.gradient_bits;
  const uint64_t lanes = (weight_grad ? op.gemm.n : op.gemm.m) * (weight_grad ? 1 : op.gemm.batch);
  const uint64_t outs = (weight_grad ? op.gemm.m : op.gemm.n) * (weight_grad ? op.gemm.batch : 1);
  const uint64_t R = op.gemm.k;
  const unsigned w = gb + Primitives::count_bits(R - 1);
  check_width(w, "op '" + op.name + "': accumulator of " + std::to_string(gb) + "-bit gradients over " + std::to_string(R) + " terms");
  if (m_s.data_rows() < uint64_t(w) + gb)
    fail("subarrays_per_bank", "op '" + op.name + "' does not fit: one subarray has " + std::to_string(m_s.data_rows()) +
                                   " data rows, an accumulator of " + std::to_string(w) + " bits plus one " +
                                   std::to_string(gb) + "-bit gradient needs " + std::to_string(w + gb));
  const uint64_t rc = std::min<uint64_t>(R, (m_s.data_rows() - w) / gb);
  const uint64_t S = ceil_div(R, rc), G = lane_groups(lanes);
  OpPlan p;
  p.slices = S;
  p.lanes_used = std::min<uint64_t>(lanes, m_s.lanes);
  const uint64_t row_bytes = bits_to_bytes(p.lanes_used);
  const uint64_t items = outs * S * G;
  const uint64_t holders = std::max<uint64_t>(std::min<uint64_t>(m_s.units_total(), items), S * G);
  p.jobs.push_back({"copy_grad", m_p.rowclone_psm(row_bytes), holders * rc * gb});
  const Seq slice = m_p.add(w) * ((rc + 1) / 2) + m_p.sub(w) * (rc / 2);
  p.jobs.push_back({"signed_add", slice, items});
  if (S > 1) p.jobs.push_back({"combine", (m_p.rowclone_psm(row_bytes) * w + m_p.add(w)) * (S - 1), outs * G});
  const uint64_t M = weight_grad ? op.gemm.k : op.gemm.m;  // samples
  const uint64_t Kf = weight_grad ? op.gemm.m : op.gemm.n; // forward inputs
  const uint64_t Nf = weight_grad ? op.gemm.n : op.gemm.k; // forward outputs
  const uint64_t dy_bytes = bits_to_bytes(M * Nf * gb);
  if (weight_grad) {
    // dY is in the sample-lane layout; dW needs it feature-lane: the host transposes it.
    p.transfers.push_back({"transpose_dy_read", dy_bytes, false});
    p.transfers.push_back({"transpose_dy_write", dy_bytes, true});
    p.transfers.push_back({"input_bits", bits_to_bytes(M * Kf), false});
    p.baseline_read_bytes = bits_to_bytes(M * Kf) + dy_bytes;
    p.baseline_write_bytes = bits_to_bytes(Kf * Nf * gb);
  } else {
    p.transfers.push_back({"weight_bits", bits_to_bytes(Kf * Nf), false});
    p.baseline_read_bytes = bits_to_bytes(Kf * Nf) + dy_bytes;
    p.baseline_write_bytes = bits_to_bytes(M * Kf * gb);
  }
  return p;
}

OpPlan Mapper::latent_update(const Op& op) const {
  OpPlan p;
  const uint64_t n = op.elements;
  if (n == 0) fail("latent_bits", "op '" + op.name + "': optimizer op has no elements (weights to update)");
  p.lanes_used = std::min<uint64_t>(n, m_s.lanes);
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
    fail("host_work", "op '" + op.name + "': bitwise detail '" + op.detail + "' is not one of and, or, nand, nor, xor, xnor, not");
  if (op.elements == 0) fail("host_work", "op '" + op.name + "': bitwise op needs elements > 0");
  OpPlan p;
  p.lanes_used = std::min<uint64_t>(op.elements, m_s.lanes);
  p.jobs.push_back({op.detail, m_p.bitwise(b), lane_groups(op.elements)});
  p.baseline_read_bytes = bits_to_bytes(op.elements) * (b == BitOp::not_ ? 1 : 2);
  p.baseline_write_bytes = bits_to_bytes(op.elements);
  return p;
}

OpPlan Mapper::host(const Op& op, const workload::OpGraph& g) const {
  OpPlan p;
  p.host_work = true;
  for (uint32_t t : op.reads) {
    p.transfers.push_back({g.tensors.at(t).name, g.tensors.at(t).bytes, false});
    p.baseline_read_bytes += g.tensors.at(t).bytes;
  }
  for (uint32_t t : op.writes) {
    p.transfers.push_back({g.tensors.at(t).name, g.tensors.at(t).bytes, true});
    p.baseline_write_bytes += g.tensors.at(t).bytes;
  }
  return p;
}

}  // namespace bpsim::pim
