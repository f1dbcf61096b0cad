#pragma once
/// Waveforms (`bpsim run --trace-vcd FILE`): the Verilated blocks and the model's op
/// sequence. A block that can be traced registers a tracer when it is built; the engine adds
/// rtl/engine/op_probe.sv (scope `model.dut`), whose inputs it drives as each op is handed
/// over, then opens one VCD after elaboration and hands it to every tracer.
#include <cstdint>
#include <functional>
#include <string>

class VerilatedVcdC;

namespace bpsim::waveform {

/// Asks for a VCD at `path`; call before any block is constructed (Verilator must know
/// that tracing is on before its models are built). Checks the destination first (an
/// existing file needs `force`; its folder must exist and be writable): exit 2 if not.
/// The VCD is written under a temporary name in that folder and renamed at close().
void request(const std::string& path, bool force);
bool requested();
/// Adds a block's signals: `trace(vcd, levels)` (a Verilated model's trace method).
void add(std::function<void(VerilatedVcdC*, int)> trace);
/// Creates the op probe and the module that opens the VCD at the start of simulation.
void open_after_elaboration();
/// The model handed over an op's record: the probe shows its index, phase, kind, cycles.
void op_started(const std::string& phase, const std::string& kind, uint64_t cycles);
/// Finishes the VCD (after sc_start returns) and moves it into place; a failed write
/// throws with the OS's reason (exit 1 for a full disk) and leaves no file at `path`.
void close();
/// Whatever the run did, on leaving its scope: a VCD not moved into place by close() is
/// stopped and its temporary removed.
struct Guard {
  Guard() = default;
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
  ~Guard();
};

}  // namespace bpsim::waveform
