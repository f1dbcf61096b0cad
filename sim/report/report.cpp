#include "sim/report/report.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

#include "sim/core/error.h"
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
                                  "onchip_write_bytes"};
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
          r.onchip_write_bytes};
}

}  // namespace

const std::vector<const char*>& count_keys() {
  static const std::vector<const char*> keys(std::begin(kCountKeys), std::end(kCountKeys));
  return keys;
}

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

ReportBuilder::ReportBuilder(const EnergyTable& energy, double clock_ghz, OpSink sink)
    : m_energy(energy),
      m_ghz(clock_ghz),
      m_seconds_per_cycle(1.0 / (clock_ghz * 1e9)),
      m_sink(std::move(sink)),
      m_ops(json::array()) {}

void ReportBuilder::Sums::add(const OpRecord& r, double energy) {
  cycles += r.cycles;
  energy_pj += energy;
  const auto c = counts_of(r);
  for (size_t i = 0; i < kCounts; ++i) counts[i] += c[i];
}

json ReportBuilder::Sums::to_json(double seconds_per_cycle) const {
  json t = json::object();
  t["cycles"] = cycles;
  t["seconds"] = double(cycles) * seconds_per_cycle;
  t["energy_pj"] = energy_pj;
  for (size_t i = 0; i < kCounts; ++i) t[kCountKeys[i]] = counts[i];
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
  if (m_sink) m_sink(r, e);
  else m_ops.push_back(op_entry(r, e));
}

json ReportBuilder::op_entry(const OpRecord& r, double energy_pj) {
  json o = {{"name", r.name},     {"phase", r.phase},      {"kind", r.kind}, {"start_cycle", r.start_cycle},
            {"cycles", r.cycles}, {"energy_pj", energy_pj}};
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
  report["clock_ghz"] = m_ghz;
  report["run"] = {{"name", in.run_name}, {"seed", in.seed}};
  json phases = json::object();
  for (auto& [name, ph] : m_phases) {
    ph.dynamic.add_to(ph.breakdown);
    for (const auto& [action, pj] : ph.breakdown) m_breakdown[action] += pj;  // dynamic only, so far
    const double seconds = double(ph.sums.cycles) * m_seconds_per_cycle;
    m_energy.static_pj(seconds, &ph.breakdown);
    json p = ph.sums.to_json(m_seconds_per_cycle);
    p["energy_breakdown_pj"] = ph.breakdown;
    phases[name] = std::move(p);
  }

  // Totals: the model's end time (ops may overlap), all dynamic energy, leakage over it.
  const uint64_t cycles = in.total_cycles;
  double dynamic = 0;
  for (const auto& [k, v] : m_breakdown) dynamic += v;
  json totals = m_totals.to_json(m_seconds_per_cycle);
  const double seconds = static_cast<double>(cycles) * m_seconds_per_cycle;
  totals["cycles"] = cycles;
  totals["seconds"] = seconds;
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
  report["config"] = in.config_yaml;
  return report;
}

namespace {

std::string csv_header(const CsvColumns& columns) {
  std::string out = "name,phase,kind,start_cycle,cycles,energy_pj";
  for (const char* k : kCountKeys) out += std::string(",") + k;
  for (const CsvColumn& c : columns) out += "," + csv_field(c.header);
  return out + "\n";
}

using Pointers = std::vector<json::json_pointer>;

Pointers pointers_of(const CsvColumns& columns) {
  Pointers out;
  out.reserve(columns.size());
  for (const CsvColumn& c : columns) out.emplace_back(c.extra_pointer);
  return out;
}

/// The value at `p` in `extra`, else in `shared` (OpRecord::shared_extra; may be null), else null.
const json* extra_at(const json& extra, const json* shared, const json::json_pointer& p) {
  for (const json* j : {&extra, shared})
    if (j && j->is_object() && j->contains(p)) return &j->at(p);
  return nullptr;
}

/// Appends the model's columns of one op, ",v1,v2…" from its extra and shared extra (empty
/// where it has none).
void csv_extra(std::string& out, const json& extra, const json* shared, const Pointers& at) {
  for (const json::json_pointer& p : at) {
    out += ',';
    const json* found = extra_at(extra, shared, p);
    if (!found) continue;
    const json& v = *found;
    if (v.is_string()) out += csv_field(v.get_ref<const std::string&>());
    else if (v.is_number_float()) fmt::format_to(std::back_inserter(out), "{:.6g}", v.get<double>());
    else out += csv_field(v.dump());
  }
}

/// Appends one op's row: the model's columns are `tail` where given, else read from `extra`
/// and `shared` through `at`.
void csv_row(std::string& out, const std::string& name, const std::string& phase, const std::string& kind,
             uint64_t start_cycle, uint64_t cycles, double energy_pj, const std::array<uint64_t, kCounts>& counts,
             const json& extra, const json* shared, const Pointers& at, const std::string* tail = nullptr) {
  static_assert(kCounts == 8, "one field per count below");
  // A compiled format: parsed once at build time, not on each of the run's rows.
  fmt::format_to(std::back_inserter(out), FMT_COMPILE("{},{},{},{},{},{:.6g},{},{},{},{},{},{},{},{}"), csv_field(name),
                 phase, kind, start_cycle, cycles, energy_pj, counts[0], counts[1], counts[2], counts[3], counts[4],
                 counts[5], counts[6], counts[7]);
  if (tail) out += *tail;
  else if (!at.empty()) csv_extra(out, extra, shared, at);
  out += '\n';
}

/// report.json is dump(2) of the report: an op entry sits at depth 2 of it.
constexpr int kOpIndent = 4;

}  // namespace

std::string ops_csv(const json& report, const CsvColumns& columns) {
  std::string out = csv_header(columns);
  const Pointers at = pointers_of(columns);
  const json none = json::object();
  for (const auto& o : report.at("ops")) {
    std::array<uint64_t, kCounts> counts{};
    for (size_t i = 0; i < kCounts; ++i) counts[i] = o[kCountKeys[i]].get<uint64_t>();
    const auto extra = o.find("extra");
    csv_row(out, o["name"].get<std::string>(), o["phase"].get<std::string>(), o["kind"].get<std::string>(),
            o["start_cycle"].get<uint64_t>(), o["cycles"].get<uint64_t>(), o["energy_pj"].get<double>(), counts,
            extra == o.end() ? none : *extra, nullptr, at);
  }
  return out;
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
  if (m.contains("figures")) s += figure_lines("  policy figures", m["figures"], "memory.figures");
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

std::string run_warnings(const json& r) {
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
      s += fmt::format("warning: utilisation {} of the peak MAC rate (totals.utilisation): the array is mostly idle\n",
                       units::percent(share));
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
void entry_text(std::string& o, const OpRecord& r, double energy_pj, bool first) {
  o.clear();
  const std::string in(kOpIndent + 2, ' ');
  auto key = [&](const char* k) { o.append(",\n").append(in).append("\"").append(k).append("\": "); };
  auto num = [&](const char* k, uint64_t v) { key(k), o.append(std::to_string(v)); };
  auto str = [&](const char* k, const std::string& v) { key(k), append_json(o, json(v), 0); };
  o.append(first ? "\n" : ",\n").append(kOpIndent, ' ').append("{");
  o.append("\n").append(in).append("\"cycles\": ").append(std::to_string(r.cycles));
  num("dram_read_bytes", r.dram_read_bytes);
  num("dram_write_bytes", r.dram_write_bytes);
  key("energy_pj"), o.append(json(energy_pj).dump());
  const json merged = r.shared_extra ? reported_extra(r) : json();
  const json& extra = r.shared_extra ? merged : r.extra;
  if (!extra.empty()) {
    key("extra");
    append_json(o, extra, kOpIndent + 2);
  }
  str("kind", r.kind);
  num("macs", r.macs);
  num("macs_executed", r.macs_executed);
  num("macs_gated", r.macs_gated);
  num("macs_skipped", r.macs_skipped);
  str("name", r.name);
  num("onchip_read_bytes", r.onchip_read_bytes);
  num("onchip_write_bytes", r.onchip_write_bytes);
  str("phase", r.phase);
  if (r.macs_skipped) str("skip_reason", r.skip_reason);
  num("start_cycle", r.start_cycle);
  o.append("\n").append(kOpIndent, ' ').append("}");
}

}  // namespace

namespace {
/// Shared extras whose ops.csv columns an OpSpill keeps formatted (OpSpill::m_shared_tails).
constexpr size_t kSharedTails = 4096;
}  // namespace

void OpSpill::add(const OpRecord& r, double energy_pj) {
  if (m_ops) {
    entry_text(m_buf, r, energy_pj, m_count == 0);
    m_ops->out().write(m_buf.data(), std::streamsize(m_buf.size()));
  }
  // Where every column comes from the op's shared extra (none from its own), the columns
  // are those of every op sharing it: formatted once (for at most kSharedTails objects).
  const std::string* tail = nullptr;
  if (r.shared_extra && !m_pointers.empty() &&
      std::none_of(m_pointers.begin(), m_pointers.end(),
                   [&](const json::json_pointer& p) { return r.extra.is_object() && r.extra.contains(p); })) {
    auto it = m_shared_tails.find(r.shared_extra);
    if (it == m_shared_tails.end() && m_shared_tails.size() < kSharedTails) {
      std::string t;
      csv_extra(t, json::object(), r.shared_extra.get(), m_pointers);
      it = m_shared_tails.emplace(r.shared_extra, std::move(t)).first;
    }
    if (it != m_shared_tails.end()) tail = &it->second;
  }
  m_row.clear();
  csv_row(m_row, r.name, r.phase, r.kind, r.start_cycle, r.cycles, energy_pj, counts_of(r), r.extra,
          r.shared_extra.get(), m_pointers, tail);
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

void write_report_files(const json& report, const std::string& dir, OpSpill* spill, const CsvColumns& columns) {
  output::File json_file(fs::path(dir) / "report.json", size_t(1) << 20);
  std::ostream& out = json_file.out();
  if (!spill) {
    output::File csv(fs::path(dir) / "ops.csv", size_t(1) << 20);
    csv.out() << ops_csv(report, columns);
    out << report.dump(2) << "\n";
    commit_pair(csv, json_file);
    return;
  }
  if (!spill->entries()) {  // the ops are in ops.csv alone
    json r = report;
    r["op_count"] = spill->m_count;
    out << r.dump(2) << "\n";
    commit_pair(spill->m_csv, json_file);
    return;
  }
  spill->m_ops->close();  // a failed spill write is reported here, with its reason
  // The report with an empty op list, its "[]" replaced by the spilled entries: the same
  // bytes as dump(2) of the report holding them (keys are sorted; "ops" is at depth 1).
  json r = report;
  r["ops"] = json::array();
  const std::string text = r.dump(2);
  const std::string slot = "\n  \"ops\": []";
  const size_t at = text.find(slot);
  if (at == std::string::npos) throw std::logic_error("report without its ops slot");
  out << text.substr(0, at + slot.size() - 1);
  if (spill->m_count) {
    std::ifstream in(spill->m_ops->temp_path(), std::ios::binary);
    if (!in) throw std::runtime_error("cannot read back " + spill->m_ops->temp_path().string());
    out << in.rdbuf() << "\n  ";
  }
  out << text.substr(at + slot.size() - 1) << "\n";
  commit_pair(spill->m_csv, json_file);
}

}  // namespace bpsim
