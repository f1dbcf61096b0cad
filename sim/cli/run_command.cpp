#include <boost/program_options.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "sim/cli/commands.h"
#include "sim/cli/options.h"
#include "sim/core/config_node.h"
#include "sim/core/error.h"
#include "sim/core/output_files.h"
#include "sim/cosim/waveform.h"
#include "sim/engine/engine.h"
#include "sim/report/report.h"

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

}  // namespace

int cmd_run(int argc, char* argv[]) {
  CommonArgs a;
  std::string out, trace_file, vcd;
  bool force = false, quiet = false, no_op_entries = false;
  po::options_description d = common_options(a);
  d.add_options()("out,o", po::value(&out), "output folder (default: out/<config name>)")(
      "force", po::bool_switch(&force), "write into a non-empty folder bpsim did not create")(
      "quiet,q", po::bool_switch(&quiet), "print no summary table")(
      "no-op-entries", po::bool_switch(&no_op_entries),
      "per-op entries in ops.csv only, not in report.json (= --set run.report_ops=none)")(
      "trace", po::value(&trace_file), "replay this workload trace instead of the config's workload")(
      "trace-vcd", po::value(&vcd), "write a VCD of the run's RTL blocks (backend: rtl) to this file");
  if (!parse(argc, argv, d, a, "usage: bpsim run CONFIG.yaml [--out DIR] [--set key.path=value ...]")) return kExitOk;

  // Quoted as YAML, so that any path (quotes, backslashes, colons) reads back as written.
  if (!trace_file.empty()) a.sets.push_back("workload={trace: " + config::yaml_quote(trace_file) + "}");
  if (no_op_entries) a.sets.emplace_back("run.report_ops=none");
  // Every check before touching the disk (a streamed trace's records: as it runs), so a
  // refused run leaves the previous results in place.
  RunSpec spec = prepare(a.config, a.sets, true);
  const fs::path dir = out.empty() ? fs::path("out") / fs::path(a.config).stem() : fs::path(out);
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
  nlohmann::json report = sim.run(spill.get());
  const nlohmann::ordered_json config = config_json(spec.root);  // report.json keeps the config's key order
  write_report_files(report, dir.string(), spill.get(), columns, &config);
  if (!quiet) std::cout << summary_table(report);
  std::cout << "report: " << (dir / "report.json").string() << "\n";
  return kExitOk;
}

int cmd_validate(int argc, char* argv[]) {
  CommonArgs a;
  po::options_description d = common_options(a);
  if (!parse(argc, argv, d, a, "usage: bpsim validate CONFIG.yaml [--set key.path=value ...]")) return kExitOk;
  RunSpec spec = prepare(a.config, a.sets, true);
  Simulation sim(spec);  // the same model checks a run makes before simulating
  if (spec.stream) {     // a trace a run would stream: read it through once, checking every record
    uint64_t n = 0;
    while (spec.stream->next()) ++n;
    std::cout << a.config << ": ok (accelerator " << spec.kind->kind << ", trace streamed: " << n << " ops)\n";
    return kExitOk;
  }
  std::cout << a.config << ": ok (accelerator " << spec.kind->kind;
  if (spec.workload) std::cout << ", workload " << spec.workload->name << ": " << spec.workload->ops.size() << " ops";
  std::cout << ")\n";
  return kExitOk;
}

}  // namespace bpsim::cli
