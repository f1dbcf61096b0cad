#include "sim/core/units.h"

#include <fmt/format.h>

#include <cmath>
#include <iterator>

namespace bpsim::units {

namespace {

/// Prefixes from 10^-12 to 10^15; index 4 is none.
const char* const kPrefixes[] = {"p", "n", "\u00b5", "m", "", "k", "M", "G", "T", "P"};
constexpr int kNone = 4;
constexpr int kLast = int(std::size(kPrefixes)) - 1;

/// `v` to `digits` significant digits in fixed notation, without trailing zeros:
/// 465.0 → "465", 1.2300 → "1.23", 0.030341 → "0.0303".
std::string fixed_digits(double v, int digits) {
  const double a = std::abs(v);
  const int first = a > 0 ? int(std::floor(std::log10(a))) : 0;  // the first digit's power of ten
  std::string s = fmt::format("{:.{}f}", v, std::max(0, digits - 1 - first));
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

/// The prefix index for `v` at `digits` significant digits, with `v` scaled to it; rounding
/// that would print 1000 moves up one prefix.
int scale(double& v, int digits, int lowest, int highest) {
  int i = kNone;
  while (std::abs(v) >= 1000.0 && i < highest) {
    v /= 1000.0;
    ++i;
  }
  while (v != 0 && std::abs(v) < 1.0 && i > lowest) {
    v *= 1000.0;
    --i;
  }
  // 999.96 at 3 digits rounds to 1000: print it as 1 of the next prefix.
  const double rounded_limit = 1000.0 - 0.5 * std::pow(10.0, 3 - digits);
  if (std::abs(v) >= rounded_limit && i < highest) {
    v /= 1000.0;
    ++i;
  }
  return i;
}

std::string with_prefix(double v, const char* unit, int digits, int lowest, int highest) {
  if (v == 0 || !std::isfinite(v)) return fmt::format("{} {}", v == 0 ? std::string("0") : fmt::format("{}", v), unit);
  const int i = scale(v, digits, lowest, highest);
  return fmt::format("{} {}{}", fixed_digits(v, digits), kPrefixes[i], unit);
}

}  // namespace

std::string si(double v, const char* unit, int digits) { return with_prefix(v, unit, digits, 0, kLast); }

std::string energy_pj(double pj, int digits) { return si(pj * 1e-12, "J", digits); }

std::string seconds(double s, int digits) { return with_prefix(s, "s", digits, 0, kNone); }

std::string bytes(double b, int digits) {
  if (std::abs(b) < 1000.0) return fmt::format("{:.0f} B", b);  // whole bytes: no "512 mB"
  return with_prefix(b, "B", digits, kNone, kLast);
}

std::string bandwidth(double bytes_per_s) { return with_prefix(bytes_per_s, "B/s", 3, 0, kLast); }

std::string count(double n) {
  if (std::abs(n) < 1000.0 && n == std::floor(n)) return fmt::format("{:.0f}", n);
  std::string s = with_prefix(n, "", 3, kNone, kLast);
  while (!s.empty() && s.back() == ' ') s.pop_back();  // "12 " → "12"
  return s;
}

std::string number(double v, int digits) {
  if (std::abs(v) >= 1e6) return count(v);
  if (v == 0 || !std::isfinite(v)) return fmt::format("{}", v);
  return fixed_digits(v, std::max(digits, int(std::floor(std::log10(std::abs(v)))) + 1));  // 3221, not 3220
}

std::string clock_ghz(double ghz) { return with_prefix(ghz * 1e9, "Hz", 4, kNone, kLast); }

std::string percent(double share) { return fmt::format("{:.1f}%", 100.0 * share); }

std::string exact(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::abs(v) < 9007199254740992.0) return fmt::format("{:.0f}", v);
  return fmt::format("{}", v);  // fmt's default: the shortest form that reads back exactly
}

}  // namespace bpsim::units
