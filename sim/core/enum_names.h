#pragma once
/// Enum name tables: each enum's config strings written once, beside the enum, as an array
/// of {value, name}. Binder::choice takes its choices from one (in `bpsim list` order) and
/// parses them; enum_name prints a value back (reports).
#include <stdexcept>

namespace bpsim::config {

template <class E>
struct EnumName {
  E value;
  const char* name;
};

/// The name of `value` in `table` (an array or vector of EnumName).
template <class Table, class E>
const char* enum_name(const Table& table, E value) {
  for (const auto& e : table)
    if (e.value == value) return e.name;
  throw std::logic_error("enum value missing from its name table");
}

}  // namespace bpsim::config
