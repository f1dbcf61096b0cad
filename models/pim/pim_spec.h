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

/// How a binary layer's forward XNOR is made (docs/pim.md, "Forward mappings").
enum class ForwardMapping { weight_selected, ambit_xnor, automatic };
inline constexpr config::EnumName<ForwardMapping> kForwardMappingNames[] = {
    {ForwardMapping::weight_selected, "weight_selected"},
    {ForwardMapping::ambit_xnor, "ambit_xnor"},
    {ForwardMapping::automatic, "auto"}};

/// How a binary forward reads its K-slices' counts: charge (one sense, or successive
/// approximation), bit_serial (SIMDRAM popcount), or auto (the faster per op).
enum class ReadoutChoice { automatic, charge, bit_serial };
inline constexpr config::EnumName<ReadoutChoice> kReadoutNames[] = {
    {ReadoutChoice::automatic, "auto"}, {ReadoutChoice::charge, "charge"}, {ReadoutChoice::bit_serial, "bit_serial"}};

/// Whether the wordlines raised by one charge-sharing step stay open through the later steps
/// of the same sense (all cells share at the end) or close (each step shares with the bitline
/// alone).
enum class WordlinePolicy { open, close };
inline constexpr config::EnumName<WordlinePolicy> kWordlinePolicyNames[] = {{WordlinePolicy::open, "open"},
                                                                            {WordlinePolicy::close, "close"}};

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
  ForwardMapping forward_mapping = ForwardMapping::weight_selected;
  ReadoutChoice readout = ReadoutChoice::automatic;
  // Charge-domain physics (models/pim/charge.h; sources in docs/references.md).
  double cell_ff = 24.0;          ///< cell capacitance C_c, fF
  double bitline_ff = 96.0;       ///< bitline capacitance C_b, fF
  double array_volts = 1.2;       ///< bitline swing: a cell holds this or 0 V; precharge at half
  double sense_offset_mv = 10.0;  ///< σ of the sense amplifier's Gaussian input offset
  WordlinePolicy wordline_policy = WordlinePolicy::open;
  double target_sense_error = 1e-6;  ///< largest accepted error probability of one sense
  unsigned rows_per_sense = 0;       ///< cells one sense resolves (0: the largest reliable)

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
