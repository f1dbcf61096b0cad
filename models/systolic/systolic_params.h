#pragma once
/// The systolic array's parameters: declared once (schema), parsed into a plain struct.
#include <cstdint>
#include <memory>
#include <vector>

#include "sim/core/energy.h"
#include "sim/core/params.h"
#include "sim/ir/ir.h"

namespace bpsim::systolic {

/// Which GEMM operand stays in the PEs: weights (ws), outputs (os) or inputs (is).
enum class Dataflow { ws, os, is };
/// overlapped: next fold's preload hides behind the current stream; scalesim: SCALE-Sim v2's
/// per-fold formula, folds back to back (for comparison with its reports).
enum class Timing { overlapped, scalesim };
enum class SparsityMode { off, gate, skip };
/// The structure a mask describes: single outputs, whole output rows (one M index), whole
/// output columns (one N index), or rows×cols output tiles.
enum class Granularity { element, row, col, tile };
enum class Pattern { from_op, density, nm };

struct SramConfig {
  uint64_t input_bytes = 0, weight_bytes = 0, output_bytes = 0;
  bool double_buffer = true;
  unsigned bytes_per_cycle = 64;  ///< per buffer, towards the array
};

struct SparsityConfig {
  SparsityMode mode = SparsityMode::off;
  Granularity granularity = Granularity::element;
  Pattern pattern = Pattern::from_op;
  double density = 1.0;
  unsigned n = 2, m = 4;
};

struct SystolicSpec {
  unsigned rows = 32, cols = 32, stages = 1;
  Dataflow dataflow = Dataflow::ws;
  Timing timing = Timing::overlapped;
  double clock_ghz = 1.0;
  bool dtype_from_workload = true;
  workload::DType dtype = workload::DType::int8;  ///< when not from the workload
  unsigned vector_lanes = 0;                      ///< 0: one lane per array column
  SramConfig sram;
  SparsityConfig sparsity;
  bool rtl_backend = false;  ///< backend: rtl — folds run on the Verilated PE array
  /// The op's compute type: the configured one, or the workload's (binary runs as int8).
  workload::DType compute_dtype(workload::DType op_dtype) const;
  unsigned lanes() const { return vector_lanes ? vector_lanes : cols; }
};

std::shared_ptr<const config::Schema> systolic_schema();
/// Throws InputError for combinations the schema cannot express (rows not divisible by stages…).
SystolicSpec parse_systolic_spec(const config::Values& v);

const char* to_string(Dataflow d);

}  // namespace bpsim::systolic
