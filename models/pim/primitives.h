#pragma once
/// DRAM command sequences of the in-DRAM compute primitives, timed in DDR cycles (tCK) of
/// one subarray, and counted per command type. Pure C++: the mapper composes these, the
/// core schedules them over banks within tFAW.
#include <cstdint>
#include <string>

#include "models/pim/pim_spec.h"

namespace bpsim::pim {

/// Commands and latency of one sequence on one subarray.
struct Seq {
  uint64_t cycles = 0;       ///< latency on one subarray, tCK
  uint64_t acts = 0;         ///< ACT commands (one row address each, multi-row ones included)
  uint64_t pres = 0;         ///< PRE commands
  uint64_t extra_rows = 0;   ///< wordlines raised beyond the first by multi-row ACTs (TRA: 2)
  uint64_t bursts = 0;       ///< internal column bursts (RowClone-PSM moves)
  uint64_t aap = 0, ap = 0;  ///< Ambit primitives (a TRA is an AP or the first ACT of an AAP)
  uint64_t tra = 0;          ///< triple-row activations (majority)
  uint64_t shares = 0;       ///< charge-sharing steps of XNOR-accumulates
  uint64_t senses = 0;       ///< offset-voltage comparisons of XNOR-accumulates
  uint64_t psm = 0;          ///< rows copied between subarrays/banks (RowClone-PSM)
  Seq& operator+=(const Seq& o);
  Seq operator*(uint64_t n) const;
};
Seq operator+(Seq a, const Seq& b);

/// Ambit's bulk bitwise operations (Seshadri et al., MICRO 2017).
enum class BitOp { and_, or_, nand_, nor_, xor_, xnor_, not_ };
/// "and" → BitOp; false if unknown.
bool bitop_from_string(const std::string& s, BitOp& out);

class Primitives {
 public:
  explicit Primitives(const PimSpec& s) : m_s(s) {}
  /// It keeps a reference to the spec: a temporary one would dangle (compile error instead).
  explicit Primitives(PimSpec&&) = delete;
  /// ACT + PRE: tRAS + tRP. `rows` wordlines raised (3 = TRA).
  Seq ap(unsigned rows = 1) const;
  /// ACT, ACT, PRE: 2·tRAS + tRP naively; tRAS + t_2nd + tRP with Ambit's overlapped ACT.
  /// `src_rows` = 3 makes the first ACT a TRA (majority copied into the destination).
  Seq aap(unsigned src_rows = 1) const;
  /// RowClone pipelined-serial mode between banks: ACT src, ACT dst, `bytes` moved in
  /// bursts at tCCD_L, PRE both.
  Seq rowclone_psm(uint64_t bytes) const;
  /// NOT through a dual-contact row: 2 AAP (src → DCC, DCC-bar → dst).
  Seq dcc_not() const { return aap() * 2; }
  /// Ambit derived op on one row: AND/OR 4 AAP; NAND/NOR 5 AAP; XOR and XNOR 5 AAP + 2 AP;
  /// NOT 2 AAP.
  Seq bitwise(BitOp op) const;
  /// Charge-domain XNOR-accumulate of `rows` selected rows (x or ¬x per weight bit):
  /// ⌈rows/R⌉ charge-sharing ACTs of tRCD each (no precharge between: the bitline keeps
  /// the charge), one sense against the offset-voltage row (tRAS), the output row opened
  /// by a second ACT (t_2nd) so the sensed sign is written into it, then PRE (tRP).
  /// `steps` > 0 gives the sharing steps instead (backend: rtl: the RTL column's count).
  Seq xnor_accumulate(uint64_t rows, uint64_t steps = 0) const;

  // SIMDRAM-style bit-serial micro-programs (MAJ/NOT), n-bit operands, per row of lanes.
  /// n-bit add: 8n + 1 AAP/AP: per bit 7 AAP + 1 AP (our MAJ/NOT program in
  /// microprogram.h, functionally tested), plus 1 AAP to clear the carry. Agrees with
  /// SIMDRAM (Hajinazar et al., ASPLOS 2021) as tabulated by a public cost model in ns
  /// (test_pim_primitives.cpp); the paper's own table was not checked directly.
  Seq add(unsigned n) const;
  /// n-bit subtract: the add with B read through a DCC row (+1 AAP per bit) and the carry
  /// set to 1: 9n + 1. (Our program; SIMDRAM's hand-allocated one may be shorter.)
  Seq sub(unsigned n) const;
  /// n-bit multiply: 11n² − 5n − 1 AAP/AP, SIMDRAM's count as tabulated (in ns) by a public
  /// cost model (test_pim_primitives.cpp); no program of ours runs it.
  Seq mul(unsigned n) const;
  /// ReLU of an n-bit value: 3n + ((n − 1) mod 2), attributed to SIMDRAM; not checked
  /// against a source.
  Seq relu(unsigned n) const;
  /// Popcount of k one-bit rows by an adder tree (our derivation from add): level l adds
  /// ⌊c/2⌋ pairs of l-bit numbers (c values left at that level); Σ (pairs) · add(l).
  Seq popcount(uint64_t k) const;
  /// Width of a popcount of k bits: ⌈log2(k + 1)⌉.
  static unsigned count_bits(uint64_t k);

  const PimSpec& spec() const { return m_s; }

 private:
  /// `aaps` AAP + `aps` AP, `tras` of them triple-row activations.
  Seq program(uint64_t aaps, uint64_t aps, uint64_t tras) const;
  /// The adder of microprogram.h for any n ≥ 1 (popcount trees start at 1 bit).
  Seq add_program(unsigned n, bool subtract) const;
  const PimSpec& m_s;
};

/// Checks an operand width of the micro-programs (2..32 bits); throws InputError naming `what`.
void check_width(unsigned n, const std::string& what);

}  // namespace bpsim::pim
