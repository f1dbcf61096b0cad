#pragma once
/// A DDR device and channel organisation with its timing (in clock cycles) and IDD
/// currents, validated from the `memory:` section. Shared by the DRAM timing model and
/// the in-DRAM compute model.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/enum_names.h"
#include "sim/core/params.h"

namespace bpsim::memory {

/// Address fields, from the mapping string, most significant first.
enum class AddrField { row, rank, bank_group, bank, column, channel };
/// The two-letter tokens of the `mapping:` string.
inline constexpr config::EnumName<AddrField> kAddrFieldNames[] = {
    {AddrField::row, "Ro"},  {AddrField::rank, "Ra"},   {AddrField::bank_group, "Bg"},
    {AddrField::bank, "Ba"}, {AddrField::column, "Co"}, {AddrField::channel, "Ch"}};
/// `page_policy:` (the field: whether rows stay open) and `scheduler:` (whether FR-FCFS).
inline constexpr config::EnumName<bool> kPagePolicyNames[] = {{true, "open"}, {false, "closed"}};
inline constexpr config::EnumName<bool> kSchedulerNames[] = {{true, "fr_fcfs"}, {false, "fcfs"}};

// The defaults below agree with ddr_schema()'s declarations where it has them (the timing,
// which a preset must give, defaults to DDR4-2400 for specs made without a config in tests).
struct DdrSpec {
  std::string name;
  // organisation
  unsigned channels = 1, ranks = 1, bank_groups = 4, banks_per_group = 4;
  uint64_t rows = 65536;
  unsigned columns = 1024;    ///< columns per row, per device
  unsigned device_width = 8;  ///< bits per device (x8)
  unsigned bus_width = 64;    ///< bits per channel
  unsigned burst_length = 8;  ///< beats per burst
  // timing, cycles of tCK
  double tck_ns = 0.833;
  unsigned cl = 17, cwl = 12, trcd = 17, trp = 17, tras = 39, trc = 56, tbl = 4;
  unsigned tccd_s = 4, tccd_l = 6, trrd_s = 4, trrd_l = 6, tfaw = 26, twr = 18, trtp = 9;
  unsigned twtr_s = 3, twtr_l = 9, trtrs = 2, trfc = 420, trefi = 9360;
  // energy (DRAMPower): currents in mA per device, VDD in V
  double vdd = 1.2, idd0 = 0, idd2n = 0, idd3n = 0, idd4r = 0, idd4w = 0, idd5b = 0;
  // controller
  bool open_page = true;
  bool fr_fcfs = true;
  unsigned queue_depth = 32;
  std::string mapping_text;        ///< as written
  std::vector<AddrField> mapping;  ///< MSB → LSB, decoded from mapping_text

  unsigned banks() const { return bank_groups * banks_per_group; }
  unsigned devices_per_rank() const { return bus_width / device_width; }
  uint64_t burst_bytes() const { return uint64_t(bus_width) / 8 * burst_length; }
  /// Bytes one row activation opens across the rank (the page): columns × bus width.
  uint64_t row_bytes() const { return uint64_t(columns) * bus_width / 8; }
  uint64_t capacity_bytes() const { return uint64_t(channels) * ranks * banks() * rows * row_bytes(); }
  /// Peak bytes per second: one burst per tBL cycles per channel.
  double peak_bytes_per_s() const { return channels * double(burst_bytes()) / (tbl * tck_ns * 1e-9); }
};

/// The parameters of a DDR device (the `memory:` section's DRAM part).
std::shared_ptr<const config::Schema> ddr_schema();
/// Validated values → spec, with cross-parameter checks (tRC ≥ tRAS + tRP, powers of two…).
DdrSpec ddr_spec_from(const config::Values& v);

/// Decoded location of one burst.
struct DdrAddress {
  unsigned channel = 0, rank = 0, bank_group = 0, bank = 0;
  uint64_t row = 0, column = 0;  ///< column in bursts
};

/// Splits byte addresses by the spec's mapping (fields are contiguous bit ranges).
class AddressMapper {
 public:
  explicit AddressMapper(const DdrSpec& s);
  DdrAddress decode(uint64_t addr) const;
  /// Row activations a contiguous range needs on an otherwise idle device: the number of
  /// distinct (channel, rank, bank, row) the range touches.
  uint64_t rows_touched(uint64_t addr, uint64_t bytes) const;
  /// Bursts of a contiguous range that fall in `channel` (closed form, no iteration).
  uint64_t channel_bursts(uint64_t addr, uint64_t bytes, unsigned channel) const;

 private:
  struct Field {
    AddrField f;
    unsigned shift, bits;
  };
  std::vector<Field> m_fields;
  unsigned m_burst_shift = 6;
  unsigned m_col_shift = 0, m_col_bits = 0, m_total_bits = 0;
  unsigned m_ch_shift = 0, m_ch_bits = 0;
};

}  // namespace bpsim::memory
