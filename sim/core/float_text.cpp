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

/// v (> 0) × 10^(5 − e), correctly rounded once: v is exact in the wider format, the power of
/// ten too, so the product or quotient carries a relative error of at most 2⁻⁶⁴.
long double scaled(double v, int e) {
  const int k = 5 - e;
  return k >= 0 ? static_cast<long double>(v) * kPow10[k] : static_cast<long double>(v) / kPow10[-k];
}

char* exact(char* out, double v) { return fmt::format_to(out, FMT_COMPILE("{:.6g}"), v); }

char* digits6(char* out, uint32_t d, int n) {  // the first n of d's six digits
  char buf[6];
  for (int i = 5; i >= 0; --i) buf[i] = char('0' + d % 10), d /= 10;
  for (int i = 0; i < n; ++i) *out++ = buf[i];
  return out;
}

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
  // Six significant digits without trailing zeros.
  int n = 6;
  for (uint32_t t = d; t % 10 == 0; t /= 10) --n;
  if (negative) *out++ = '-';
  if (e < -4 || e >= 6) {
    // d.ddddde±XX, at least two exponent digits.
    out = digits6(out, d, 1);
    if (n > 1) *out++ = '.', out = digits6(out, d % 100000 * 10, n - 1);
    *out++ = 'e';
    *out++ = e < 0 ? '-' : '+';
    const int m = e < 0 ? -e : e;
    if (m >= 100) *out++ = char('0' + m / 100);
    *out++ = char('0' + m / 10 % 10);
    *out++ = char('0' + m % 10);
    return out;
  }
  if (e < 0) {
    // 0.000ddd: −e − 1 zeros after the point, then the digits.
    *out++ = '0', *out++ = '.';
    for (int i = 0; i < -e - 1; ++i) *out++ = '0';
    return digits6(out, d, n);
  }
  // e + 1 integer digits, then the fraction's digits, if any.
  char buf[6];
  digits6(buf, d, 6);
  for (int i = 0; i <= e; ++i) *out++ = buf[i];
  if (n > e + 1) {
    *out++ = '.';
    for (int i = e + 1; i < n; ++i) *out++ = buf[i];
  }
  return out;
}

}  // namespace bpsim
