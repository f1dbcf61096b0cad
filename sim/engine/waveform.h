#pragma once
/// Waveforms of the Verilated blocks (`bpsim run --trace-vcd FILE`). A block that can be
/// traced registers a tracer when it is built; the engine opens one VCD after elaboration
/// and hands it to every tracer, so the file holds every RTL block of the run.
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
/// Creates the module that opens the VCD at the start of simulation. Throws InputError
/// when a VCD was requested but no block can be traced.
void open_after_elaboration();
/// Flushes and closes the VCD (after sc_start returns).
void close();

}  // namespace bpsim::waveform
