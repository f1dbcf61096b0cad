#include <boost/program_options.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "sim/cli/commands.h"
#include "sim/cli/options.h"
#include "sim/core/config_node.h"
#include "sim/core/error.h"
#include "sim/engine/engine.h"
#include "sim/engine/waveform.h"
#include "sim/report/report.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace bpsim::cli {

namespace {

/// Marks an output folder as bpsim's, so a later run may replace its files.
const char* const kMarker = ".bpsim-output";

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

/// Prepares DIR for a new report: refuses folders bpsim did not make unless forced, and
/// removes the previous report first so a failed run cannot leave an old one in place.
void claim_output_dir(const fs::path& dir, bool force) {
  if (fs::exists(dir)) {
    if (!fs::is_directory(dir)) throw InputError("--out " + dir.string() + ": exists and is not a directory");
    const bool empty = fs::directory_iterator(dir) == fs::directory_iterator();
    if (!empty && !fs::exists(dir / kMarker) && !force)
      throw InputError("--out " + dir.string() +
                       ": folder is not empty and was not made by bpsim; refusing to write into it "
                       "(choose another folder, or pass --force)");
    fs::remove(dir / "report.json");
    fs::remove(dir / "ops.csv");
  } else {
    fs::create_directories(dir);
  }
  std::ofstream(dir / kMarker) << "bpsim output folder; bpsim run may replace report.json and ops.csv here\n";
}

}  // namespace

int cmd_run(int argc, char* argv[]) {
  CommonArgs a;
  std::string out, trace_file, vcd;
  bool force = false, quiet = false;
  po::options_description d = common_options(a);
  d.add_options()("out,o", po::value(&out), "output folder (default: out/<config name>)")(
      "force", po::bool_switch(&force), "write into a non-empty folder bpsim did not create")(
      "quiet,q", po::bool_switch(&quiet), "print no summary table")(
      "trace", po::value(&trace_file), "replay this workload trace instead of the config's workload")(
      "trace-vcd", po::value(&vcd), "write a VCD of the run's RTL blocks (backend: rtl) to this file");
  if (!parse(argc, argv, d, a, "usage: bpsim run CONFIG.yaml [--out DIR] [--set key.path=value ...]"))
    return kExitOk;

  // Quoted as YAML, so that any path (quotes, backslashes, colons) reads back as written.
  if (!trace_file.empty()) a.sets.push_back("workload={trace: " + config::yaml_quote(trace_file) + "}");
  // Every check before touching the disk (a streamed trace's records: as it runs), so a
  // refused run leaves the previous results in place.
  RunSpec spec = prepare(a.config, a.sets, true);
  const fs::path dir = out.empty() ? fs::path("out") / fs::path(a.config).stem() : fs::path(out);
  if (!vcd.empty()) {
    if (fs::exists(vcd) && !force) throw InputError("--trace-vcd: " + vcd + " exists (pass --force to replace it)");
    waveform::request(vcd);  // before the hierarchy is built: RTL blocks register their traces
  }
  Simulation sim(spec);  // the models' own checks (mapping, sizes) run here
  claim_output_dir(dir, force);
  std::unique_ptr<OpSpill> spill;
  if (spec.stream) spill = std::make_unique<OpSpill>(dir.string());  // ops to disk as they finish
  nlohmann::json report = sim.run(spill.get());
  write_report_files(report, dir.string(), spill.get());
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
  if (spec.stream) {  // a trace a run would stream: read it through once, checking every record
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
