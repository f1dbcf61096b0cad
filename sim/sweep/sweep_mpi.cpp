// Distributed sweeps: rank 0 hands out points as workers ask for them (dynamic load
// balancing), gathers result rows and writes the files; every other rank runs points, up to
// -j at once, as forks of itself. MPI itself is the module libbpsim_mpi.so (mpi_link.h),
// loaded here and only here.
#include <dlfcn.h>
#include <sched.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "sim/core/error.h"
#include "sim/sweep/mpi_link.h"
#include "sim/sweep/sweep_runner.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace bpsim::sweep {

namespace {

/// Worker → rank 0: "WANT DONE\n" then the rows of the worker's finished points, one JSON
/// line each. WANT: how many points it can start now (rank 0 answers only when > 0); DONE 1:
/// its last message (nothing runs, nothing is left to ask for).
constexpr int kReport = 1;
/// Rank 0 → worker: the indices of the points to run, separated by spaces; none: no point is left.
constexpr int kWork = 2;

/// MPI_COMM_WORLD through the module's table.
class Mpi {
 public:
  Mpi(int& argc, char**& argv) : m_ops(load()) {
    if (const int rc = m_ops->init(&argc, &argv, &m_rank, &m_size))
      throw std::runtime_error(fmt::format("MPI_Init failed (error {})", rc));
  }
  int rank() const { return m_rank; }
  int size() const { return m_size; }
  void finalize() const { m_ops->finalize(); }
  [[noreturn]] void abort(int code) const {
    m_ops->abort(code);
    std::_Exit(code);  // MPI_Abort does not return; should it, this rank still ends
  }
  void send(int to, int tag, const std::string& text) const {
    if (const int rc = m_ops->send(to, tag, text.data(), text.size()))
      throw std::runtime_error(fmt::format("MPI_Send to rank {} failed (error {})", to, rc));
  }
  /// A message with `tag` from `from` (-1: any rank): its source and text; none when
  /// nothing has arrived and `block` is false.
  std::optional<std::pair<int, std::string>> receive(int from, int tag, bool block) const {
    int source = 0;
    size_t bytes = 0;
    const int found = m_ops->probe(from, tag, block ? 1 : 0, &source, &bytes);
    if (found < 0) throw std::runtime_error("MPI_Probe failed");
    if (found == 0) return std::nullopt;
    std::string text(bytes, '\0');
    if (const int rc = m_ops->recv(source, tag, text.data(), bytes))
      throw std::runtime_error(fmt::format("MPI_Recv from rank {} failed (error {})", source, rc));
    return std::make_pair(source, std::move(text));
  }

 private:
  /// The module beside this executable (the build tree), else in ../lib/bpsim from it (an
  /// installed bpsim). A refusal, exit 2, when it cannot be loaded: the sweep was started under
  /// mpirun, and running it without MPI would run every point once per rank. RTLD_GLOBAL:
  /// Open MPI's own plugins resolve symbols of the libmpi it brings.
  static const BpsimMpiOps* load() {
    const fs::path dir = fs::read_symlink("/proc/self/exe").parent_path();
    fs::path module = dir / BPSIM_MPI_MODULE;
    if (std::error_code ec; !fs::exists(module, ec)) module = dir / ".." / "lib" / "bpsim" / BPSIM_MPI_MODULE;
    if (std::error_code ec; !fs::exists(module, ec))
      throw InputError(
          fmt::format("sweep under mpirun: cannot load the MPI module: no {} in {} or "
                      "{} (the build target bpsim_mpi makes it beside bpsim; cmake --install puts it "
                      "in PREFIX/lib/bpsim)",
                      BPSIM_MPI_MODULE, dir.string(), module.parent_path().string()));
    void* handle = ::dlopen(module.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!handle) throw InputError(fmt::format("sweep under mpirun: cannot load the MPI module: {}", ::dlerror()));
    const auto entry = reinterpret_cast<BpsimMpiEntry>(::dlsym(handle, BPSIM_MPI_ENTRY));
    const BpsimMpiOps* ops = entry ? entry() : nullptr;
    if (!ops || ops->abi != BPSIM_MPI_ABI)
      throw InputError(
          fmt::format("sweep under mpirun: {} is not this bpsim's MPI module (entry {}, "
                      "table version {} expected); rebuild it with bpsim",
                      module.string(), BPSIM_MPI_ENTRY, BPSIM_MPI_ABI));
    return ops;
  }

  const BpsimMpiOps* m_ops;
  int m_rank = 0, m_size = 0;
};

/// Rank 0: waits for a worker's message. Open MPI's blocking probe polls without pause, so
/// rank 0 would keep a core busy that a worker's run could use (mpirun -np 17 on 16 cores);
/// it sleeps between probes instead. A point runs for milliseconds or more, so the wake-up's
/// 0.2 ms latency costs little.
std::pair<int, std::string> wait_for_report(const Mpi& mpi) {
  while (true) {
    if (auto msg = mpi.receive(-1, kReport, false)) return std::move(*msg);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

/// Every other rank: asks for as many points as it has free slots (-j), runs them as forks,
/// and sends each batch of rows as its runs end, until rank 0 has no point left.
int work(const Mpi& mpi, const SweepSpec& spec, const RunnerOptions& opt) {
  PointPool pool(spec, opt);
  const size_t jobs = static_cast<size_t>(std::max(1, opt.jobs));
  // A rank's points are forks that inherit its CPU binding, and mpirun binds each rank to one
  // core when it starts two (measured: 1 worker rank with -j 16 ran no faster than -j 1).
  cpu_set_t cores;
  if (jobs > 1 && ::sched_getaffinity(0, sizeof cores, &cores) == 0 && size_t(CPU_COUNT(&cores)) < jobs)
    std::cerr << fmt::format(
        "sweep: MPI rank {} may run on {} core{} (its binding by mpirun) but runs up to {} points at once; "
        "start mpirun with --bind-to none, or with --map-by slot:PE={} to give each point a core\n",
        mpi.rank(), CPU_COUNT(&cores), CPU_COUNT(&cores) == 1 ? "" : "s", jobs, jobs);
  bool exhausted = false;
  while (true) {
    // The message: "WANT DONE" and each ended run's "INDEX EXIT_CODE CPU_SECONDS" (rank 0's
    // PointOrder learns from them), then a row per line.
    std::string head, rows;
    for (const EndedRun& run : pool.take_ended()) {
      head += fmt::format(" {} {} {}", run.point->index, run.code, run.cpu_s);
      rows += point_row(*run.point, opt, run.code).dump() + "\n";
    }
    const size_t want = exhausted ? 0 : jobs - pool.running();
    const bool done = exhausted && pool.running() == 0;
    if (want > 0 || done || !rows.empty())
      mpi.send(0, kReport, fmt::format("{} {}{}\n", want, done ? 1 : 0, head) + rows);
    if (done) return kExitOk;
    if (want > 0) {
      std::istringstream indices(mpi.receive(0, kWork, true)->second);
      size_t started = 0;
      for (size_t index = 0; indices >> index; ++started) pool.start(spec.points.at(index));
      exhausted = started == 0;
      continue;
    }
    pool.reap();
  }
}

/// Rank 0: hands out points, gathers rows, writes the files.
int serve(const Mpi& mpi, const SweepSpec& spec, const RunnerOptions& opt) {
  ResultStore store(opt.out_dir);
  std::vector<const Point*> todo;
  for (const auto& p : spec.points)
    if (!store.done(p, opt.retry_failed)) todo.push_back(&p);
  Progress progress(spec, opt, spec.points.size() - todo.size());
  int active = mpi.size() - 1;
  PointOrder order(todo, static_cast<size_t>(active) * static_cast<size_t>(std::max(1, opt.jobs)));
  while (active > 0) {
    // Every worker whose message has arrived gets its points first; then all their rows are
    // written together (a write waits for the disk, once per batch).
    std::vector<json> rows;
    for (auto msg = std::optional(wait_for_report(mpi)); msg;
         msg = active > 0 ? mpi.receive(-1, kReport, false) : std::nullopt) {
      std::istringstream in(msg->second);
      std::string head;
      std::getline(in, head);
      std::istringstream head_in(head);
      size_t want = 0, index = 0;
      int done = 0;
      head_in >> want >> done;
      int code = 0;
      for (double cpu_s = 0; head_in >> index >> code >> cpu_s;) order.ended({&spec.points.at(index), code, cpu_s});
      if (done) --active;
      if (want > 0) {
        std::string indices;
        for (; want > 0 && !order.empty(); --want) indices += std::to_string(order.take()->index) + " ";
        mpi.send(msg->first, kWork, indices);
      }
      for (std::string line; std::getline(in, line);)
        if (!line.empty()) rows.push_back(json::parse(line));
    }
    store.append(spec, rows);
    for (const auto& row : rows) progress.point_done(row);
  }
  progress.finish();
  store.finalize(spec);
  const int workers = mpi.size() - 1;
  return finish_sweep(spec, store, opt,
                      fmt::format("on {} MPI worker{}{}", workers, workers == 1 ? "" : "s",
                                  opt.jobs > 1 ? fmt::format(", up to {} points each at once", opt.jobs) : ""));
}

}  // namespace

bool under_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char* s = std::getenv(v)) return std::atoi(s) > 1;
  return false;
}

int run_mpi(const SweepSpec& spec, const RunnerOptions& opt, int argc, char** argv) {
  const Mpi mpi(argc, argv);
  if (mpi.size() < 2) {
    mpi.finalize();
    throw InputError(
        "bpsim sweep --mpi: MPI started 1 rank; a distributed sweep needs at least 2 (rank 0 hands "
        "out points, the others run them): mpirun -np N with N >= 2");
  }
  // No rank may throw past the others (they would wait for it forever): an error (a locked
  // or unwritable folder, results that cannot be written) ends every rank.
  int code = kExitInternal;
  try {
    code = mpi.rank() == 0 ? serve(mpi, spec, opt) : work(mpi, spec, opt);
  } catch (const std::exception& e) {
    std::cerr << "bpsim: " << e.what() << "\n";
    mpi.abort(dynamic_cast<const InputError*>(&e) ? kExitBadInput : kExitInternal);
  }
  mpi.finalize();
  // mpirun's exit status is rank 0's when the other ranks return 0.
  return code;
}

}  // namespace bpsim::sweep
