#include <boost/program_options.hpp>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "models/register.h"
#include "sim/cli/commands.h"
#include "sim/core/error.h"
#include "sim/core/output_files.h"

namespace bpsim::cli {

namespace {

const char* const kUsage =
    "usage: bpsim <command> [options]\n"
    "\n"
    "bpsim estimates what one neural-network training step costs on an accelerator\n"
    "(cycles, energy, memory traffic, peak memory) under a memory-saving backprop policy.\n"
    "\n"
    "commands:\n"
    "  run CONFIG.yaml [--out DIR] [--set key.path=value ...] [--force] [--quiet]\n"
    "                         simulate; write DIR/report.json and DIR/ops.csv\n"
    "  validate CONFIG.yaml   check a config without simulating\n"
    "  list                   accelerators, memory presets and energy tables with parameters\n"
    "  workload SPEC.yaml     op graph and memory accounting of a training step\n"
    "  trace export SPEC.yaml -o FILE | trace check FILE\n"
    "                         write a training step as a trace; check a trace\n"
    "  sweep SWEEP.yaml [-j N] [--out DIR]\n"
    "                         run many configs (resumable; also under mpirun)\n"
    "  compare CONFIG.yaml --policies none,checkpoint,threshold,... [--out DIR]\n"
    "                         the same step under several memory policies: table, CSV, PNG\n"
    "  collective --devices N --bytes B --bandwidth-gbps X [--topology T] [--algorithm A] ...\n"
    "                         what one all-reduce (or other collective) costs on a fabric\n"
    "\n"
    "  - as CONFIG.yaml, SPEC.yaml or a trace reads standard input; -o - writes a trace to\n"
    "  standard output. bpsim <command> --help for the options of one command; bpsim --version\n";

}  // namespace

int main(int argc, char* argv[]) {
  // Quiet SystemC's banner; a user's own setting wins.
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  register_builtin_models();
  if (argc < 2) {
    std::cerr << kUsage;
    return kExitBadInput;
  }
  const std::string cmd = argv[1];
  try {
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      std::cout << kUsage;
      return kExitOk;
    }
    if (cmd == "--version") {
      std::cout << "bpsim " << BPSIM_VERSION << "\n";
      return kExitOk;
    }
    // Each command parses its own options; argv[1] becomes its argv[0].
    if (cmd == "run") return cmd_run(argc - 1, argv + 1);
    if (cmd == "validate") return cmd_validate(argc - 1, argv + 1);
    if (cmd == "list") return cmd_list(argc - 1, argv + 1);
    if (cmd == "trace") return cmd_trace(argc - 1, argv + 1);
    if (cmd == "sweep") return cmd_sweep(argc - 1, argv + 1);
    if (cmd == "compare") return cmd_compare(argc - 1, argv + 1);
    if (cmd == "workload") return cmd_workload(argc - 1, argv + 1);
    if (cmd == "collective") return cmd_collective(argc - 1, argv + 1);
    std::cerr << "bpsim: unknown command '" << cmd << "'\n\n" << kUsage;
    return kExitBadInput;
  } catch (const InputError& e) {
    std::cerr << "bpsim: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const boost::program_options::error& e) {
    std::cerr << "bpsim " << cmd << ": " << e.what() << " (see bpsim " << cmd << " --help)\n";
    return kExitBadInput;
  } catch (const output::WriteError& e) {  // the disk, not bpsim: said as it is
    std::cerr << "bpsim: " << e.what() << "\n";
    return kExitInternal;
  } catch (const std::exception& e) {
    std::cerr << "bpsim: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}

int main_of(std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return main(static_cast<int>(args.size()), argv.data());
}

}  // namespace bpsim::cli
