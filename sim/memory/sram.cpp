#include "sim/memory/sram.h"

#include <cmath>

namespace bpsim::memory {

namespace {
/// Reference capacities of the energy table's SRAM points.
const struct {
  const char* tag;
  double bytes;
} kPoints[] = {{"8kib", 8.0 * 1024}, {"32kib", 32.0 * 1024}, {"1mib", 1024.0 * 1024}};
}  // namespace

SramActions::SramActions() {
  for (const auto& p : kPoints) {
    const std::string tag = p.tag;
    read_64b.push_back(vocabulary.add("read_64b_" + tag, "64-bit read of a " + tag + " SRAM"));
    write_64b.push_back(vocabulary.add("write_64b_" + tag, "64-bit write of a " + tag + " SRAM"));
  }
}

const SramActions& sram_actions() {
  static const SramActions a;
  return a;
}

LeakingPart sram_leakage(const std::string& component, uint64_t bytes) {
  return {component, sram_actions().kib, double(bytes) / 1024.0};
}

double sram_access_pj(const EnergyTable& table, uint64_t capacity_bytes, bool write) {
  const std::vector<Action>& point = write ? sram_actions().write_64b : sram_actions().read_64b;
  const double x = std::log2(double(capacity_bytes));
  // The segment containing x (or the nearest one outside the table's range).
  size_t i = 0;
  while (i + 2 < std::size(kPoints) && x > std::log2(kPoints[i + 1].bytes)) ++i;
  const double x0 = std::log2(kPoints[i].bytes), x1 = std::log2(kPoints[i + 1].bytes);
  const double y0 = table.pj(point[i]), y1 = table.pj(point[i + 1]);
  return std::max(0.0, y0 + (y1 - y0) * (x - x0) / (x1 - x0));
}

}  // namespace bpsim::memory
