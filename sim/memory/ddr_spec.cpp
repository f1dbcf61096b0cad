#include "sim/memory/ddr_spec.h"

#include <algorithm>

#include "sim/core/binder.h"

namespace bpsim::memory {

namespace {

bool is_pow2(uint64_t x) { return x && !(x & (x - 1)); }
unsigned log2u(uint64_t x) {
  unsigned b = 0;
  while ((uint64_t(1) << b) < x) ++b;
  return b;
}

const config::Binder<DdrSpec>& ddr_binder() {
  static const config::Binder<DdrSpec> d = [] {
    config::Binder<DdrSpec> d("memory", "the DRAM system: organisation, timing, energy, controller");
    d.string("name", &DdrSpec::name, "preset name, for reports").def("\"custom\"");
    d.integer("channels", &DdrSpec::channels, "", "independent channels").def(1).range(1, 64);
    d.integer("ranks", &DdrSpec::ranks, "", "ranks per channel").def(1).range(1, 16);
    d.integer("bank_groups", &DdrSpec::bank_groups, "", "bank groups per rank").def(4).range(1, 16);
    d.integer("banks_per_group", &DdrSpec::banks_per_group, "", "banks per bank group").def(4).range(1, 64);
    d.integer("rows", &DdrSpec::rows, "", "rows per bank").def(65536).range(1, int64_t(1) << 24);
    d.integer("columns", &DdrSpec::columns, "", "columns per row per device").def(1024).range(8, 65536);
    d.integer("device_width", &DdrSpec::device_width, "bits", "data bits per device (x4/x8/x16)").def(8).range(1, 1024);
    d.integer("bus_width", &DdrSpec::bus_width, "bits", "data bits per channel").def(64).range(8, 4096);
    d.integer("burst_length", &DdrSpec::burst_length, "beats", "beats per burst (BL)").def(8).range(1, 64);
    d.real("tck_ns", &DdrSpec::tck_ns, "ns", "clock period (10 ps to 1 us)").req().range(0.01, 1000);
    const struct {
      const char* name;
      unsigned DdrSpec::*field;
      const char* desc;
    } timings[] = {{"cl", &DdrSpec::cl, "read latency"},
                   {"cwl", &DdrSpec::cwl, "write latency"},
                   {"trcd", &DdrSpec::trcd, "ACT to column command"},
                   {"trp", &DdrSpec::trp, "PRE to ACT"},
                   {"tras", &DdrSpec::tras, "ACT to PRE"},
                   {"trc", &DdrSpec::trc, "ACT to ACT, same bank"},
                   {"tbl", &DdrSpec::tbl, "data-bus cycles per burst (BL/2)"},
                   {"tccd_s", &DdrSpec::tccd_s, "column to column, other bank group"},
                   {"tccd_l", &DdrSpec::tccd_l, "column to column, same bank group"},
                   {"trrd_s", &DdrSpec::trrd_s, "ACT to ACT, other bank group"},
                   {"trrd_l", &DdrSpec::trrd_l, "ACT to ACT, same bank group"},
                   {"tfaw", &DdrSpec::tfaw, "window holding at most four ACTs"},
                   {"twr", &DdrSpec::twr, "write recovery before PRE"},
                   {"trtp", &DdrSpec::trtp, "read to PRE"},
                   {"twtr_s", &DdrSpec::twtr_s, "write to read, other bank group"},
                   {"twtr_l", &DdrSpec::twtr_l, "write to read, same bank group"},
                   {"trtrs", &DdrSpec::trtrs, "rank to rank switch"},
                   {"trfc", &DdrSpec::trfc, "refresh cycle time"},
                   {"trefi", &DdrSpec::trefi, "refresh interval"}};
    for (const auto& t : timings) d.integer(t.name, t.field, "cycles", t.desc).req().range(0, 1 << 20);
    d.real("vdd", &DdrSpec::vdd, "V", "supply voltage").def(1.2).range(0.1, 5);
    const struct {
      const char* name;
      double DdrSpec::*field;
      const char* desc;
    } currents[] = {
        {"idd0", &DdrSpec::idd0, "one bank ACT-PRE current"}, {"idd2n", &DdrSpec::idd2n, "precharged standby current"},
        {"idd3n", &DdrSpec::idd3n, "active standby current"}, {"idd4r", &DdrSpec::idd4r, "burst read current"},
        {"idd4w", &DdrSpec::idd4w, "burst write current"},    {"idd5b", &DdrSpec::idd5b, "burst refresh current"}};
    for (const auto& c : currents)
      d.real(c.name, c.field, "mA", std::string(c.desc) + " per device (datasheet IDD)").req().range(0, 1e5);
    d.choice("page_policy", &DdrSpec::open_page, kPagePolicyNames, "keep rows open after access, or auto-precharge")
        .def("open");
    d.choice("scheduler", &DdrSpec::fr_fcfs, kSchedulerNames, "row hits first (FR-FCFS) or strictly oldest first")
        .def("fr_fcfs");
    d.integer("queue_depth", &DdrSpec::queue_depth, "requests", "controller queue per channel").def(32).range(1, 4096);
    d.string("mapping", &DdrSpec::mapping_text, "address fields MSB→LSB from Ro Ra Bg Ba Co Ch, e.g. RoRaBgBaCoCh")
        .def("RoRaBgBaCoCh");
    return d;
  }();
  return d;
}

}  // namespace

std::shared_ptr<const config::Schema> ddr_schema() { return ddr_binder().schema(); }

DdrSpec ddr_spec_from(const config::Values& v) {
  DdrSpec s = ddr_binder().parse(v);
  const std::pair<const char*, uint64_t> counts[] = {{"channels", s.channels},
                                                     {"ranks", s.ranks},
                                                     {"bank_groups", s.bank_groups},
                                                     {"banks_per_group", s.banks_per_group},
                                                     {"rows", s.rows},
                                                     {"columns", s.columns},
                                                     {"burst_length", s.burst_length}};
  for (const auto& [key, n] : counts)
    if (!is_pow2(n)) throw v.error(key, "must be a power of two (address bits are split by field)");
  if (s.bus_width % s.device_width) throw v.error("bus_width", "must be a multiple of device_width");
  if (s.columns < s.burst_length) throw v.error("columns", "a row must hold at least one burst");
  if (s.trc < s.tras + s.trp)
    throw v.error("trc", "tRC (" + std::to_string(s.trc) + ") must be at least tRAS + tRP (" +
                             std::to_string(s.tras + s.trp) + ")");
  if (s.tccd_l < s.tccd_s) throw v.error("tccd_l", "tCCD_L must be at least tCCD_S");
  if (s.trrd_l < s.trrd_s) throw v.error("trrd_l", "tRRD_L must be at least tRRD_S");
  if (s.tbl == 0) throw v.error("tbl", "must be at least 1");
  if (s.trefi <= s.trfc) throw v.error("trefi", "tREFI must exceed tRFC, or the device only refreshes");
  if (s.idd0 < s.idd3n || s.idd4r < s.idd3n || s.idd4w < s.idd3n || s.idd5b < s.idd3n)
    throw v.error("idd0", "IDD0, IDD4R, IDD4W and IDD5B must each be at least IDD3N (DRAMPower subtracts it)");

  // Mapping: two-letter tokens, each field exactly once.
  const std::string& m = s.mapping_text;
  if (m.size() != 12)
    throw v.error("mapping", "expected the six fields Ro Ra Bg Ba Co Ch once each, e.g. RoRaBgBaCoCh");
  for (size_t i = 0; i < m.size(); i += 2) {
    bool found = false;
    for (const auto& [f, tok] : kAddrFieldNames)
      if (m.compare(i, 2, tok) == 0) {
        if (std::find(s.mapping.begin(), s.mapping.end(), f) != s.mapping.end())
          throw v.error("mapping", std::string("field ") + tok + " appears twice");
        s.mapping.push_back(f);
        found = true;
      }
    if (!found) throw v.error("mapping", "unknown field '" + m.substr(i, 2) + "' (fields: Ro Ra Bg Ba Co Ch)");
  }
  return s;
}

AddressMapper::AddressMapper(const DdrSpec& s) {
  m_burst_shift = log2u(s.burst_bytes());
  unsigned shift = m_burst_shift;
  for (auto it = s.mapping.rbegin(); it != s.mapping.rend(); ++it) {
    uint64_t count = 1;
    switch (*it) {
      case AddrField::row: count = s.rows; break;
      case AddrField::rank: count = s.ranks; break;
      case AddrField::bank_group: count = s.bank_groups; break;
      case AddrField::bank: count = s.banks_per_group; break;
      case AddrField::column: count = s.columns / s.burst_length; break;
      case AddrField::channel: count = s.channels; break;
    }
    unsigned bits = log2u(count);
    m_fields.push_back({*it, shift, bits});
    if (*it == AddrField::column) m_col_shift = shift, m_col_bits = bits;
    if (*it == AddrField::channel) m_ch_shift = shift, m_ch_bits = bits;
    shift += bits;
  }
  m_total_bits = shift;
}

DdrAddress AddressMapper::decode(uint64_t addr) const {
  DdrAddress a;
  for (const Field& f : m_fields) {
    uint64_t val = (addr >> f.shift) & ((uint64_t(1) << f.bits) - 1);
    switch (f.f) {
      case AddrField::row: a.row = val; break;
      case AddrField::rank: a.rank = static_cast<unsigned>(val); break;
      case AddrField::bank_group: a.bank_group = static_cast<unsigned>(val); break;
      case AddrField::bank: a.bank = static_cast<unsigned>(val); break;
      case AddrField::column: a.column = val; break;
      case AddrField::channel: a.channel = static_cast<unsigned>(val); break;
    }
  }
  return a;
}

uint64_t AddressMapper::rows_touched(uint64_t addr, uint64_t bytes) const {
  if (bytes == 0) return 0;
  // Key of a burst = its address with the column bits removed: one key per open row.
  // Bits below the column field (L of them) interleave other rows between columns.
  const uint64_t first = addr >> m_burst_shift, last = (addr + bytes - 1) >> m_burst_shift;
  const unsigned low = m_col_shift - m_burst_shift, span = low + m_col_bits;
  const uint64_t block_first = first >> span, block_last = last >> span;
  const uint64_t low_count = uint64_t(1) << low;
  auto keys_in = [&](uint64_t lo, uint64_t hi) {  // bursts lo..hi within one high block
    return std::min<uint64_t>(low_count, hi - lo + 1);
  };
  if (block_first == block_last) return keys_in(first, last);
  const uint64_t first_block_end = ((block_first + 1) << span) - 1, last_block_start = block_last << span;
  return keys_in(first, first_block_end) + keys_in(last_block_start, last) + (block_last - block_first - 1) * low_count;
}

uint64_t AddressMapper::channel_bursts(uint64_t addr, uint64_t bytes, unsigned channel) const {
  if (bytes == 0) return 0;
  const uint64_t first = addr >> m_burst_shift, last = (addr + bytes - 1) >> m_burst_shift;
  if (m_ch_bits == 0) return channel == 0 ? last - first + 1 : 0;
  // Burst indices n whose channel field equals `channel` form runs of 2^s every 2^(s+k).
  const unsigned s = m_ch_shift - m_burst_shift, period_bits = s + m_ch_bits;
  const uint64_t run = uint64_t(1) << s, lo = uint64_t(channel) << s;
  auto below = [&](uint64_t x) {  // count of such n in [0, x)
    const uint64_t rem = x & ((uint64_t(1) << period_bits) - 1);
    return (x >> period_bits) * run + std::min(run, rem > lo ? rem - lo : 0);
  };
  return below(last + 1) - below(first);
}

}  // namespace bpsim::memory
