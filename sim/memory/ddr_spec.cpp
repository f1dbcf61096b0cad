#include "sim/memory/ddr_spec.h"

#include <algorithm>

namespace bpsim::memory {

namespace {

bool is_pow2(uint64_t x) { return x && !(x & (x - 1)); }
unsigned log2u(uint64_t x) {
  unsigned b = 0;
  while ((uint64_t(1) << b) < x) ++b;
  return b;
}

}  // namespace

std::shared_ptr<const config::Schema> ddr_schema() {
  static auto s = [] {
    auto d = std::make_shared<config::Schema>("memory", "the DRAM system: organisation, timing, energy, controller");
    d->string("name", "preset name, for reports").def("\"custom\"");
    d->integer("channels", "", "independent channels").def(1).range(1, 64);
    d->integer("ranks", "", "ranks per channel").def(1).range(1, 16);
    d->integer("bank_groups", "", "bank groups per rank").def(4).range(1, 16);
    d->integer("banks_per_group", "", "banks per bank group").def(4).range(1, 64);
    d->integer("rows", "", "rows per bank").def(65536).range(1, int64_t(1) << 24);
    d->integer("columns", "", "columns per row per device").def(1024).range(8, 65536);
    d->integer("device_width", "bits", "data bits per device (x4/x8/x16)").def(8).range(1, 1024);
    d->integer("bus_width", "bits", "data bits per channel").def(64).range(8, 4096);
    d->integer("burst_length", "beats", "beats per burst (BL)").def(8).range(1, 64);
    d->real("tck_ns", "ns", "clock period (10 ps to 1 us)").req().range(0.01, 1000);
    const char* t[][2] = {{"cl", "read latency"}, {"cwl", "write latency"}, {"trcd", "ACT to column command"},
                          {"trp", "PRE to ACT"}, {"tras", "ACT to PRE"}, {"trc", "ACT to ACT, same bank"},
                          {"tbl", "data-bus cycles per burst (BL/2)"}, {"tccd_s", "column to column, other bank group"},
                          {"tccd_l", "column to column, same bank group"}, {"trrd_s", "ACT to ACT, other bank group"},
                          {"trrd_l", "ACT to ACT, same bank group"}, {"tfaw", "window holding at most four ACTs"},
                          {"twr", "write recovery before PRE"}, {"trtp", "read to PRE"},
                          {"twtr_s", "write to read, other bank group"}, {"twtr_l", "write to read, same bank group"},
                          {"trtrs", "rank to rank switch"}, {"trfc", "refresh cycle time"},
                          {"trefi", "refresh interval"}};
    for (auto& p : t) d->integer(p[0], "cycles", p[1]).req().range(0, 1 << 20);
    d->real("vdd", "V", "supply voltage").def(1.2).range(0.1, 5);
    const char* i[][2] = {{"idd0", "one bank ACT-PRE current"}, {"idd2n", "precharged standby current"},
                          {"idd3n", "active standby current"}, {"idd4r", "burst read current"},
                          {"idd4w", "burst write current"}, {"idd5b", "burst refresh current"}};
    for (auto& p : i) d->real(p[0], "mA", std::string(p[1]) + " per device (datasheet IDD)").req().range(0, 1e5);
    d->choice("page_policy", {"open", "closed"}, "keep rows open after access, or auto-precharge").def("open");
    d->choice("scheduler", {"fr_fcfs", "fcfs"}, "row hits first (FR-FCFS) or strictly oldest first").def("fr_fcfs");
    d->integer("queue_depth", "requests", "controller queue per channel").def(32).range(1, 4096);
    d->string("mapping", "address fields MSB→LSB from Ro Ra Bg Ba Co Ch, e.g. RoRaBgBaCoCh").def("RoRaBgBaCoCh");
    return d;
  }();
  return s;
}

DdrSpec ddr_spec_from(const config::Values& v) {
  DdrSpec s;
  s.name = v.s("name");
  auto u = [&](const char* k) { return static_cast<unsigned>(v.i(k)); };
  s.channels = u("channels");
  s.ranks = u("ranks");
  s.bank_groups = u("bank_groups");
  s.banks_per_group = u("banks_per_group");
  s.rows = static_cast<uint64_t>(v.i("rows"));
  s.columns = u("columns");
  s.device_width = u("device_width");
  s.bus_width = u("bus_width");
  s.burst_length = u("burst_length");
  s.tck_ns = v.f("tck_ns");
  s.cl = u("cl"), s.cwl = u("cwl"), s.trcd = u("trcd"), s.trp = u("trp"), s.tras = u("tras"), s.trc = u("trc");
  s.tbl = u("tbl"), s.tccd_s = u("tccd_s"), s.tccd_l = u("tccd_l"), s.trrd_s = u("trrd_s"), s.trrd_l = u("trrd_l");
  s.tfaw = u("tfaw"), s.twr = u("twr"), s.trtp = u("trtp"), s.twtr_s = u("twtr_s"), s.twtr_l = u("twtr_l");
  s.trtrs = u("trtrs"), s.trfc = u("trfc"), s.trefi = u("trefi");
  s.vdd = v.f("vdd"), s.idd0 = v.f("idd0"), s.idd2n = v.f("idd2n"), s.idd3n = v.f("idd3n");
  s.idd4r = v.f("idd4r"), s.idd4w = v.f("idd4w"), s.idd5b = v.f("idd5b");
  s.open_page = v.s("page_policy") == "open";
  s.fr_fcfs = v.s("scheduler") == "fr_fcfs";
  s.queue_depth = u("queue_depth");

  for (const char* k : {"channels", "ranks", "bank_groups", "banks_per_group", "rows", "columns", "burst_length"})
    if (!is_pow2(static_cast<uint64_t>(v.i(k)))) throw v.error(k, "must be a power of two (address bits are split by field)");
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
  const std::string m = v.s("mapping");
  const std::pair<const char*, AddrField> names[] = {{"Ro", AddrField::row},     {"Ra", AddrField::rank},
                                                     {"Bg", AddrField::bank_group}, {"Ba", AddrField::bank},
                                                     {"Co", AddrField::column},  {"Ch", AddrField::channel}};
  if (m.size() != 12) throw v.error("mapping", "expected the six fields Ro Ra Bg Ba Co Ch once each, e.g. RoRaBgBaCoCh");
  for (size_t i = 0; i < m.size(); i += 2) {
    bool found = false;
    for (const auto& [tok, f] : names)
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
