#pragma once
/// backend: rtl — the Verilated weight-stationary PE array (rtl/systolic/pe_array.sv, one
/// stage or two chained ones) in place of the fold core. GEMMs run fold by fold on the RTL from the calling SC_THREAD,
/// tiled as map_gemm tiles them; simulated time advances by the cycles the RTL takes.
/// The clock is toggled by the caller's thread (no free-running sc_clock), so a
/// simulation still ends when its threads do.
#include <cstdint>
#include <memory>
#include <vector>

namespace bpsim::systolic {

using MatI8 = std::vector<std::vector<int>>;  ///< int8 values
using MatI32 = std::vector<std::vector<int32_t>>;

struct RtlGemmStats {
  uint64_t cycles = 0, folds = 0;
  std::vector<uint64_t> fold_cycles;  ///< measured per fold: first preload edge to last out_valid
  uint64_t masked_toggles = 0, unmasked_toggles = 0, masked_pe_samples = 0;
};

class RtlArray {
 public:
  virtual ~RtlArray() = default;
  /// Y = A·W on the array (A: M×K, W: K×N), output columns n with colmask[n] masked (0).
  virtual RtlGemmStats gemm(const MatI8& a, const MatI8& w, const std::vector<bool>& colmask, MatI32& y) = 0;
};

/// Sizes and stage counts verilated in CMakeLists.txt (BPSIM_RTL_ARRAYS): 4x4 and 8x8 with
/// one stage, 4x4 with two.
bool rtl_array_supported(unsigned rows, unsigned cols, unsigned stages);
/// Constructs the Verilated array as a child of the module under elaboration (null when
/// the size is not verilated).
std::unique_ptr<RtlArray> make_rtl_array(const char* name, unsigned rows, unsigned cols, unsigned stages,
                                         double period_ps);

}  // namespace bpsim::systolic
