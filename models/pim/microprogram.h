#pragma once
/// A functional model of Ambit rows (64 lanes per row, one uint64_t) that executes AAP/AP
/// programs, so that the bit-serial micro-programs whose counts the timing model uses are
/// shown to compute what they claim (tests run them on random operands).
#include <cstdint>
#include <vector>

namespace bpsim::pim {

/// One Ambit primitive on row indices. AAP: the source (one row, or three = TRA, which also
/// leaves the majority in all three) is copied into every destination; `src_bar` reads a
/// dual-contact row through its negated wordline. AP: TRA of `src` only.
struct Instr {
  enum Kind { aap, ap } kind = aap;
  std::vector<unsigned> src;
  std::vector<unsigned> dst;
  bool src_bar = false;
};

struct Program {
  std::vector<Instr> code;
  uint64_t aaps() const;
  uint64_t aps() const;
  uint64_t tras() const;
  /// Wordlines raised beyond one per ACT (TRA sources and multi-row destinations).
  uint64_t extra_rows() const;
};

/// Executes `p` on `rows` (64 lanes each).
void run_program(const Program& p, std::vector<uint64_t>& rows);

/// Row map of the adder: operands a[0..n), b[0..n), sum s[0..n), then the reserved rows.
struct AdderRows {
  unsigned n;
  unsigned a(unsigned i) const { return i; }
  unsigned b(unsigned i) const { return n + i; }
  unsigned s(unsigned i) const { return 2 * n + i; }
  unsigned t(unsigned j) const { return 3 * n + j; }        ///< compute rows T0..T5
  unsigned dcc(unsigned j) const { return 3 * n + 6 + j; }  ///< DCC0, DCC1
  unsigned zero() const { return 3 * n + 8; }
  unsigned one() const { return 3 * n + 9; }
  unsigned count() const { return 3 * n + 10; }
};

/// n-bit ripple adder (subtract: a − b = a + ¬b + 1) from MAJ and NOT:
/// Cout = MAJ(A, B, C), S = MAJ(MAJ(A, B, ¬C), ¬Cout, C). 8 AAP/AP per bit + 1 (add).
Program adder_program(const AdderRows& r, bool subtract);

}  // namespace bpsim::pim
