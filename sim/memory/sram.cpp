#include "sim/memory/sram.h"

#include <cmath>

#include "sim/core/binder.h"

namespace bpsim::memory {

namespace {
/// Reference capacities of the energy table's SRAM points.
const struct {
  const char* tag;
  double bytes;
} kPoints[] = {{"8kib", 8.0 * 1024}, {"32kib", 32.0 * 1024}, {"1mib", 1024.0 * 1024}};

const config::Binder<SramSpec>& sram_binder() {
  static const config::Binder<SramSpec> d = [] {
    config::Binder<SramSpec> d("sram", "an on-chip buffer");
    d.integer("capacity_kib", &SramSpec::capacity_bytes, "KiB", "capacity").def(64).range(1, 1 << 20).scale(1024);
    d.integer("banks", &SramSpec::banks, "", "independent banks").def(1).range(1, 256);
    d.integer("ports", &SramSpec::ports, "", "ports (each moves bytes_per_cycle)").def(1).range(1, 16);
    d.integer("bytes_per_cycle", &SramSpec::bytes_per_cycle, "B/cycle", "bytes per port per cycle, all banks together").def(64).range(1, 1 << 16);
    return d;
  }();
  return d;
}

}  // namespace

std::shared_ptr<const config::Schema> sram_schema() { return sram_binder().schema(); }

SramSpec sram_spec_from(const config::Values& v) { return sram_binder().parse(v); }

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

Sram::Sram(std::string name, const SramSpec& spec, EnergyTable& prices) : m_name(std::move(name)), m_spec(spec) {
  const std::string src = "interpolated from the energy table's SRAM points for " +
                          std::to_string(spec.capacity_bytes / 1024) + " KiB";
  prices.set_price(m_name + ".read_64b", sram_access_pj(prices, spec.capacity_bytes, false), src);
  prices.set_price(m_name + ".write_64b", sram_access_pj(prices, spec.capacity_bytes, true), src);
}

uint64_t Sram::access_cycles(uint64_t bytes) const {
  const uint64_t per_cycle = uint64_t(m_spec.bytes_per_cycle) * m_spec.ports;
  return (bytes + per_cycle - 1) / per_cycle;
}

void Sram::count(uint64_t bytes, bool write, ActionCounts& actions) {
  actions[m_name + (write ? ".write_64b" : ".read_64b")] += (bytes + 7) / 8;
  (write ? m_write : m_read) += bytes;
}

}  // namespace bpsim::memory
