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

std::vector<ActionDecl> sram_reference_actions() {
  std::vector<ActionDecl> out;
  for (const auto& p : kPoints) {
    out.push_back({std::string("sram.read_64b_") + p.tag, std::string("64-bit read of a ") + p.tag + " SRAM"});
    out.push_back({std::string("sram.write_64b_") + p.tag, std::string("64-bit write of a ") + p.tag + " SRAM"});
  }
  return out;
}

ActionDecl sram_leakage_unit() { return {"sram.kib", "one KiB of SRAM capacity"}; }

LeakingPart sram_leakage(const std::string& component, uint64_t bytes) {
  return {component, sram_leakage_unit().name, double(bytes) / 1024.0};
}

double sram_access_pj(const EnergyTable& table, uint64_t capacity_bytes, bool write) {
  const std::string kind = write ? "sram.write_64b_" : "sram.read_64b_";
  const double x = std::log2(double(capacity_bytes));
  // The segment containing x (or the nearest one outside the table's range).
  size_t i = 0;
  while (i + 2 < std::size(kPoints) && x > std::log2(kPoints[i + 1].bytes)) ++i;
  const double x0 = std::log2(kPoints[i].bytes), x1 = std::log2(kPoints[i + 1].bytes);
  const double y0 = table.pj(kind + kPoints[i].tag), y1 = table.pj(kind + kPoints[i + 1].tag);
  return std::max(0.0, y0 + (y1 - y0) * (x - x0) / (x1 - x0));
}

}  // namespace bpsim::memory
