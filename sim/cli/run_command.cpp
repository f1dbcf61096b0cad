#include <boost/program_options.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/cli/commands.h"
#include "sim/cli/options.h"
#include "sim/core/config_node.h"
#include "sim/core/error.h"
#include "sim/core/input_file.h"
#include "sim/core/output_files.h"
#include "sim/core/progress.h"
#include "sim/cosim/waveform.h"
#include "sim/engine/engine.h"
#include "sim/report/html_report.h"
#include "sim/report/report.h"
#include "sim/report/timeline_trace.h"
#include "sim/system/device_run.h"
#include "sim/system/parallel_run.h"
#include "sim/system/system_run.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace bpsim::cli {

namespace {

struct CommonArgs {
  std::string config;
  std::vector<std::string> sets;
  bool help = false;
};

po::options_description common_options(CommonArgs& a) {
  po::options_description d("options");
  d.add_options()("help,h", po::bool_switch(&a.help), "show this help")(
      "set", po::value(&a.sets)->composing(),
      "override a config value: --set accelerator.rows=64 (checked like the file)");
  return d;
}

bool parse(int argc, char* argv[], po::options_description& d, CommonArgs& a, const char* usage) {
  parse_command_line(argc, argv, d, {{"config", &a.config}});
  if (a.help) {
    std::cout << usage << "\n" << d;
    return false;
  }
  if (a.config.empty()) throw po::error("missing CONFIG.yaml");
  return true;
}

/// The memory policy's budget, where its kind has one (`budget_bytes`, in the policy or in
/// workload.policies.KIND).
std::optional<uint64_t> policy_budget(const config::Node& root) {
  const config::Node* w = root.find("workload");
  const config::Node* p = w ? w->find("policy") : nullptr;
  if (!p) return std::nullopt;
  const config::Node* b = p->find("budget_bytes");
  const config::Node* kind = p->find("kind");
  const config::Node* defaults = w->find("policies");
  if (!b && kind && defaults && defaults->find(kind->scalar)) b = defaults->find(kind->scalar)->find("budget_bytes");
  if (!b || !b->is_scalar()) return std::nullopt;
  return std::stoull(b->scalar);  // validated by the policy's schema
}

/// report.html beside report.json, and the timeline when one was asked for: both from the
/// report's op entries (re-read from report.json when they were spilled) and the op graph.
void write_run_extras(nlohmann::json& report, const RunSpec& spec, const fs::path& dir, output::File* timeline,
                      bool timeline_stdout) {
  HtmlRunExtras x;
  if (!report.contains("ops") && (timeline || timeline_stdout))
    report = nlohmann::json::parse(std::ifstream(dir / "report.json"));
  if (report.contains("ops") && spec.workload) {
    const std::vector<const workload::Op*> of = graph_ops_of(report["ops"], *spec.workload);
    x.live = live_bytes_by_op(of, *spec.workload);
    for (const workload::Op* o : of) x.layers.push_back(o ? o->layer : "");
  }
  if (!report.contains("ops"))
    x.ops_note = "this page is made without the op entries, which went to disk as the ops ran (run.report_ops: " +
                 std::string(config::enum_name(kReportOpsNames, spec.run.report_ops)) +
                 (spec.stream ? ", a streamed trace" : "") + "); ops.csv has every op";
  x.budget_bytes = policy_budget(spec.root);
  if (timeline) {
    write_timeline_trace(timeline->out(), report, x.live);
    timeline->out() << "\n";
    timeline->commit();
  }
  if (timeline_stdout) {
    write_timeline_trace(std::cout, report, x.live);
    std::cout << "\n";
  }
  output::write_file(dir / "report.html", run_html(report, x));
}

/// run_stats.json: how the run went rather than what it simulated (result reuse's counts, the
/// simulation's wall time), kept out of report.json so that the report is the same bytes with
/// run.reuse on and off (docs/techniques.md "Result reuse").
void write_run_stats(const RunStatistics& s, const fs::path& file) {
  const nlohmann::ordered_json j = {{"reuse", config::enum_name(kReuseNames, s.reuse)},
                                    {"ops", s.ops.ops},
                                    {"reuse_eligible_ops", s.ops.eligible},
                                    {"reused_ops", s.ops.reused},
                                    {"reuse_hit_rate", s.ops.ops ? double(s.ops.reused) / double(s.ops.ops) : 0.0},
                                    {"simulate_seconds", s.simulate_seconds}};
  output::write_file(file, j.dump(2) + "\n");
}

/// `bpsim run` of a config with a `system:` section (docs/system.md): every check (the
/// section, the workload, the placement) before the folder is claimed; the devices' own model
/// checks run in their simulations.
int run_system_config(const RunSpec& spec, const fs::path& dir, bool force, bool quiet) {
  const system::SystemSpec sys = system::parse_system(spec);
  output::FolderLock lock;  // held until the files are written
  const system::SystemResult r =
      system::run_system(spec, sys, [&] { lock = output::claim_folder(dir, force, "--out", "run"); });
  system::write_system_outputs(dir.string(), system::system_report_json(spec, sys, r), r);
  if (!quiet) {
    system::print_system_summary(std::cout, sys, r);
    for (const std::string& w : r.warnings) std::cerr << "warning: " << w << "\n";
  }
  std::cout << "report: " << (dir / "report.json").string() << "\n";
  return kExitOk;
}

}  // namespace

int cmd_run(int argc, char* argv[]) {
  CommonArgs a;
  std::string out, trace_file, vcd, timeline;
  bool force = false, quiet = false, no_op_entries = false;
  po::options_description d = common_options(a);
  d.add_options()("out,o", po::value(&out), "output folder (default: out/<config name>)")(
      "force", po::bool_switch(&force), "write into a non-empty folder bpsim did not create")(
      "quiet,q", po::bool_switch(&quiet), "print no summary table, warnings or progress")(
      "no-op-entries", po::bool_switch(&no_op_entries),
      "per-op entries in ops.csv only, not in report.json (= --set run.report_ops=none)")(
      "trace", po::value(&trace_file), "replay this workload trace instead of the config's workload")(
      "trace-vcd", po::value(&vcd), "write a VCD of the run's RTL blocks (backend: rtl) to this file")(
      "timeline", po::value(&timeline), "write the op timeline to this file (Chrome trace-event JSON, for Perfetto)");
  if (!parse(argc, argv, d, a, "usage: bpsim run CONFIG.yaml|- [--out DIR] [--set key.path=value ...]")) return kExitOk;

  // Quoted as YAML, so that any path (quotes, backslashes, colons) reads back as written.
  if (!trace_file.empty()) a.sets.push_back("workload={trace: " + config::yaml_quote(trace_file) + "}");
  if (no_op_entries) a.sets.emplace_back("run.report_ops=none");
  // Every check before touching the disk (a streamed trace's records: as it runs), so a
  // refused run leaves the previous results in place.
  RunSpec spec = prepare(a.config, a.sets, true);
  if (!timeline.empty() && !ops_in_report(spec.run.report_ops, spec.stream != nullptr))
    throw InputError(
        "--timeline: the timeline is made from report.json's op entries, which this run leaves out "
        "(run.report_ops: " +
        std::string(config::enum_name(kReportOpsNames, spec.run.report_ops)) +
        (spec.stream ? ", a streamed trace" : "") + "); add --set run.report_ops=all");
  // A config from standard input (`-`) has no name to make a folder of.
  const std::string stem = is_stdio(a.config) ? std::string("stdin") : fs::path(a.config).stem().string();
  const fs::path dir = out.empty() ? fs::path("out") / stem : fs::path(out);
  if (spec.system) {
    const char* unsupported = !trace_file.empty() ? "--trace"
                              : !vcd.empty()      ? "--trace-vcd"
                              : !timeline.empty() ? "--timeline"
                                                  : nullptr;
    if (unsupported)
      throw InputError(std::string(unsupported) +
                       ": not available for a config with a system: section (docs/system.md)");
    return run_system_config(spec, dir, force, quiet);
  }
  // Before the hierarchy is built (RTL blocks register their traces); its destination is
  // checked here, and the guard removes its temporary however the run ends.
  waveform::Guard vcd_guard;
  if (!vcd.empty()) waveform::request(vcd, force);
  Simulation sim(spec);  // the models' own checks (mapping, sizes) run here
  // Held until the run ends: a second run into DIR is refused meanwhile. Nothing in DIR is
  // removed; report.json and ops.csv are replaced only when this run has written both.
  const output::FolderLock lock = output::claim_folder(dir, force, "--out", "run");
  // Ops go to disk as they finish when they are streamed or report.json leaves them out.
  std::unique_ptr<OpSpill> spill;
  const CsvColumns& columns = spec.kind->csv_columns;  // the model's own ops.csv columns
  const bool entries = ops_in_report(spec.run.report_ops, spec.stream != nullptr);
  if (spec.stream || !entries) spill = std::make_unique<OpSpill>(dir.string(), columns, entries);
  std::unique_ptr<output::File> timeline_file;  // created now: a bad destination fails before the run
  if (!timeline.empty() && timeline != "-") timeline_file = std::make_unique<output::File>(timeline);
  ProgressLine progress(!quiet);  // on a terminal, for runs past 2 s
  nlohmann::json report = sim.run(spill.get(), &progress);
  write_report_files(report, dir.string(), spill.get(), columns, &sim.config());  // in the config's key order
  write_run_stats(sim.statistics(), dir / "run_stats.json");
  // `--timeline -`: stdout holds the timeline alone.
  const bool timeline_stdout = timeline == "-";
  write_run_extras(report, spec, dir, timeline_file.get(), timeline_stdout);
  if (timeline_stdout) return kExitOk;
  if (!quiet) {
    std::cout << summary_table(report);
    std::cerr << run_warnings(report, spec.kind->idle_words);
  }
  std::cout << "report: " << (dir / "report.json").string() << "\n";
  return kExitOk;
}

int cmd_validate(int argc, char* argv[]) {
  CommonArgs a;
  po::options_description d = common_options(a);
  if (!parse(argc, argv, d, a, "usage: bpsim validate CONFIG.yaml|- [--set key.path=value ...]")) return kExitOk;
  RunSpec spec = prepare(a.config, a.sets, true);
  const std::string name = is_stdio(a.config) ? std::string(kStdinLabel) : a.config;
  if (spec.system) {  // the section, the workload and the placement (docs/system.md)
    const system::SystemSpec sys = system::parse_system(spec);
    if (!sys.parallel.trivial()) {  // the degrees, the batch split and the tensor split, as a run checks them
      const system::ParallelStep step = system::prepare_parallel(spec, sys);
      RunSpec one = system::device_run_spec(spec, sys.devices.front(), step.graph);
      system::check_device(one, sys.devices.front().name);  // the device's model checks, on its step
      std::cout << name << ": ok (system of " << sys.devices.size() << " identical devices, data " << sys.parallel.data
                << " × pipeline " << sys.parallel.pipeline << " × tensor " << sys.parallel.tensor
                << "; each device's step " << step.graph->name << ": " << step.graph->ops.size() << " ops)\n";
      return kExitOk;
    }
    const std::shared_ptr<workload::OpGraph> g = system::load_system_workload(spec, sys);
    system::PlaceNotes notes;
    const system::Placement placement = system::place(spec, sys, *g, &notes);
    system::check_placement(spec, sys, *g, placement);  // each device's model checks, on its ops
    for (const std::string& w : notes.warnings) std::cerr << "warning: " << w << "\n";
    size_t used = 0;
    for (const auto& ops : placement.order) used += !ops.empty();
    std::cout << name << ": ok (system of " << sys.devices.size() << " devices, " << used << " with ops; workload "
              << g->name << ": " << g->ops.size() << " ops)\n";
    return kExitOk;
  }
  Simulation sim(spec);  // the same model checks a run makes before simulating
  if (spec.stream) {     // a trace a run would stream: read it through once, checking every record
    uint64_t n = 0;
    while (spec.stream->next()) ++n;
    std::cout << name << ": ok (accelerator " << spec.kind->kind << ", trace streamed: " << n << " ops)\n";
    return kExitOk;
  }
  std::cout << name << ": ok (accelerator " << spec.kind->kind;
  if (spec.workload) std::cout << ", workload " << spec.workload->name << ": " << spec.workload->ops.size() << " ops";
  std::cout << ")\n";
  return kExitOk;
}

}  // namespace bpsim::cli
