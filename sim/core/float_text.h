#pragma once
/// Decimal text of a double, fast where a report writes many: printf's "%.6g" (fmt's
/// "{:.6g}"), byte for byte, for every double.
#include <cstddef>

namespace bpsim {

/// Room format_g6 may need: a sign, six digits, a point and an exponent (e-308).
inline constexpr size_t kG6Chars = 16;

/// Writes `v` as printf("%.6g", v) would at `out` (room for kG6Chars) and returns the end.
/// Six significant digits are taken from v scaled by a power of ten in extended precision;
/// where that cannot decide the rounding (a digit string within 10⁻¹² of a tie), or v is not
/// finite or outside about [1e-21, 1e32), fmt formats it exactly instead.
char* format_g6(char* out, double v);

}  // namespace bpsim
