/// bpsim._core: the simulator's run, in-process, for the Python package (python/bpsim). A run
/// is the same code path as `bpsim run` (prepare, Simulation, the report writers), and returns
/// the exact text of report.json and ops.csv; many runs share one process (fresh_kernel).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <systemc>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "models/register.h"
#include "sim/cli/commands.h"
#include "sim/core/error.h"
#include "sim/engine/engine.h"
#include "sim/report/report.h"
#include "sim/system/system_run.h"

namespace py = pybind11;
namespace fs = std::filesystem;

namespace {

/// SystemC 2.3 elaborates once per simulation context and cannot start its kernel again after
/// sc_stop. Everything a run elaborates (modules, processes, events, channels, the time
/// resolution, the coroutine package) lives in the current sc_simcontext, which the kernel
/// reaches through sc_curr_simcontext (and sc_default_global_context). So each run gets a
/// context of its own, made current for the run and deleted after it once the run's modules
/// are gone. The process's first context is never run in nor deleted: libsystemc's static
/// events (sc_event::none, sc_event::kernel_event) were made in it and unregister from it at
/// exit. tests/python/test_inprocess.py shows the runs are faithful: every example config, run
/// twice in one process, gives the CLI's report.json byte for byte.
class FreshKernel {
 public:
  FreshKernel() : m_first(sc_core::sc_get_curr_simcontext()), m_run(new sc_core::sc_simcontext) {
    sc_core::sc_curr_simcontext = m_run;
    sc_core::sc_default_global_context = m_run;
  }
  FreshKernel(const FreshKernel&) = delete;
  FreshKernel& operator=(const FreshKernel&) = delete;
  ~FreshKernel() {
    sc_core::sc_curr_simcontext = m_first;
    sc_core::sc_default_global_context = m_first;
    delete m_run;
  }

 private:
  sc_core::sc_simcontext* m_first;
  sc_core::sc_simcontext* m_run;
};

/// A folder of its own for a run whose ops are spilled to disk (a streamed trace, or
/// run.report_ops: none): removed with everything in it however the run ends.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "bpsim-py-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create a temporary folder for the run's ops");
    m_path = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  const fs::path& path() const { return m_path; }

 private:
  fs::path m_path;
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read back " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// One SystemC kernel per process at a time: runs are serialised.
std::mutex g_run_mutex;

/// A system of accelerators (docs/system.md): what `bpsim run` writes, read back. Each device
/// is simulated in a child process, so this process's SystemC kernel is not touched.
void run_system_config(const bpsim::RunSpec& spec, std::string& report_text, std::string& csv_text) {
  const bpsim::system::SystemSpec sys = bpsim::system::parse_system(spec);
  const bpsim::system::SystemResult r = bpsim::system::run_system(spec, sys);
  const TempDir dir;
  bpsim::system::write_system_outputs(dir.path().string(), bpsim::system::system_report_json(spec, sys, r), r);
  report_text = read_text(dir.path() / "report.json");
  csv_text = read_text(dir.path() / "ops.csv");
}

/// `bpsim run CONFIG --set …` without the terminal: the bytes of report.json and ops.csv.
py::tuple run(const std::string& config, const std::vector<std::string>& overrides) {
  std::string report_text, csv_text;
  {
    py::gil_scoped_release unlocked;
    const std::lock_guard<std::mutex> one_at_a_time(g_run_mutex);
    bpsim::RunSpec spec = bpsim::prepare(config, overrides, true);
    // Declared before the hierarchy (a system's: its devices' children's) and deleted after it.
    const FreshKernel fresh;
    if (spec.system) {
      run_system_config(spec, report_text, csv_text);
    } else {
      bpsim::Simulation sim(spec);
      const bpsim::CsvColumns& columns = spec.kind->csv_columns;
      const bool entries = bpsim::ops_in_report(spec.run.report_ops, spec.stream != nullptr);
      if (spec.stream || !entries) {  // as `bpsim run` does it, through the files it writes
        const TempDir dir;
        bpsim::OpSpill spill(dir.path().string(), columns, entries);
        const nlohmann::json report = sim.run(&spill);
        bpsim::write_report_files(report, dir.path().string(), &spill, columns, &sim.config());
        report_text = read_text(dir.path() / "report.json");
        csv_text = read_text(dir.path() / "ops.csv");
      } else {
        const nlohmann::json report = sim.run();
        report_text =
            bpsim::report_text(report, &sim.config());  // write_report_files' bytes, the config in its key order
        csv_text = bpsim::ops_csv(report, columns);
      }
    }
  }
  return py::make_tuple(py::bytes(report_text), py::bytes(csv_text));
}

/// Swaps a standard stream's buffer for a string's while a command runs.
class Capture {
 public:
  explicit Capture(std::ostream& s) : m_stream(s), m_old(s.rdbuf(m_text.rdbuf())) {}
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;
  ~Capture() { m_stream.rdbuf(m_old); }
  std::string text() const { return m_text.str(); }

 private:
  std::ostream& m_stream;
  std::ostringstream m_text;
  std::streambuf* m_old;
};

/// A command of the CLI that starts no simulation (`workload`, `list`): exit code, stdout, stderr.
py::tuple command(std::vector<std::string> args) {
  int rc = 0;
  std::string out, err;
  {
    py::gil_scoped_release unlocked;
    const std::lock_guard<std::mutex> one_at_a_time(g_run_mutex);
    const Capture o(std::cout), e(std::cerr);
    args.insert(args.begin(), "bpsim");
    rc = bpsim::cli::main_of(args);
    out = o.text();
    err = e.text();
  }
  return py::make_tuple(rc, py::bytes(out), py::bytes(err));
}

}  // namespace

/// libsystemc.so refers to sc_main (its sc_elab_and_sim calls it), so a process that loads it
/// must define one, and Python binds every symbol of a module when it loads it. The package
/// never calls sc_elab_and_sim: this one only says so. Exported past pybind11's hidden default.
extern "C" __attribute__((visibility("default"))) int sc_main(int /*argc*/, char* /*argv*/[]) {
  std::cerr << "bpsim._core: sc_main is not used in-process\n";
  return 1;
}

PYBIND11_MODULE(_core, m) {
  m.doc() = "bpsim's simulator core, in-process (use the bpsim package, not this module)";
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);  // as the CLI: a user's own setting wins
  bpsim::register_builtin_models();
  // The config's file, line and key path are in the message ("file:line:col: key.path: …");
  // bpsim.InputError (python/bpsim/errors.py) splits them out.
  py::register_exception<bpsim::InputError>(m, "InputError", PyExc_ValueError);
  m.attr("version") = BPSIM_VERSION;
  m.def("run", &run, py::arg("config"), py::arg("overrides"),
        "Runs CONFIG with `--set` overrides; returns (report.json bytes, ops.csv bytes).");
  m.def("command", &command, py::arg("args"),
        "Runs a CLI command that simulates nothing (workload, list); returns (exit code, stdout, stderr).");
}
