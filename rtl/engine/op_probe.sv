// The model's progress as signals of the run's VCD (`bpsim run --trace-vcd FILE`). The
// engine drives the inputs as each op's record is handed over (at the op's start in
// simulated time); Verilator traces them with the RTL blocks, so one file shows the op
// sequence next to the blocks' signals. No logic beyond passing the values on.
module op_probe (
    input  logic [31:0] op_index,   // ops handed over so far - 1, in execution order
    input  logic [2:0]  phase,      // 0 forward, 1 backward_data, 2 backward_weight, 3 recompute, 4 update, 7 other
    input  logic [3:0]  kind,       // workload OpKind in its declared order (0 gemm ...), 15 a model's own kind
    input  logic [63:0] op_cycles,  // the op's cycles, as in the report's ops[i].cycles
    output logic [31:0] ops_started,
    output logic [6:0]  phase_kind,
    output logic [63:0] last_cycles
);
  assign ops_started = op_index + 32'd1;
  assign phase_kind = {phase, kind};
  assign last_cycles = op_cycles;
endmodule
