#pragma once
/// Charge-domain physics of the in-DRAM accumulate: n selected cells share their charge with a
/// bitline precharged to VDD/2, and a sense amplifier with a Gaussian input offset compares the
/// result with a reference (offset) row. From the spec's capacitances, array voltage and offset
/// σ it gives the signal per count, the error probability of one sense and the largest number of
/// rows one sense resolves at the target error rate. Pure C++ (models/pim/pim_spec.h holds the
/// parameters).
#include <cstdint>
#include <string>

#include "models/pim/pim_spec.h"

namespace bpsim::pim {

class ChargeModel {
 public:
  explicit ChargeModel(const PimSpec& s) : m_s(s) {}
  explicit ChargeModel(PimSpec&&) = delete;  ///< keeps a reference: no temporaries
  /// Bitline voltage change per selected cell holding 1, in volts, when `n` cells take part in
  /// one sense. wordlines open: all n cells share at once, C_c·V/(C_b + n·C_c). wordlines
  /// close: each step's cells share with the bitline alone, so the first step's cells are
  /// attenuated by a = C_b/(C_b + r·C_c) per later step (r = max_rows_per_step); the weakest
  /// count's signal is returned.
  double signal_per_count_v(uint64_t n) const;
  /// Probability that one sense of `n` cells decides wrongly when the count sits next to the
  /// threshold (the reference is half a count away): Φ(−(ΔV(n)/2)/σ).
  double error_rate(uint64_t n) const;
  /// The largest n (≤ `limit`) whose error_rate is within target_sense_error (0: not even one
  /// cell). With wordlines closing between steps a sense is also kept within one step:
  /// unequal weights would make the shared charge something other than a popcount.
  uint64_t max_reliable_rows(uint64_t limit) const;
  /// Rows one sense resolves: rows_per_sense if set, else max_reliable_rows(limit).
  uint64_t rows_per_sense(uint64_t limit) const;
  /// "signal S mV per count, error rate P per sense" for n cells (messages and reports).
  std::string describe(uint64_t n) const;
  /// The standard normal distribution function.
  static double phi(double z);

 private:
  const PimSpec& m_s;
};

}  // namespace bpsim::pim
