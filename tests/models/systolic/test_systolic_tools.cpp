// Hidden helper ([.] — never run by ctest) used by scripts/bench_systolic.sh and
// scripts/compare_scalesim.sh: converts a SCALE-Sim topology CSV into a bpsim trace, until
// the engine accepts `workload: {scalesim: FILE}` directly. Environment:
// BPSIM_CSV (input), BPSIM_TRACE (output), BPSIM_BATCH (M × batch), BPSIM_TRAIN=1 (add the
// backward GEMMs dX = dY·Wᵀ [M×N·N×K] and dW = Xᵀ·dY [K×M·M×N] per layer).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "sim/trace/scalesim_csv.h"
#include "sim/trace/trace_io.h"

using namespace bpsim;

TEST_CASE("systolic tool: SCALE-Sim CSV to trace", "[.][systolic_tool]") {
  const char* csv = std::getenv("BPSIM_CSV");
  const char* out = std::getenv("BPSIM_TRACE");
  REQUIRE(csv);
  REQUIRE(out);
  const uint64_t batch = std::getenv("BPSIM_BATCH") ? std::stoull(std::getenv("BPSIM_BATCH")) : 1;
  const bool train = std::getenv("BPSIM_TRAIN") && std::string(std::getenv("BPSIM_TRAIN")) == "1";
  auto g = trace::read_scalesim_csv_file(csv);
  const std::vector<workload::Op> fwd = g->ops;
  g->ops.clear();
  g->batch = batch;
  for (workload::Op op : fwd) {
    op.gemm.m *= batch;
    op.macs = op.gemm.macs();
    for (uint32_t t : op.reads) g->tensors[t].bytes *= g->tensors[t].role == workload::TensorRole::weight ? 1 : batch;
    for (uint32_t t : op.writes) g->tensors[t].bytes *= batch;
    op.id = uint32_t(g->ops.size());
    g->ops.push_back(op);
  }
  if (train) {
    for (auto it = fwd.rbegin(); it != fwd.rend(); ++it) {
      const workload::Op& f = g->ops[it->id];
      workload::Op dx = f, dw = f;
      dx.name = f.name + ".dx", dx.phase = workload::Phase::backward_data;
      dx.gemm = {f.gemm.m, f.gemm.k, f.gemm.n, 1};
      dx.reads = {f.writes[0], f.reads[1]}, dx.writes = {f.reads[0]};
      dw.name = f.name + ".dw", dw.phase = workload::Phase::backward_weight;
      dw.gemm = {f.gemm.k, f.gemm.n, f.gemm.m, 1};
      dw.reads = {f.reads[0], f.writes[0]}, dw.writes = {f.reads[1]};
      for (workload::Op* o : {&dx, &dw}) {
        o->macs = o->gemm.macs();
        o->id = uint32_t(g->ops.size());
        g->ops.push_back(*o);
      }
    }
  }
  std::ofstream os(out);
  trace::write_trace(*g, os);
}
