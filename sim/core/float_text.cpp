#include "sim/core/float_text.h"

#include <cmath>
#include <cstdint>
#include <cstring>

#include <fmt/compile.h>
#include <fmt/format.h>

namespace bpsim {

namespace {

/// 10^k for k = 0 … 27, exact in the x87 extended format (5^27 < 2^64) and in wider ones.
constexpr long double kPow10[] = {1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
                                  1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
                                  1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};
constexpr int kMaxScale = 27;
static_assert(sizeof kPow10 / sizeof kPow10[0] == kMaxScale + 1, "one power per scale");
static_assert(5 + kMaxScale < 100, "the fast path's exponents have two digits");

/// v (> 0) × 10^(5 − e), correctly rounded once: v is exact in the wider format, the power of
/// ten too, so the product or quotient carries a relative error of at most 2⁻⁶⁴.
long double scaled(double v, int e) {
  const int k = 5 - e;
  return k >= 0 ? static_cast<long double>(v) * kPow10[k] : static_cast<long double>(v) / kPow10[-k];
}

char* exact(char* out, double v) { return fmt::format_to(out, FMT_COMPILE("{:.6g}"), v); }

}  // namespace

char* format_g6(char* out, double v) {
  if (v == 0) {  // "0" or "-0": many report figures are zero
    if (std::signbit(v)) *out++ = '-';
    *out++ = '0';
    return out;
  }
  if (!std::isfinite(v)) return exact(out, v);
  const bool negative = v < 0;
  const double a = negative ? -v : v;
  // The decimal exponent e (10^e ≤ a < 10^(e+1)): first from the binary one, then corrected
  // by where the six-digit scaling lands.
  uint64_t bits = 0;
  std::memcpy(&bits, &a, sizeof bits);
  const int e2 = static_cast<int>(bits >> 52) - 1023;  // 2^e2 ≤ a < 2^(e2+1) (a subnormal: far out of range)
  int e = static_cast<int>(std::floor(e2 * 0.30102999566398120));
  // Scaled by 10^(5 − e) with |5 − e| ≤ kMaxScale, also after the correction by one.
  if (e <= 5 - kMaxScale || e >= 5 + kMaxScale) return exact(out, v);
  long double x = scaled(a, e);
  if (x < 1e5L) x = scaled(a, --e);
  else if (x >= 1e6L) x = scaled(a, ++e);
  if (x < 1e5L || x >= 1e6L) return exact(out, v);
  // Round to six digits as printf does, half to even on the exact value: x is within
  // 10⁶·2⁻⁶⁴ ≈ 5.4·10⁻¹⁴ of the exact a·10^(5−e), so a fraction that far from ½ decides.
  const auto whole = static_cast<uint32_t>(x);  // x ≥ 0: truncation is the floor
  const long double frac = x - whole;
  if (frac - 0.5L < 1e-12L && 0.5L - frac < 1e-12L) return exact(out, v);
  uint32_t d = whole + (frac > 0.5L ? 1 : 0);
  if (d == 1000000) d = 100000, ++e;
  // The six digits, and how many are left without trailing zeros.
  char dig[6];
  for (int i = 5; i >= 0; --i) dig[i] = char('0' + d % 10), d /= 10;
  int n = 6;
  while (dig[n - 1] == '0') --n;
  const auto put = [&out, &dig](int from, int to) {
    for (int i = from; i < to; ++i) *out++ = dig[i];
  };
  if (negative) *out++ = '-';
  if (e < -4 || e >= 6) {
    // d.ddddde±XX: two exponent digits, as |e| ≤ 5 + kMaxScale here.
    put(0, 1);
    if (n > 1) *out++ = '.', put(1, n);
    const int m = e < 0 ? -e : e;
    *out++ = 'e', *out++ = e < 0 ? '-' : '+', *out++ = char('0' + m / 10), *out++ = char('0' + m % 10);
  } else if (e < 0) {
    // 0.000ddd: −e − 1 zeros after the point, then the digits.
    *out++ = '0', *out++ = '.';
    for (int i = 0; i < -e - 1; ++i) *out++ = '0';
    put(0, n);
  } else {
    // e + 1 integer digits, then the fraction's, if any.
    put(0, e + 1);
    if (n > e + 1) *out++ = '.', put(e + 1, n);
  }
  return out;
}

}  // namespace bpsim
