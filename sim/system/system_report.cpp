#include "sim/system/system_report.h"

#include <filesystem>
#include <sstream>

#include <fmt/format.h>

#include "sim/core/output_files.h"
#include "sim/core/units.h"
#include "sim/report/report.h"

namespace bpsim::system {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

double SystemResult::energy_pj() const {
  double e = 0;
  for (const DeviceFigures& d : devices) e += d.energy_pj;
  for (const LinkFigures& l : links) e += l.energy_pj;
  return e;
}

uint64_t SystemResult::transfer_bytes() const {
  uint64_t b = 0;
  for (const TransferRecord& t : transfers) b += t.bytes;
  return b;
}

LeakageRates leakage_rates(const nlohmann::json& device_report) {
  LeakageRates r;
  const double s = device_report.at("totals").at("seconds").get<double>();
  if (!(s > 0)) return r;
  static const std::string kSuffix = ".leakage";
  for (const auto& [k, v] : device_report.at("energy_breakdown_pj").items()) {
    if (k.size() <= kSuffix.size() || k.compare(k.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) continue;
    (k == "dram.leakage" ? r.dram_pj_per_s : r.parts_pj_per_s) += v.get<double>() / s;
  }
  return r;
}

ojson system_report_json(const RunSpec& top, const SystemSpec& sys, const SystemResult& r) {
  ojson s;
  s["placement"] = r.placement;
  s["step_s"] = r.step_s;
  double dev_pj = 0, link_pj = 0;
  for (const DeviceFigures& d : r.devices) dev_pj += d.energy_pj;
  for (const LinkFigures& l : r.links) link_pj += l.energy_pj;
  s["energy_pj"] = r.energy_pj();
  s["device_energy_pj"] = dev_pj;
  s["link_energy_pj"] = link_pj;
  s["transfer_count"] = r.transfers.size();
  s["transfer_bytes"] = r.transfer_bytes();
  s["op_count"] = r.ops.size();
  const Fabric& f = sys.fabric;
  s["fabric"] = {{"topology", config::enum_name(kTopologyNames, f.topology)},
                 {"devices", f.devices},
                 {"rows", f.rows},
                 {"cols", f.cols},
                 {"bandwidth_bytes_per_s", f.link.bandwidth_bytes_per_s},
                 {"latency_s", f.link.latency_s},
                 {"energy_pj_per_byte", f.link.energy_pj_per_byte}};
  ojson devices = ojson::array();
  for (const DeviceFigures& d : r.devices) {
    devices.push_back({{"name", d.name},
                       {"kind", d.kind},
                       {"memory_of", d.memory_of},
                       {"ops", d.ops},
                       {"busy_s", d.busy_s},
                       {"utilisation", r.step_s > 0 ? d.busy_s / r.step_s : 0.0},
                       {"energy_pj", d.energy_pj},
                       {"dram_read_bytes", d.dram_read_bytes},
                       {"dram_write_bytes", d.dram_write_bytes},
                       {"peak_memory_bytes", d.peak_memory_bytes}});
    if (!d.priced_by.empty()) devices.back()["priced_by"] = d.priced_by;
  }
  s["devices"] = std::move(devices);
  ojson links = ojson::array();
  for (const LinkFigures& l : r.links)
    links.push_back({{"name", l.name}, {"bytes", l.bytes}, {"busy_s", l.busy_s}, {"energy_pj", l.energy_pj}});
  s["links"] = std::move(links);
  ojson transfers = ojson::array();
  for (const TransferRecord& t : r.transfers)
    transfers.push_back({{"tensor", t.tensor},
                         {"src", t.src},
                         {"dst", t.dst},
                         {"producer", t.producer},
                         {"consumer", t.consumer},
                         {"bytes", t.bytes},
                         {"hops", t.hops},
                         {"start_s", t.start_s},
                         {"end_s", t.end_s},
                         {"energy_pj", t.energy_pj}});
  s["transfers"] = std::move(transfers);
  ojson path = ojson::array();
  for (const PathStep& p : r.critical_path)
    path.push_back(
        {{"type", p.type}, {"name", p.name}, {"device", p.device}, {"start_s", p.start_s}, {"end_s", p.end_s}});
  s["critical_path"] = std::move(path);
  for (const auto& [key, value] : r.extra.items()) s[key] = value;

  ojson out;
  out["schema"] = "bpsim-report-1";
  out["bpsim_version"] = BPSIM_VERSION;
  out["run"] = {{"name", top.run.name}, {"seed", top.run.seed}};
  out["system"] = std::move(s);
  out["config"] = config_json(top.root);
  return out;
}

void write_system_outputs(const std::string& dir, const ojson& report, const SystemResult& r) {
  const fs::path d(dir);
  std::ostringstream csv;
  csv << "name,phase,kind,device,start_s,end_s,energy_pj,dram_read_bytes,dram_write_bytes\n";
  for (const PlacedOp& o : r.ops)
    csv << fmt::format("{},{},{},{},{},{},{},{},{}\n", o.name, o.phase, o.kind, o.device, o.start_s, o.end_s,
                       o.energy_pj, o.dram_read_bytes, o.dram_write_bytes);
  for (const auto& [name, rep] : r.device_reports) {
    output::make_dirs(d / "devices" / name);
    output::write_file(d / "devices" / name / "report.json", report_text(rep));
  }
  output::write_file(d / "ops.csv", csv.str());
  output::write_file(d / "report.json", report.dump(2) + "\n");
}

namespace {

/// Rows whose figures are the same (the devices of a data-parallel group, the links of a
/// symmetric collective) as one line: "npu1…npu1023 (1023 devices)"; others one line each.
void print_grouped(std::ostream& os, const std::vector<std::pair<std::string, std::string>>& rows, int width,
                   const char* what) {
  for (size_t i = 0; i < rows.size();) {
    size_t j = i + 1;
    while (j < rows.size() && rows[j].second == rows[i].second) ++j;
    const std::string name =
        j - i == 1 ? rows[i].first : fmt::format("{}…{} ({} {})", rows[i].first, rows[j - 1].first, j - i, what);
    os << fmt::format("{:<{}}", name, width) << rows[i].second;
    i = j;
  }
}

/// A parallel run's figures (docs/system.md "Parallelism"): its degrees, the step's compute and
/// communication, and a pipeline's bubble.
void print_parallel_line(std::ostream& os, const nlohmann::json& p) {
  auto num = [&p](const char* k) { return p.contains(k) && p[k].is_number() ? p[k].get<double>() : 0.0; };
  os << fmt::format("parallel: data {} × pipeline {} × tensor {}", p.value("data", 1), p.value("pipeline", 1),
                    p.value("tensor", 1));
  if (p.value("pipeline", 1) > 1)
    os << fmt::format(", {} micro-batches ({}), bubble {}", p.value("microbatches", 1),
                      p.value("schedule", std::string("none")), units::percent(num("bubble_fraction")));
  os << fmt::format("; compute {}, communication {} ({} of the step), exposed {} ({})\n",
                    units::seconds(num("compute_s")), units::seconds(num("communication_s")),
                    units::percent(num("communication_share")), units::seconds(num("exposed_communication_s")),
                    units::percent(num("exposed_share")));
}

}  // namespace

void print_system_summary(std::ostream& os, const SystemSpec& sys, const SystemResult& r) {
  os << fmt::format("bpsim {} on a system of {} devices ({} fabric), placement {}\n", BPSIM_VERSION, sys.devices.size(),
                    config::enum_name(kTopologyNames, sys.fabric.topology), r.placement);
  double link_pj = 0;
  for (const LinkFigures& l : r.links) link_pj += l.energy_pj;
  os << fmt::format("step {}, energy {} (links {}), {} transfers of {}\n", units::seconds(r.step_s),
                    units::energy_pj(r.energy_pj()), units::energy_pj(link_pj), r.transfers.size(),
                    units::bytes(double(r.transfer_bytes())));
  if (const auto it = r.extra.find("parallel"); it != r.extra.end()) print_parallel_line(os, *it);
  std::vector<std::pair<std::string, std::string>> rows;  // name, the rest of its line
  for (const DeviceFigures& d : r.devices)
    rows.emplace_back(d.name,
                      fmt::format(" {:<9} {:>7} {:>10} {:>6} {:>10} {:>10} {:>10} {:>10}\n", d.kind, d.ops,
                                  units::seconds(d.busy_s), units::percent(r.step_s > 0 ? d.busy_s / r.step_s : 0.0),
                                  units::energy_pj(d.energy_pj), units::bytes(double(d.dram_read_bytes)),
                                  units::bytes(double(d.dram_write_bytes)), units::bytes(double(d.peak_memory_bytes))));
  os << fmt::format("{:<12} {:<9} {:>7} {:>10} {:>6} {:>10} {:>10} {:>10} {:>10}\n", "device", "kind", "ops", "busy",
                    "util", "energy", "DRAM rd", "DRAM wr", "peak mem");
  print_grouped(os, rows, 12, "devices");
  rows.clear();
  for (const LinkFigures& l : r.links)
    rows.emplace_back(l.name, fmt::format(" {:>10} busy {:>10} energy {:>10}\n", units::bytes(double(l.bytes)),
                                          units::seconds(l.busy_s), units::energy_pj(l.energy_pj)));
  if (!rows.empty()) os << "links:\n";
  print_grouped(os, rows, 14, "links");
  size_t ops = 0, transfers = 0;
  for (const PathStep& p : r.critical_path) (p.type == "transfer" ? transfers : ops) += 1;
  os << fmt::format("critical path: {} ops and {} transfers", ops, transfers);
  if (!r.critical_path.empty())
    os << fmt::format(", from {} ({}) to {} ({})", r.critical_path.front().name, r.critical_path.front().device,
                      r.critical_path.back().name, r.critical_path.back().device);
  os << "\n";
}

}  // namespace bpsim::system
