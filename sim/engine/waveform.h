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
/// that tracing is on before its models are built).
void request(const std::string& path);
bool requested();
/// Adds a block's signals: `trace(vcd, levels)` (a Verilated model's trace method).
void add(std::function<void(VerilatedVcdC*, int)> trace);
/// Creates the op probe and the module that opens the VCD at the start of simulation.
void open_after_elaboration();
/// The model handed over an op's record: the probe shows its index, phase, kind, cycles.
void op_started(const std::string& phase, const std::string& kind, uint64_t cycles);
/// Flushes and closes the VCD (after sc_start returns).
void close();

}  // namespace bpsim::waveform
