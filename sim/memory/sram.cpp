#include "sim/memory/sram.h"

#include <cmath>
#include <stdexcept>

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

OnChipBuffer::OnChipBuffer(std::string component, uint64_t capacity_bytes, const Action& read_64b,
                           const Action* write_64b, unsigned banks)
    : m_component(std::move(component)),
      m_capacity(capacity_bytes),
      m_read(&read_64b),
      m_write(write_64b),
      m_banks(banks ? banks : 1) {}

double OnChipBuffer::access_pj(const EnergyTable& table, bool write) const {
  return sram_access_pj(table, bank_bytes(), write);
}

void OnChipBuffer::price(EnergyTable& table) const {
  const std::string src = "interpolated from the table's SRAM points at " + std::to_string(bank_bytes() / 1024) +
                          " KiB" + (m_banks == 2 ? " (one half of a double buffer)" : "");
  table.set_price(*m_read, access_pj(table, false), src);
  if (m_write) table.set_price(*m_write, access_pj(table, true), src);
}

void OnChipBuffer::read(ActionCounts& counts, uint64_t bytes) const { counts[*m_read] += (bytes + 7) / 8; }

void OnChipBuffer::write(ActionCounts& counts, uint64_t bytes) const {
  if (!m_write) throw std::logic_error("buffer of " + m_component + " counts no writes");
  counts[*m_write] += (bytes + 7) / 8;
}

LeakingPart OnChipBuffer::leaking_part(double copies) const {
  return {m_component, sram_actions().kib, copies * double(m_capacity) / 1024.0};
}

}  // namespace bpsim::memory
