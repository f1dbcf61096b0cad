#include "sim/sweep/sweep_runner.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "sim/core/error.h"
#include "sim/core/input_file.h"
#include "sim/core/json_member.h"
#include "sim/core/output_files.h"

extern char** environ;

namespace fs = std::filesystem;
using nlohmann::json;

namespace bpsim::sweep {

namespace {

const char* const kTotals[] = {"cycles",
                               "seconds",
                               "energy_pj",
                               "macs",
                               "macs_executed",
                               "macs_gated",
                               "dram_read_bytes",
                               "dram_write_bytes",
                               "onchip_read_bytes",
                               "onchip_write_bytes"};

/// A system's step in a result row (docs/system.md, Sweeps): the columns that mean the same
/// for a system as for one device, the step's seconds and energy (links included), the DRAM
/// bytes of all its devices and the fullest device's peak; cycles (the devices' clocks differ)
/// and MACs (a parallel run simulates one device for all) stay empty. What only a system has
/// goes under "system" in results.jsonl.
void system_row(const json& sys, json& row) {
  uint64_t read = 0, written = 0, peak = 0, link_bytes = 0;
  for (const json& d : sys["devices"]) {
    read += d["dram_read_bytes"].get<uint64_t>();
    written += d["dram_write_bytes"].get<uint64_t>();
    peak = std::max(peak, d["peak_memory_bytes"].get<uint64_t>());
  }
  for (const json& l : sys["links"]) link_bytes += l["bytes"].get<uint64_t>();
  row["totals"] = {{"seconds", sys["step_s"]},
                   {"energy_pj", sys["energy_pj"]},
                   {"dram_read_bytes", read},
                   {"dram_write_bytes", written}};
  row["memory"] = {{"peak_bytes", peak}};
  row["system"] = {{"devices", sys["devices"].size()},
                   {"placement", sys["placement"]},
                   {"link_bytes", link_bytes},
                   {"link_energy_pj", sys["link_energy_pj"]}};
  if (sys.contains("parallel")) row["system"]["communication_share"] = sys["parallel"]["communication_share"];
}

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

/// A YAML scalar as the JSON value a reader expects (numbers stay numbers).
json scalar_json(const config::Node& n) {
  if (!n.is_scalar() || n.quoted) return n.is_scalar() ? json(n.scalar) : json(n.to_yaml());
  const std::string& s = n.scalar;
  char* end = nullptr;
  long long i = std::strtoll(s.c_str(), &end, 10);
  if (!s.empty() && *end == '\0') return i;
  double d = std::strtod(s.c_str(), &end);
  if (!s.empty() && *end == '\0') return d;
  if (s == "true" || s == "false") return s == "true";
  return s;
}

std::string csv_cell(const json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : v.is_null() ? std::string() : v.dump();
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string csv_header(const SweepSpec& spec) {
  std::string h = "index,hash,status";
  for (const auto& a : spec.axis_names) h += "," + csv_cell(a);
  for (const char* k : kTotals) h += std::string(",") + k;
  return h + ",saved_after_forward_bytes,peak_bytes,recompute_macs,error\n";
}

std::string csv_row(const SweepSpec& spec, const json& row) {
  std::string r = std::to_string(row["index"].get<size_t>()) + "," + row["hash"].get<std::string>() + "," +
                  row["status"].get<std::string>();
  for (const auto& a : spec.axis_names) r += "," + csv_cell(row["axes"].value(a, json()));
  const json& t = member_or_empty(row, "totals", json::value_t::object);
  for (const char* k : kTotals) r += "," + csv_cell(t.value(k, json()));
  const json& m = member_or_empty(row, "memory", json::value_t::object);
  r += "," + csv_cell(m.value("saved_after_forward_bytes", json())) + "," + csv_cell(m.value("peak_bytes", json()));
  r += "," + csv_cell(row.value("recompute_macs", json()));
  return r + "," + csv_cell(row.value("error", json())) + "\n";
}

/// A waitpid status as the exit code a shell would show: 128 + signal when a signal ended it.
int exit_code_of_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

std::string last_lines(const std::string& file, size_t n) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) lines.push_back(l);
  std::string out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i)
    out += (out.empty() ? "" : "\n") + lines[i];
  return out;
}

}  // namespace

// ---- one point -------------------------------------------------------------------------

pid_t start_child(const std::vector<std::string>& args, const std::string& log, const InProcessRun& in_process) {
  std::vector<std::string> copy = args;
  if (in_process) {
    // Whatever this process still buffers would be written again by the child.
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid != 0) return pid;  // this process (-1: no child)
    // The child: its output goes to the log; it runs the command and ends without running
    // this process's exit handlers (MPI, SystemC), which are the parent's to run.
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) ::_exit(127);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::close(fd);
    int code = kExitInternal;
    try {
      code = in_process(copy);
    } catch (const std::exception& e) {  // the command reports its own errors; this is a last resort
      std::cerr << "bpsim: internal error: " << e.what() << "\n";
    } catch (...) {
      std::cerr << "bpsim: internal error: unknown exception\n";
    }
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    ::_exit(code);
  }
  std::vector<char*> argv;
  argv.reserve(copy.size() + 1);
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = 0;
  // posix_spawnp: a bare name (python3) is looked up on PATH; a path is used as it is.
  const int rc = posix_spawnp(&pid, copy[0].c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

int wait_child(pid_t pid) {
  if (pid < 0) return 127;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return kExitInternal;
  return exit_code_of_status(status);
}

int run_child(const std::vector<std::string>& args, const std::string& log, const InProcessRun& in_process) {
  return wait_child(start_child(args, log, in_process));
}

namespace {
fs::path point_dir(const Point& p, const RunnerOptions& opt) { return fs::path(opt.out_dir) / "points" / p.hash; }
fs::path point_log(const Point& p, const RunnerOptions& opt) {
  return fs::path(opt.out_dir) / "points" / (p.hash + ".log");
}
}  // namespace

pid_t start_point(const SweepSpec& spec, const Point& p, const RunnerOptions& opt) {
  const fs::path dir = point_dir(p, opt);
  output::make_dirs(dir.parent_path());
  const std::string config = point_config(spec, p, dir.parent_path().string());
  std::vector<std::string> args = {opt.exe, "run", config, "--out", dir.string(), "--quiet", "--force"};
  for (const auto& s : spec.fixed_sets) args.insert(args.end(), {"--set", s});
  for (const auto& s : p.assignments()) args.insert(args.end(), {"--set", s});
  return start_child(args, point_log(p, opt).string(), opt.in_process);
}

json run_point(const SweepSpec& spec, const Point& p, const RunnerOptions& opt) {
  return point_row(p, opt, wait_child(start_point(spec, p, opt)));
}

json point_row(const Point& p, const RunnerOptions& opt, int code) {
  const fs::path dir = point_dir(p, opt), log = point_log(p, opt);
  json row = {{"index", p.index}, {"hash", p.hash}, {"axes", json::object()}};
  for (const auto& [k, v] : p.axes) row["axes"][k] = scalar_json(v);
  row["exit_code"] = code;
  if (code == 0) {
    // Only the parts a row takes are built; the rest (per-op entries, most of a large
    // report's bytes) is read past.
    const auto keep = [](int depth, json::parse_event_t event, json& parsed) {
      if (depth != 1 || event != json::parse_event_t::key) return true;
      const auto& key = parsed.get_ref<const std::string&>();
      return key == "totals" || key == "memory" || key == "phases" || key == "system";
    };
    json report = json::parse(read_regular_file((dir / "report.json").string(), "point report"), keep);
    row["status"] = "ok";
    if (report.contains("system")) {
      system_row(report["system"], row);
      return row;
    }
    row["totals"] = report["totals"];
    row["memory"] = report["memory"];
    // MACs of the recompute phase (policies that trade memory for work); 0 when none.
    const json& ph = report["phases"];
    row["recompute_macs"] = ph.contains("recompute") ? ph["recompute"].value("macs", json(0)) : json(0);
  } else {
    row["status"] = "error";
    row["error"] = code == 127 ? std::string("cannot start ") + opt.exe : last_lines(log.string(), 3);
  }
  return row;
}

// ---- results ----------------------------------------------------------------------------

namespace {
/// A result row as a resume needs it, or a discarded value.
json parse_row(const std::string& line) {
  json row = json::parse(line, nullptr, false);
  if (!row.is_discarded() && !(row.is_object() && row.contains("hash") && row.contains("status")))
    return json(json::value_t::discarded);
  return row;
}
}  // namespace

ResultStore::ResultStore(const std::string& out_dir) : m_dir(out_dir), m_lock(out_dir, "--out") {
  const fs::path file = fs::path(out_dir) / "results.jsonl";
  std::ifstream in(file, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bool dropped = false;
  size_t line_no = 0;
  for (size_t at = 0; at < text.size();) {
    const size_t end = text.find('\n', at);
    const std::string line = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
    at = end == std::string::npos ? text.size() : end + 1;
    ++line_no;
    if (line.empty()) continue;
    json row = parse_row(line);
    if (!row.is_discarded()) {
      m_rows.push_back(std::move(row));
    } else if (end == std::string::npos) {
      dropped = true;  // an unfinished last row (a crash mid-append): its point runs again
    } else {
      // A finished line that is not a row: damage no run of bpsim leaves, so nothing is guessed.
      throw InputError(Location{file.string(), int(line_no)}, "",
                       "not a result row of bpsim sweep; the file is damaged. Delete this line (its point runs "
                       "again) or the whole file (every point runs again), then resume the sweep");
    }
  }
  if (dropped) {
    std::string kept;
    for (const auto& r : m_rows) kept += r.dump() + "\n";
    output::write_file(file, kept);
  }
}

bool ResultStore::done(const Point& p, bool retry_failed) const {
  for (const auto& r : m_rows)
    if (r["hash"] == p.hash && (!retry_failed || r["status"] == "ok")) return true;
  return false;
}

void ResultStore::append(const SweepSpec& spec, const std::vector<json>& rows) {
  if (rows.empty()) return;
  const fs::path csv = fs::path(m_dir) / "results.csv";
  std::string jsonl_text, csv_text = fs::exists(csv) ? "" : csv_header(spec);
  for (const json& row : rows) {
    jsonl_text += row.dump() + "\n";
    csv_text += csv_row(spec, row);
  }
  output::append(fs::path(m_dir) / "results.jsonl", jsonl_text);
  output::append(csv, csv_text);
  m_rows.insert(m_rows.end(), rows.begin(), rows.end());
}

std::map<size_t, json> ResultStore::latest(const SweepSpec& spec) const {
  std::map<std::string, size_t> index_of;
  for (const auto& p : spec.points) index_of[p.hash] = p.index;
  std::map<size_t, json> by_index;
  for (const auto& r : m_rows) {  // in append order: a retry's row replaces the earlier one
    auto it = index_of.find(r["hash"].get<std::string>());
    if (it == index_of.end()) continue;
    json copy = r;
    copy["index"] = it->second;
    by_index[it->second] = std::move(copy);
  }
  return by_index;
}

void ResultStore::finalize(const SweepSpec& spec) {
  // Latest row per point of this sweep, in point order: identical however points were run.
  std::string jsonl, csv = csv_header(spec);
  for (const auto& [i, r] : latest(spec)) {
    jsonl += r.dump() + "\n";
    csv += csv_row(spec, r);
  }
  std::set<std::string> ours;
  for (const auto& p : spec.points) ours.insert(p.hash);
  for (const auto& r : m_rows)  // rows of an earlier version of the sweep are kept, after ours
    if (!ours.count(r["hash"].get<std::string>())) jsonl += r.dump() + "\n";
  output::write_file(fs::path(m_dir) / "results.jsonl", jsonl);
  output::write_file(fs::path(m_dir) / "results.csv", csv);
}

// ---- progress and summary ---------------------------------------------------------------

namespace {
int exit_code_of(const json& row) { return row.value("exit_code", kExitInternal); }
}  // namespace

std::string folded_text(const SweepSpec& spec) {
  const size_t n = spec.duplicates.size();
  if (!n) return "";
  return fmt::format(
      " ({} duplicate point{} with the same config as another folded into it; bpsim sweep --list "
      "names them)",
      n, n == 1 ? "" : "s");
}

std::string failure_text(const SweepSpec& spec, const json& row, const std::string& out_dir) {
  const size_t index = row["index"].get<size_t>();
  const int code = exit_code_of(row);
  const std::string label = index < spec.points.size() ? spec.points[index].label() : std::string();
  std::string text = fmt::format("sweep: point {} failed (exit {}{}){}{}\n", index, code,
                                 code == kExitBadInput ? ": bad input" : "", label.empty() ? "" : ": ", label);
  std::istringstream error(row.value("error", std::string()));
  for (std::string line; std::getline(error, line);) text += "    " + line + "\n";
  return text + fmt::format("    log: {}\n",
                            (fs::path(out_dir) / "points" / (row["hash"].get<std::string>() + ".log")).string());
}

int finish_sweep(const SweepSpec& spec, const ResultStore& store, const RunnerOptions& opt, const std::string& where) {
  if (opt.write_pages) opt.write_pages();
  const std::map<size_t, json> rows = store.latest(spec);
  std::string failures;
  size_t failed = 0;
  bool bad_input = false;
  for (const auto& [i, row] : rows) {
    if (row["status"] == "ok") continue;
    ++failed;
    bad_input = bad_input || exit_code_of(row) == kExitBadInput;
    failures += failure_text(spec, row, opt.out_dir);
  }
  if (failed) std::cerr << fmt::format("sweep: {} of {} points failed:\n{}", failed, spec.points.size(), failures);
  std::cerr << fmt::format("sweep: done{}, {} points: {} ok, {} failed{}; results in {}/results.csv\n",
                           where.empty() ? "" : " " + where, rows.size(), rows.size() - failed, failed,
                           folded_text(spec), opt.out_dir);
  // Bad input first: it is what the user fixes, and what a failing internal run may follow from.
  if (bad_input) return kExitBadInput;
  return failed ? kExitInternal : kExitOk;
}

Progress::Progress(const SweepSpec& spec, const RunnerOptions& opt, size_t already_done)
    : m_spec(spec),
      m_opt(opt),
      m_total(spec.points.size()),
      m_done(already_done),
      m_started_with(already_done),
      m_t0(now_s()),
      m_line(!opt.quiet, 0.0) {
  if (!opt.quiet)
    std::cerr << fmt::format("sweep: {} points, {} already done{}\n", m_total, already_done, folded_text(spec));
}

void Progress::draw_bar(double eta) {
  const int width = 30;
  const int filled = static_cast<int>(width * m_done / std::max<size_t>(m_total, 1));
  m_line.show(fmt::format("[{}{}] {}/{} ETA {:.0f} s", std::string(filled, '='), std::string(width - filled, ' '),
                          m_done, m_total, eta));
}

void Progress::point_done(const json& row) {
  ++m_done;
  const double elapsed = now_s() - m_t0;
  const size_t ran = m_done - m_started_with;
  const double eta = ran ? elapsed / static_cast<double>(ran) * static_cast<double>(m_total - m_done) : 0.0;
  const bool failed = row["status"] != "ok";
  if (m_line.active()) {
    // The error goes on lines of its own above the bar, which is drawn again below it.
    if (failed) m_line.message(failure_text(m_spec, row, m_opt.out_dir));
    draw_bar(eta);
  } else {
    if (!m_opt.quiet)
      std::cerr << fmt::format("sweep: {}/{} point {} {} (ETA {:.0f} s)\n", m_done, m_total, row["index"].get<size_t>(),
                               row["status"].get<std::string>(), eta);
    if (failed) std::cerr << failure_text(m_spec, row, m_opt.out_dir);
  }
}

void Progress::finish() { m_line.clear(); }

// ---- dispatch order ---------------------------------------------------------------------

PointOrder::PointOrder(const std::vector<const Point*>& todo, size_t slots, size_t window)
    : m_window(window), m_reorder(slots > 1) {
  m_left.reserve(todo.size());
  for (const Point* p : todo) m_left.push_back({p, value_ids(*p)});
}

std::vector<size_t> PointOrder::value_ids(const Point& p) {
  std::vector<std::string> values = p.assignments();
  if (!p.include.empty()) values.push_back("include=" + p.include);
  std::vector<size_t> ids;
  ids.reserve(values.size());
  for (const auto& v : values) ids.push_back(m_value_ids.emplace(v, m_value_ids.size()).first->second);
  std::sort(ids.begin(), ids.end());
  return ids;
}

size_t PointOrder::window() const { return std::max(m_first, m_left.size() - std::min(m_left.size(), m_window)); }

const Point* PointOrder::take() {
  // Before the last m_window points (the window starts further on), or with nothing to
  // predict from: index order.
  if (!m_reorder || !m_count || window() > m_first) return m_left[m_first++].point;
  const auto predicted = [&](const Left& l) {
    return l.count ? l.log_sum / static_cast<double>(l.count) : m_log_sum / static_cast<double>(m_count);
  };
  size_t best = m_first;
  double longest = predicted(m_left[best]);
  for (size_t i = best + 1; i < m_left.size(); ++i) {
    const double t = predicted(m_left[i]);
    if (t > longest) longest = t, best = i;  // ties: the lower index
  }
  const Point* p = m_left[best].point;
  m_left.erase(m_left.begin() + static_cast<std::ptrdiff_t>(best));
  return p;
}

void PointOrder::ended(const EndedRun& run) {
  if (run.code != 0) return;
  // Runs shorter than a millisecond of CPU are timed as one: the log stays finite.
  const double log_s = std::log(std::max(run.cpu_s, 1e-3));
  m_log_sum += log_s;
  ++m_count;
  const std::vector<size_t> ran = value_ids(*run.point);
  for (auto l = m_left.begin() + static_cast<std::ptrdiff_t>(window()); l != m_left.end(); ++l) {
    size_t shared = 0;  // sorted ids: a merge counts the common ones
    for (auto a = l->values.cbegin(), b = ran.cbegin(); a != l->values.cend() && b != ran.cend();)
      if (*a < *b) ++a;
      else if (*b < *a) ++b;
      else ++shared, ++a, ++b;
    if (shared == 0 || shared < l->shared) continue;
    if (shared > l->shared) l->shared = shared, l->log_sum = 0.0, l->count = 0;
    l->log_sum += log_s;
    ++l->count;
  }
}

// ---- local pool -------------------------------------------------------------------------

PointPool::PointPool(const SweepSpec& spec, const RunnerOptions& opt) : m_spec(spec), m_opt(opt) {}

void PointPool::start(const Point& p) {
  const pid_t pid = start_point(m_spec, p, m_opt);
  if (pid < 0) m_ended.push_back({&p, wait_child(pid), 0.0});  // no child: failed as a run that cannot start
  else m_running[pid] = &p;
}

bool PointPool::reap_one(int flags) {
  int status = 0;
  struct rusage usage {};
  const pid_t pid = ::wait4(-1, &status, flags, &usage);
  if (pid < 0 && errno != EINTR)
    throw std::runtime_error(fmt::format("sweep: waiting for a point's run: {}", std::strerror(errno)));
  const auto it = pid > 0 ? m_running.find(pid) : m_running.end();
  if (it == m_running.end()) return false;
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec);
  };
  m_ended.push_back({it->second, exit_code_of_status(status), seconds(usage.ru_utime) + seconds(usage.ru_stime)});
  m_running.erase(it);
  return true;
}

void PointPool::reap() {
  if (reap_one(0))
    while (!m_running.empty() && reap_one(WNOHANG)) {
    }
}

std::vector<EndedRun> PointPool::take_ended() {
  std::vector<EndedRun> ended;
  ended.swap(m_ended);
  return ended;
}

int run_local(const SweepSpec& spec, const RunnerOptions& opt) {
  ResultStore store(opt.out_dir);
  std::vector<const Point*> todo;
  for (const auto& p : spec.points)
    if (!store.done(p, opt.retry_failed)) todo.push_back(&p);
  Progress progress(spec, opt, spec.points.size() - todo.size());
  // One thread keeps up to `jobs` children running and reaps them as they end, so a fork
  // never happens while another thread holds a lock the child would need, and rows are
  // appended by one writer. Finished points are replaced before their rows are written (each
  // write waits for the disk), so the workers never wait for the bookkeeping. An error here
  // (a point's config or results that cannot be written) stops the sweep: no new point
  // starts, the running ones are waited for (their rows dropped), and the error is reported
  // once all have stopped. Points start longest predicted first (PointOrder).
  PointPool pool(spec, opt);
  std::exception_ptr failure;
  const size_t jobs = static_cast<size_t>(std::max(1, opt.jobs));
  PointOrder order(todo, jobs);
  while (true) {
    try {
      // What just ended informs the order before its slots are filled again.
      std::vector<EndedRun> ended = pool.take_ended();
      for (const EndedRun& run : ended) order.ended(run);
      while (!failure && pool.running() < jobs && !order.empty()) pool.start(*order.take());
      for (const EndedRun& run : pool.take_ended()) ended.push_back(run);  // runs that could not start
      if (!failure) {
        std::vector<json> rows;
        rows.reserve(ended.size());
        for (const EndedRun& run : ended) rows.push_back(point_row(*run.point, opt, run.code));
        store.append(spec, rows);
        for (const json& row : rows) progress.point_done(row);
      }
    } catch (...) {
      if (!failure) failure = std::current_exception();
    }
    if (pool.running() == 0) break;
    pool.reap();
  }
  if (failure) {
    progress.finish();
    std::cerr << fmt::format(
        "sweep: stopped; the {} rows in {}/results.jsonl are kept, and running the sweep "
        "again resumes after them\n",
        store.size(), opt.out_dir);
    std::rethrow_exception(failure);
  }
  progress.finish();
  store.finalize(spec);
  return finish_sweep(spec, store, opt, "");
}

}  // namespace bpsim::sweep
