#include "models/pim/microprogram.h"

namespace bpsim::pim {

uint64_t Program::aaps() const {
  uint64_t n = 0;
  for (const Instr& i : code) n += i.kind == Instr::aap;
  return n;
}

uint64_t Program::aps() const { return code.size() - aaps(); }

uint64_t Program::tras() const {
  uint64_t n = 0;
  for (const Instr& i : code) n += i.src.size() == 3;
  return n;
}

uint64_t Program::extra_rows() const {
  uint64_t n = 0;
  for (const Instr& i : code) n += (i.src.size() - 1) + (i.dst.empty() ? 0 : i.dst.size() - 1);
  return n;
}

void run_program(const Program& p, std::vector<uint64_t>& rows) {
  for (const Instr& in : p.code) {
    uint64_t v = rows[in.src[0]];
    if (in.src.size() == 3) {
      const uint64_t a = rows[in.src[0]], b = rows[in.src[1]], c = rows[in.src[2]];
      v = (a & b) | (b & c) | (a & c);
      for (unsigned r : in.src) rows[r] = v;  // a TRA restores the majority into all three
    }
    if (in.src_bar) v = ~v;
    for (unsigned d : in.dst) rows[d] = v;
  }
}

Program adder_program(const AdderRows& r, bool subtract) {
  Program p;
  auto aap = [&](std::vector<unsigned> src, std::vector<unsigned> dst, bool bar = false) {
    p.code.push_back(Instr{Instr::aap, std::move(src), std::move(dst), bar});
  };
  // Invariant at the start of bit i: T2 and DCC[i%2] hold the carry C.
  aap({subtract ? r.one() : r.zero()}, {r.t(2), r.dcc(0)});
  for (unsigned i = 0; i < r.n; ++i) {
    const unsigned dc = r.dcc(i % 2), dn = r.dcc((i + 1) % 2);
    aap({r.a(i)}, {r.t(0), r.t(3)});
    if (subtract) {
      aap({r.b(i)}, {dn});  // the free DCC row, read back negated
      aap({dn}, {r.t(1), r.t(4)}, true);
    } else {
      aap({r.b(i)}, {r.t(1), r.t(4)});
    }
    aap({dc}, {r.t(5)}, true);                                                // ¬C
    p.code.push_back(Instr{Instr::ap, {r.t(3), r.t(4), r.t(5)}, {}, false});  // X = MAJ(A,B,¬C)
    aap({r.t(0), r.t(1), r.t(2)}, {dn});                                      // Cout = MAJ(A,B,C), also left in T0..T2
    aap({dn}, {r.t(4)}, true);                                                // ¬Cout
    aap({dc}, {r.t(5)});                                                      // C
    aap({r.t(3), r.t(4), r.t(5)}, {r.s(i)});                                  // S = MAJ(X, ¬Cout, C)
  }
  return p;
}

}  // namespace bpsim::pim
