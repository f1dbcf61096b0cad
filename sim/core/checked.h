#pragma once
/// Checked size arithmetic for numbers that come from inputs (trace dims, tensor bytes,
/// SCALE-Sim rows, Chakra shapes): a product or sum that does not fit in 64 bits is an
/// input error, never a silent wrap-around.
#include <cstdint>
#include <initializer_list>
#include <string>

#include "sim/core/error.h"

namespace bpsim {

/// x0·x1·…; false when it overflows 64 bits (`out` is then unspecified).
inline bool checked_product(std::initializer_list<uint64_t> xs, uint64_t& out) {
  out = 1;
  for (uint64_t x : xs)
    if (__builtin_mul_overflow(out, x, &out)) return false;
  return true;
}

/// x0 + x1 + …; false when it overflows 64 bits.
inline bool checked_sum(std::initializer_list<uint64_t> xs, uint64_t& out) {
  out = 0;
  for (uint64_t x : xs)
    if (__builtin_add_overflow(out, x, &out)) return false;
  return true;
}

/// "sizes too large: 2305843009213693952 × 8 overflows 64 bits" (op: '*' or '+').
std::string overflow_message(std::initializer_list<uint64_t> xs, char op);

/// x0·x1·… (x0 + x1 + …), or fail(overflow_message(xs, op)) when it overflows 64 bits, `fail`
/// throwing: for callers whose error location and key cost something to build (the trace
/// reader's, for every size of every record), built only on overflow.
template <class Fail>
uint64_t product_or(std::initializer_list<uint64_t> xs, Fail&& fail) {
  uint64_t out = 0;
  if (!checked_product(xs, out)) fail(overflow_message(xs, '*'));
  return out;
}
template <class Fail>
uint64_t sum_or(std::initializer_list<uint64_t> xs, Fail&& fail) {
  uint64_t out = 0;
  if (!checked_sum(xs, out)) fail(overflow_message(xs, '+'));
  return out;
}

/// The checked forms that throw InputError(loc, key, overflow_message) on overflow.
uint64_t product_or_throw(const Location& loc, const std::string& key, std::initializer_list<uint64_t> xs);
uint64_t sum_or_throw(const Location& loc, const std::string& key, std::initializer_list<uint64_t> xs);
/// Without a location: InputError "WHAT: overflow_message" (`what` is only formatted on overflow).
uint64_t product_or_throw(const char* what, std::initializer_list<uint64_t> xs);
uint64_t sum_or_throw(const char* what, std::initializer_list<uint64_t> xs);

}  // namespace bpsim
