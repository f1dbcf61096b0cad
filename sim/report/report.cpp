#include "sim/report/report.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <sstream>
#include <string_view>

#include "sim/core/config_node.h"
#include "sim/core/error.h"
#include "sim/core/float_text.h"
#include "sim/core/stats.h"
#include "sim/core/units.h"

namespace bpsim {

namespace {

using json = nlohmann::json;

const char* const kCountKeys[] = {"macs",
                                  "macs_executed",
                                  "macs_skipped",
                                  "macs_gated",
                                  "dram_read_bytes",
                                  "dram_write_bytes",
                                  "onchip_read_bytes",
                                  "onchip_write_bytes",
                                  "stall_cycles"};
constexpr size_t kCounts = std::size(kCountKeys);

/// An op record's counts, in kCountKeys order.
std::array<uint64_t, kCounts> counts_of(const OpRecord& r) {
  return {r.macs,
          r.macs_executed,
          r.macs_skipped,
          r.macs_gated,
          r.dram_read_bytes,
          r.dram_write_bytes,
          r.onchip_read_bytes,
          r.onchip_write_bytes,
          r.stall_cycles};
}

/// Positions in kCountKeys of the figures derive() reads.
constexpr size_t kExecuted = 1, kDramRead = 4, kDramWrite = 5, kOnchipRead = 6, kOnchipWrite = 7;

/// The derived figures of counts in kCountKeys order over `cycles`.
Derived derive_counts(const Rates& rates, uint64_t cycles, const std::array<uint64_t, kCounts>& c) {
  return derive(rates, cycles, c[kExecuted], c[kDramRead] + c[kDramWrite], c[kOnchipRead] + c[kOnchipWrite]);
}

}  // namespace

Derived derive(const Rates& rates, uint64_t cycles, uint64_t macs_executed, uint64_t dram_bytes,
               uint64_t onchip_bytes) {
  Derived d;
  if (dram_bytes > 0) d.macs_per_dram_byte = double(macs_executed) / double(dram_bytes);
  if (cycles == 0) return d;                                                // no time: no rate is defined
  const double seconds = double(cycles) * (1.0 / (rates.clock_ghz * 1e9));  // as the report's "seconds"
  if (rates.peak_macs_per_cycle > 0)
    d.utilisation = double(macs_executed) / (rates.peak_macs_per_cycle * double(cycles));
  d.dram_gbps = double(dram_bytes) / seconds * 1e-9;
  d.onchip_gbps = double(onchip_bytes) / seconds * 1e-9;
  d.gmacs_per_s = double(macs_executed) / seconds * 1e-9;
  return d;
}

void put_derived(json& j, const Derived& d) {
  auto put = [&j](const char* key, const std::optional<double>& v) { j[key] = v ? json(*v) : json(nullptr); };
  put("utilisation", d.utilisation);
  put("dram_gbps", d.dram_gbps);
  put("onchip_gbps", d.onchip_gbps);
  put("macs_per_dram_byte", d.macs_per_dram_byte);
  put("gmacs_per_s", d.gmacs_per_s);
}

Rates rates_of(const json& report) {
  const json& roof = report.at("roofline");
  return {report.at("clock_ghz").get<double>(), roof.at("peak_macs_per_cycle").get<double>(),
          roof.at("peak_dram_gbps").get<double>() * 1e9};
}

Derived op_figures(const Rates& rates, const json& op) {
  if (const auto u = op.find("utilisation"); u != op.end()) {  // read back from report.json
    auto figure = [&op](const char* key) {
      const json& v = op.at(key);
      return v.is_null() ? std::optional<double>() : v.get<double>();
    };
    return {figure("utilisation"), figure("dram_gbps"), figure("onchip_gbps"), figure("macs_per_dram_byte"),
            figure("gmacs_per_s")};
  }
  auto count = [&op](const char* key) { return op.at(key).get<uint64_t>(); };
  return derive(rates, count("cycles"), count("macs_executed"), count("dram_read_bytes") + count("dram_write_bytes"),
                count("onchip_read_bytes") + count("onchip_write_bytes"));
}

namespace {

/// An unquoted YAML scalar as YAML 1.2's core schema reads it (null, boolean, integer,
/// float); anything else, and any value JSON cannot hold (.inf, .nan), a string.
nlohmann::ordered_json scalar_json(const std::string& t) {
  using oj = nlohmann::ordered_json;
  if (t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL") return oj(nullptr);
  if (t == "true" || t == "True" || t == "TRUE") return oj(true);
  if (t == "false" || t == "False" || t == "FALSE") return oj(false);
  const size_t sign = t[0] == '-' || t[0] == '+' ? 1 : 0;
  size_t digits = sign, point = 0, exp = std::string::npos;
  for (size_t i = sign; i < t.size(); ++i) {
    const char c = t[i];
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c == '.' && !point && exp == std::string::npos) {
      point = i;
    } else if ((c == 'e' || c == 'E') && exp == std::string::npos && digits > sign) {
      exp = i;
      if (i + 1 < t.size() && (t[i + 1] == '-' || t[i + 1] == '+')) ++i;
      if (i + 1 >= t.size()) return oj(t);
    } else {
      return oj(t);
    }
  }
  if (digits == sign) return oj(t);
  errno = 0;
  char* end = nullptr;
  if (!point && exp == std::string::npos) {  // an integer, when it fits 64 bits
    if (t[0] == '-') {
      const long long v = std::strtoll(t.c_str(), &end, 10);
      if (errno == 0 && *end == 0) return oj(int64_t(v));
    } else {
      const unsigned long long v = std::strtoull(t.c_str() + sign, &end, 10);
      if (errno == 0 && *end == 0) return oj(uint64_t(v));
    }
    return oj(t);
  }
  const double v = std::strtod(t.c_str(), &end);
  if (errno == 0 && *end == 0 && std::isfinite(v)) return oj(v);
  return oj(t);
}

}  // namespace

nlohmann::ordered_json config_json(const config::Node& root) {
  using oj = nlohmann::ordered_json;
  switch (root.type) {
    case config::Node::Type::Null: return oj(nullptr);
    case config::Node::Type::Scalar: return root.quoted ? oj(root.scalar) : scalar_json(root.scalar);
    case config::Node::Type::Sequence: {
      oj a = oj::array();
      for (const config::Node& x : root.seq) a.push_back(config_json(x));
      return a;
    }
    case config::Node::Type::Map: {
      oj m = oj::object();
      for (const config::Node::Entry& e : root.map) m[e.key] = config_json(e.value);
      return m;
    }
  }
  return oj(nullptr);
}

const std::vector<const char*>& count_keys() {
  static const std::vector<const char*> keys(std::begin(kCountKeys), std::end(kCountKeys));
  return keys;
}

namespace {

/// Whether a CSV field needs quotes (RFC 4180: a comma, a quote or a line break in it).
bool needs_quotes(const std::string& s) { return s.find_first_of(",\"\n") != std::string::npos; }

std::string csv_field(const std::string& s) {
  if (!needs_quotes(s)) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

ReportBuilder::ReportBuilder(const EnergyTable& energy, const Rates& rates, OpSink sink)
    : m_energy(energy),
      m_rates(rates),
      m_seconds_per_cycle(1.0 / (rates.clock_ghz * 1e9)),
      m_sink(std::move(sink)),
      m_ops(json::array()) {}

void ReportBuilder::Sums::add(const OpRecord& r, double energy) {
  cycles += r.cycles;
  energy_pj += energy;
  const auto c = counts_of(r);
  for (size_t i = 0; i < kCounts; ++i) counts[i] += c[i];
}

json ReportBuilder::Sums::to_json(const Rates& rates, uint64_t over_cycles) const {
  json t = json::object();
  t["cycles"] = over_cycles;
  t["seconds"] = double(over_cycles) * (1.0 / (rates.clock_ghz * 1e9));
  t["energy_pj"] = energy_pj;
  for (size_t i = 0; i < kCounts; ++i) t[kCountKeys[i]] = counts[i];
  put_derived(t, derive_counts(rates, over_cycles, counts));
  return t;
}

void ReportBuilder::add(const OpRecord& r) {
  // An op's energy: its priced actions plus leakage while it runs; both also per phase
  // (the phase's leakage by component is priced once, over the phase's cycles, in finish).
  if (!m_phase || r.phase != m_phase_name) {  // ops come in runs of one phase: one lookup per run
    m_phase = &m_phases[r.phase];
    m_phase_name = r.phase;
  }
  Phase& ph = *m_phase;
  const double dynamic = m_energy.dynamic_pj(r.actions, &ph.dynamic);  // the totals' are the phases' summed
  const double e = dynamic + m_energy.static_pj(double(r.cycles) * m_seconds_per_cycle, nullptr);
  ph.sums.add(r, e);
  m_totals.add(r, 0.0);
  // Held ops keep no derived figures (op_figures derives them when they are written).
  if (m_sink) m_sink(r, {e, derive_counts(m_rates, r.cycles, counts_of(r))});
  else m_ops.push_back(op_entry(r, e));
}

json ReportBuilder::op_entry(const OpRecord& r, double energy_pj) {
  json o = {{"name", r.name},     {"phase", r.phase},       {"kind", r.kind},  {"start_cycle", r.start_cycle},
            {"cycles", r.cycles}, {"energy_pj", energy_pj}, {"layer", r.layer}};
  const auto c = counts_of(r);
  for (size_t i = 0; i < kCounts; ++i) o[kCountKeys[i]] = c[i];
  if (r.macs_skipped) o["skip_reason"] = r.skip_reason;
  if (json extra = reported_extra(r); !extra.empty()) o["extra"] = std::move(extra);
  return o;
}

json ReportBuilder::finish(const ReportInputs& in) {
  json report = json::object();
  report["schema"] = "bpsim-report-1";
  report["bpsim_version"] = BPSIM_VERSION;
  report["accelerator"] = in.kind;
  report["clock_ghz"] = m_rates.clock_ghz;
  report["run"] = {{"name", in.run_name}, {"seed", in.seed}};
  json phases = json::object();
  for (auto& [name, ph] : m_phases) {
    ph.dynamic.add_to(ph.breakdown);
    for (const auto& [action, pj] : ph.breakdown) m_breakdown[action] += pj;  // dynamic only, so far
    const double seconds = double(ph.sums.cycles) * m_seconds_per_cycle;
    m_energy.static_pj(seconds, &ph.breakdown);
    json p = ph.sums.to_json(m_rates, ph.sums.cycles);
    p["energy_breakdown_pj"] = ph.breakdown;
    phases[name] = std::move(p);
  }

  // Totals: the model's end time (ops may overlap), all dynamic energy, leakage over it.
  const uint64_t cycles = in.total_cycles;
  double dynamic = 0;
  for (const auto& [k, v] : m_breakdown) dynamic += v;
  json totals = m_totals.to_json(m_rates, cycles);
  const double seconds = static_cast<double>(cycles) * m_seconds_per_cycle;
  totals["energy_pj"] = dynamic + in.energy.static_pj(seconds, &m_breakdown);
  report["totals"] = std::move(totals);

  const workload::MemorySummary none;
  const workload::MemorySummary& m = in.memory_summary ? *in.memory_summary : none;
  report["memory"] = {
      {"policy", m.policy}, {"saved_after_forward_bytes", m.saved_after_forward_bytes}, {"peak_bytes", m.peak_bytes}};
  if (!m.figures.empty()) report["memory"]["figures"] = m.figures;  // the policy's own figures
  report["phases"] = std::move(phases);
  if (!m_sink) report["ops"] = std::move(m_ops);  // else the sink has them (OpSpill)
  report["energy_breakdown_pj"] = m_breakdown;
  if (!in.network.is_null()) report["network"] = in.network;
  report["stats"] = in.stats.values_json();
  json desc = json::object();
  in.stats.descriptions(desc);
  report["stat_descriptions"] = desc;
  report["energy_table"] = in.energy.name();
  report["config"] = in.config;  // sorted here; write_report_files keeps the config's order
  // The roof of the roofline; its points are the macs_per_dram_byte and gmacs_per_s of ops,
  // phases and totals.
  const double peak_gmacs = m_rates.peak_macs_per_cycle * m_rates.clock_ghz;
  const double peak_dram_gbps = m_rates.peak_dram_bytes_per_s * 1e-9;
  report["roofline"] = {{"peak_macs_per_cycle", m_rates.peak_macs_per_cycle},
                        {"peak_gmacs_per_s", peak_gmacs},
                        {"peak_dram_gbps", peak_dram_gbps},
                        {"ridge_macs_per_byte", peak_dram_gbps > 0 ? json(peak_gmacs / peak_dram_gbps) : json()}};
  return report;
}

namespace {

std::string csv_header(const CsvColumns& columns) {
  std::string out = "name,phase,kind,start_cycle,cycles,energy_pj";
  for (const char* k : kCountKeys) out += std::string(",") + k;
  out += ",layer,utilisation,dram_gbps,onchip_gbps,macs_per_dram_byte,gmacs_per_s";
  for (const CsvColumn& c : columns) out += "," + csv_field(c.header);
  return out + "\n";
}

using Pointers = std::vector<ExtraPath>;
constexpr size_t kMaxColumns = 64, kMaxDepth = 16;  ///< of a model's ops.csv columns (ColumnValues)

Pointers pointers_of(const CsvColumns& columns) {
  if (columns.size() > kMaxColumns)
    throw std::logic_error("ops.csv: a model declares more than " + std::to_string(kMaxColumns) + " columns");
  Pointers out;
  out.reserve(columns.size());
  for (const CsvColumn& c : columns) {
    ExtraPath& p = out.emplace_back(ExtraPath{json::json_pointer(c.extra_pointer), {}, 0});
    for (json::json_pointer rest = p.pointer; !rest.empty(); rest.pop_back()) p.tokens.push_back(rest.back());
    std::reverse(p.tokens.begin(), p.tokens.end());
    if (p.tokens.size() > kMaxDepth)
      throw std::logic_error("ops.csv: column pointer " + c.extra_pointer + " is deeper than " +
                             std::to_string(kMaxDepth) + " keys");
    if (out.size() > 1) {
      const std::vector<std::string>& before = out[out.size() - 2].tokens;
      while (p.shared < std::min(before.size(), p.tokens.size()) && before[p.shared] == p.tokens[p.shared]) ++p.shared;
    }
  }
  return out;
}

/// The model's columns' values in one extra object (null where it has none), as json's
/// contains then at would find them, in one walk per column that starts where the previous
/// column's path and its own part (the nine systolic columns share "/mapping"): per op, two
/// walks per column from the root were a twenty-fifth of a trace replay. A path through an
/// array is left to json itself. On the stack: kMaxColumns columns of kMaxDepth tokens at most
/// (pointers_of holds models to that).
class ColumnValues {
 public:
  explicit ColumnValues(const Pointers& at) : m_at(at) {}
  /// Reads the values in `j` (none unless an object).
  void read(const json* j) {
    std::fill_n(m_values.begin(), m_at.size(), nullptr);
    if (!j || !j->is_object()) return;
    // The previous path's nodes by depth, as far as it found them (m_trail[0] = j, depth + 1
    // of them); `fresh`: the trail holds the root alone, walk from it.
    m_trail[0] = j;
    size_t depth = 0;
    bool fresh = true;
    for (size_t i = 0; i < m_at.size(); ++i) {
      const ExtraPath& p = m_at[i];
      const size_t shared = fresh ? 0 : p.shared;
      size_t d = std::min(shared, depth);
      if (d < shared) continue;  // the previous path ended inside the part they share: so does this one
      fresh = false;
      for (; d < p.tokens.size(); ++d) {
        const json& cur = *m_trail[d];
        if (!cur.is_object()) break;  // an array (below), or a value where the path goes on: none
        const auto it = cur.find(p.tokens[d]);
        if (it == cur.end()) break;
        m_trail[d + 1] = &*it;
      }
      depth = d;
      if (d == p.tokens.size()) {
        m_values[i] = m_trail[d];
      } else if (m_trail[d]->is_array()) {
        if (j->contains(p.pointer)) m_values[i] = &j->at(p.pointer);
        depth = 0, fresh = true;
      }
    }
  }
  const json* operator[](size_t i) const { return m_values[i]; }
  bool none() const {
    return std::none_of(begin(), end(), [](const json* v) { return v; });
  }
  bool all() const {
    return std::all_of(begin(), end(), [](const json* v) { return v; });
  }

 private:
  const json* const* begin() const { return m_values.data(); }
  const json* const* end() const { return m_values.data() + m_at.size(); }

  const Pointers& m_at;
  // Not cleared on construction: read() fills the values, and the trail as it goes.
  std::array<const json*, kMaxColumns> m_values;
  std::array<const json*, kMaxDepth + 1> m_trail;
};

/// Appends v as "%.6g" to a std::string or an fmt buffer (format_g6: fmt's "{:.6g}" took a
/// seventh of a trace replay).
template <class Buffer>
void append_g6(Buffer& out, double v) {
  char text[kG6Chars];
  out.append(text, format_g6(text, v));
}

/// Appends the model's columns of one op, ",v1,v2…", each from the op's own extra (`own`)
/// else from its shared extra (`shared`, may be null), empty where neither has it.
void csv_extra(std::string& out, const ColumnValues& own, const ColumnValues* shared, size_t columns) {
  for (size_t i = 0; i < columns; ++i) {
    out += ',';
    const json* found = own[i] ? own[i] : shared ? (*shared)[i] : nullptr;
    if (!found) continue;
    const json& v = *found;
    if (v.is_string()) out += csv_field(v.get_ref<const std::string&>());
    else if (v.is_number_float()) append_g6(out, v.get<double>());
    else out += csv_field(v.dump());
  }
}

/// Appends csv_field(s) without building it (most names need no quotes).
void append_field(fmt::memory_buffer& out, const std::string& s) {
  if (!needs_quotes(s)) out.append(s.data(), s.data() + s.size());
  else out.append(csv_field(s));
}

/// Appends ",v" (",v" empty where the figure is undefined).
void csv_figure(fmt::memory_buffer& out, const std::optional<double>& v) {
  out.push_back(',');
  if (v) append_g6(out, *v);
}

/// The standard columns of one op: the record's, apart from the model's extra.
struct CsvOp {
  const std::string &name, &phase, &kind, &layer;
  uint64_t start_cycle, cycles;
  const std::array<uint64_t, kCounts>& counts;
  const OpFigures& f;
};

/// Appends one op's row, ending with `model_columns` (",v1,v2…": csv_extra).
void csv_row(std::string& out, const CsvOp& op, const std::string& model_columns) {
  static_assert(kCounts == 9, "one field per count below");
  const auto& counts = op.counts;
  // Compiled formats (parsed at build time, not per row) and the %.6g writer, into a buffer
  // on the stack appended to `out` once: fmt writes to a std::string by resizing it field by
  // field (zero-filling each time), a twelfth of a trace replay's instructions.
  fmt::memory_buffer row;
  append_field(row, op.name);
  fmt::format_to(fmt::appender(row), FMT_COMPILE(",{},{},{},{},"), op.phase, op.kind, op.start_cycle, op.cycles);
  append_g6(row, op.f.energy_pj);
  fmt::format_to(fmt::appender(row), FMT_COMPILE(",{},{},{},{},{},{},{},{},{},"), counts[0], counts[1], counts[2],
                 counts[3], counts[4], counts[5], counts[6], counts[7], counts[8]);
  append_field(row, op.layer);
  const Derived& d = op.f.derived;
  for (const auto* v : {&d.utilisation, &d.dram_gbps, &d.onchip_gbps, &d.macs_per_dram_byte, &d.gmacs_per_s})
    csv_figure(row, *v);
  out.append(row.data(), row.size());
  out += model_columns;
  out += '\n';
}

/// report.json is dump(2) of the report: an op entry sits at depth 2 of it.
constexpr int kOpIndent = 4;

}  // namespace

namespace {

/// ops.csv of `report`, handed to `emit` a block of rows at a time (about 1 MiB).
void each_csv_block(const json& report, const CsvColumns& columns, const std::function<void(std::string&)>& emit) {
  std::string out = csv_header(columns);
  const Pointers at = pointers_of(columns);
  ColumnValues values(at);
  std::string model_columns;
  const Rates rates = rates_of(report);
  for (const auto& o : report.at("ops")) {
    std::array<uint64_t, kCounts> counts{};
    for (size_t i = 0; i < kCounts; ++i) counts[i] = o[kCountKeys[i]].get<uint64_t>();
    const auto extra = o.find("extra");
    values.read(extra == o.end() ? nullptr : &*extra);
    model_columns.clear();
    csv_extra(model_columns, values, nullptr, at.size());
    const OpFigures f{o["energy_pj"].get<double>(), op_figures(rates, o)};
    csv_row(out,
            {o["name"].get_ref<const std::string&>(), o["phase"].get_ref<const std::string&>(),
             o["kind"].get_ref<const std::string&>(), o["layer"].get_ref<const std::string&>(),
             o["start_cycle"].get<uint64_t>(), o["cycles"].get<uint64_t>(), counts, f},
            model_columns);
    if (out.size() >= (size_t(1) << 20)) emit(out), out.clear();
  }
  emit(out);
}

}  // namespace

std::string ops_csv(const json& report, const CsvColumns& columns) {
  std::string all;
  each_csv_block(report, columns, [&all](std::string& block) { all += block; });
  return all;
}

void write_ops_csv(std::ostream& out, const json& report, const CsvColumns& columns) {
  each_csv_block(report, columns,
                 [&out](std::string& block) { out.write(block.data(), std::streamsize(block.size())); });
}

namespace {

/// Words for a report key, its unit left out: "avg_packet_latency_cycles" → "avg packet latency".
std::string key_words(std::string key, const char* unit_suffix) {
  const std::string suffix = std::string("_") + unit_suffix;
  if (const size_t at = key.find(suffix); *unit_suffix && at != std::string::npos) key.erase(at, suffix.size());
  std::replace(key.begin(), key.end(), '_', ' ');
  return key;
}

/// One scalar of a model's figures ("network", the policy's "figures") for the console: a
/// key naming bytes or cycles gets the unit, other numbers three significant digits.
std::string figure(const std::string& key, const json& v) {
  if (v.is_boolean()) return key_words(key, "") + (v.get<bool>() ? " yes" : " no");
  if (v.is_string()) return key_words(key, "") + " " + v.get<std::string>();
  const double x = v.get<double>();
  if (key.find("bytes") != std::string::npos) return key_words(key, "bytes") + " " + units::bytes(x);
  if (key.find("cycles") != std::string::npos) return key_words(key, "cycles") + " " + units::number(x) + " cycles";
  return key_words(key, "") + " " + (v.is_number_integer() ? units::exact(x) : units::number(x));
}

/// A model's figures as lines "title: a 1, b 2 kB, …", one more line per nested object; a
/// list is named with its length (report.json has it whole).
std::string figure_lines(const std::string& title, const json& obj, const std::string& where) {
  std::vector<std::string> parts;
  std::string nested;
  for (const auto& [k, v] : obj.items()) {
    if (v.is_object())
      nested += figure_lines(fmt::format("{} {}", title, key_words(k, "")), v, fmt::format("{}.{}", where, k));
    else if (v.is_array())
      parts.push_back(fmt::format("{} {} ({}.{} in report.json)", key_words(k, ""), v.size(), where, k));
    else if (!v.is_null()) parts.push_back(figure(k, v));
  }
  std::string s;
  if (!parts.empty()) {
    s = title + ":";
    for (size_t i = 0; i < parts.size(); ++i) s += (i ? ", " : " ") + parts[i];
    s += "\n";
  }
  return s + nested;
}

}  // namespace

std::string summary_table(const json& r) {
  std::string s = fmt::format("bpsim {} on {} @ {}\n", r["bpsim_version"].get<std::string>(),
                              r["accelerator"].get<std::string>(), units::clock_ghz(r["clock_ghz"].get<double>()));
  s += fmt::format("{:<16} {:>14} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "phase", "cycles", "time", "energy",
                   "MACs", "executed", "DRAM rd", "DRAM wr");
  auto row = [&](const std::string& name, const json& t) {
    s += fmt::format("{:<16} {:>14} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n", name, t["cycles"].get<uint64_t>(),
                     units::seconds(t["seconds"].get<double>()), units::energy_pj(t["energy_pj"].get<double>()),
                     units::count(double(t["macs"].get<uint64_t>())),
                     units::count(double(t["macs_executed"].get<uint64_t>())),
                     units::bytes(double(t["dram_read_bytes"].get<uint64_t>())),
                     units::bytes(double(t["dram_write_bytes"].get<uint64_t>())));
  };
  for (const char* p : {"forward", "backward_data", "backward_weight", "recompute", "update"})
    if (r["phases"].contains(p)) row(p, r["phases"][p]);
  for (const auto& [name, t] : r["phases"].items()) {
    bool standard = false;
    for (const char* p : {"forward", "backward_data", "backward_weight", "recompute", "update"}) standard |= name == p;
    if (!standard) row(name, t);
  }
  row("total", r["totals"]);
  const json& m = r["memory"];
  s += fmt::format("memory policy {}: saved after forward {}, peak {}\n", m["policy"].get<std::string>(),
                   units::bytes(double(m["saved_after_forward_bytes"].get<uint64_t>())),
                   units::bytes(double(m["peak_bytes"].get<uint64_t>())));
  // memory.figures: the memory policy's and the training techniques' own figures (one map).
  if (m.contains("figures")) s += figure_lines("  policy and technique figures", m["figures"], "memory.figures");
  const json& t = r["totals"];
  const uint64_t macs = t["macs"].get<uint64_t>(), gated = t["macs_gated"].get<uint64_t>(),
                 skipped = t["macs_skipped"].get<uint64_t>();
  if (gated + skipped > 0) {
    s += fmt::format("output sparsity: of {} MACs", units::count(double(macs)));
    if (gated)
      s += fmt::format(", {} gated ({})", units::count(double(gated)), units::percent(double(gated) / double(macs)));
    if (skipped)
      s += fmt::format(", {} skipped ({})", units::count(double(skipped)),
                       units::percent(double(skipped) / double(macs)));
    s += "\n";
  }
  // The five largest energy components.
  std::vector<std::pair<double, std::string>> parts;
  for (const auto& [k, v] : r["energy_breakdown_pj"].items()) parts.emplace_back(v.get<double>(), k);
  std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  const double total = r["totals"]["energy_pj"].get<double>();
  s += "top energy:";
  for (size_t i = 0; i < parts.size() && i < 5; ++i)
    s += fmt::format(" {} {}", parts[i].second, units::percent(total > 0 ? parts[i].first / total : 0.0));
  s += "\n";
  if (r.contains("network")) s += figure_lines("network", r["network"], "network");
  return s;
}

std::string run_warnings(const json& r, const std::string& idle_words) {
  const json& t = r["totals"];
  const uint64_t cycles = t["cycles"].get<uint64_t>();
  std::string s;
  // Thresholds of issue #23: half the cycles stalled, a tenth of the peak used.
  if (const auto st = t.find("stall_cycles"); st != t.end() && st->is_number() && cycles > 0) {
    const double share = st->get<double>() / double(cycles);
    if (share > 0.5)
      s += fmt::format(
          "warning: the compute units stalled {} of the step's cycles (totals.stall_cycles {} of {}): "
          "the step waits on memory more than it computes\n",
          units::percent(share), st->get<uint64_t>(), cycles);
  }
  if (const auto u = t.find("utilisation"); u != t.end() && u->is_number() && t["macs"].get<uint64_t>() > 0) {
    const double share = u->get<double>();
    if (share < 0.1)
      // Two significant digits, not one decimal: a PIM step's 0.00012 % is not "0.0%".
      s += fmt::format("warning: utilisation {}% of the peak MAC rate (totals.utilisation): {}\n",
                       units::number(100.0 * share, 2), idle_words);
  }
  return s;
}

namespace fs = std::filesystem;

OpSpill::OpSpill(const std::string& dir, CsvColumns columns, bool entries)
    : m_ops(entries ? std::make_unique<output::File>(fs::path(dir) / "report.json.ops", size_t(1) << 20) : nullptr),
      m_csv(fs::path(dir) / "ops.csv", size_t(1) << 20),
      m_columns(std::move(columns)),
      m_pointers(pointers_of(m_columns)) {
  m_csv.out() << csv_header(m_columns);
}

namespace {

/// Appends `v` as dump(2) writes it at `indent` spaces: keys in order, integers and strings
/// written directly, floating-point numbers (and anything else) by the library itself.
void append_json(std::string& o, const json& v, size_t indent) {
  auto plain = [](const std::string& t) {
    return std::all_of(t.begin(), t.end(), [](char ch) { return ch != '"' && ch != '\\' && uint8_t(ch) >= 0x20; });
  };
  if (v.is_object() || v.is_array()) {
    if (v.empty()) {
      o.append(v.is_object() ? "{}" : "[]");
      return;
    }
    o.append(v.is_object() ? "{" : "[");
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      o.append(first ? "\n" : ",\n").append(indent + 2, ' ');
      first = false;
      if (v.is_object()) {
        if (!plain(it.key())) {
          o.append(json(it.key()).dump()).append(": ");
        } else {
          o.append("\"").append(it.key()).append("\": ");
        }
      }
      append_json(o, *it, indent + 2);
    }
    o.append("\n").append(indent, ' ').append(v.is_object() ? "}" : "]");
  } else if (v.is_number_unsigned()) {
    o.append(std::to_string(v.get<uint64_t>()));
  } else if (v.is_number_integer()) {
    o.append(std::to_string(v.get<int64_t>()));
  } else if (v.is_string() && plain(v.get_ref<const std::string&>())) {
    o.append("\"").append(v.get_ref<const std::string&>()).append("\"");
  } else {
    o.append(v.dump());
  }
}

/// Sets `o` to the op's report entry as dump(2) of the whole report writes op_entry(r,
/// energy_pj): keys sorted, at depth 2 (a test compares the bytes); values formatted by the
/// same JSON library. `first`: the list's first entry (no separating comma).
void entry_text(std::string& o, const OpRecord& r, const OpFigures& f, bool first) {
  o.clear();
  const std::string in(kOpIndent + 2, ' ');
  auto key = [&](const char* k) { o.append(",\n").append(in).append("\"").append(k).append("\": "); };
  auto num = [&](const char* k, uint64_t v) { key(k), o.append(std::to_string(v)); };
  auto str = [&](const char* k, const std::string& v) { key(k), append_json(o, json(v), 0); };
  auto fig = [&](const char* k, const std::optional<double>& v) { key(k), o.append(v ? json(*v).dump() : "null"); };
  const Derived& d = f.derived;
  o.append(first ? "\n" : ",\n").append(kOpIndent, ' ').append("{");
  o.append("\n").append(in).append("\"cycles\": ").append(std::to_string(r.cycles));
  fig("dram_gbps", d.dram_gbps);
  num("dram_read_bytes", r.dram_read_bytes);
  num("dram_write_bytes", r.dram_write_bytes);
  key("energy_pj"), o.append(json(f.energy_pj).dump());
  const json merged = r.shared_extra ? reported_extra(r) : json();
  const json& extra = r.shared_extra ? merged : r.extra;
  if (!extra.empty()) {
    key("extra");
    append_json(o, extra, kOpIndent + 2);
  }
  fig("gmacs_per_s", d.gmacs_per_s);
  str("kind", r.kind);
  str("layer", r.layer);
  num("macs", r.macs);
  num("macs_executed", r.macs_executed);
  num("macs_gated", r.macs_gated);
  fig("macs_per_dram_byte", d.macs_per_dram_byte);
  num("macs_skipped", r.macs_skipped);
  str("name", r.name);
  fig("onchip_gbps", d.onchip_gbps);
  num("onchip_read_bytes", r.onchip_read_bytes);
  num("onchip_write_bytes", r.onchip_write_bytes);
  str("phase", r.phase);
  if (r.macs_skipped) str("skip_reason", r.skip_reason);
  num("stall_cycles", r.stall_cycles);
  num("start_cycle", r.start_cycle);
  fig("utilisation", d.utilisation);
  o.append("\n").append(kOpIndent, ' ').append("}");
}

/// Appends a held op entry (ReportBuilder::op_entry) with its derived figures `d` as dump(2)
/// of the report holding both writes it: the entry's keys and the figures' merged in sorted
/// order, the entry not copied. `first`: the list's first entry (no separating comma).
void append_held_entry(std::string& o, const json& op, const Derived& d, bool first) {
  const std::pair<std::string_view, const std::optional<double>*> figures[] = {
      {"dram_gbps", &d.dram_gbps},
      {"gmacs_per_s", &d.gmacs_per_s},
      {"macs_per_dram_byte", &d.macs_per_dram_byte},
      {"onchip_gbps", &d.onchip_gbps},
      {"utilisation", &d.utilisation}};
  const std::string in(kOpIndent + 2, ' ');
  bool first_key = true;
  auto key = [&](std::string_view k) {  // an entry's keys are names: no character to escape
    o.append(first_key ? "\n" : ",\n").append(in).append("\"").append(k).append("\": ");
    first_key = false;
  };
  auto figure = [&](size_t i) {
    key(figures[i].first);
    o.append(*figures[i].second ? json(**figures[i].second).dump() : "null");
  };
  o.append(first ? "\n" : ",\n").append(kOpIndent, ' ').append("{");
  size_t next = 0;
  for (auto it = op.begin(); it != op.end(); ++it) {
    const std::string_view k = it.key();
    for (; next < std::size(figures) && figures[next].first <= k; ++next) figure(next);
    if (next > 0 && figures[next - 1].first == k) continue;  // an entry read back with its figures
    key(k);
    append_json(o, *it, kOpIndent + 2);
  }
  for (; next < std::size(figures); ++next) figure(next);
  o.append("\n").append(kOpIndent, ' ').append("}");
}

}  // namespace

namespace {
/// Shared extras whose ops.csv columns an OpSpill keeps formatted (OpSpill::m_shared_tails).
constexpr size_t kSharedTails = 4096;
}  // namespace

void OpSpill::add(const OpRecord& r, const OpFigures& f) {
  if (m_ops) {
    entry_text(m_buf, r, f, m_count == 0);
    m_ops->out().write(m_buf.data(), std::streamsize(m_buf.size()));
  }
  // The model's columns: from the op's own extra, else its shared one. Where none comes from
  // its own, they are those of every op sharing the object: formatted once (for at most
  // kSharedTails objects).
  const size_t n = m_pointers.size();
  ColumnValues own(m_pointers), shared(m_pointers);
  own.read(&r.extra);
  const std::string* tail = nullptr;
  if (r.shared_extra && n && own.none()) {
    auto it = m_shared_tails.find(r.shared_extra);
    if (it == m_shared_tails.end() && m_shared_tails.size() < kSharedTails) {
      shared.read(r.shared_extra.get());
      std::string t;
      csv_extra(t, own, &shared, n);
      it = m_shared_tails.emplace(r.shared_extra, std::move(t)).first;
    }
    if (it != m_shared_tails.end()) tail = &it->second;
  }
  if (!tail) {
    const ColumnValues* from_shared = nullptr;
    if (r.shared_extra && !own.all()) shared.read(r.shared_extra.get()), from_shared = &shared;
    m_columns_text.clear();
    csv_extra(m_columns_text, own, from_shared, n);
    tail = &m_columns_text;
  }
  m_row.clear();
  const auto counts = counts_of(r);
  csv_row(m_row, {r.name, r.phase, r.kind, r.layer, r.start_cycle, r.cycles, counts, f}, *tail);
  m_csv.out().write(m_row.data(), std::streamsize(m_row.size()));
  ++m_count;
}

namespace {
/// Moves a finished pair into place: both written out first (any failure leaves the old
/// files), then ops.csv, then report.json, whose appearing says the run finished.
void commit_pair(output::File& csv, output::File& report) {
  csv.close();
  report.close();
  csv.commit();
  report.commit();
}
}  // namespace

namespace {

/// dump(2) of `report` and a newline, with `config` (when given) in place of its "config".
std::string dumped_text(const json& report, const nlohmann::ordered_json* config) {
  std::string text = report.dump(2) + "\n";
  if (!config) return text;
  // "config" is a key at depth 1: the only line starting with exactly two spaces and its
  // name (strings hold no raw newlines); its object ends at the first line that is two
  // spaces and "}" after it (deeper lines are indented further).
  const std::string slot = "\n  \"config\": ";
  const size_t at = text.find(slot);
  if (at == std::string::npos) throw std::logic_error("report without its config slot");
  const size_t from = at + slot.size();
  size_t to = from;
  if (text.compare(from, 2, "{}") == 0) {
    to = from + 2;
  } else {
    const size_t close = text.find("\n  }", from);
    if (text.compare(from, 1, "{") != 0 || close == std::string::npos)
      throw std::logic_error("report whose config is not an object");
    to = close + 4;
  }
  std::string ordered = config->dump(2);
  std::string indented;
  indented.reserve(ordered.size() + ordered.size() / 8);
  for (char c : ordered) {
    indented += c;
    if (c == '\n') indented += "  ";
  }
  return text.replace(from, to - from, indented);
}

/// The text of `report` (which holds an empty "ops") and where in it its entries go: just
/// after the "[" of "ops": [] ("ops" is a key at depth 1; keys are sorted).
std::pair<std::string, size_t> text_around_ops(const json& report, const nlohmann::ordered_json* config) {
  std::string text = dumped_text(report, config);
  const std::string slot = "\n  \"ops\": []";
  const size_t at = text.find(slot);
  if (at == std::string::npos) throw std::logic_error("report without its ops slot");
  return {std::move(text), at + slot.size() - 1};
}

}  // namespace

void write_report_text(std::ostream& out, const json& report, const nlohmann::ordered_json* config) {
  const auto ops = report.find("ops");
  if (ops == report.end() || ops->empty()) {
    out << dumped_text(report, config);
    return;
  }
  // The report around an empty op list (its other keys copied, the ops not), then the
  // entries a block at a time, each with its figures derived as it is written.
  json rest = json::object();
  for (auto it = report.begin(); it != report.end(); ++it)
    if (it.key() != "ops") rest[it.key()] = *it;
  rest["ops"] = json::array();
  const auto [text, at] = text_around_ops(rest, config);
  out.write(text.data(), std::streamsize(at));
  const Rates rates = rates_of(report);
  std::string block;
  bool first = true;
  for (const json& o : *ops) {
    append_held_entry(block, o, op_figures(rates, o), first);
    first = false;
    if (block.size() >= (size_t(1) << 20)) out.write(block.data(), std::streamsize(block.size())), block.clear();
  }
  block += "\n  ";
  out.write(block.data(), std::streamsize(block.size()));
  out.write(text.data() + at, std::streamsize(text.size() - at));
}

std::string report_text(const json& report, const nlohmann::ordered_json* config) {
  std::ostringstream out;
  write_report_text(out, report, config);
  return std::move(out).str();
}

void write_report_files(const json& report, const std::string& dir, OpSpill* spill, const CsvColumns& columns,
                        const nlohmann::ordered_json* config) {
  output::File json_file(fs::path(dir) / "report.json", size_t(1) << 20);
  std::ostream& out = json_file.out();
  if (!spill) {
    output::File csv(fs::path(dir) / "ops.csv", size_t(1) << 20);
    write_ops_csv(csv.out(), report, columns);
    write_report_text(out, report, config);
    commit_pair(csv, json_file);
    return;
  }
  if (!spill->entries()) {  // the ops are in ops.csv alone
    json r = report;
    r["op_count"] = spill->m_count;
    write_report_text(out, r, config);
    commit_pair(spill->m_csv, json_file);
    return;
  }
  spill->m_ops->close();  // a failed spill write is reported here, with its reason
  // The report with an empty op list, its "[]" replaced by the spilled entries: the same
  // bytes as dump(2) of the report holding them.
  json r = report;
  r["ops"] = json::array();
  const auto [text, at] = text_around_ops(r, config);
  out.write(text.data(), std::streamsize(at));
  if (spill->m_count) {
    std::ifstream in(spill->m_ops->temp_path(), std::ios::binary);
    if (!in) throw std::runtime_error("cannot read back " + spill->m_ops->temp_path().string());
    out << in.rdbuf() << "\n  ";
  }
  out.write(text.data() + at, std::streamsize(text.size() - at));
  commit_pair(spill->m_csv, json_file);
}

}  // namespace bpsim
