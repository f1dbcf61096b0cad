#include "models/pim/primitives.h"

#include <algorithm>
#include <map>

#include "sim/core/error.h"

namespace bpsim::pim {

Seq& Seq::operator+=(const Seq& o) {
  cycles += o.cycles;
  acts += o.acts;
  pres += o.pres;
  extra_rows += o.extra_rows;
  bursts += o.bursts;
  aap += o.aap;
  ap += o.ap;
  tra += o.tra;
  shares += o.shares;
  senses += o.senses;
  psm += o.psm;
  return *this;
}

Seq Seq::operator*(uint64_t n) const {
  Seq r;
  r.cycles = cycles * n;
  r.acts = acts * n;
  r.pres = pres * n;
  r.extra_rows = extra_rows * n;
  r.bursts = bursts * n;
  r.aap = aap * n;
  r.ap = ap * n;
  r.tra = tra * n;
  r.shares = shares * n;
  r.senses = senses * n;
  r.psm = psm * n;
  return r;
}

Seq operator+(Seq a, const Seq& b) { return a += b; }

bool bitop_from_string(const std::string& s, BitOp& out) {
  static const std::map<std::string, BitOp> k = {{"and", BitOp::and_}, {"or", BitOp::or_},   {"nand", BitOp::nand_},
                                                 {"nor", BitOp::nor_}, {"xor", BitOp::xor_}, {"xnor", BitOp::xnor_},
                                                 {"not", BitOp::not_}};
  auto it = k.find(s);
  if (it == k.end()) return false;
  out = it->second;
  return true;
}

void check_width(unsigned n, const std::string& what) {
  if (n < 2 || n > 32)
    throw InputError(what + ": unsupported operand width " + std::to_string(n) +
                     " bits (the bit-serial micro-programs support 2..32)");
}

Seq Primitives::ap(unsigned rows) const {
  Seq q;
  q.cycles = m_s.ddr.tras + m_s.ddr.trp;
  q.acts = 1;
  q.pres = 1;
  q.ap = 1;
  q.extra_rows = rows - 1;
  q.tra = rows == 3 ? 1 : 0;
  return q;
}

Seq Primitives::aap(unsigned src_rows) const {
  Seq q;
  const uint64_t second = m_s.overlapped_aap ? m_s.second_act_cycles() : m_s.ddr.tras;
  q.cycles = m_s.ddr.tras + second + m_s.ddr.trp;
  q.acts = 2;
  q.pres = 1;
  q.aap = 1;
  q.extra_rows = src_rows - 1;
  q.tra = src_rows == 3 ? 1 : 0;
  return q;
}

Seq Primitives::rowclone_psm(uint64_t bytes) const {
  const uint64_t bursts = (bytes + m_s.ddr.burst_bytes() - 1) / m_s.ddr.burst_bytes();
  Seq q;
  q.cycles = m_s.ddr.trcd + bursts * m_s.ddr.tccd_l + m_s.ddr.trp;
  q.acts = 2;
  q.pres = 2;
  q.bursts = bursts;
  q.psm = 1;
  return q;
}

Seq Primitives::bitwise(BitOp op) const {
  // Each derived op ends with one AAP whose source is a TRA (the majority); XOR/XNOR also
  // run their two APs as TRAs (Ambit, MICRO 2017, Fig. 8). XOR's first three AAPs copy into
  // two rows at once (B8 = {¬DCC0, T0}, B9 = {¬DCC1, T1}, B10 = {T2, T3}): a second
  // wordline each. XNOR is the same sequence with the control rows C0/C1 swapped (the
  // De Morgan dual: T0 = Di | ¬Dj, T1 = ¬Di | Dj, Dk = T0 & T1), checked on all four input
  // cases by test_pim_ambit_sequences.cpp.
  Seq xor_like = aap() * 4 + aap(3) + ap(3) * 2;
  xor_like.extra_rows += 3;
  switch (op) {
    case BitOp::and_:
    case BitOp::or_: return aap() * 3 + aap(3);
    case BitOp::nand_:
    case BitOp::nor_: return aap() * 4 + aap(3);
    case BitOp::xor_:
    case BitOp::xnor_: return xor_like;
    case BitOp::not_: return dcc_not();
  }
  return {};
}

Seq Primitives::xnor_accumulate(uint64_t rows, uint64_t steps) const {
  if (steps == 0) steps = (rows + m_s.max_rows_per_step - 1) / m_s.max_rows_per_step;
  Seq q;
  q.cycles = steps * m_s.ddr.trcd + m_s.ddr.tras + m_s.second_act_cycles() + m_s.ddr.trp;
  q.acts = steps + 1;  // sharing steps, then the output row
  q.pres = 1;
  q.extra_rows = rows - std::min(steps, rows) + 1;  // every selected row beyond one per step, plus the offset row
  q.shares = steps;
  q.senses = 1;
  return q;
}

Seq Primitives::program(uint64_t aaps, uint64_t aps, uint64_t tras) const {
  Seq q = aap() * aaps + ap() * aps;
  q.tra = tras;
  q.extra_rows = 2 * tras;
  return q;
}

Seq Primitives::add_program(unsigned n, bool subtract) const {
  // Per bit (microprogram.h, adder_program): 7 AAP + 1 AP, 3 of them TRAs, 2 AAPs copying
  // into two rows at once; subtract reads B through a DCC row (+1 AAP per bit). One more
  // AAP (dual destination) sets the carry.
  Seq q = program((subtract ? 8ull : 7ull) * n + 1, n, 3ull * n);
  q.extra_rows += 2ull * n + 1;
  return q;
}

Seq Primitives::add(unsigned n) const {
  check_width(n, "add");
  return add_program(n, false);
}

Seq Primitives::sub(unsigned n) const {
  check_width(n, "sub");
  return add_program(n, true);
}

Seq Primitives::mul(unsigned n) const {
  check_width(n, "mul");
  const uint64_t ops = 11ull * n * n - 5ull * n - 1;
  // SIMDRAM gives the total only: split as in its adders (1 AP in 8 ops, 3 TRAs in 8).
  const uint64_t aps = ops / 8;
  return program(ops - aps, aps, 3 * ops / 8);
}

Seq Primitives::relu(unsigned n) const {
  check_width(n, "relu");
  return program(3ull * n + (n - 1) % 2, 0, n);
}

unsigned Primitives::count_bits(uint64_t k) {
  unsigned b = 0;
  while ((uint64_t(1) << b) <= k) ++b;  // smallest b with 2^b > k
  return b;
}

Seq Primitives::popcount(uint64_t k) const {
  Seq q;
  uint64_t c = k;
  unsigned width = 1;
  while (c > 1) {
    const uint64_t pairs = c / 2;
    q += add_program(width, false) * pairs;  // 1-bit adds too: the program at n = 1
    c = pairs + c % 2;
    ++width;
  }
  return q;
}

}  // namespace bpsim::pim
