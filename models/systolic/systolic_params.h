#pragma once
/// The systolic array's parameters: each declared once and bound to its field of SystolicSpec.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/energy.h"
#include "sim/core/enum_names.h"
#include "sim/core/params.h"
#include "sim/ir/ir.h"

namespace bpsim::systolic {

/// Which GEMM operand stays in the PEs: weights (ws), outputs (os) or inputs (is).
enum class Dataflow { ws, os, is };
inline constexpr config::EnumName<Dataflow> kDataflowNames[] = {
    {Dataflow::ws, "ws"}, {Dataflow::os, "os"}, {Dataflow::is, "is"}};
/// overlapped: next fold's preload hides behind the current stream; scalesim: SCALE-Sim v2's
/// per-fold formula, folds back to back (for comparison with its reports).
enum class Timing { overlapped, scalesim };
inline constexpr config::EnumName<Timing> kTimingNames[] = {{Timing::overlapped, "overlapped"},
                                                            {Timing::scalesim, "scalesim"}};
/// How a conv's input operand reaches the array. line_buffer: an on-chip line buffer holds a
/// window of ifmap rows and builds the im2col stream, so each ifmap byte leaves DRAM once per
/// pass (conv_input.h); im2col: the lowered matrix lies in DRAM (software im2col) and is read
/// as it stands, every duplicate included.
enum class ConvInput { line_buffer, im2col };
inline constexpr config::EnumName<ConvInput> kConvInputNames[] = {{ConvInput::line_buffer, "line_buffer"},
                                                                  {ConvInput::im2col, "im2col"}};
enum class SparsityMode { off, gate, skip };
inline constexpr config::EnumName<SparsityMode> kSparsityModeNames[] = {
    {SparsityMode::off, "off"}, {SparsityMode::gate, "gate"}, {SparsityMode::skip, "skip"}};
/// The structure a mask describes: single outputs, whole output rows (one M index), whole
/// output columns (one N index), or rows×cols output tiles.
enum class Granularity { element, row, col, tile };
inline constexpr config::EnumName<Granularity> kGranularityNames[] = {{Granularity::element, "element"},
                                                                      {Granularity::row, "row"},
                                                                      {Granularity::col, "col"},
                                                                      {Granularity::tile, "tile"}};
/// How each GEMM's tile loops are ordered and sized (docs/systolic.md, "Mapping and loop
/// order"). automatic: exhaustive, or fixed with timing: scalesim (SCALE-Sim's own plan).
/// What the array does with a weight stored compact (weight_format: csr or bitmap): off
/// decodes it to dense in the weight buffer and multiplies the zeros; row skips the
/// reduction steps whose weights are zero across a whole column fold (a weight row of the
/// fold), the index driving the input addresses. Single zero weights cannot be skipped: a
/// row's input is shared by every column of the array.
enum class WeightSkip { off, row };
inline constexpr config::EnumName<WeightSkip> kWeightSkipNames[] = {{WeightSkip::off, "off"}, {WeightSkip::row, "row"}};

enum class MapSearch { automatic, fixed, exhaustive };
inline constexpr config::EnumName<MapSearch> kMapSearchNames[] = {
    {MapSearch::automatic, "auto"}, {MapSearch::fixed, "fixed"}, {MapSearch::exhaustive, "exhaustive"}};
/// What the search minimises first (ties go to the other, then to buffer traffic).
enum class MapObjective { dram_bytes, cycles };
inline constexpr config::EnumName<MapObjective> kMapObjectiveNames[] = {{MapObjective::dram_bytes, "dram_bytes"},
                                                                        {MapObjective::cycles, "cycles"}};
enum class Pattern { from_op, density, nm };
inline constexpr config::EnumName<Pattern> kPatternNames[] = {
    {Pattern::from_op, "from_op"}, {Pattern::density, "density"}, {Pattern::nm, "nm"}};

// Fields are zero until parsed, not defaulted: the schema declares the defaults (a spec of
// them all: systolic_defaults()).
struct SramConfig {
  uint64_t input_bytes{}, weight_bytes{}, output_bytes{};
  bool double_buffer{};
  unsigned bytes_per_cycle{};  ///< per buffer, towards the array
};

struct SparsityConfig {
  SparsityMode mode{};
  Granularity granularity{};
  Pattern pattern{};
  double density{};
  unsigned n{}, m{};
};

struct MapperConfig {
  MapSearch search{};  ///< resolved by parse_systolic_spec: never automatic afterwards
  MapObjective objective{};
};

struct SystolicSpec {
  unsigned rows{}, cols{}, stages{};
  Dataflow dataflow{};
  Timing timing{};
  ConvInput conv_input{};
  double clock_ghz{};
  bool dtype_from_workload{};
  workload::DType dtype{};  ///< when not from the workload
  unsigned vector_lanes{};  ///< 0: one lane per array column
  SramConfig sram;
  SparsityConfig sparsity;
  WeightSkip weight_skip{};
  MapperConfig mapper;
  bool rtl_backend{};  ///< backend: rtl — folds run on the Verilated PE array
  /// The op's compute type: the configured one, or the workload's (binary runs as int8).
  workload::DType compute_dtype(workload::DType op_dtype) const;
  /// Empty when the array can compute an op of `op_dtype`; otherwise why not (the array's
  /// type cannot hold every value of the op's: an fp32 or bf16 training step on int8 PEs).
  std::string dtype_refusal(workload::DType op_dtype) const;
  unsigned lanes() const { return vector_lanes ? vector_lanes : cols; }
};

/// Whether PEs built for `array` take every value of `op` as an operand exactly (every value
/// of `op` is a value of `array`): int8 and binary fit every type (an 8-bit
/// integer has at most 8 significant bits, bf16 holds 8); fp16 and bf16 fit only themselves
/// and fp32 (fp16 has 11 significant bits, more than bf16's 8; bf16 has an 8-bit exponent,
/// wider than fp16's 5); fp32 fits only fp32.
bool holds_exactly(workload::DType array, workload::DType op);
/// The accumulator type of PEs built for `d`: "int32" for int8 (and binary), "fp32" otherwise.
const char* accumulator_name(workload::DType d);

std::shared_ptr<const config::Schema> systolic_schema();
/// Throws InputError for combinations the schema cannot express (rows not divisible by stages…).
SystolicSpec parse_systolic_spec(const config::Values& v);
/// parse_systolic_spec, made once per validated values (the op-cost estimate and the model
/// share it).
const SystolicSpec& systolic_spec_of(const config::Values& v);
/// The spec every parameter's declared default gives (for tests that vary a few fields).
SystolicSpec systolic_defaults();

inline const char* to_string(Dataflow d) { return config::enum_name(kDataflowNames, d); }

}  // namespace bpsim::systolic
