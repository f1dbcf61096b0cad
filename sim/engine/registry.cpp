#include "sim/engine/accelerator.h"

#include <stdexcept>

namespace bpsim {

memory::DramSystem& BuildContext::dram_device() const {
  if (!dram)
    throw std::logic_error("accelerator '" + name +
                           "' asked for the DRAM device without declaring MemoryUse::dram or per_run");
  return *dram;
}

Registry& Registry::instance() {
  static Registry r;
  return r;
}

void Registry::add(AcceleratorKind k) {
  for (auto& existing : m_kinds)
    if (existing.kind == k.kind) {
      existing = std::move(k);
      return;
    }
  m_kinds.push_back(std::move(k));
}

const AcceleratorKind* Registry::find(const std::string& kind) const {
  for (const auto& k : m_kinds)
    if (k.kind == kind) return &k;
  return nullptr;
}

std::string Registry::names() const {
  std::string s;
  for (const auto& k : m_kinds) s += (s.empty() ? "" : ", ") + k.kind;
  return s;
}

}  // namespace bpsim
