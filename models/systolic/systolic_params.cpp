#include "models/systolic/systolic_params.h"

#include <optional>
#include <string>

#include "models/systolic/rtl_array.h"
#include "sim/core/binder.h"

namespace bpsim::systolic {

namespace {

using config::Into;

/// The `dtype` choices: the workload's own type, or one the array computes in.
std::vector<config::EnumName<std::optional<workload::DType>>> dtype_names() {
  std::vector<config::EnumName<std::optional<workload::DType>>> t = {{std::nullopt, "workload"}};
  for (workload::DType d : {workload::DType::int8, workload::DType::fp16, workload::DType::bf16, workload::DType::fp32})
    t.push_back({d, workload::to_string(d)});
  return t;
}

const config::Binder<SystolicSpec>& systolic_binder() {
  static const config::Binder<SystolicSpec> a = [] {
    config::Binder<SramConfig> sram("systolic.sram", "operand buffers between DRAM and the array");
    sram.integer("input_kib", &SramConfig::input_bytes, "KiB", "input (activation) buffer")
        .def(256)
        .range(1, 1 << 22)
        .scale(1024);
    sram.integer("weight_kib", &SramConfig::weight_bytes, "KiB", "weight buffer")
        .def(256)
        .range(1, 1 << 22)
        .scale(1024);
    sram.integer("output_kib", &SramConfig::output_bytes, "KiB", "output / partial-sum buffer")
        .def(128)
        .range(1, 1 << 22)
        .scale(1024);
    sram.boolean("double_buffer", &SramConfig::double_buffer,
                 "halve each buffer so the next fold's loads overlap the current fold")
        .def(true);
    sram.integer("bytes_per_cycle", &SramConfig::bytes_per_cycle, "B/cycle",
                 "bandwidth of each buffer towards the array")
        .def(256)
        .range(1, 1 << 20);

    config::Binder<SparsityConfig> sp("systolic.output_sparsity", "output-sparsity metadata");
    sp.choice("mode", &SparsityConfig::mode, kSparsityModeNames,
              "gate: masked MACs power-gated (energy, not cycles); skip: wholly masked rows/cols/tiles removed from "
              "the schedule")
        .def("off");
    sp.choice("granularity", &SparsityConfig::granularity, kGranularityNames,
              "structure the mask describes: one output, an output row (M index), an output column (N index), a "
              "rows×cols output tile")
        .def("element");
    sp.choice("pattern", &SparsityConfig::pattern, kPatternNames,
              "from_op: the op's own mask (ReLU, pruning); density: seeded random pattern on every GEMM; nm: N needed "
              "of every M units")
        .def("from_op");
    sp.real("density", &SparsityConfig::density, "", "fraction of needed units (pattern: density)")
        .def(1.0)
        .range(0, 1);
    sp.integer("n", &SparsityConfig::n, "", "needed units per group (pattern: nm)").def(2).range(0, 1024);
    sp.integer("m", &SparsityConfig::m, "", "group size (pattern: nm)").def(4).range(1, 1024);

    config::Binder<MapperConfig> mp("systolic.mapper", "tile sizes and loop order of each GEMM");
    mp.choice("search", &MapperConfig::search, kMapSearchNames,
              "fixed: one stationary tile at a time, column folds outside row folds (SCALE-Sim's plan); exhaustive: "
              "every loop order and buffer-bounded tiling of the mapspace; auto: exhaustive, or fixed with timing: "
              "scalesim")
        .def("auto");
    mp.choice("objective", &MapperConfig::objective, kMapObjectiveNames,
              "what the search minimises first: DRAM bytes, or estimated cycles (array, buffer and DRAM-bandwidth "
              "bound); ties go to the other")
        .def("dram_bytes");

    config::Binder<SystolicSpec> a("systolic",
                                   "R×C multiply-accumulate array (ws/os/is) with output-sparsity gating/skipping");
    a.integer("rows", &SystolicSpec::rows, "PEs", "array rows R").def(32).range(1, 65536);
    a.integer("cols", &SystolicSpec::cols, "PEs", "array columns C").def(32).range(1, 65536);
    a.integer("stages", &SystolicSpec::stages, "",
              "chained stages along the reduction (rows: K in ws/is); each boundary adds a partial-sum (and mask-bit) "
              "register, stages no K row reaches are bypassed and power-gated; > 1 needs ws or is")
        .def(1)
        .range(1, 1024);
    a.choice("dataflow", &SystolicSpec::dataflow, kDataflowNames, "stationary operand: weights, outputs or inputs")
        .def("ws");
    a.choice("timing", &SystolicSpec::timing, kTimingNames,
             "overlapped: preloads hidden behind streams; scalesim: SCALE-Sim v2 compute cycles")
        .def("overlapped");
    a.choice("conv_input", &SystolicSpec::conv_input, kConvInputNames,
             "conv input operand: line_buffer builds the im2col stream on chip from ifmap rows (each ifmap byte "
             "from DRAM once per pass); im2col reads a lowered matrix from DRAM, every duplicate included")
        .def("line_buffer");
    a.real("clock_ghz", &SystolicSpec::clock_ghz, "GHz", "clock")
        .def(1.0)
        .range(config::kMinClockGhz, config::kMaxClockGhz);
    const Into<SystolicSpec, std::optional<workload::DType>> dtype{
        [](SystolicSpec& s, std::optional<workload::DType> d) {
          s.dtype_from_workload = !d;
          s.dtype = d.value_or(workload::DType::int8);
        }};
    a.choice("dtype", dtype, dtype_names(),
             "type the PEs are built for (fp16/bf16/fp32 accumulate in fp32, int8 in int32); an op whose type it "
             "cannot hold exactly (fp32 or bf16 on int8, fp32 on bf16) is refused; workload: each op at its own "
             "type, PEs built for the widest")
        .def("workload");
    a.integer("vector_lanes", &SystolicSpec::vector_lanes, "lanes",
              "vector unit for non-GEMM ops, elements per cycle (0: one per column)")
        .def(0)
        .range(0, 1 << 20);
    a.choice("backend", &SystolicSpec::rtl_backend, config::kBackendNames,
             "model: the fold core's formulas; rtl: every fold runs on the Verilated PE array (4x4 or 8x8 with 1 "
             "stage, 4x4 with 2; ws, scalesim timing, int8, output sparsity off or gate by column)")
        .def("model");
    a.choice("weight_skip", &SystolicSpec::weight_skip, kWeightSkipNames,
             "compact-format weights (a layer's weight_format other than dense): off decodes them to dense and "
             "multiplies the zeros; row skips reduction steps whose weights are zero across a column fold (ws, os; "
             "linear layers); the index is read either way")
        .def("off");
    a.group("sram", &SystolicSpec::sram, sram, "operand buffers");
    a.group("output_sparsity", &SystolicSpec::sparsity, sp, "output-sparsity metadata");
    a.group("mapper", &SystolicSpec::mapper, mp, "tile sizes and loop order of each GEMM");
    return a;
  }();
  return a;
}

}  // namespace

std::shared_ptr<const config::Schema> systolic_schema() { return systolic_binder().schema(); }

workload::DType SystolicSpec::compute_dtype(workload::DType op_dtype) const {
  const workload::DType d = dtype_from_workload ? op_dtype : dtype;
  return d == workload::DType::binary ? workload::DType::int8 : d;
}

bool holds_exactly(workload::DType array, workload::DType op) {
  using workload::DType;
  if (op == array || array == DType::fp32 || op == DType::binary) return true;
  return op == DType::int8;  // fp16 and bf16 hold every 8-bit integer; int8 holds no float type
}

const char* accumulator_name(workload::DType d) {
  return d == workload::DType::int8 || d == workload::DType::binary ? "int32" : "fp32";
}

std::string SystolicSpec::dtype_refusal(workload::DType op_dtype) const {
  if (dtype_from_workload || holds_exactly(dtype, op_dtype)) return {};
  const std::string op = workload::to_string(op_dtype);
  return std::string(workload::to_string(dtype)) + " PEs (" + accumulator_name(dtype) + " accumulate) cannot compute " +
         op + " operands exactly; set dtype: " + op +
         " (or workload) to build the PEs for it, or run the step in a type they hold (a spec's workload.dtype)";
}

SystolicSpec parse_systolic_spec(const config::Values& v) {
  SystolicSpec s = systolic_binder().parse(v);
  // SCALE-Sim's traffic follows its one plan: timing: scalesim keeps it, and a search asked
  // for by name is refused rather than silently dropped.
  if (s.mapper.search == MapSearch::automatic)
    s.mapper.search = s.timing == Timing::scalesim ? MapSearch::fixed : MapSearch::exhaustive;
  else if (s.mapper.search == MapSearch::exhaustive && s.timing == Timing::scalesim)
    throw v.error("mapper.search",
                  "exhaustive needs timing: overlapped (timing: scalesim keeps SCALE-Sim's fixed plan; use search: "
                  "fixed or auto)");
  if (s.stages > s.rows || s.rows % s.stages != 0)
    throw v.error("stages", "stages must divide rows (rows " + std::to_string(s.rows) + ", stages " +
                                std::to_string(s.stages) + ")");
  if (s.sparsity.n > s.sparsity.m)
    throw v.error("output_sparsity.n",
                  "n (" + std::to_string(s.sparsity.n) + ") must not exceed m (" + std::to_string(s.sparsity.m) + ")");
  if (s.rtl_backend) {
    std::vector<std::string> need;  // every unmet constraint at once
    if (!rtl_array_supported(s.rows, s.cols, 1)) need.emplace_back("rows x cols 4x4 or 8x8 (the verilated sizes)");
    if (s.stages != 1 && !rtl_array_supported(s.rows, s.cols, s.stages))
      need.emplace_back("stages: 1, or 2 on 4x4 (the verilated stage counts)");
    if (s.dataflow != Dataflow::ws) need.emplace_back("dataflow: ws");
    if (s.timing != Timing::scalesim)
      need.emplace_back("timing: scalesim (folds back to back, as the array runs them)");
    if (s.dtype_from_workload || s.dtype != workload::DType::int8) need.emplace_back("dtype: int8");
    if (s.sparsity.mode == SparsityMode::skip ||
        (s.sparsity.mode == SparsityMode::gate && s.sparsity.granularity != Granularity::col))
      need.emplace_back("output_sparsity.mode: off, or gate with granularity: col (the array masks whole columns)");
    if (s.weight_skip != WeightSkip::off) need.emplace_back("weight_skip: off");
    if (!need.empty()) throw v.error("backend", "rtl needs " + config::join(need, "; and "));
  }
  if (s.stages > 1 && s.dataflow == Dataflow::os)
    throw v.error("stages",
                  "stages > 1 needs dataflow ws or is: the stages split the reduction (K) along the rows, "
                  "and os keeps the reduction in time inside each PE (its rows are M)");
  if (s.weight_skip == WeightSkip::row && s.dataflow == Dataflow::is)
    throw v.error("weight_skip",
                  "row needs dataflow ws or os: with inputs stationary the weights stream along N, so a zero weight "
                  "row does not free a reduction step of the array");
  return s;
}

const SystolicSpec& systolic_spec_of(const config::Values& v) { return v.parsed<SystolicSpec>(parse_systolic_spec); }

SystolicSpec systolic_defaults() {
  static const config::Values v = config::validate(config::Node{}, *systolic_schema(), "accelerator");
  return parse_systolic_spec(v);
}

}  // namespace bpsim::systolic
