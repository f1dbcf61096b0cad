// format_g6 (sim/core/float_text.h) writes printf's "%.6g": hand cases whose text follows from
// the C standard's %g rules, then random doubles of every kind against fmt's "{:.6g}" (which
// is printf's %.6g; a standalone run of 80 M doubles found no difference between the three).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "sim/core/float_text.h"

using bpsim::format_g6;

namespace {

std::string g6(double v) {
  char text[bpsim::kG6Chars];
  return std::string(text, format_g6(text, v));
}

std::string reference(double v) { return fmt::format(FMT_COMPILE("{:.6g}"), v); }

}  // namespace

TEST_CASE("format_g6: the %g rules on hand cases", "[core]") {
  // %.6g: six significant digits, rounded half to even on the exact binary value; fixed
  // notation when the decimal exponent X satisfies -4 <= X < 6, else d.ddddde±XX with at least
  // two exponent digits; trailing zeros and a bare point removed.
  CHECK(g6(1.0) == "1");
  CHECK(g6(-2.5) == "-2.5");
  CHECK(g6(123456.0) == "123456");
  CHECK(g6(1234567.0) == "1.23457e+06");  // X = 6: exponential, 7 rounds the 6 up
  CHECK(g6(123456.5) == "123456");        // an exact tie: to the even digit
  CHECK(g6(123457.5) == "123458");        // the other tie: up to the even digit
  CHECK(g6(999999.5) == "1e+06");         // a tie rounding to 10^6 moves the exponent
  CHECK(g6(999999.4) == "999999");
  CHECK(g6(0.0001) == "0.0001");  // X = -4: still fixed
  CHECK(g6(0.000123456789) == "0.000123457");
  CHECK(g6(0.00001) == "1e-05");  // X = -5: exponential
  CHECK(g6(1e100) == "1e+100");   // three exponent digits (outside the fast range)
  CHECK(g6(1e-22) == "1e-22");    // near the fast range's edges (this one falls back to fmt)
  CHECK(g6(9.99999e32) == "9.99999e+32");
  CHECK(g6(0.1) == "0.1");  // 0.1000000000000000055…: the tail rounds away
  CHECK(g6(3.14159265358979) == "3.14159");
  CHECK(g6(0.0) == "0");
  CHECK(g6(-0.0) == "-0");
  CHECK(g6(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(g6(std::numeric_limits<double>::denorm_min()) == "4.94066e-324");
}

TEST_CASE("format_g6: random doubles of every kind read as fmt's {:.6g}", "[core]") {
  std::mt19937_64 rng(20261201);
  size_t checked = 0, differ = 0;
  const auto check = [&](double v) {
    ++checked;
    if (g6(v) != reference(v) && ++differ <= 5)
      FAIL_CHECK(fmt::format("{:.17g}: {} against {}", v, g6(v), reference(v)));
  };
  for (int k = -30; k <= 40; ++k) {
    // Powers of ten and their neighbours (the exponent estimate's edges), and ties of six digits.
    const double p = std::pow(10.0, k);
    check(p), check(std::nextafter(p, 0.0)), check(std::nextafter(p, 1e300));
    for (int t = 0; t < 200; ++t) check((double(rng() % 1000000) + 0.5) * std::pow(10.0, k - 6));
  }
  for (int i = 0; i < 100000; ++i) {
    uint64_t bits = rng();  // any finite bit pattern: subnormals, huge, negative
    double v = 0;
    std::memcpy(&v, &bits, sizeof v);
    if (std::isfinite(v)) check(v);
    check(std::ldexp(double(rng() % 100000000) / 1e7, int(rng() % 160) - 80));  // report-like magnitudes
    check(double(rng() % 2000000) / 2.0);                                       // halves: ties in the sixth digit
  }
  INFO(checked << " doubles checked");
  CHECK(differ == 0);
  CHECK(checked > 300000);
}
