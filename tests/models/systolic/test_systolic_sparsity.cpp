// Output-sparsity properties of the systolic model: density 1.0 changes nothing, a fully
// masked op costs only its metadata, gating never changes cycles, utilisation ≤ 100 %,
// and hand-derived skipping for row, column and tile masks.
#include <catch2/catch.hpp>

#include <map>
#include <random>

#include "models/systolic/op_cost.h"

using namespace bpsim;
using namespace bpsim::systolic;

namespace {
workload::Op gemm_op(uint64_t m, uint64_t k, uint64_t n) {
  workload::Op op;
  op.name = "g";
  op.kind = workload::OpKind::gemm;
  op.dtype = workload::DType::int8;
  op.gemm = {m, n, k, 1};
  op.macs = m * n * k;
  return op;
}
SystolicSpec spec(SparsityMode mode, Granularity g, double density, Timing t = Timing::scalesim) {
  SystolicSpec s = systolic_defaults();
  s.rows = s.cols = 32;
  s.timing = t;
  s.sram = {1 << 20, 1 << 20, 1 << 20, true, 4096};
  s.sparsity.mode = mode;
  s.sparsity.granularity = g;
  s.sparsity.pattern = Pattern::density;
  s.sparsity.density = density;
  return s;
}
GemmCost run(const SystolicSpec& s, const workload::Op& op, uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  return cost_gemm(op, s, rng);
}
const Granularity kAll[] = {Granularity::element, Granularity::row, Granularity::col, Granularity::tile};
}  // namespace

TEST_CASE("systolic: a mask of density 1.0 changes nothing", "[systolic]") {
  const workload::Op op = gemm_op(100, 70, 50);
  const GemmCost off = run(spec(SparsityMode::off, Granularity::element, 1.0), op);
  for (Granularity g : kAll)
    for (SparsityMode m : {SparsityMode::gate, SparsityMode::skip})
      for (Timing t : {Timing::scalesim, Timing::overlapped}) {
        const GemmCost ref = run(spec(SparsityMode::off, g, 1.0, t), op);
        const GemmCost c = run(spec(m, g, 1.0, t), op);
        CHECK(c.compute_cycles == ref.compute_cycles);
        CHECK(c.macs_executed == op.macs);
        CHECK(c.macs_gated == 0);
        CHECK(c.traffic.dram_read() == off.traffic.dram_read());
        CHECK(c.traffic.dram_write() == off.traffic.dram_write());
      }
}

TEST_CASE("systolic: a fully masked op costs only its metadata when skipping", "[systolic]") {
  const workload::Op op = gemm_op(100, 70, 50);
  for (Granularity g : kAll) {
    const GemmCost c = run(spec(SparsityMode::skip, g, 0.0, Timing::overlapped), op);
    CHECK(c.compute_cycles == 0);
    CHECK(c.macs_executed == 0);
    CHECK(c.macs_gated == 0);
    CHECK(c.traffic.dram_read() == 0);
    CHECK(c.traffic.dram_write() == 0);
    CHECK(c.masked_outputs == 100 * 50);
    CHECK(c.metadata_bytes > 0);
  }
  // Metadata is a bitmap of the mask's units: element 100·50 bits → 625 B; row 100 → 13 B;
  // col 50 → 7 B; tile ⌈50/32⌉·⌈100/32⌉ = 2·4 = 8 → 1 B.
  CHECK(run(spec(SparsityMode::skip, Granularity::element, 0.0), op).metadata_bytes == 625);
  CHECK(run(spec(SparsityMode::skip, Granularity::row, 0.0), op).metadata_bytes == 13);
  CHECK(run(spec(SparsityMode::skip, Granularity::col, 0.0), op).metadata_bytes == 7);
  CHECK(run(spec(SparsityMode::skip, Granularity::tile, 0.0), op).metadata_bytes == 1);
}

TEST_CASE("systolic: gating never changes cycles, only which MACs are powered", "[systolic]") {
  const workload::Op op = gemm_op(100, 70, 50);
  for (Granularity g : kAll)
    for (double d : {0.0, 0.3, 0.7}) {
      const GemmCost off = run(spec(SparsityMode::off, g, d, Timing::overlapped), op);
      const GemmCost gate = run(spec(SparsityMode::gate, g, d, Timing::overlapped), op);
      CHECK(gate.compute_cycles == off.compute_cycles);
      CHECK(gate.macs_executed == op.macs);
      // Gated MACs = masked outputs × K.
      CHECK(gate.macs_gated == gate.masked_outputs * 70);
    }
  // Element mask, density 0.3: round(0.7·5000) = 3500 masked outputs → 245000 MACs gated.
  CHECK(run(spec(SparsityMode::gate, Granularity::element, 0.3), op).macs_gated == 3500 * 70);
}

TEST_CASE("systolic: skipping whole rows, columns and tiles (hand-derived)", "[systolic]") {
  const workload::Op op = gemm_op(100, 70, 50);
  // Rows, density 0.5: 50 of 100 output rows remain → ws with M=50: 6 folds × (64+32+50−2
  // = 144) = 864 SCALE-Sim cycles (dense: 1164); 50·70·50 = 175000 MACs issued.
  const GemmCost r = run(spec(SparsityMode::skip, Granularity::row, 0.5), op);
  CHECK(r.compute_cycles == 864);
  CHECK(r.dense_cycles == 1164);
  CHECK(r.macs_executed == 175000);
  CHECK(r.macs_gated == 0);
  // Columns, 2:4: of 50 columns 12·2 + min(2, 2) = 26 remain → ⌈26/32⌉ = 1 column fold,
  // 3 row folds × 194 = 582.
  SystolicSpec s = spec(SparsityMode::skip, Granularity::col, 1.0);
  s.sparsity.pattern = Pattern::nm;
  s.sparsity.n = 2, s.sparsity.m = 4;
  CHECK(run(s, op).compute_cycles == 582);
  CHECK(run(s, op).macs_executed == 100 * 70 * 26);
  // Tiles, 1:2 on M=128, K=32, N=64: each 32-wide column block keeps 2 of its 4 tiles
  // → two sub-GEMMs M=64, N=32: 1 fold each × (64+32+32−2+32 = 158) = 316 (dense: 2 folds
  // × (128+32+32−2+32 = 222) = 444).
  SystolicSpec t = spec(SparsityMode::skip, Granularity::tile, 1.0);
  t.sparsity.pattern = Pattern::nm;
  t.sparsity.n = 1, t.sparsity.m = 2;
  const GemmCost tc = run(t, gemm_op(128, 32, 64));
  CHECK(tc.compute_cycles == 316);
  CHECK(tc.dense_cycles == 444);
  CHECK(tc.macs_executed == 64 * 32 * 64);
}

TEST_CASE("systolic: element masks from the op (ReLU dX) gate in skip mode", "[systolic]") {
  workload::Op op = gemm_op(100, 70, 50);
  op.out_mask.source = workload::OutputMask::Source::relu;
  op.out_mask.density = 0.5;
  SystolicSpec s = spec(SparsityMode::skip, Granularity::element, 1.0);
  s.sparsity.pattern = Pattern::from_op;
  const GemmCost c = run(s, op);
  // A row of 50 outputs is fully masked with probability 0.5^50: none in practice, so the
  // schedule is dense and the 2500 masked outputs' MACs are gated.
  CHECK(c.compute_cycles == c.dense_cycles);
  CHECK(c.macs_gated == 2500 * 70);
  // The same seed gives the same result; the op without a mask is untouched.
  CHECK(run(s, op, 7).macs_gated == run(s, op, 7).macs_gated);
  CHECK(run(s, gemm_op(100, 70, 50)).macs_gated == 0);
}

TEST_CASE("systolic: utilisation of useful MACs never exceeds 100 %", "[systolic]") {
  for (Timing t : {Timing::scalesim, Timing::overlapped})
    for (Granularity g : kAll)
      for (double d : {0.1, 0.5, 0.9, 1.0})
        for (auto dims : {std::array<uint64_t, 3>{100, 70, 50}, {1, 1, 1}, {4096, 32, 32}, {33, 1000, 31}}) {
          const GemmCost c = run(spec(SparsityMode::skip, g, d, t), gemm_op(dims[0], dims[1], dims[2]));
          if (c.compute_cycles == 0) continue;
          const double useful = double(c.macs_executed - c.macs_gated);
          CHECK(useful <= double(c.compute_cycles) * 32 * 32);
        }
}

// The memo (SystolicModel::cost_and_fill, test_systolic_memo.cpp) rests on this: a GEMM's
// cost and record are a pure function of its shape, and copy_gemm_fill carries all of them.
namespace {
OpRecord filled(const workload::Op& op, const SystolicSpec& s) {
  std::mt19937_64 rng(7);
  OpRecord r;
  fill_gemm_record(cost_gemm(op, s, rng), s, Buffers(s), r);
  return r;
}
std::map<std::string, uint64_t> actions_of(const OpRecord& r) { return {r.actions.begin(), r.actions.end()}; }
void check_same_fill(const OpRecord& a, const OpRecord& b) {
  CHECK(a.macs == b.macs);
  CHECK(a.macs_executed == b.macs_executed);
  CHECK(a.macs_gated == b.macs_gated);
  CHECK(a.macs_skipped == b.macs_skipped);
  CHECK(a.skip_reason == b.skip_reason);
  CHECK(a.onchip_read_bytes == b.onchip_read_bytes);
  CHECK(a.onchip_write_bytes == b.onchip_write_bytes);
  CHECK(actions_of(a) == actions_of(b));
  CHECK(reported_extra(a) == reported_extra(b));
}
}  // namespace

TEST_CASE("systolic memo: a GEMM's cost and record are a pure function of its shape", "[systolic][memo]") {
  // Skipping sets every field fill_gemm_record writes (skip_reason and macs_skipped too).
  for (SparsityMode mode : {SparsityMode::off, SparsityMode::skip}) {
    const SystolicSpec s = spec(mode, Granularity::row, 0.5);
    const workload::Op op = gemm_op(100, 70, 90);
    const OpRecord a = filled(op, s);
    if (mode == SparsityMode::skip) {
      REQUIRE(a.macs_skipped > 0);
      CHECK(a.skip_reason == "output_sparsity");
    }
    REQUIRE(a.extra.contains("mapping"));
    // The same op costed again (same seed) gives the same record.
    check_same_fill(a, filled(op, s));
    // copy_gemm_fill carries all of it, and leaves the op's identity alone.
    OpRecord c;
    c.name = "other";
    c.start_cycle = 5;
    copy_gemm_fill(filled(op, s), c);
    check_same_fill(a, c);
    CHECK(c.name == "other");
    CHECK(c.start_cycle == 5);
  }
}
