// The MAJ/NOT adder whose counts the timing model uses, executed on random operands.
#include <catch2/catch.hpp>

#include <random>

#include "models/pim/microprogram.h"
#include "models/pim/primitives.h"
#include "pim_test_util.h"

using namespace bpsim::pim;

namespace {
/// Runs the adder on 64 lanes of random n-bit a, b; checks every lane against a ± b mod 2^n.
void check_adder(unsigned n, bool subtract, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const AdderRows r{n};
  std::vector<uint64_t> rows(r.count(), 0);
  rows[r.one()] = ~uint64_t(0);
  std::vector<uint64_t> a(64), b(64);
  const uint64_t mask = n == 64 ? ~uint64_t(0) : (uint64_t(1) << n) - 1;
  for (unsigned l = 0; l < 64; ++l) {
    a[l] = rng() & mask;
    b[l] = rng() & mask;
    for (unsigned i = 0; i < n; ++i) {  // vertical layout: bit i of lane l in row i, bit l
      rows[r.a(i)] |= ((a[l] >> i) & 1) << l;
      rows[r.b(i)] |= ((b[l] >> i) & 1) << l;
    }
  }
  const Program p = adder_program(r, subtract);
  run_program(p, rows);
  int bad = 0;
  for (unsigned l = 0; l < 64; ++l) {
    uint64_t s = 0;
    for (unsigned i = 0; i < n; ++i) s |= ((rows[r.s(i)] >> l) & 1) << i;
    bad += s != ((subtract ? a[l] - b[l] : a[l] + b[l]) & mask);
  }
  CHECK(bad == 0);
}
}  // namespace

TEST_CASE("pim: MAJ/NOT adder adds and subtracts, with 8n+1 / 9n+1 primitives", "[pim]") {
  const PimSpec spec = bpsim::pim::testing::pim_spec();  // Primitives keeps a reference to it
  const Primitives prim(spec);
  for (unsigned n : {2u, 8u, 16u, 32u}) {
    check_adder(n, false, 1000 + n);
    check_adder(n, true, 2000 + n);
    const Program add = adder_program(AdderRows{n}, false);
    const Program sub = adder_program(AdderRows{n}, true);
    // The program is the source of the timing model's counts: they must agree exactly.
    CHECK(add.aaps() == prim.add(n).aap);
    CHECK(add.aps() == prim.add(n).ap);
    CHECK(add.tras() == prim.add(n).tra);
    CHECK(add.extra_rows() == prim.add(n).extra_rows);
    CHECK(add.code.size() == 8ull * n + 1);  // SIMDRAM's addition: 8n + 1 AAP/AP
    CHECK(sub.aaps() == prim.sub(n).aap);
    CHECK(sub.aps() == prim.sub(n).ap);
    CHECK(sub.extra_rows() == prim.sub(n).extra_rows);
  }
}
