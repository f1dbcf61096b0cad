#include "models/systolic/systolic_params.h"

#include <string>

#include "models/systolic/rtl_array.h"

namespace bpsim::systolic {

std::shared_ptr<const config::Schema> systolic_schema() {
  static std::shared_ptr<const config::Schema> s = [] {
    auto sram = std::make_shared<config::Schema>("systolic.sram", "operand buffers between DRAM and the array");
    sram->integer("input_kib", "KiB", "input (activation) buffer").def(256).range(1, 1 << 22);
    sram->integer("weight_kib", "KiB", "weight buffer").def(256).range(1, 1 << 22);
    sram->integer("output_kib", "KiB", "output / partial-sum buffer").def(128).range(1, 1 << 22);
    sram->boolean("double_buffer", "halve each buffer so the next fold's loads overlap the current fold").def(true);
    sram->integer("bytes_per_cycle", "B/cycle", "bandwidth of each buffer towards the array").def(256).range(1, 1 << 20);

    auto sp = std::make_shared<config::Schema>("systolic.output_sparsity", "output-sparsity metadata");
    sp->choice("mode", {"off", "gate", "skip"}, "gate: masked MACs power-gated (energy, not cycles); skip: wholly masked rows/cols/tiles removed from the schedule").def("off");
    sp->choice("granularity", {"element", "row", "col", "tile"}, "structure the mask describes: one output, an output row (M index), an output column (N index), a rows×cols output tile").def("element");
    sp->choice("pattern", {"from_op", "density", "nm"}, "from_op: the op's own mask (ReLU, pruning); density: seeded random pattern on every GEMM; nm: N needed of every M units").def("from_op");
    sp->real("density", "", "fraction of needed units (pattern: density)").def(1.0).range(0, 1);
    sp->integer("n", "", "needed units per group (pattern: nm)").def(2).range(0, 1024);
    sp->integer("m", "", "group size (pattern: nm)").def(4).range(1, 1024);

    auto a = std::make_shared<config::Schema>("systolic", "R×C multiply-accumulate array (ws/os/is) with output-sparsity gating/skipping");
    a->integer("rows", "PEs", "array rows R").def(32).range(1, 65536);
    a->integer("cols", "PEs", "array columns C").def(32).range(1, 65536);
    a->integer("stages", "", "pipeline stages along the reduction (rows) dimension; each boundary adds a partial-sum register").def(1).range(1, 1024);
    a->choice("dataflow", {"ws", "os", "is"}, "stationary operand: weights, outputs or inputs").def("ws");
    a->choice("timing", {"overlapped", "scalesim"}, "overlapped: preloads hidden behind streams; scalesim: SCALE-Sim v2 compute cycles").def("overlapped");
    a->real("clock_ghz", "GHz", "clock").def(1.0).range(config::kMinClockGhz, config::kMaxClockGhz);
    a->choice("dtype", {"workload", "int8", "fp16", "bf16", "fp32"}, "operand type (fp16/bf16 accumulate in fp32, int8 in int32); workload: the op's own").def("workload");
    a->integer("vector_lanes", "lanes", "vector unit for non-GEMM ops, elements per cycle (0: one per column)").def(0).range(0, 1 << 20);
    a->choice("backend", {"model", "rtl"}, "model: the fold core's formulas; rtl: every fold runs on the Verilated PE array (4x4 or 8x8, ws, scalesim timing, int8, 1 stage, output sparsity off or gate by column)").def("model");
    a->group("sram", sram, "operand buffers");
    a->group("output_sparsity", sp, "output-sparsity metadata");
    return a;
  }();
  return s;
}

workload::DType SystolicSpec::compute_dtype(workload::DType op_dtype) const {
  const workload::DType d = dtype_from_workload ? op_dtype : dtype;
  return d == workload::DType::binary ? workload::DType::int8 : d;
}

SystolicSpec parse_systolic_spec(const config::Values& v) {
  SystolicSpec s;
  s.rows = unsigned(v.i("rows"));
  s.cols = unsigned(v.i("cols"));
  s.stages = unsigned(v.i("stages"));
  if (s.stages > s.rows || s.rows % s.stages != 0)
    throw v.error("stages", "stages must divide rows (rows " + std::to_string(s.rows) + ", stages " +
                                std::to_string(s.stages) + ")");
  const std::string& df = v.s("dataflow");
  s.dataflow = df == "os" ? Dataflow::os : df == "is" ? Dataflow::is : Dataflow::ws;
  s.timing = v.s("timing") == "scalesim" ? Timing::scalesim : Timing::overlapped;
  s.clock_ghz = v.f("clock_ghz");
  s.dtype_from_workload = v.s("dtype") == "workload";
  if (!s.dtype_from_workload) workload::dtype_from_string(v.s("dtype"), s.dtype);
  s.vector_lanes = unsigned(v.i("vector_lanes"));

  const config::Values& m = v.g("sram");
  s.sram.input_bytes = uint64_t(m.i("input_kib")) * 1024;
  s.sram.weight_bytes = uint64_t(m.i("weight_kib")) * 1024;
  s.sram.output_bytes = uint64_t(m.i("output_kib")) * 1024;
  s.sram.double_buffer = m.b("double_buffer");
  s.sram.bytes_per_cycle = unsigned(m.i("bytes_per_cycle"));

  const config::Values& p = v.g("output_sparsity");
  const std::string& mode = p.s("mode");
  s.sparsity.mode = mode == "gate" ? SparsityMode::gate : mode == "skip" ? SparsityMode::skip : SparsityMode::off;
  const std::string& g = p.s("granularity");
  s.sparsity.granularity = g == "row" ? Granularity::row : g == "col" ? Granularity::col
                         : g == "tile" ? Granularity::tile : Granularity::element;
  const std::string& pat = p.s("pattern");
  s.sparsity.pattern = pat == "density" ? Pattern::density : pat == "nm" ? Pattern::nm : Pattern::from_op;
  s.sparsity.density = p.f("density");
  s.sparsity.n = unsigned(p.i("n"));
  s.sparsity.m = unsigned(p.i("m"));
  if (s.sparsity.n > s.sparsity.m)
    throw p.error("n", "n (" + std::to_string(s.sparsity.n) + ") must not exceed m (" + std::to_string(s.sparsity.m) + ")");
  s.rtl_backend = v.s("backend") == "rtl";
  if (s.rtl_backend) {
    std::vector<std::string> need;  // every unmet constraint at once
    if (!rtl_array_supported(s.rows, s.cols)) need.push_back("rows x cols 4x4 or 8x8 (the verilated sizes)");
    if (s.dataflow != Dataflow::ws) need.push_back("dataflow: ws");
    if (s.timing != Timing::scalesim) need.push_back("timing: scalesim (folds back to back, as the array runs them)");
    if (s.stages != 1) need.push_back("stages: 1");
    if (s.dtype_from_workload || s.dtype != workload::DType::int8) need.push_back("dtype: int8");
    if (s.sparsity.mode == SparsityMode::skip ||
        (s.sparsity.mode == SparsityMode::gate && s.sparsity.granularity != Granularity::col))
      need.push_back("output_sparsity.mode: off, or gate with granularity: col (the array masks whole columns)");
    if (!need.empty()) throw v.error("backend", "rtl needs " + config::join(need, "; and "));
  }
  return s;
}

const char* to_string(Dataflow d) { return d == Dataflow::ws ? "ws" : d == Dataflow::os ? "os" : "is"; }

}  // namespace bpsim::systolic
