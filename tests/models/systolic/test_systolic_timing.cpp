// Mapper and core of the systolic model: folds, SCALE-Sim compute cycles, overlapped
// timing, traffic per operand. Every number is derived by hand in the comment beside it.
#include <catch2/catch.hpp>

#include "models/systolic/fold_core.h"
#include "models/systolic/mapper.h"

using namespace bpsim::systolic;

namespace {
uint64_t scalesim(uint64_t m, uint64_t k, uint64_t n, Dataflow df, unsigned r, unsigned c) {
  return time_folds(map_gemm(m, k, n, df, r, c), df, Timing::scalesim, 1).total();
}
}  // namespace

TEST_CASE("systolic: SCALE-Sim v2 compute cycles for ws, os, is on a GEMM", "[systolic]") {
  // GEMM M=100, K=70, N=50 on 32×32 (docs/references.md, SCALE-Sim v2 per-fold formulas):
  // ws: Sr=K=70, Sc=N=50, T=M=100 → ⌈70/32⌉·⌈50/32⌉ = 3·2 = 6 folds × (2·32+32+100−2 = 194) = 1164
  CHECK(scalesim(100, 70, 50, Dataflow::ws, 32, 32) == 1164);
  // os: Sr=M=100, Sc=N=50, T=K=70 → 4·2 = 8 folds × (70+32+32−2 = 132) = 1056
  CHECK(scalesim(100, 70, 50, Dataflow::os, 32, 32) == 1056);
  // is: Sr=K=70, Sc=M=100, T=N=50 → 3·4 = 12 folds × (2·32+32+50−2 = 144) = 1728
  CHECK(scalesim(100, 70, 50, Dataflow::is, 32, 32) == 1728);
}

TEST_CASE("systolic: SCALE-Sim cycles for a conv layer through its im2col dims", "[systolic]") {
  // Conv 56×56 input, 3×3 filter, 64 channels, 64 filters, stride 1 (ResNet-18 Conv2_1a):
  // output ⌈(56−3+1)/1⌉ = 54 → M = 54·54 = 2916, K = 3·3·64 = 576, N = 64. On 128×128:
  // ws: ⌈576/128⌉·⌈64/128⌉ = 5·1 folds × (256+128+2916−2 = 3298) = 16490
  CHECK(scalesim(2916, 576, 64, Dataflow::ws, 128, 128) == 16490);
  // os: ⌈2916/128⌉·1 = 23 folds × (576+128+128−2 = 830) = 19090
  CHECK(scalesim(2916, 576, 64, Dataflow::os, 128, 128) == 19090);
  // is: 5·⌈2916/128⌉ = 5·23 = 115 folds × (256+128+64−2 = 446) = 51290
  CHECK(scalesim(2916, 576, 64, Dataflow::is, 128, 128) == 51290);
}

TEST_CASE("systolic: overlapped timing hides preloads behind streams", "[systolic]") {
  const FoldMap f = map_gemm(100, 70, 50, Dataflow::ws, 32, 32);
  CHECK(f.fr == 3);
  CHECK(f.fc == 2);
  CHECK(f.r_last == 6);   // 70 − 2·32
  CHECK(f.c_last == 18);  // 50 − 32
  // Folds take max(T=100, 32) = 100 (also the last row fold: max(100, 6)): 2·3·100 = 600;
  // once per op: first preload 32 + skew 32+32−2 = 62 → 94. Total 694.
  const FoldTiming t = time_folds(f, Dataflow::ws, Timing::overlapped, 1);
  CHECK(t.steady_cycles == 600);
  CHECK(t.edge_cycles == 94);
  // Four stages: three stage registers on the partial-sum path, +3 once.
  CHECK(time_folds(f, Dataflow::ws, Timing::overlapped, 4).total() == 697);
  // Short streams (T=10 < 32 rows): each fold waits for its 32-row preload: 2 folds × 32
  // = 64, + 32 + 62 = 158.
  CHECK(time_folds(map_gemm(10, 64, 32, Dataflow::ws, 32, 32), Dataflow::ws, Timing::overlapped, 1).total() == 158);
  // Overlapped is never slower than SCALE-Sim's back-to-back folds here (694 < 1164).
  CHECK(t.total() < scalesim(100, 70, 50, Dataflow::ws, 32, 32));
}

TEST_CASE("systolic: traffic conservation per operand (ws)", "[systolic]") {
  // M=100, K=70, N=50, int8 (1 B), fp32/int32 partial sums (4 B), big buffers.
  SramConfig big{1 << 20, 1 << 20, 1 << 20, true, 64};
  const FoldMap f = map_gemm(100, 70, 50, Dataflow::ws, 32, 32);
  const Traffic t = plan_traffic(f, Dataflow::ws, big, 1, 4);
  // Every operand byte read from DRAM exactly once, every output written once.
  CHECK(t.op[kWeight].dram_read == 70 * 50);
  CHECK(t.op[kInput].dram_read == 100 * 70);
  CHECK(t.op[kOutput].dram_write == 100 * 50);
  CHECK(t.op[kOutput].dram_read == 0);
  CHECK(t.spill_bytes == 0);
  // The inputs stream into the array once per column fold: 2 × 7000.
  CHECK(t.op[kInput].sram_read == 2 * 7000);
  // Partial sums: every one of the 3 row folds writes 100·50·4 B; two of them read back.
  CHECK(t.op[kOutput].sram_write == 3 * 20000);
  CHECK(t.op[kOutput].sram_read == 2 * 20000 + 5000);

  // An input buffer of 4 KiB (2 KiB usable) cannot hold the 7000-byte input: fetched
  // again for each of the 2 column folds; an 8 KiB output buffer (4 KiB usable) cannot
  // hold one column fold's 32·100·4 = 12800 B of partial sums: (3−1)·20000 B spill each way.
  SramConfig small{4096, 1 << 20, 8192, true, 64};
  const Traffic s = plan_traffic(f, Dataflow::ws, small, 1, 4);
  CHECK(s.op[kInput].dram_read == 2 * 7000);
  CHECK(s.spill_bytes == 40000);
  CHECK(s.op[kOutput].dram_write == 5000 + 40000);
  CHECK(s.op[kOutput].dram_read == 40000);
}

TEST_CASE("systolic: os keeps outputs stationary and streams both inputs", "[systolic]") {
  SramConfig big{1 << 20, 1 << 20, 1 << 20, false, 64};
  const Traffic t = plan_traffic(map_gemm(100, 70, 50, Dataflow::os, 32, 32), Dataflow::os, big, 2, 4);
  // bf16 (2 B): input 100·70·2 = 14000, weight 70·50·2 = 7000 read once; output 100·50·2 written once.
  CHECK(t.op[kInput].dram_read == 14000);
  CHECK(t.op[kWeight].dram_read == 7000);
  CHECK(t.op[kOutput].dram_write == 10000);
  // Weights stream once per row fold (⌈100/32⌉ = 4): 28000 buffer bytes read.
  CHECK(t.op[kWeight].sram_read == 28000);
}

TEST_CASE("systolic: a buffer too small for one tile is reported", "[systolic]") {
  SystolicSpec s = systolic_defaults();
  s.rows = s.cols = 128;
  s.dataflow = Dataflow::ws;
  s.sram = {1 << 20, 16 * 1024, 1 << 20, true, 64};
  // ws keeps a 128×128 weight tile: 16384 B at int8, but only 8 KiB of 16 are usable.
  CHECK_THAT(check_tile_fit(s, 1, 4), Catch::Contains("weight buffer too small"));
  s.sram.double_buffer = false;
  CHECK(check_tile_fit(s, 1, 4).empty());
}
