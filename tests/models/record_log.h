#pragma once
/// Collects a model's op records through its record sink, as the engine takes them, for
/// tests that run a model's sc_module directly.
#include <utility>
#include <vector>

#include "sim/engine/accelerator.h"

namespace bpsim {

class RecordLog {
 public:
  explicit RecordLog(Accelerator& acc) {
    acc.set_record_sink([this](OpRecord&& r) { m_records.push_back(std::move(r)); });
  }
  RecordLog(const RecordLog&) = delete;
  RecordLog& operator=(const RecordLog&) = delete;
  const std::vector<OpRecord>& records() const { return m_records; }

 private:
  std::vector<OpRecord> m_records;
};

}  // namespace bpsim
