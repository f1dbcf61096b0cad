#include "models/pim/charge.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace bpsim::pim {

double ChargeModel::phi(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

double ChargeModel::signal_per_count_v(uint64_t n) const {
  const double cc = m_s.cell_ff, cb = m_s.bitline_ff, v = m_s.array_volts;
  if (m_s.wordline_policy == WordlinePolicy::open) return cc * v / (cb + double(n) * cc);
  // Close: a step of r cells shares with the bitline alone; every later step divides what the
  // bitline held by (C_b + r·C_c)/C_b. A step of fewer cells (the last) attenuates less: the
  // bound uses full steps.
  const double r = double(m_s.max_rows_per_step);
  const uint64_t steps = (n + m_s.max_rows_per_step - 1) / m_s.max_rows_per_step;
  const double a = cb / (cb + r * cc);
  return cc * v / (cb + std::min(double(n), r) * cc) * std::pow(a, double(steps > 0 ? steps - 1 : 0));
}

double ChargeModel::error_rate(uint64_t n) const {
  return phi(-(signal_per_count_v(n) / 2.0) / (m_s.sense_offset_mv * 1e-3));
}

uint64_t ChargeModel::max_reliable_rows(uint64_t limit) const {
  if (m_s.wordline_policy == WordlinePolicy::close) limit = std::min<uint64_t>(limit, m_s.max_rows_per_step);
  // The signal falls with n (open) or with the steps (close): the error rate only grows.
  uint64_t n = 0;
  while (n < limit && error_rate(n + 1) <= m_s.target_sense_error) ++n;
  return n;
}

std::string ChargeModel::describe(uint64_t n) const {
  std::ostringstream o;
  o.precision(3);
  o << "signal " << signal_per_count_v(n) * 1e3 << " mV per count, error rate " << error_rate(n) << " per sense";
  return o.str();
}

uint64_t ChargeModel::rows_per_sense(uint64_t limit) const {
  return m_s.rows_per_sense > 0 ? std::min<uint64_t>(m_s.rows_per_sense, limit) : max_reliable_rows(limit);
}

}  // namespace bpsim::pim
