#pragma once
/// Runs the points of a sweep, each in its own child process (SystemC elaborates once per
/// process; the CLI's children are forks of the sweep process), locally with N workers or
/// over MPI ranks; appends one result row per finished point so that an interrupted sweep
/// loses nothing and resumes where it stopped.
#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/output_files.h"
#include "sim/core/progress.h"
#include "sim/sweep/sweep_spec.h"

namespace bpsim::sweep {

/// Runs a command line (args[0] the executable) inside the calling process and returns its
/// exit code, as the executable would have exited.
using InProcessRun = std::function<int(std::vector<std::string>& args)>;

struct RunnerOptions {
  std::string out_dir;
  int jobs = 1;
  bool retry_failed = false;
  std::string exe;  ///< the bpsim executable that runs each point
  /// When set, a point's child is a fork() of this process that calls it with the point's
  /// `bpsim run` command line: the child starts already linked and initialised (no exec,
  /// dynamic linking or static initialisers per point). Empty: the child execs `exe`.
  InProcessRun in_process;
  bool quiet = false;  ///< no progress (bar or per-point lines); failures and the end are still said
  /// Called by finish_sweep, locally and on MPI's rank 0, once the results are final and
  /// while the output folder is still locked: the command's pages over them (report.html).
  std::function<void()> write_pages;
};

/// Starts `args` (args[0] the executable's path) as a child process with its stdout and
/// stderr going to the file `log`, through `in_process` in a fork when it is set, else by
/// exec. Returns the child's pid, or -1 when it cannot start.
pid_t start_child(const std::vector<std::string>& args, const std::string& log, const InProcessRun& in_process = {});
/// Waits for the child `pid` and returns its exit code (127 when pid is -1, 128 + signal
/// when a signal ended it).
int wait_child(pid_t pid);
/// start_child then wait_child.
int run_child(const std::vector<std::string>& args, const std::string& log, const InProcessRun& in_process = {});

/// Starts one point's run (its config written first); returns the child's pid or -1.
pid_t start_point(const SweepSpec& spec, const Point& p, const RunnerOptions& opt);
/// The result row of a point whose run exited with `code` (its report read when 0).
nlohmann::json point_row(const Point& p, const RunnerOptions& opt, int code);
/// Runs one point to completion in a child process; returns its result row.
nlohmann::json run_point(const SweepSpec& spec, const Point& p, const RunnerOptions& opt);

/// Results already in out_dir/results.jsonl, keyed by hash (a partial last line is dropped;
/// any other line that is not a row is an InputError at its line). Holds the folder's
/// lock while it lives: one sweep writes into a folder at a time.
class ResultStore {
 public:
  explicit ResultStore(const std::string& out_dir);
  bool done(const Point& p, bool retry_failed) const;
  /// Appends rows to results.jsonl and results.csv, each file with a single write + fsync
  /// (a failed write is cut back and reported with its reason): rows of points that ended
  /// together share one fsync per file instead of taking two each.
  void append(const SweepSpec& spec, const std::vector<nlohmann::json>& rows);
  /// Rewrites both files sorted by point index (temporary file, then rename).
  void finalize(const SweepSpec& spec);
  size_t size() const { return m_rows.size(); }
  /// The latest row of each point of `spec`, by point index (the index rewritten to this
  /// sweep's): the final state of the sweep, whatever earlier runs and retries left.
  std::map<size_t, nlohmann::json> latest(const SweepSpec& spec) const;

 private:
  std::string m_dir;
  output::FolderLock m_lock;
  std::vector<nlohmann::json> m_rows;
};

/// " (N duplicate points … folded …)" when the sweep has duplicates, else empty.
std::string folded_text(const SweepSpec& spec);

/// The console text for a failed row: the point, its axes, its error and its log.
std::string failure_text(const SweepSpec& spec, const nlohmann::json& row, const std::string& out_dir);

/// After a sweep, with `store` (and so the folder's lock) still held: writes the command's
/// pages (opt.write_pages), lists every failed point (final state), prints the ok/failed
/// counts and returns the exit code: 2 when a point's run exited 2 (bad input), else 1 when
/// any point failed, else 0. `where` says how the points ran ("on 2 MPI workers", or empty).
int finish_sweep(const SweepSpec& spec, const ResultStore& store, const RunnerOptions& opt, const std::string& where);

/// A point's run that has ended: its exit code and the CPU seconds (user + system) it took.
struct EndedRun {
  const Point* point = nullptr;
  int code = 0;
  double cpu_s = 0.0;
};

/// The order in which points are handed to workers: the point predicted to run longest first,
/// so that a sweep's last points are short ones and its workers finish together (bench_sweep.sh's
/// 64 points take 0.04–0.14 s each; handed out in index order, 16 workers can reach at most
/// 13.2× over one, longest first 15.8×). A point's run time is predicted from the runs ended
/// so far: the mean log CPU time of the ended points that share the most axis values with it
/// (a point sharing none: the mean of all). Until a run has ended, or with one worker in all,
/// points go in index order; ties go to the lower index. The order never changes a result:
/// every point is its own run.
class PointOrder {
 public:
  /// Only the last `window` points are reordered, the others go in index order: the end of a
  /// sweep is what the order is for, and the cost stays `window` per point ended or taken.
  static constexpr size_t kWindow = 4096;
  /// `todo` in index order; `slots`: how many points run at once in all.
  PointOrder(const std::vector<const Point*>& todo, size_t slots, size_t window = kWindow);
  bool empty() const { return m_first == m_left.size(); }
  /// Removes and returns the next point (empty() must be false).
  const Point* take();
  /// Records a run that ended (failed runs say nothing about a point's length and are ignored).
  void ended(const EndedRun& run);

 private:
  /// A point still to run and its nearest ended runs: how many axis values they share with
  /// it, and the sum and count of their log CPU seconds.
  struct Left {
    const Point* point;
    std::vector<size_t> values;  ///< its axis values' ids, sorted
    size_t shared = 0;
    double log_sum = 0.0;
    size_t count = 0;
  };
  std::vector<size_t> value_ids(const Point& p);
  /// Where the points that may be reordered begin in m_left.
  size_t window() const;

  std::vector<Left> m_left;  ///< from m_first on: the points still to run
  size_t m_first = 0;
  size_t m_window;
  std::map<std::string, size_t> m_value_ids;  ///< "key=value" (or "include=FILE") → id
  double m_log_sum = 0.0;                     ///< over every ended run
  size_t m_count = 0;
  bool m_reorder;
};

/// Keeps points' runs going as children of this process (one thread starts and reaps them all,
/// so a fork never happens while another thread holds a lock the child would need).
class PointPool {
 public:
  PointPool(const SweepSpec& spec, const RunnerOptions& opt);
  /// Starts p's run; one that cannot start counts as ended at once (exit 127).
  void start(const Point& p);
  size_t running() const { return m_running.size(); }
  /// Waits until a run ends, then collects every other run that has ended too.
  void reap();
  /// The runs that ended since the last call.
  std::vector<EndedRun> take_ended();

 private:
  bool reap_one(int flags);

  const SweepSpec& m_spec;
  const RunnerOptions& m_opt;
  std::map<pid_t, const Point*> m_running;
  std::vector<EndedRun> m_ended;
};

/// The whole local sweep; returns finish_sweep's exit code.
int run_local(const SweepSpec& spec, const RunnerOptions& opt);
/// Under mpirun: rank 0 hands out points and writes the files, other ranks run points, each
/// up to opt.jobs at once. MPI is loaded from libbpsim_mpi.so beside the executable; when it
/// cannot be, an InputError says why (no rank runs anything).
int run_mpi(const SweepSpec& spec, const RunnerOptions& opt, int argc, char** argv);
/// True when this process was started by mpirun (or another MPI launcher) with more than one rank.
bool under_mpi();

/// Prints progress: a bar with ETA on a terminal (the shared ProgressLine), plain lines
/// otherwise, nothing with RunnerOptions::quiet. A failed point's error is printed on lines
/// of its own, which the bar never overwrites.
class Progress {
 public:
  Progress(const SweepSpec& spec, const RunnerOptions& opt, size_t already_done);
  void point_done(const nlohmann::json& row);
  void finish();

 private:
  void draw_bar(double eta);

  const SweepSpec& m_spec;
  const RunnerOptions& m_opt;
  size_t m_total, m_done;
  size_t m_started_with;
  double m_t0;
  ProgressLine m_line;  ///< drawn at once (no delay) on a terminal, unless quiet
};

}  // namespace bpsim::sweep
