#pragma once
/// Reading an optional member of a JSON object without copying it.
#include <nlohmann/json.hpp>

namespace bpsim {

/// `j[key]` when `j` has that member, else an empty array or object (`empty`), by reference
/// either way. The conditional `j.contains(key) ? j[key] : json::array()` yields a prvalue,
/// so it copies the member: for a report's "ops", every op entry of the run.
inline const nlohmann::json& member_or_empty(const nlohmann::json& j, const char* key, nlohmann::json::value_t empty) {
  static const nlohmann::json kArray = nlohmann::json::array(), kObject = nlohmann::json::object();
  const auto it = j.find(key);
  if (it != j.end()) return *it;
  return empty == nlohmann::json::value_t::array ? kArray : kObject;
}

}  // namespace bpsim
