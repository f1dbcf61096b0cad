#pragma once
/// Ops → DRAM command sequences (pure C++). Layout (vertical, bit-sliced): a row holds one
/// bit of one feature for up to `lanes` samples; multi-bit values take one row per bit.
/// Binary weights never sit in lanes: the controller reads their bits and uses them as row
/// addresses (a weight selects row x or ¬x: that is the XNOR; or selects add vs subtract).
///
/// - GEMM ops spread their (m, n) output pairs over lanes: a row holds an Mt × Nt tile
///   (Mt = min(M, lanes) samples, Nt = lanes/Mt outputs), tiles and K-slices go to
///   subarrays and banks. Operands are laid out per tile by RowClone-PSM row moves: the
///   operand indexed by the tile's inner index is segment-copied, the other is broadcast
///   from the all-0/all-1 constant rows by the controller, which reads its bits.
/// - forward xnor_gemm out[M×N] = sign(Σ_K xnor) (or the popcount, when the graph reads an
///   integer): weight_selected (default) keeps x and ¬x rows and lets each weight bit pick
///   one (lanes hold samples); ambit_xnor lays x and w out per lane and runs Ambit XNOR; auto
///   takes the one of fewer estimated cycles per op. Either accumulates K-slices of at most
///   the rows one charge-domain sense resolves (charge.h): one sense when the slice is all of
///   K and the sign is wanted, else a successive-approximation popcount per slice, summed
///   bit-serially.
/// - backward xnor_gemm (and binary gemm): out[m×n] = Σ_k s·g with the sign s a weight
///   (dX) or an input bit (dW): per term gb Ambit XORs with ¬s and an add with carry-in ¬s
///   into an accumulator of gb + ⌈log2 k⌉ bits.
/// - optimizer: latent-weight update in DRAM (subtract, sign copied to the weight row).
/// - bitwise: Ambit ops over `elements` bits.
/// - everything else: host work (or bit-serial in DRAM for elementwise with host_work: dram).
#include <cstdint>
#include <string>
#include <vector>

#include "models/pim/primitives.h"
#include "sim/core/params.h"
#include "sim/ir/ir.h"

namespace bpsim::pim {

/// `count` identical sequences, spread over the compute units.
struct Job {
  std::string name;
  Seq seq;
  uint64_t count = 0;
  /// XNOR-accumulate jobs: `seq` is exactly acc_times × xnor_accumulate(acc_rows), so
  /// that backend: rtl can rebuild it with the RTL column's step count (0: not one).
  uint64_t acc_rows = 0, acc_times = 0;
};

/// Bytes over the DRAM interface (host or controller side).
struct Transfer {
  static constexpr uint32_t kNoTensor = ~uint32_t(0);
  std::string what;
  uint64_t bytes = 0;
  bool is_write = false;
  /// The op's tensor whose DRAM copy it moves, starting at the tensor's placed address
  /// (kNoTensor: the op names none, e.g. a hand-built op without reads).
  uint32_t tensor = kNoTensor;
};

struct OpPlan {
  std::vector<Job> jobs;
  std::vector<Transfer> transfers;
  bool host_work = false;             ///< the op runs on the host; only its traffic is timed
  uint64_t baseline_read_bytes = 0;   ///< a host computing the op reads its operands…
  uint64_t baseline_write_bytes = 0;  ///< …and writes its results over the bus
  uint64_t lanes_used = 0;            ///< lanes of a row doing useful work
  uint64_t slices = 1;                ///< subarray slices the reduction is split into
  uint64_t tiles = 1;                 ///< rows of (m, n) output lanes (GEMM ops)
  double lane_utilization = 0;        ///< useful lanes / lanes of all rows the op computes in
  /// Binary forward ops: the mapping used ("weight_selected" or "ambit_xnor"), why (auto: the
  /// estimated cycles of both), the cells one sense resolves, its predicted error rate, and
  /// whether the integer popcount is read out (empty mapping: not a binary forward op).
  std::string mapping;
  std::string mapping_reason;
  std::string readout;  ///< "sense", "sar" or "bit_serial"
  uint64_t rows_per_sense = 0;
  double sense_error = 0;
  bool integer_readout = false;
};

/// How a K-slice's XNOR count is read: one sense of its sign, successive approximation (b
/// senses against per-lane references), or a bit-serial popcount (SIMDRAM adds).
enum class Readout { sense, sar, bit_serial };

class Mapper {
 public:
  /// `where` (the accelerator's values) locates errors; may be null in unit tests.
  Mapper(const PimSpec& s, const config::Values* where) : m_s(s), m_p(s), m_where(where) {}
  Mapper(PimSpec&&, const config::Values*) = delete;  ///< keeps a reference: no temporaries
  /// Throws InputError when the op cannot be placed (does not fit, unsupported width or kind).
  OpPlan map(const workload::Op& op, const workload::OpGraph& g) const;

 private:
  struct Tiles {
    uint64_t mt = 1, nt = 1, count = 1, row_bytes = 1;
  };
  /// Mt × Nt tiles of (m, n) pairs, one per row of lanes.
  Tiles tiles(uint64_t M, uint64_t N) const;
  /// A plan of M×N outputs in tiles `t`, each over `slices` K-slices (its jobs still empty).
  OpPlan tiled_plan(const Tiles& t, uint64_t M, uint64_t N, uint64_t slices) const;
  /// A K-slicing of the forward's reduction for one readout: kc inputs per slice, S slices,
  /// b bits per partial count, `cells` shared per sense (0: none). kc 0: the readout cannot
  /// serve this K.
  struct Slicing {
    uint64_t kc = 0, S = 1;
    unsigned b = 1;
    uint64_t cells = 0;
    Readout readout = Readout::sense;
  };
  Slicing slicing(Readout r, uint64_t K, bool selected) const;
  /// The binary forward in the configured mapping (auto: the one of fewer estimated cycles).
  OpPlan forward(const workload::Op& op, const workload::OpGraph& g) const;
  /// A mapping (weight_selected or ambit_xnor) with its fastest readout.
  OpPlan best_readout(const workload::Op& op, bool selected, bool integer) const;
  OpPlan forward_xnor(const workload::Op& op, const Slicing& sl, bool integer) const;
  OpPlan forward_selected(const workload::Op& op, const Slicing& sl, bool integer) const;
  /// The jobs that reduce each tile's K-slices (per readout) and combine the partials.
  void accumulate(OpPlan& p, const workload::Op& op, const Slicing& sl, uint64_t row_bytes, bool selected,
                  bool integer) const;
  /// Transposition traffic of X (host reads and writes it vertically) and a host's baseline.
  void add_transpose(OpPlan& p, const workload::Op& op, uint64_t M, uint64_t K, uint64_t N) const;
  /// Whether the graph reads the op's integer popcount (see forward's comment in mapper.cpp).
  static bool needs_integer(const workload::Op& op, const workload::OpGraph& g);
  /// Estimated cycles of a plan: its jobs (Core) plus its transfers at the interface's peak.
  uint64_t estimate_cycles(const OpPlan& p) const;
  /// Refuses a binary layer's dX whose feedback matrix B (feedback alignment) is not signs.
  void check_sign_feedback(const workload::Op& op, const workload::OpGraph& g) const;
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
