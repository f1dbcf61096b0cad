#pragma once
/// Ops → DRAM command sequences (pure C++). Layout (vertical, bit-sliced): a row holds one
/// bit of one feature for up to `lanes` samples; multi-bit values take one row per bit.
/// Binary weights never sit in lanes: the controller reads their bits and uses them as row
/// addresses (a weight selects row x or ¬x: that is the XNOR; or selects add vs subtract).
///
/// - forward xnor_gemm out[M×N] = sign(Σ_K xnor): lanes = M; a subarray holds a K-slice of
///   Kc = data_rows/2 inputs (x and ¬x rows). One slice: one XNOR-accumulate per output
///   (charge sharing, offset-voltage compare, write-back). Several slices: each yields its
///   partial popcount by successive approximation (⌈log2(Kc+1)⌉ senses), the partials are
///   copied together (RowClone-PSM) and summed with bit-serial adds, and one more add
///   against the threshold gives the sign.
/// - backward xnor_gemm (and binary gemm): out[m×n] = Σ_k ±g, the sign a weight (dX) or an
///   input bit (dW) read by the controller: sign-conditioned adds/subtracts of g-bit rows
///   into accumulators of g + ⌈log2 k⌉ bits; lanes = m for dX, n for dW (dY transposed by
///   the host for dW: its traffic is counted). Signs assumed balanced: ⌈k/2⌉ adds, ⌊k/2⌋ subs.
/// - optimizer: latent-weight update in DRAM (subtract, sign copied to the weight row).
/// - bitwise: Ambit ops over `elements` bits.
/// - everything else: host work (or bit-serial in DRAM for elementwise with host_work: dram).
#include <cstdint>
#include <string>
#include <vector>

#include "models/pim/primitives.h"
#include "sim/core/params.h"
#include "sim/workload/ir.h"

namespace bpsim::pim {

/// `count` identical sequences, spread over the compute units.
struct Job {
  std::string name;
  Seq seq;
  uint64_t count = 0;
};

/// Bytes over the DRAM interface (host or controller side).
struct Transfer {
  std::string what;
  uint64_t bytes = 0;
  bool is_write = false;
};

struct OpPlan {
  std::vector<Job> jobs;
  std::vector<Transfer> transfers;
  bool host_work = false;          ///< the op runs on the host; only its traffic is timed
  uint64_t baseline_read_bytes = 0;   ///< a host computing the op reads its operands…
  uint64_t baseline_write_bytes = 0;  ///< …and writes its results over the bus
  uint64_t lanes_used = 0;         ///< lanes of a row doing useful work
  uint64_t slices = 1;             ///< subarray slices the reduction is split into
};

class Mapper {
 public:
  /// `where` (the accelerator's values) locates errors; may be null in unit tests.
  Mapper(const PimSpec& s, const config::Values* where) : m_s(s), m_p(s), m_where(where) {}
  /// Throws InputError when the op cannot be placed (does not fit, unsupported width or kind).
  OpPlan map(const workload::Op& op, const workload::OpGraph& g) const;

 private:
  OpPlan forward_xnor(const workload::Op& op) const;
  OpPlan signed_accumulate(const workload::Op& op, bool weight_grad) const;
  OpPlan latent_update(const workload::Op& op) const;
  OpPlan bitwise(const workload::Op& op) const;
  OpPlan host(const workload::Op& op, const workload::OpGraph& g) const;
  [[noreturn]] void fail(const std::string& key, const std::string& msg) const;
  uint64_t lane_groups(uint64_t lanes) const { return (lanes + m_s.lanes - 1) / m_s.lanes; }
  const PimSpec& m_s;
  Primitives m_p;
  const config::Values* m_where;
};

}  // namespace bpsim::pim
