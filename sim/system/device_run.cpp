#include "sim/system/device_run.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "sim/core/error.h"

namespace bpsim::system {

namespace {

/// Writes all of `s` to `fd` (a pipe), retrying short writes.
void write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the parent went away: nothing to tell
    done += size_t(n);
  }
}

/// The child's answer: one tag byte ('R' report, 'I' input error, 'E' other error), then text
/// (with `check_only`, the model is built, not run, and the report is an empty object).
[[noreturn]] void child(RunSpec& spec, int fd, bool check_only) {
  std::string out;
  try {
    spec.run.report_ops = ReportOps::all;
    Simulation sim(spec);
    out = "R" + (check_only ? std::string("{}") : sim.run().dump());
  } catch (const InputError& e) {
    out = std::string("I") + e.what();
  } catch (const std::exception& e) {
    out = std::string("E") + e.what();
  } catch (...) {
    out = "Eunknown exception";
  }
  write_all(fd, out);
  ::close(fd);
  std::fflush(nullptr);
  ::_exit(0);  // not the parent's exit handlers (SystemC's)
}

/// simulate_device and check_device: the child's answer, as a report or the child's error.
nlohmann::json in_child(RunSpec& spec, const std::string& device, bool check_only) {
  if (!spec.kind || spec.system || spec.stream) throw std::logic_error("simulate_device: a one-device spec expected");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("simulate_device: pipe failed");
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error("simulate_device: fork failed");
  }
  if (pid == 0) {
    ::close(fds[0]);
    child(spec, fds[1], check_only);
  }
  ::close(fds[1]);
  std::string in;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    in.append(buf, size_t(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (in.empty())
    throw std::runtime_error("device '" + device + "': its simulation ended without a report (status " +
                             std::to_string(status) + ")");
  const std::string text = in.substr(1);
  if (in[0] == 'I') throw InputError("device '" + device + "': " + text);
  if (in[0] != 'R') throw std::runtime_error("device '" + device + "': " + text);
  return nlohmann::json::parse(text);
}

}  // namespace

DeviceReport simulate_device(RunSpec& spec, const std::string& device) {
  DeviceReport r;
  r.report = in_child(spec, device, false);
  r.clock_ghz = r.report.at("clock_ghz").get<double>();
  return r;
}

void check_device(RunSpec& spec, const std::string& device) { in_child(spec, device, true); }

OpTimes op_times(const workload::OpGraph& g, const DeviceReport& report, const std::string& device) {
  std::unordered_map<std::string, uint32_t> by_name;
  by_name.reserve(g.ops.size());
  for (const workload::Op& o : g.ops) by_name.emplace(o.name, o.id);
  OpTimes t;
  t.entry.assign(g.ops.size(), nullptr);
  t.seconds.assign(g.ops.size(), 0);
  for (const nlohmann::json& e : report.report.at("ops")) {
    const auto it = by_name.find(e.at("name").get<std::string>());
    if (it == by_name.end())
      throw std::runtime_error("device '" + device + "': its report names an op not in its graph");
    t.entry[it->second] = &e;
  }
  const double hz = report.clock_ghz * 1e9;
  uint64_t end = 0;
  for (const workload::Op& o : g.ops) {
    const nlohmann::json* e = t.entry[o.id];
    if (!e) throw std::runtime_error("device '" + device + "': op '" + o.name + "' missing from its report");
    const uint64_t start = e->at("start_cycle").get<uint64_t>(), cycles = e->at("cycles").get<uint64_t>();
    if (start < end)
      throw InputError("device '" + device + "': its model overlaps ops ('" + o.name +
                       "' starts before the op before it ends); parallelism is modelled for devices that run one op "
                       "at a time");
    t.seconds[o.id] = double(start + cycles - end) / hz;
    end = start + cycles;
  }
  return t;
}

workload::OpGraph subgraph(const workload::OpGraph& g, const std::vector<uint32_t>& ops) {
  workload::OpGraph s;
  s.name = g.name;
  s.dtype = g.dtype;
  s.batch = g.batch;
  s.tensors = g.tensors;
  std::unordered_map<uint32_t, uint32_t> renumber;
  renumber.reserve(ops.size());
  for (uint32_t id : ops) {
    workload::Op op = g.ops.at(id);
    const uint32_t n = uint32_t(s.ops.size());
    renumber.emplace(id, n);
    op.id = n;
    std::vector<uint32_t> deps;
    for (uint32_t d : op.deps)
      if (auto it = renumber.find(d); it != renumber.end()) deps.push_back(it->second);
    op.deps = std::move(deps);
    s.ops.push_back(std::move(op));
  }
  return s;
}

}  // namespace bpsim::system
