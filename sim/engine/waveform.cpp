#include "sim/engine/waveform.h"

#include <memory>
#include <vector>

#include <systemc>
#include <verilated.h>
#include <verilated_vcd_sc.h>

#include "sim/core/error.h"

namespace bpsim::waveform {

namespace {
struct State {
  std::string path;
  std::vector<std::function<void(VerilatedVcdC*, int)>> tracers;
  std::unique_ptr<VerilatedVcdSc> vcd;
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
  if (state().tracers.empty())
    throw InputError("--trace-vcd: this run has no RTL block to trace (set accelerator.backend: rtl on a model "
                     "that has one)");
  static Opener* opener = new Opener("waveform_opener");  // lives as long as the simulation
  (void)opener;
}

void close() {
  if (state().vcd) state().vcd->close();
}

}  // namespace bpsim::waveform
