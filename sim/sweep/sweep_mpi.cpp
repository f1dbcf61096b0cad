// Distributed sweeps: rank 0 hands out points one at a time (dynamic load balancing),
// gathers result rows and writes the files; every other rank runs points.
#include <boost/mpi/communicator.hpp>
#include <boost/mpi/environment.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include "sim/core/error.h"
#include "sim/sweep/sweep_runner.h"

namespace mpi = boost::mpi;

namespace bpsim::sweep {

namespace {
enum Tag { kReady = 1, kWork = 2, kStop = 3 };
/// Rank 0: hands out points, gathers rows, writes the files.
int serve(mpi::communicator& world, const SweepSpec& spec, const RunnerOptions& opt);
/// Every other rank: runs the points it is handed.
int work(mpi::communicator& world, const SweepSpec& spec, const RunnerOptions& opt);

/// Rank 0: waits until a worker's ready message has arrived. Open MPI's blocking receive polls
/// without pause, so rank 0 would keep a core busy that a worker's run could use (mpirun -np 17
/// on 16 cores); it sleeps between probes instead. A point runs for milliseconds or more, so
/// the wake-up's 0.2 ms latency costs little.
mpi::status wait_for_ready(mpi::communicator& world) {
  while (true) {
    if (const boost::optional<mpi::status> st = world.iprobe(mpi::any_source, kReady)) return *st;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}
}  // namespace

bool under_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char* s = std::getenv(v)) return std::atoi(s) > 1;
  return false;
}

int run_mpi(const SweepSpec& spec, const RunnerOptions& opt, int argc, char** argv) {
  mpi::environment env(argc, argv);
  mpi::communicator world;
  // No rank may throw past the others (they would wait for it forever): an error (a locked
  // or unwritable folder, results that cannot be written) ends every rank.
  try {
    return world.rank() == 0 ? serve(world, spec, opt) : work(world, spec, opt);
  } catch (const std::exception& e) {
    std::cerr << "bpsim: " << e.what() << "\n";
    world.abort(dynamic_cast<const InputError*>(&e) ? kExitBadInput : kExitInternal);
  }
  return kExitInternal;
}

namespace {
int work(mpi::communicator& world, const SweepSpec& spec, const RunnerOptions& opt) {
  // Announce readiness (with the previous result, if any) until told to stop.
  std::string result;
  while (true) {
    world.send(0, kReady, result);
    mpi::status st = world.probe(0, mpi::any_tag);
    if (st.tag() == kStop) {
      world.recv(0, kStop);
      return 0;
    }
    size_t index = 0;
    world.recv(0, kWork, index);
    result = run_point(spec, spec.points.at(index), opt).dump();
  }
}

int serve(mpi::communicator& world, const SweepSpec& spec, const RunnerOptions& opt) {
  ResultStore store(opt.out_dir);
  std::vector<size_t> todo;
  for (const auto& p : spec.points)
    if (!store.done(p, opt.retry_failed)) todo.push_back(p.index);
  Progress progress(spec, opt, spec.points.size() - todo.size());
  size_t next = 0;
  int active = world.size() - 1;
  while (active > 0) {
    // Every worker that is ready gets its next point first; then their rows are written
    // together (a write waits for the disk, once per batch).
    std::vector<nlohmann::json> rows;
    for (boost::optional<mpi::status> ready = wait_for_ready(world); ready;
         ready = active > 0 ? world.iprobe(mpi::any_source, kReady) : boost::none) {
      std::string result;
      world.recv(ready->source(), kReady, result);
      if (next < todo.size()) {
        world.send(ready->source(), kWork, todo[next++]);
      } else {
        world.send(ready->source(), kStop);
        --active;
      }
      if (!result.empty()) rows.push_back(nlohmann::json::parse(result));
    }
    store.append(spec, rows);
    for (const auto& row : rows) progress.point_done(row);
  }
  progress.finish();
  store.finalize(spec);
  // mpirun's exit status is rank 0's when the other ranks return 0.
  return finish_sweep(spec, store, opt, "on " + std::to_string(world.size() - 1) + " MPI workers");
}
}  // namespace

}  // namespace bpsim::sweep
