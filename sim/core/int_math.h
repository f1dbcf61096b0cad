#pragma once
/// Integer rounding every model needs (tiles, folds, flits, aligned addresses): one
/// definition instead of a copy per file.
#include <cstdint>

namespace bpsim {

/// ⌈a / b⌉ for b > 0.
constexpr uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

/// `a` rounded up to a multiple of `align` (> 0).
constexpr uint64_t align_up(uint64_t a, uint64_t align) { return ceil_div(a, align) * align; }

}  // namespace bpsim
