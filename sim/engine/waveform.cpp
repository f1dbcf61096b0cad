#include "sim/engine/waveform.h"

#include <memory>
#include <vector>

#include <systemc>
#include <verilated.h>
#include <verilated_vcd_sc.h>

#include "Vop_probe.h"
#include "sim/core/error.h"
#include "sim/workload/ir.h"

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

struct State {
  std::string path;
  std::vector<std::function<void(VerilatedVcdC*, int)>> tracers;
  std::unique_ptr<VerilatedVcdSc> vcd;
  Probe* probe = nullptr;
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
    s.vcd->open(s.path.c_str());
  }
};
}  // namespace

void request(const std::string& path) {
  state().path = path;
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
  if (state().vcd) state().vcd->close();
}

}  // namespace bpsim::waveform
