#pragma once
/// The in-DRAM compute device: organisation and timing taken from the memory system's
/// DDR preset (one source of truth for DRAM timing), plus the compute-specific parameters
/// declared in pim_schema().
#include <cstdint>
#include <memory>
#include <string>

#include "sim/core/enum_names.h"
#include "sim/core/params.h"
#include "sim/memory/ddr_spec.h"

namespace bpsim::pim {

/// Where non-binary ops (activation derivatives, losses, normalisation…) run.
enum class HostWork { host, dram };
inline constexpr config::EnumName<HostWork> kHostWorkNames[] = {{HostWork::host, "host"}, {HostWork::dram, "dram"}};

// The defaults below agree with pim_schema()'s declarations (banks: all 16 of the default
// DDR organisation) and serve specs made without a config (tests); parse_pim_spec takes
// every value from the declarations.
struct PimSpec {
  memory::DdrSpec ddr;  ///< timing in tCK cycles, organisation, IDD currents
  unsigned subarrays_per_bank = 64;
  unsigned rows_per_subarray = 1024;  ///< ddr.rows / subarrays_per_bank
  uint64_t lanes = 65536;             ///< bits per row across the rank (SIMD lanes)
  unsigned compute_rows = 6, dcc_rows = 2, constant_rows = 2, offset_rows = 1;
  unsigned max_rows_per_step = 16;  ///< rows one charge-sharing step may connect
  bool overlapped_aap = true;
  double second_act_ns = 4.0;  ///< Ambit: second ACT of an AAP issued this long after the first
  bool obey_tfaw = true;
  unsigned banks = 16;                ///< banks per rank that compute (≤ the preset's banks)
  unsigned subarray_parallelism = 1;  ///< subarrays of one bank computing at once
  unsigned max_active_per_rank = 16;  ///< power limit: subarrays activating at once per rank
  unsigned gradient_bits = 8;
  unsigned latent_bits = 16;
  HostWork host_work = HostWork::host;
  double host_gflops = 512.0;  ///< the host's peak FP32 rate (roofline of host ops)
  bool rtl_backend = false;    ///< backend: rtl (XNOR-accumulates timed by the Verilated column)

  unsigned reserved_rows() const { return compute_rows + dcc_rows + constant_rows + offset_rows; }
  unsigned data_rows() const { return rows_per_subarray - reserved_rows(); }
  double clock_ghz() const { return 1.0 / ddr.tck_ns; }
  /// Cycles from the first ACT of an AAP to its second ACT.
  unsigned second_act_cycles() const;
  /// Compute units that may activate at once in one rank (banks × subarrays, power-capped).
  unsigned units_per_rank() const;
  unsigned ranks_total() const { return ddr.channels * ddr.ranks; }
  uint64_t units_total() const { return uint64_t(units_per_rank()) * ranks_total(); }
  /// Host MACs per DRAM cycle (2 FLOPs each).
  double host_macs_per_cycle() const { return host_gflops / 2.0 / clock_ghz(); }
};

/// The `accelerator:` parameters of kind `pim` (without `kind`).
std::shared_ptr<const config::Schema> pim_schema();
/// Validated values + the memory system's DDR spec → spec; cross-parameter checks throw
/// InputError pointing at the offending key.
PimSpec parse_pim_spec(const config::Values& v, const memory::DdrSpec& ddr);

}  // namespace bpsim::pim
