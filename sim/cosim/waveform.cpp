#include "sim/cosim/waveform.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include <verilated.h>
#include <verilated_vcd_sc.h>
#include <systemc>

#include "Vop_probe.h"
#include "sim/core/error.h"
#include "sim/core/output_files.h"
#include "sim/ir/ir.h"

namespace bpsim::waveform {

namespace {
/// The engine's view of the model in the VCD: rtl/engine/op_probe.sv, driven per op.
struct Probe : sc_core::sc_module {
  sc_core::sc_signal<uint32_t> op_index{"op_index"}, phase{"phase"}, kind{"kind"}, ops_started{"ops_started"},
      phase_kind{"phase_kind"};
  sc_core::sc_signal<uint64_t> op_cycles{"op_cycles"}, last_cycles{"last_cycles"};
  Vop_probe dut{"dut"};
  uint32_t next = 0;
  explicit Probe(sc_core::sc_module_name n) : sc_core::sc_module(n) {
    dut.op_index(op_index);
    dut.phase(phase);
    dut.kind(kind);
    dut.op_cycles(op_cycles);
    dut.ops_started(ops_started);
    dut.phase_kind(phase_kind);
    dut.last_cycles(last_cycles);
  }
};

/// Verilator writes the VCD into a pipe, and `drain` copies the pipe into a temporary file
/// next to the destination: Verilator never sees a write fail (on one it reports a fatal
/// error whose flush callbacks wait on the lock it holds: a hang), and the copy keeps the
/// OS's reason for the end of the run, when `file` is renamed into place or removed.
struct State {
  std::string path;
  std::vector<std::function<void(VerilatedVcdC*, int)>> tracers;
  std::unique_ptr<VerilatedVcdSc> vcd;
  Probe* probe = nullptr;
  std::unique_ptr<output::File> file;
  std::thread drain;
};
State& state() {
  static State s;
  return s;
}

/// Opens the VCD once elaboration is done (Verilator's VerilatedVcdSc::open requires it),
/// before the first delta cycle, so the file starts at time 0.
struct Opener : sc_core::sc_module {
  explicit Opener(sc_core::sc_module_name n) : sc_core::sc_module(n) {}
  void start_of_simulation() override {
    State& s = state();
    s.vcd = std::make_unique<VerilatedVcdSc>();
    for (const auto& t : s.tracers) t(s.vcd.get(), 99);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) output::fail("cannot write", s.path, errno);
    ::fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);                            // fewer round trips; the default size works too
    s.vcd->open(("/proc/self/fd/" + std::to_string(fds[1])).c_str());  // Verilator opens its own end
    ::close(fds[1]);
    s.drain = std::thread(copy_pipe, fds[0], s.file.get());
    if (!s.vcd->isOpen()) throw std::runtime_error("--trace-vcd: cannot open the pipe to " + s.path);
  }
  /// Copies the pipe into the file until Verilator closes its end. After a failed write
  /// the file drops the rest (File keeps the error) but the pipe is still read to its end.
  static void copy_pipe(int fd, output::File* file) {
    std::vector<char> buf(1 << 16);
    for (;;) {
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      file->out().write(buf.data(), n);
    }
    ::close(fd);
  }
};

/// Closes Verilator's writer and waits for the copy to finish.
void stop_writing() {
  State& s = state();
  if (s.vcd) s.vcd->close();
  if (s.drain.joinable()) s.drain.join();
}
}  // namespace

void request(const std::string& path, bool force) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec) && std::filesystem::exists(path, ec) && !force)
    throw InputError("--trace-vcd: " + path + " exists (pass --force to replace it)");
  State& s = state();
  // The temporary is created now: a missing or read-only folder, a folder in the file's
  // place or a name too long stop the run before it simulates.
  s.file = std::make_unique<output::File>(path, size_t(1) << 20);
  s.path = path;
  Verilated::traceEverOn(true);
}

bool requested() { return !state().path.empty(); }

void add(std::function<void(VerilatedVcdC*, int)> trace) { state().tracers.push_back(std::move(trace)); }

void open_after_elaboration() {
  if (!requested()) return;
  State& s = state();
  s.probe = new Probe("model");  // lives as long as the simulation
  add([p = s.probe](VerilatedVcdC* vcd, int levels) { p->dut.trace(vcd, levels); });
  static Opener* opener = new Opener("waveform_opener");
  (void)opener;
}

void op_started(const std::string& phase, const std::string& kind, uint64_t cycles) {
  Probe* p = state().probe;
  if (!p) return;
  workload::Phase ph{};
  workload::OpKind k{};
  p->op_index = p->next++;
  p->phase = workload::phase_from_string(phase, ph) ? uint32_t(ph) : 7u;
  p->kind = workload::op_kind_from_string(kind, k) ? uint32_t(k) : 15u;
  p->op_cycles = cycles;
}

void close() {
  State& s = state();
  if (!s.file) return;
  stop_writing();
  s.file->commit();  // reports a failed write with its reason; the guard then removes the temporary
  s.file.reset();
}

Guard::~Guard() {
  stop_writing();
  state().file.reset();  // not committed: its temporary is removed
}

}  // namespace bpsim::waveform
