#include "sim/report/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "sim/core/error.h"
#include "sim/core/stats.h"

namespace bpsim {

namespace {

using json = nlohmann::json;

const char* const kCountKeys[] = {"macs", "macs_executed", "macs_gated", "dram_read_bytes",
                                  "dram_write_bytes", "onchip_read_bytes", "onchip_write_bytes"};

json zero_totals() {
  json t = json::object();
  t["cycles"] = uint64_t{0};
  t["seconds"] = 0.0;
  t["energy_pj"] = 0.0;
  for (const char* k : kCountKeys) t[k] = uint64_t{0};
  return t;
}

void accumulate(json& t, const OpRecord& r, double energy_pj) {
  t["cycles"] = t["cycles"].get<uint64_t>() + r.cycles;
  t["energy_pj"] = t["energy_pj"].get<double>() + energy_pj;
  const uint64_t vals[] = {r.macs, r.macs_executed, r.macs_gated, r.dram_read_bytes,
                           r.dram_write_bytes, r.onchip_read_bytes, r.onchip_write_bytes};
  for (size_t i = 0; i < std::size(kCountKeys); ++i) t[kCountKeys[i]] = t[kCountKeys[i]].get<uint64_t>() + vals[i];
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string human(double v, const char* unit) {
  const char* prefixes[] = {"", "K", "M", "G", "T", "P"};
  int i = 0;
  while (std::abs(v) >= 1000.0 && i < 5) {
    v /= 1000.0;
    ++i;
  }
  return fmt::format("{:.3g} {}{}", v, prefixes[i], unit);
}

std::string human_seconds(double s) {
  if (s == 0) return "0 s";
  const char* units[] = {"s", "ms", "us", "ns", "ps"};
  int i = 0;
  while (s < 1.0 && i < 4) {
    s *= 1000.0;
    ++i;
  }
  return fmt::format("{:.4g} {}", s, units[i]);
}

}  // namespace

json build_report(const ReportInputs& in) {
  const double ghz = in.acc.clock_ghz();
  const double seconds_per_cycle = 1.0 / (ghz * 1e9);
  json report = json::object();
  report["schema"] = "bpsim-report-1";
  report["bpsim_version"] = BPSIM_VERSION;
  report["accelerator"] = in.kind;
  report["clock_ghz"] = ghz;
  report["run"] = {{"name", in.run_name}, {"seed", in.seed}};

  std::map<std::string, double> breakdown;
  std::map<std::string, std::map<std::string, double>> phase_breakdown;  // phase → action → pJ
  json totals = zero_totals();
  json phases = json::object();
  json ops = json::array();
  for (const OpRecord& r : in.acc.records()) {
    const double op_seconds = static_cast<double>(r.cycles) * seconds_per_cycle;
    // An op's energy: its priced actions plus leakage while it runs; both also per phase.
    std::map<std::string, double> op_dynamic;
    std::map<std::string, double>& phase_parts = phase_breakdown[r.phase];
    const double e = in.energy.dynamic_pj(r.actions, &op_dynamic) + in.energy.static_pj(op_seconds, &phase_parts);
    for (const auto& [action, pj] : op_dynamic) {
      breakdown[action] += pj;
      phase_parts[action] += pj;
    }
    if (!phases.contains(r.phase)) phases[r.phase] = zero_totals();
    accumulate(phases[r.phase], r, e);
    accumulate(totals, r, 0.0);
    json o = {{"name", r.name}, {"phase", r.phase}, {"kind", r.kind}, {"start_cycle", r.start_cycle},
              {"cycles", r.cycles}, {"energy_pj", e}};
    o["macs"] = r.macs;
    o["macs_executed"] = r.macs_executed;
    o["macs_gated"] = r.macs_gated;
    o["dram_read_bytes"] = r.dram_read_bytes;
    o["dram_write_bytes"] = r.dram_write_bytes;
    o["onchip_read_bytes"] = r.onchip_read_bytes;
    o["onchip_write_bytes"] = r.onchip_write_bytes;
    if (!r.extra.empty()) o["extra"] = r.extra;
    ops.push_back(std::move(o));
  }
  for (auto& [name, p] : phases.items()) {
    p["seconds"] = p["cycles"].get<uint64_t>() * seconds_per_cycle;
    p["energy_breakdown_pj"] = phase_breakdown[name];
  }

  // Totals: the model's end time (ops may overlap), all dynamic energy, leakage over it.
  const uint64_t cycles = in.acc.total_cycles();
  const double seconds = static_cast<double>(cycles) * seconds_per_cycle;
  double dynamic = 0;
  for (const auto& [k, v] : breakdown) dynamic += v;
  totals["cycles"] = cycles;
  totals["seconds"] = seconds;
  totals["energy_pj"] = dynamic + in.energy.static_pj(seconds, &breakdown);
  report["totals"] = totals;

  const workload::MemorySummary none;
  const workload::MemorySummary& m = in.memory_summary ? *in.memory_summary : none;
  report["memory"] = {{"policy", m.policy},
                      {"saved_after_forward_bytes", m.saved_after_forward_bytes},
                      {"peak_bytes", m.peak_bytes}};
  if (!m.figures.empty()) report["memory"]["figures"] = m.figures;  // the policy's own figures
  report["phases"] = std::move(phases);
  report["ops"] = std::move(ops);
  report["energy_breakdown_pj"] = breakdown;
  json net = in.acc.network();
  if (!net.is_null()) report["network"] = net;
  report["stats"] = in.stats.values_json();
  json desc = json::object();
  in.stats.descriptions(desc);
  report["stat_descriptions"] = desc;
  report["energy_table"] = in.energy.name();
  report["config"] = in.config_yaml;
  return report;
}

std::string ops_csv(const json& report) {
  std::string out = "name,phase,kind,start_cycle,cycles,energy_pj";
  for (const char* k : kCountKeys) out += std::string(",") + k;
  out += "\n";
  for (const auto& o : report.at("ops")) {
    out += csv_field(o["name"].get<std::string>()) + "," + o["phase"].get<std::string>() + "," +
           o["kind"].get<std::string>() + "," + std::to_string(o["start_cycle"].get<uint64_t>()) + "," +
           std::to_string(o["cycles"].get<uint64_t>()) + "," + fmt::format("{:.6g}", o["energy_pj"].get<double>());
    for (const char* k : kCountKeys) out += "," + std::to_string(o[k].get<uint64_t>());
    out += "\n";
  }
  return out;
}

std::string summary_table(const json& r) {
  std::string s = fmt::format("bpsim {} on {} @ {} GHz\n", r["bpsim_version"].get<std::string>(),
                              r["accelerator"].get<std::string>(), r["clock_ghz"].get<double>());
  s += fmt::format("{:<16} {:>14} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}\n", "phase", "cycles", "time",
                   "energy", "MACs", "executed", "DRAM rd", "DRAM wr");
  auto row = [&](const std::string& name, const json& t) {
    s += fmt::format("{:<16} {:>14} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}\n", name,
                     t["cycles"].get<uint64_t>(), human_seconds(t["seconds"].get<double>()),
                     human(t["energy_pj"].get<double>() * 1e-12, "J"), human(double(t["macs"].get<uint64_t>()), ""),
                     human(double(t["macs_executed"].get<uint64_t>()), ""),
                     human(double(t["dram_read_bytes"].get<uint64_t>()), "B"),
                     human(double(t["dram_write_bytes"].get<uint64_t>()), "B"));
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
                   human(double(m["saved_after_forward_bytes"].get<uint64_t>()), "B"),
                   human(double(m["peak_bytes"].get<uint64_t>()), "B"));
  if (m.contains("figures")) {
    s += " ";
    for (const auto& [k, v] : m["figures"].items()) s += fmt::format(" {} {:.6g}", k, v.get<double>());
    s += "\n";
  }
  // The five largest energy components.
  std::vector<std::pair<double, std::string>> parts;
  for (const auto& [k, v] : r["energy_breakdown_pj"].items()) parts.emplace_back(v.get<double>(), k);
  std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  const double total = r["totals"]["energy_pj"].get<double>();
  s += "top energy:";
  for (size_t i = 0; i < parts.size() && i < 5; ++i)
    s += fmt::format(" {} {:.1f}%", parts[i].second, total > 0 ? 100.0 * parts[i].first / total : 0.0);
  s += "\n";
  if (r.contains("network")) s += "network: " + r["network"].dump() + "\n";
  return s;
}

void write_report_files(const json& report, const std::string& dir) {
  namespace fs = std::filesystem;
  auto write_atomic = [&](const std::string& name, const std::string& text) {
    fs::path final_path = fs::path(dir) / name;
    fs::path tmp = fs::path(dir) / ("." + name + ".partial");
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << text;
      out.flush();
      if (!out) throw std::runtime_error("cannot write " + tmp.string());
    }
    fs::rename(tmp, final_path);
  };
  // ops.csv first: report.json appearing is the sign of a finished run.
  write_atomic("ops.csv", ops_csv(report));
  write_atomic("report.json", report.dump(2) + "\n");
}

}  // namespace bpsim
