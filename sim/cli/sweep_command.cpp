#include <boost/program_options.hpp>

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "sim/cli/commands.h"
#include "sim/cli/options.h"
#include "sim/sweep/sweep_runner.h"

namespace po = boost::program_options;

namespace bpsim::cli {

int cmd_sweep(int argc, char* argv[]) {
  std::string file, out;
  std::vector<std::string> sets;
  int jobs = 1;
  bool help = false, retry = false, list = false;
  po::options_description d("options");
  d.add_options()("help,h", po::bool_switch(&help), "show this help")(
      "jobs,j", po::value(&jobs), "points run at once on this machine (ignored under mpirun)")(
      "out,o", po::value(&out), "results folder (default: out/<sweep name>)")(
      "set", po::value(&sets)->composing(), "override a base-config value for every point")(
      "retry-failed", po::bool_switch(&retry), "run again the points whose earlier run failed")(
      "list", po::bool_switch(&list), "print the points and their hashes, run nothing");
  parse_command_line(argc, argv, d, {{"sweep", &file}});
  if (help) {
    std::cout << "usage: bpsim sweep SWEEP.yaml [-j N] [--out DIR]\n"
                 "       mpirun -np N bpsim sweep SWEEP.yaml [--out DIR]\n\n"
              << d;
    return kExitOk;
  }
  if (file.empty()) throw po::error("missing SWEEP.yaml");
  if (jobs < 1) throw po::error("--jobs must be at least 1");

  sweep::SweepSpec spec = sweep::load_sweep(file, sets);
  if (list) {
    for (const auto& p : spec.points) {
      std::cout << p.index << " " << p.hash;
      for (const auto& a : p.assignments()) std::cout << " " << a;
      std::cout << "\n";
    }
    return kExitOk;
  }
  sweep::RunnerOptions opt;
  opt.out_dir = out.empty() ? (std::filesystem::path("out") / std::filesystem::path(file).stem()).string() : out;
  opt.jobs = jobs;
  opt.retry_failed = retry;
  opt.exe = std::filesystem::read_symlink("/proc/self/exe").string();
  if (sweep::under_mpi()) return sweep::run_mpi(spec, opt, argc, argv);
  return sweep::run_local(spec, opt);
}

}  // namespace bpsim::cli
