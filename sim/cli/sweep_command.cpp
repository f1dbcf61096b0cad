#include <boost/program_options.hpp>

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "sim/cli/commands.h"
#include "sim/cli/options.h"
#include "sim/core/error.h"
#include "sim/core/input_file.h"
#include "sim/core/limits.h"
#include "sim/engine/engine.h"
#include "sim/report/html_report.h"
#include "sim/sweep/sweep_runner.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace bpsim::cli {

namespace {

/// `--list`: every point with its hash and axes, checked as `bpsim validate` checks a
/// config (load, overrides, validation), so that a sweep of invalid points fails here and
/// not once per point. Returns 2 when any point is invalid.
int list_points(const sweep::SweepSpec& spec) {
  // Points of an include axis run a small generated config; it is written here and removed
  // however the listing ends.
  struct Scratch {
    fs::path dir = fs::temp_directory_path() / ("bpsim_sweep_list_" + std::to_string(::getpid()));
    ~Scratch() { fs::remove_all(dir); }
  } scratch;
  size_t invalid = 0;
  for (const auto& p : spec.points) {
    std::vector<std::string> sets = spec.fixed_sets;
    for (const auto& a : p.assignments()) sets.push_back(a);
    std::string error;
    try {
      prepare(sweep::point_config(spec, p, scratch.dir.string()), sets, true);
    } catch (const InputError& e) {
      error = e.what();
    }
    invalid += !error.empty();
    std::cout << p.index << " " << p.hash << (error.empty() ? " ok" : " invalid") << (p.axes.empty() ? "" : " ")
              << p.label() << "\n";
    if (!error.empty()) std::cout << "    " << error << "\n";
  }
  for (const auto& d : spec.duplicates)
    std::cout << "- " << d.point.hash << " duplicate of point " << d.same_as << ", runs once as it: " << d.point.label()
              << "\n";
  if (!spec.duplicates.empty())
    std::cerr << "sweep: " << spec.points.size() << " points" << sweep::folded_text(spec) << "\n";
  if (invalid) std::cerr << "sweep: " << invalid << " of " << spec.points.size() << " points are invalid\n";
  return invalid ? kExitBadInput : kExitOk;
}

}  // namespace

int cmd_sweep(int argc, char* argv[]) {
  std::string file, out;
  std::vector<std::string> sets, limit_flags;
  int jobs = 1;
  bool help = false, retry = false, list = false, mpi = false, quiet = false;
  po::options_description d("options");
  d.add_options()("help,h", po::bool_switch(&help), "show this help")(
      "jobs,j", po::value(&jobs), "points run at once on this machine (under mpirun: by each worker rank)")(
      "out,o", po::value(&out), "results folder (default: out/<sweep name>)")(
      "set", po::value(&sets)->composing(), "override a base-config value for every point")(
      "retry-failed", po::bool_switch(&retry), "run again the points whose earlier run failed")(
      "list", po::bool_switch(&list),
      "print the points and their hashes, each checked as bpsim validate does; run nothing")(
      "limit", po::value(&limit_flags), "NAME=N: change a limit, e.g. sweep_points=20000 (README: Limits)")(
      "mpi", po::bool_switch(&mpi), "run over MPI even when the launcher is not recognised (mpirun is)")(
      "quiet,q", po::bool_switch(&quiet), "print no progress (failures and the end are still printed)");
  parse_command_line(argc, argv, d, {{"sweep", &file}});
  if (help) {
    std::cout << "usage: bpsim sweep SWEEP.yaml [-j N] [--out DIR]\n"
                 "       mpirun -np N bpsim sweep SWEEP.yaml [-j M] [--out DIR]   (N-1 workers, M points each)\n\n"
                 "Every point runs, even after others failed; each failure is printed as it happens and\n"
                 "again at the end. Exit status: 0 when every point is ok; 2 when any point failed on\n"
                 "bad input (its run exited 2; also: a bad sweep file, or --list finding an invalid\n"
                 "point); otherwise 1 when any point failed (its run crashed or exited 1). Points\n"
                 "left failed by an earlier run count until they are run again (--retry-failed).\n\n"
              << d;
    return kExitOk;
  }
  if (file.empty()) throw po::error("missing SWEEP.yaml");
  if (is_stdio(file))  // its base config and points are named relative to the sweep's folder
    throw po::error("a sweep is read from a file, not from standard input ('-')");
  if (jobs < 1) throw po::error("--jobs must be at least 1");
  for (const std::string& l : limit_flags) limits::apply_flag(l);

  sweep::SweepSpec spec = sweep::load_sweep(file, sets);
  if (list) return list_points(spec);
  sweep::RunnerOptions opt;
  opt.out_dir = out.empty() ? (std::filesystem::path("out") / std::filesystem::path(file).stem()).string() : out;
  opt.jobs = jobs;
  opt.retry_failed = retry;
  opt.quiet = quiet;
  opt.exe = std::filesystem::read_symlink("/proc/self/exe").string();
  opt.in_process = main_of;  // points start as forks of this process: no exec, linking or start-up each
  // The points side by side, with their Pareto front in time and energy, written before the
  // folder's lock is let go, by a local sweep and by an MPI sweep's rank 0 alike.
  opt.write_pages = [&] {
    write_points_html(opt.out_dir, (fs::path(opt.out_dir) / "report.html").string(),
                      "bpsim sweep " + fs::path(file).stem().string(), spec.axis_names,
                      {"/totals/seconds", "/totals/energy_pj"});
  };
  if (mpi || sweep::under_mpi()) return sweep::run_mpi(spec, opt, argc, argv);
  return sweep::run_local(spec, opt);
}

}  // namespace bpsim::cli
