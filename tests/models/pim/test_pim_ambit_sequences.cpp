// Ambit's command sequences run on a functional model of one subarray's reserved rows, the
// B-group wordlines included, on all four input cases, and their command counts compared
// with Primitives::bitwise. Sources: Seshadri et al., "Ambit", MICRO 2017, Fig. 7 (the
// B-group: which wordlines one address raises, dual-contact cells with a d- and an
// n-wordline) and Fig. 8 (the AND, NAND and XOR sequences); the same figures in Seshadri &
// Mutlu, "In-DRAM Bulk Bitwise Execution Engine", arXiv 1905.09822. XNOR is not drawn
// there: it is XOR's sequence with the control rows C0 and C1 swapped, which this test
// shows correct.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "models/pim/primitives.h"
#include "pim_test_util.h"

using namespace bpsim;
using namespace bpsim::pim;

namespace {

// One lane of a subarray. A wordline connects a cell to the bitline (d) or, for the
// dual-contact cells DCC0/DCC1, to the complementary bitline (n): reading through n gives the
// cell's complement, and a value written through n is stored complemented.
struct Wordline {
  std::string cell;
  bool n = false;
};

class Subarray {
 public:
  Subarray() {
    // Ambit Fig. 7: B0–B3 = T0–T3; B4/B5 = DCC0 by its d/n wordline, B6/B7 = DCC1;
    // B8 = {¬DCC0, T0}, B9 = {¬DCC1, T1}, B10 = {T2, T3}, B11 = {T0, T3};
    // B12 = {T0, T1, T2}, B13 = {T1, T2, T3}, B14 = {DCC0, T1, T2}, B15 = {DCC1, T0, T3}.
    m_b = {{"B0", {{"T0"}}},
           {"B1", {{"T1"}}},
           {"B2", {{"T2"}}},
           {"B3", {{"T3"}}},
           {"B4", {{"DCC0"}}},
           {"B5", {{"DCC0", true}}},
           {"B6", {{"DCC1"}}},
           {"B7", {{"DCC1", true}}},
           {"B8", {{"DCC0", true}, {"T0"}}},
           {"B9", {{"DCC1", true}, {"T1"}}},
           {"B10", {{"T2"}, {"T3"}}},
           {"B11", {{"T0"}, {"T3"}}},
           {"B12", {{"T0"}, {"T1"}, {"T2"}}},
           {"B13", {{"T1"}, {"T2"}, {"T3"}}},
           {"B14", {{"DCC0"}, {"T1"}, {"T2"}}},
           {"B15", {{"DCC1"}, {"T0"}, {"T3"}}}};
    m_cells["C0"] = false;  // the control rows: all zeros, all ones
    m_cells["C1"] = true;
  }
  void set(const std::string& row, bool v) { m_cells[row] = v; }
  bool get(const std::string& row) const { return m_cells.at(row); }

  // ACT of an address: its wordlines' cells share charge with the bitline; one row drives
  // it, three resolve to their majority (a TRA), which is written back into all of them.
  bool activate(const std::string& addr) {
    const std::vector<Wordline> wl = wordlines(addr);
    m_raised += wl.size();
    int ones = 0;
    for (const Wordline& w : wl) ones += read(w);
    REQUIRE((wl.size() == 1 || wl.size() == 3));
    const bool bitline = ones * 2 > int(wl.size());
    for (const Wordline& w : wl) write(w, bitline);
    return bitline;
  }
  // AAP(src, dst): ACT src, ACT dst (the sense amplifier drives the bitline into every
  // destination cell), PRE.
  void aap(const std::string& src, const std::string& dst) {
    const bool bitline = activate(src);
    const std::vector<Wordline> wl = wordlines(dst);
    m_raised += wl.size();
    for (const Wordline& w : wl) write(w, bitline);
    ++m_aap;
  }
  void ap(const std::string& addr) {
    activate(addr);
    ++m_ap;
  }
  uint64_t aaps() const { return m_aap; }
  uint64_t aps() const { return m_ap; }
  uint64_t raised() const { return m_raised; }

 private:
  std::vector<Wordline> wordlines(const std::string& addr) const {
    auto it = m_b.find(addr);
    return it == m_b.end() ? std::vector<Wordline>{{addr}} : it->second;  // a data or control row
  }
  bool read(const Wordline& w) const { return m_cells.at(w.cell) != w.n; }
  void write(const Wordline& w, bool bitline) { m_cells[w.cell] = bitline != w.n; }
  std::map<std::string, std::vector<Wordline>> m_b;
  std::map<std::string, bool> m_cells;
  uint64_t m_aap = 0, m_ap = 0, m_raised = 0;
};

using Sequence = void (*)(Subarray&);

// Ambit Fig. 8a: Dk = Di and Dj (or: C1 in place of C0).
void and_seq(Subarray& s) {
  s.aap("Di", "B0");
  s.aap("Dj", "B1");
  s.aap("C0", "B2");
  s.aap("B12", "Dk");
}
// Ambit Fig. 8b: Dk = Di nand Dj (the majority read out through DCC0's n-wordline).
void nand_seq(Subarray& s) {
  s.aap("Di", "B0");
  s.aap("Dj", "B1");
  s.aap("C0", "B2");
  s.aap("B12", "B5");
  s.aap("B4", "Dk");
}
// Ambit Fig. 8c: Dk = Di xor Dj = (Di & ¬Dj) | (¬Di & Dj).
void xor_seq(Subarray& s) {
  s.aap("Di", "B8");   // DCC0 = ¬Di, T0 = Di
  s.aap("Dj", "B9");   // DCC1 = ¬Dj, T1 = Dj
  s.aap("C0", "B10");  // T2 = T3 = 0
  s.ap("B14");         // T1 = MAJ(¬Di, Dj, 0) = ¬Di & Dj
  s.ap("B15");         // T0 = MAJ(¬Dj, Di, 0) = Di & ¬Dj
  s.aap("C1", "B2");   // T2 = 1
  s.aap("B12", "Dk");  // Dk = MAJ(T0, T1, 1) = T0 | T1
}
// XNOR: the same rows with C0 and C1 swapped.
void xnor_seq(Subarray& s) {
  s.aap("Di", "B8");   // DCC0 = ¬Di, T0 = Di
  s.aap("Dj", "B9");   // DCC1 = ¬Dj, T1 = Dj
  s.aap("C1", "B10");  // T2 = T3 = 1
  s.ap("B14");         // T1 = MAJ(¬Di, Dj, 1) = ¬Di | Dj
  s.ap("B15");         // T0 = MAJ(¬Dj, Di, 1) = Di | ¬Dj
  s.aap("C0", "B2");   // T2 = 0
  s.aap("B12", "Dk");  // Dk = MAJ(T0, T1, 0) = T0 & T1 = (Di == Dj)
}
// The model's former XNOR, 6 AAP + 2 AP: XOR, then NOT through DCC0 (one AAP into ¬DCC0,
// the result read through its d-wordline) — correct, but one AAP longer.
void xor_then_not_seq(Subarray& s) {
  s.aap("Di", "B8");
  s.aap("Dj", "B9");
  s.aap("C0", "B10");
  s.ap("B14");
  s.ap("B15");
  s.aap("C1", "B2");
  s.aap("B12", "B5");
  s.aap("B4", "Dk");
}

struct Case {
  const char* name;
  Sequence seq;
  bool (*f)(bool, bool);
};

}  // namespace

TEST_CASE("pim: Ambit command sequences compute their op on all four input cases", "[pim][ambit]") {
  const Case cases[] = {
      {"and", and_seq, [](bool a, bool b) { return a && b; }},
      {"nand", nand_seq, [](bool a, bool b) { return !(a && b); }},
      {"xor", xor_seq, [](bool a, bool b) { return a != b; }},
      {"xnor", xnor_seq, [](bool a, bool b) { return a == b; }},
      {"xor+not", xor_then_not_seq, [](bool a, bool b) { return a == b; }},
  };
  for (const Case& c : cases) {
    for (int in = 0; in < 4; ++in) {
      const bool a = in & 1, b = in & 2;
      Subarray s;
      s.set("Di", a);
      s.set("Dj", b);
      s.set("Dk", !c.f(a, b));  // the destination starts with the wrong answer
      for (const char* r : {"T0", "T1", "T2", "T3", "DCC0", "DCC1"}) s.set(r, (in >> 1) & 1);
      c.seq(s);
      INFO(c.name << " Di=" << a << " Dj=" << b);
      CHECK(s.get("Dk") == c.f(a, b));
      CHECK(s.get("Di") == a);  // the operands are left intact
      CHECK(s.get("Dj") == b);
    }
  }
}

TEST_CASE("pim: XNOR takes XOR's 5 AAP + 2 AP, and the model counts what the sequences raise", "[pim][ambit]") {
  const PimSpec spec = testing::pim_spec();
  const Primitives p(spec);
  struct Row {
    BitOp op;
    Sequence seq;
  };
  const Row rows[] = {
      {BitOp::and_, and_seq}, {BitOp::nand_, nand_seq}, {BitOp::xor_, xor_seq}, {BitOp::xnor_, xnor_seq}};
  for (const Row& r : rows) {
    Subarray s;
    for (const char* row : {"Di", "Dj", "Dk", "T0", "T1", "T2", "T3", "DCC0", "DCC1"}) s.set(row, false);
    r.seq(s);
    const Seq q = p.bitwise(r.op);
    INFO(int(r.op));
    CHECK(q.aap == s.aaps());
    CHECK(q.ap == s.aps());
    // Wordlines: one per ACT plus the model's extra rows (TRAs, two-row destinations).
    CHECK(q.acts + q.extra_rows == s.raised());
  }
  // XNOR and XOR: 5 AAP + 2 AP = 5·60 + 2·55 = 410 tCK on DDR4-2400 (AAP = tRAS 39 + 5 + tRP
  // 16, AP = 39 + 16); 2·(3 AAP + 1) + 2 + 2 ACTs = 12 ACTs; wordlines raised: AAP(Di, B8),
  // AAP(Dj, B9), AAP(C, B10) 3 each, AP(B14), AP(B15) 3 each, AAP(C, B2) 2, AAP(B12, Dk) 4:
  // 21 = 12 ACTs + 9 extra.
  for (BitOp op : {BitOp::xor_, BitOp::xnor_}) {
    const Seq q = p.bitwise(op);
    CHECK(q.cycles == 410);
    CHECK(q.acts == 12);
    CHECK(q.extra_rows == 9);
    CHECK(q.tra == 3);
  }
  // The former XNOR (XOR then a DCC NOT) also computes XNOR but takes one more AAP: 470 tCK.
  Subarray s;
  for (const char* row : {"Di", "Dj", "Dk", "T0", "T1", "T2", "T3", "DCC0", "DCC1"}) s.set(row, false);
  xor_then_not_seq(s);
  CHECK(s.aaps() == 6);
  CHECK(s.aps() == 2);
  CHECK(s.aaps() * p.aap().cycles + s.aps() * p.ap().cycles == 470);
}
