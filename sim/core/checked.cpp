#include "sim/core/checked.h"

namespace bpsim {

std::string overflow_message(std::initializer_list<uint64_t> xs, char op) {
  std::string terms;
  for (uint64_t x : xs) terms += (terms.empty() ? "" : op == '*' ? " × " : " + ") + std::to_string(x);
  return "sizes too large: " + terms + " overflows 64 bits";
}

uint64_t product_or_throw(const Location& loc, const std::string& key, std::initializer_list<uint64_t> xs) {
  return product_or(xs, [&](const std::string& m) { throw InputError(loc, key, m); });
}

uint64_t sum_or_throw(const Location& loc, const std::string& key, std::initializer_list<uint64_t> xs) {
  return sum_or(xs, [&](const std::string& m) { throw InputError(loc, key, m); });
}

uint64_t product_or_throw(const char* what, std::initializer_list<uint64_t> xs) {
  return product_or(xs, [&](const std::string& m) { throw InputError(std::string(what) + ": " + m); });
}

uint64_t sum_or_throw(const char* what, std::initializer_list<uint64_t> xs) {
  return sum_or(xs, [&](const std::string& m) { throw InputError(std::string(what) + ": " + m); });
}

}  // namespace bpsim
