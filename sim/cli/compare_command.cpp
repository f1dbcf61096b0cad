// bpsim compare: the same training step under several memory policies, or several variants
// (each a set of --set assignments, e.g. a training technique against plain backprop), each
// simulated in its own child process (SystemC elaborates once per process), side by side.
#include <fmt/format.h>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "sim/cli/commands.h"
#include "sim/cli/options.h"
#include "sim/core/data_dir.h"
#include "sim/core/error.h"
#include "sim/core/input_file.h"
#include "sim/core/output_files.h"
#include "sim/core/units.h"
#include "sim/engine/engine.h"
#include "sim/report/html_report.h"
#include "sim/report/timeline_trace.h"
#include "sim/sweep/sweep_runner.h"
#include "sim/sweep/sweep_spec.h"
#include "sim/workload/builder.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using nlohmann::json;

namespace bpsim::cli {

namespace {

/// The axis of a comparison of policies.
const char* const kPolicyAxis = "workload.policy.kind";

/// One column of the comparison: its label and the --set assignments of its run alone.
struct Column {
  std::string name;
  std::vector<std::pair<std::string, config::Node>> sets;
};

/// `--variant NAME:KEY=VALUE[,KEY=VALUE...]`. A comma-separated piece without '=' continues
/// the previous value (`a.b=[1,2]` is one assignment).
Column parse_variant(const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return po::error("--variant '" + text + "': " + why + " (expected NAME:KEY=VALUE[,KEY=VALUE...])");
  };
  const size_t colon = text.find(':');
  Column c;
  c.name = text.substr(0, colon);
  if (c.name.empty()) throw bad("no name before ':'");
  for (const char ch : c.name)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && std::string("_-.+").find(ch) == std::string::npos)
      throw bad("a name is letters, digits and _ - . +");
  std::vector<std::string> pieces;
  if (colon != std::string::npos) {
    std::stringstream in(text.substr(colon + 1));
    for (std::string piece; std::getline(in, piece, ',');) {
      if (piece.find('=') == std::string::npos && !pieces.empty()) pieces.back() += "," + piece;
      else pieces.push_back(piece);
    }
  }
  for (const std::string& a : pieces) {
    const size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0) throw bad("'" + a + "' is not KEY=VALUE");
    const std::string value = a.substr(eq + 1);
    try {
      c.sets.emplace_back(a.substr(0, eq), config::parse_yaml(value.empty() ? "\"\"" : value, "--variant " + c.name));
    } catch (const InputError& e) {
      throw bad(e.what());
    }
  }
  return c;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

uint64_t phase_u64(const json& report, const char* phase, const char* key) {
  const json& p = report["phases"];
  return p.contains(phase) ? p[phase][key].get<uint64_t>() : 0;
}

/// The Python that draws memory.png (scripts/plot_compare.py, a wrapper of bpsim.plots from
/// python/): BPSIM_PYTHON when set; else the first of python3 on PATH (an activated virtual
/// environment's, README "Python") and Debian's /usr/bin/python3 (scripts/setup.sh installs
/// python3-matplotlib there) that can import matplotlib and pandas. The probe is one quiet
/// child, and only for a compare that plots.
std::string python(const fs::path& log) {
  if (const char* p = std::getenv("BPSIM_PYTHON")) return p;
  for (const char* candidate : {"python3", "/usr/bin/python3"})
    if (sweep::run_child({candidate, "-c", "import matplotlib, pandas"}, log.string()) == 0) return candidate;
  return "python3";  // fails, and its log says why
}

}  // namespace

int cmd_compare(int argc, char* argv[]) {
  std::string config, policies, out;
  std::vector<std::string> sets, variant_texts;
  bool help = false, no_plot = false, force = false, quiet = false;
  int jobs = 1;
  po::options_description d("options");
  d.add_options()("help,h", po::bool_switch(&help), "show this help")(
      "policies,p", po::value(&policies),
      ("comma-separated policy kinds (default none,checkpoint,full_recompute): " +
       workload::PolicyRegistry::instance().names() +
       "; each kind's keys (threshold, budget_bytes, segments, …) come from the config's workload.policies.KIND")
          .c_str())("variant", po::value(&variant_texts)->composing(),
                    "NAME:KEY=VALUE[,KEY=VALUE...] (repeatable, instead of --policies): a run named NAME with "
                    "these --set values of its own, e.g. plain:workload.training.feedback.kind=backprop")(
      "out,o", po::value(&out), "output folder (default: out/compare_<config name>)")(
      "set", po::value(&sets)->composing(), "override a config value for every run")(
      "jobs,j", po::value(&jobs), "runs at once (default 1)")("no-plot", po::bool_switch(&no_plot), "write no PNG")(
      "force", po::bool_switch(&force), "write into a non-empty folder bpsim did not create")(
      "quiet,q", po::bool_switch(&quiet), "print no table or progress (the results' paths still)");
  parse_command_line(argc, argv, d, {{"config", &config}});
  if (help) {
    std::cout
        << "usage: bpsim compare CONFIG.yaml --policies none,checkpoint,threshold,... [--out DIR]\n"
           "       bpsim compare CONFIG.yaml --variant NAME:KEY=VALUE[,KEY=VALUE...] --variant ... [--out DIR]\n\n"
           "A sweep over workload.policy.kind (or over the variants: each its own --set values):\n"
           "runs the config's training step once per policy or variant, each in its own bpsim\n"
           "process (DIR/runs, as bpsim sweep writes it), prints peak memory, DRAM traffic, energy,\n"
           "latency and recompute overhead, and writes DIR/compare.csv, DIR/timeline.csv (live\n"
           "bytes over the step) and DIR/memory.png. --variant and --policies are exclusive (a\n"
           "variant may set workload.policy.kind itself).\n\n"
        << d;
    return kExitOk;
  }
  if (config.empty()) throw po::error("missing CONFIG.yaml");
  if (is_stdio(config))  // each policy's run reads the config again, in a process of its own
    throw po::error("compare reads its config from a file, not from standard input ('-')");
  // The columns: the policies (each a run with workload.policy.kind=K), or the variants.
  const bool by_variant = !variant_texts.empty();
  if (by_variant && !policies.empty())
    throw po::error("--variant and --policies are exclusive (put workload.policy.kind=K into a variant instead)");
  std::vector<Column> columns;
  if (by_variant) {
    for (const std::string& v : variant_texts) {
      columns.push_back(parse_variant(v));
      for (size_t i = 0; i + 1 < columns.size(); ++i)
        if (columns[i].name == columns.back().name)
          throw po::error("--variant: the name '" + columns.back().name + "' is given twice");
    }
  } else {
    std::vector<std::string> kinds;  // in the order given, each once
    for (const std::string& k : split_list(policies.empty() ? "none,checkpoint,full_recompute" : policies))
      if (std::find(kinds.begin(), kinds.end(), k) == kinds.end()) kinds.push_back(k);
    if (kinds.empty()) throw po::error("--policies: give at least one policy");
    for (const std::string& k : kinds) {
      if (!workload::PolicyRegistry::instance().find(k))
        throw po::error("--policies: unknown policy '" + k +
                        "' (valid: " + workload::PolicyRegistry::instance().names() + ")");
      config::Node value;
      value.type = config::Node::Type::Scalar;
      value.scalar = k;
      columns.push_back({k, {{kPolicyAxis, value}}});
    }
  }
  const std::string label = by_variant ? "variant" : "policy";
  const auto assignments = [](const Column& c) {
    std::vector<std::string> out;
    for (const auto& [key, value] : c.sets) out.push_back(key + "=" + value.to_yaml());
    return out;
  };

  // Every column is validated (and its op graph built, for the memory timeline) before
  // any simulation starts: a bad threshold or an unmeetable budget stops here, exit 2.
  std::vector<std::shared_ptr<workload::OpGraph>> graphs;
  for (const Column& c : columns) {
    std::vector<std::string> s = sets;
    for (const std::string& a : assignments(c)) s.push_back(a);
    try {
      RunSpec spec = prepare(config, s);
      if (spec.system)
        throw InputError(config +
                         ": compare does not run configs with a system: section yet; run each with "
                         "bpsim run (docs/system.md)");
      if (!spec.workload) throw InputError(config + ": compare needs a config with a 'workload' section");
      // The memory-over-time table is built from each point's op entries in report.json.
      if (spec.run.report_ops == ReportOps::none)
        throw InputError(config + ": run.report_ops: compare needs the op entries in report.json for its " +
                         "timeline (write auto or all)");
      graphs.push_back(spec.workload);
    } catch (const InputError& e) {
      throw InputError(std::string(e.what()) + " (" + label + " " + c.name + ")");
    }
  }

  const fs::path dir = out.empty() ? fs::path("out") / ("compare_" + fs::path(config).stem().string()) : fs::path(out);
  // Held until the comparison ends: a second compare into DIR is refused meanwhile.
  const output::FolderLock lock = output::claim_folder(dir, force, "--out", "compare");
  // The points: one per column, each `bpsim run CONFIG` with the --set values, then the
  // column's own (workload.policy.kind=K), run by the sweep runner into DIR/runs (afresh:
  // earlier results there are not taken as this comparison's). Two columns with one config
  // share a point.
  std::vector<std::vector<std::pair<std::string, config::Node>>> point_sets;
  point_sets.reserve(columns.size());
  for (const Column& c : columns) point_sets.push_back(c.sets);
  std::vector<size_t> point_of;
  const sweep::SweepSpec spec = sweep::list_sweep(config, config, sets, point_sets, point_of);
  sweep::RunnerOptions opt;
  opt.out_dir = (dir / "runs").string();
  opt.jobs = jobs;
  opt.exe = fs::read_symlink("/proc/self/exe").string();
  opt.in_process = main_of;  // each policy's run starts as a fork of this process
  opt.quiet = quiet;
  for (const char* f : {"results.jsonl", "results.csv"}) fs::remove(fs::path(opt.out_dir) / f);
  const int code = sweep::run_local(spec, opt);
  std::map<std::string, json> rows;  // by point hash
  {
    std::ifstream in(fs::path(opt.out_dir) / "results.jsonl");
    for (std::string line; std::getline(in, line);) {
      const json row = json::parse(line);
      rows[row["hash"].get<std::string>()] = row;
    }
  }

  std::string csv = label +
                    ",status,peak_bytes,saved_after_forward_bytes,dram_bytes,energy_pj,seconds,cycles,forward_macs,"
                    "recompute_macs,recompute_cycles_over_forward\n";
  std::string timeline = label + ",op,phase,start_cycle,end_cycle,start_s,end_s,live_bytes\n";
  std::string table = fmt::format("{:<22} {:>12} {:>12} {:>12} {:>12} {:>12} {:>10}\n", label, "peak mem", "saved@fwd",
                                  "DRAM", "energy", "latency", "recompute");
  for (size_t i = 0; i < columns.size(); ++i) {
    const std::string& k = columns[i].name;
    auto row = rows.find(spec.points[point_of[i]].hash);
    if (row == rows.end() || row->second["status"] != "ok") {
      csv += k + ",error,,,,,,,,,\n";
      continue;
    }
    std::ifstream in(fs::path(opt.out_dir) / "points" / row->second["hash"].get<std::string>() / "report.json");
    const json r = json::parse(in);
    const json& t = r["totals"];
    const json& m = r["memory"];
    const uint64_t fwd = phase_u64(r, "forward", "macs"), re = phase_u64(r, "recompute", "macs");
    const uint64_t fwd_cycles = phase_u64(r, "forward", "cycles"), re_cycles = phase_u64(r, "recompute", "cycles");
    const double overhead = fwd_cycles ? double(re_cycles) / double(fwd_cycles) : 0.0;
    const uint64_t dram = t["dram_read_bytes"].get<uint64_t>() + t["dram_write_bytes"].get<uint64_t>();
    csv += fmt::format("{},ok,{},{},{},{:.6g},{:.6g},{},{},{},{:.6g}\n", k, m["peak_bytes"].get<uint64_t>(),
                       m["saved_after_forward_bytes"].get<uint64_t>(), dram, t["energy_pj"].get<double>(),
                       t["seconds"].get<double>(), t["cycles"].get<uint64_t>(), fwd, re, overhead);
    // Four significant digits: policies close in a figure stay apart.
    table += fmt::format("{:<22} {:>12} {:>12} {:>12} {:>12} {:>12} {:>9.1f}%\n", k,
                         units::bytes(double(m["peak_bytes"].get<uint64_t>()), 4),
                         units::bytes(double(m["saved_after_forward_bytes"].get<uint64_t>()), 4),
                         units::bytes(double(dram), 4), units::energy_pj(t["energy_pj"].get<double>(), 4),
                         units::seconds(t["seconds"].get<double>(), 4), 100.0 * overhead);
    // Memory over time: live bytes while each op runs (the builder's liveness walk),
    // placed at the op's simulated start and end, in the order the ops ran.
    const double ghz = r["clock_ghz"].get<double>();
    // The report's ops matched to the graph's; graph order is the order the liveness walk visits.
    const std::vector<const workload::Op*> of = graph_ops_of(r["ops"], *graphs[i]);
    const std::vector<std::optional<uint64_t>> live = live_bytes_by_op(of, *graphs[i]);
    std::vector<size_t> order;
    for (size_t n = 0; n < live.size(); ++n)
      if (live[n]) order.push_back(n);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return of[a]->id < of[b]->id; });
    for (const size_t n : order) {
      const json& o = r["ops"][n];
      const uint64_t start = o["start_cycle"].get<uint64_t>(), end = start + o["cycles"].get<uint64_t>();
      timeline += fmt::format("{},{},{},{},{},{:.9g},{:.9g},{}\n", k, o["name"].get<std::string>(),
                              o["phase"].get<std::string>(), start, end, double(start) / (ghz * 1e9),
                              double(end) / (ghz * 1e9), *live[n]);
    }
  }
  output::write_file(dir / "compare.csv", csv);
  output::write_file(dir / "timeline.csv", timeline);
  // The policies side by side, with their Pareto front in peak memory and time.
  write_points_html(opt.out_dir, (dir / "report.html").string(), "bpsim compare " + fs::path(config).stem().string(),
                    spec.axis_names, {"/memory/peak_bytes", "/totals/seconds"});
  if (!quiet) {
    std::cout << table;
    std::cout << "recompute: cycles of recompute-phase ops as a share of the forward's\n";
  }
  std::cout << "results: " << (dir / "compare.csv").string() << ", " << (dir / "timeline.csv").string() << "\n";
  if (!no_plot) {
    const std::string script = data_dir() + "/scripts/plot_compare.py";
    const fs::path png = dir / "memory.png", log = dir / "plot.log";
    const std::string py = python(log);
    const int code = sweep::run_child({py, script, (dir / "timeline.csv").string(), "-o", png.string()}, log.string());
    if (code == 0) std::cout << "plot: " << png.string() << "\n";
    else
      std::cerr << "compare: no plot (" << py << " " << script << " failed, see " << log.string()
                << "; set BPSIM_PYTHON to a Python with matplotlib and pandas, e.g. scripts/setup.sh's)\n";
  }
  return code;
}

}  // namespace bpsim::cli
