#pragma once
/// backend: rtl — the Verilated XNOR-accumulate column (rtl/pim/xnor_column.sv: 64 rows
/// per pass, 16 rows per charge-sharing step) in place of the model's step count. An
/// accumulate of `rows` selected rows runs as ⌈rows/64⌉ passes from the calling SC_THREAD
/// (the caller toggles the clock, as the systolic RTL driver does), rows beyond the last
/// ones padded so that they count 0.
#include <cstdint>
#include <memory>
#include <vector>

namespace bpsim::pim {

struct RtlAccumulate {
  uint64_t count = 0;  ///< popcount(XNOR(x, w)), summed over the passes
  uint64_t value = 0;  ///< with readout: the counts read out by successive approximation, summed
  uint64_t passes = 0;
  uint64_t cycles = 0;       ///< edges from each pass's start edge to its done, summed
  uint64_t step_cycles = 0;  ///< of those, the charge-sharing steps (the rest: comparisons)
  bool last_sign = false;    ///< the last pass's comparison of its count with the threshold
};

class RtlColumn {
 public:
  static constexpr unsigned kLanes = 64, kRowsPerStep = 16;  ///< the verilated parameters
  /// Comparisons of a pass's readout: its count's width, ⌈log2(kLanes + 1)⌉ = 7.
  static constexpr unsigned kCountBits = 7;
  virtual ~RtlColumn() = default;
  /// x and w: one bit per selected row (equal sizes). With `readout`, each pass reads its
  /// count out by successive approximation (kCountBits comparisons instead of one).
  virtual RtlAccumulate accumulate(const std::vector<bool>& x, const std::vector<bool>& w, uint32_t threshold,
                                   bool readout) = 0;
};

/// Constructs the Verilated column as a child of the module under elaboration; one clock
/// period is `period_ps` of simulated time.
std::unique_ptr<RtlColumn> make_rtl_column(const char* name, double period_ps);

}  // namespace bpsim::pim
