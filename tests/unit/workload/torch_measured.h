#pragma once
/// The PyTorch ground truth (tests/unit/workload/torch_measured.jsonl, written by
/// scripts/torch_memory.py on a GPU): one JSON object per measured case, by case id. The one
/// source of every PyTorch figure the workload tests compare with.
#include <nlohmann/json.hpp>
#include "sim/core/build_info.h"

#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

namespace bpsim::test {

inline const std::map<std::string, nlohmann::json>& torch_measured() {
  static const std::map<std::string, nlohmann::json> cases = [] {
    std::map<std::string, nlohmann::json> out;
    std::ifstream in(std::string(BPSIM_SOURCE_DIR) + "/tests/unit/workload/torch_measured.jsonl");
    if (!in) throw std::runtime_error("tests/unit/workload/torch_measured.jsonl: cannot open");
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) {
        nlohmann::json j = nlohmann::json::parse(line);
        out[j.at("case").get<std::string>()] = j;
      }
    return out;
  }();
  return cases;
}

/// A measured case's figure (e.g. "peak_requested_bytes"); throws naming the case and key.
inline uint64_t torch_figure(const std::string& case_id, const char* key) {
  const auto it = torch_measured().find(case_id);
  if (it == torch_measured().end()) throw std::runtime_error("torch_measured.jsonl: no case " + case_id);
  return it->second.at(key).get<uint64_t>();
}

}  // namespace bpsim::test
