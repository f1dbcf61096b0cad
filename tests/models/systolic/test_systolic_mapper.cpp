// The systolic mapper: tile sizes and loop order per GEMM, DRAM passes per operand, pinned
// slices, the DRAM floor (compulsory bytes, I/O lower bound on split buffers), and the
// mapping through `bpsim run`.
// Every number is derived by hand in the comment beside it.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <nlohmann/json.hpp>

#include "models/systolic/fold_core.h"
#include "models/systolic/mapper.h"
#include "tests/cli/cli_harness.h"

using namespace bpsim;
using namespace bpsim::systolic;
using bpsim::test::run_bpsim;

namespace {

/// ws on a 4×4 array, int8 (1 B) operands, 4 B partial sums; buffers of 1 KiB each,
/// double buffered: 512 B usable per operand (the output's: 128 partial sums).
SystolicSpec small_spec(MapSearch search) {
  SystolicSpec s = systolic_defaults();
  s.rows = s.cols = 4;
  s.dataflow = Dataflow::ws;
  s.timing = Timing::overlapped;
  s.sram = {1024, 1024, 1024, true, 64};
  s.mapper = {search, MapObjective::dram_bytes};
  return s;
}

/// A tiled candidate of the given tiles, trips and loop order (outermost first), its passes derived (ws).
Mapping nest(std::array<uint64_t, 3> tile, std::array<uint64_t, 3> trips, std::array<int, 3> order) {
  Mapping m;
  m.fixed = false;
  m.tile = tile;
  m.trips = trips;
  m.order = order;
  derive_passes(m, Dataflow::ws);
  return m;
}

}  // namespace

TEST_CASE("systolic mapper: the fixed plan spills partial sums, the chosen tiling does not", "[systolic][mapper]") {
  // GEMM M=64, K=16, N=8 under ws: Sr=K=16 (4 row folds), Sc=N=8 (2 column folds), T=M=64.
  const FoldMap f = map_gemm(64, 16, 8, Dataflow::ws, 4, 4);
  const PassBytes pass = gemm_pass_bytes(f, Dataflow::ws, 1);
  // One pass over each operand: input M·K = 1024 B, weight K·N = 128 B, output M·N = 512 B.
  CHECK(pass.op[kInput] == 1024);
  CHECK(pass.op[kWeight] == 128);
  CHECK(pass.op[kOutput] == 512);

  // Fixed plan: the input (16·64 = 1024 B) exceeds its 512 B half → fetched once per
  // column fold (2 passes); one column fold's partial sums (4 cols · 64 · 4 B = 1024 B)
  // exceed the output's 512 B half → spilled after each of the first 3 row folds:
  // 3 × (8·64·4 = 2048 B) = 6144 B each way. DRAM: 2048 + 128 + 512 + 2·6144 = 14976 B.
  const SystolicSpec fixed_spec = small_spec(MapSearch::fixed);
  const Mapping fixed = choose_mapping(f, {fixed_spec, 1, 4, 0}, pass);
  CHECK(fixed.fixed);
  CHECK(fixed.passes[kInput] == 2);
  CHECK(fixed.spill_passes == 3);
  const Traffic ft = mapped_traffic(f, Dataflow::ws, fixed, pass, 1, 4);
  CHECK(ft.spill_bytes == 6144);
  CHECK(ft.dram_read() + ft.dram_write() == 14976);
  // The same bytes as plan_traffic (the fixed plan's traffic before the mapper existed).
  const Traffic pt = plan_traffic(f, Dataflow::ws, fixed_spec.sram, 1, 4);
  CHECK(pt.dram_read() == ft.dram_read());
  CHECK(pt.dram_write() == ft.dram_write());

  // Exhaustive: Sr tiles of 1, 2, 4 folds (4, 8, 16 rows), Sc tiles of 1, 2 folds (4, 8):
  // 6 tile pairs × 6 loop orders + the fixed plan = 37 candidates, and 18 with the output
  // single buffered (256 partial sums): the pairs whose T tile then grows past the half's,
  // (4, 4), (4, 8), (8, 4), (8, 8) with 3 orders each that keep K inside the output's loops
  // (the other 3 spill: not a candidate) and (16, 8), whose K is one trip, with all 6;
  // (16, 4) is cut by the input's 512 B (T tile 32 either way). As plain loop nests only
  // K and N whole (16 × 8, the 128 B weight tile fits 512 B) let every operand pass once, at
  // the compulsory 1024 + 128 + 512 = 1664 B (T tile min(64, 512 B / 16 input rows = 32,
  // 128 psums / 8 columns = 16) = 16, 4 trips). A pinned slice ties it: N tiled by 4 (2
  // trips) allows T tiles of min(32, 128/4 = 32) = 32; under k>m>n the weights repeat once
  // per T trip (2 passes), but the stationary tile is then fetched one 4×4 fold at a time
  // (16 B, two copies) and the whole 128 B weight stays in the rest of its 1 KiB buffer:
  // 1664 B again. Both take 522 cycles (below); the tie goes to buffer bytes: the
  // stationary weights enter the array once per T tile, 2 × 128 B against 4 × 128 B.
  const SystolicSpec ex_spec = small_spec(MapSearch::exhaustive);
  const Mapping m = choose_mapping(f, {ex_spec, 1, 4, 0}, pass);
  CHECK_FALSE(m.fixed);
  CHECK(m.candidates == 55);
  CHECK_FALSE(m.output_single);  // ties go to the double-buffered output
  CHECK(m.tile == std::array<uint64_t, 3>{16, 4, 32});
  CHECK(m.trips == std::array<uint64_t, 3>{1, 2, 2});
  CHECK(m.order == std::array<int, 3>{kSr, kT, kSc});
  CHECK(m.passes == std::array<uint64_t, 3>{1, 2, 1});
  CHECK(m.pinned == std::array<uint64_t, 3>{0, 128, 0});
  CHECK(m.spill_passes == 0);
  const FoldMap tiled = tile_t(f, m.tile[kT]);
  CHECK(tiled.ft == 2);
  const Traffic t = mapped_traffic(tiled, Dataflow::ws, m, pass, 1, 4);
  CHECK(t.spill_bytes == 0);
  CHECK(t.dram_read() + t.dram_write() == 1664);
  // The stationary weights enter the array once per T tile: 128 B × 2 = 256 B of buffer reads.
  CHECK(t.op[kWeight].sram_read == 256);
  // The plain loop nest at 1664 B, k>n>m with tiles 16 × 8 × 16, takes 522 cycles: folds
  // of 16 ≥ 4 rows hide every preload: 4 T tiles × 2 column folds × 4 row folds × 16 = 512
  // steady cycles, as the untiled 2 × 4 × 64; edges 4 + (4 + 4 − 2) = 10.
  CHECK(time_folds(tile_t(f, 16), Dataflow::ws, Timing::overlapped, 1).total() == 522);
  CHECK(time_folds(f, Dataflow::ws, Timing::overlapped, 1).total() == 522);
  CHECK(time_folds(tiled, Dataflow::ws, Timing::overlapped, 1).total() == 522);
}

TEST_CASE("systolic mapper: a loop outside an operand's innermost loop costs it a pass per trip",
          "[systolic][mapper]") {
  // M=64, K=16, N=8 (as above) tiled 8 × 4 × 16 (K, N, M): trips K 2, N 2, M 4.
  const FoldMap f = tile_t(map_gemm(64, 16, 8, Dataflow::ws, 4, 4), 16);
  const PassBytes pass = gemm_pass_bytes(f, Dataflow::ws, 1);
  // Order n>m>k (N outermost, K innermost): the input (K×M) is not indexed by N, which lies
  // outside its innermost loop K → 2 passes; the weights (K×N) are not indexed by M, outside
  // K → 4 passes; the partial sums (N×M) are not indexed by K, innermost → kept, no spill.
  Mapping m = nest({8, 4, 16}, {2, 2, 4}, {kSc, kT, kSr});
  CHECK(m.passes == std::array<uint64_t, 3>{2, 4, 1});
  CHECK(m.spill_passes == 0);
  const Traffic t = mapped_traffic(f, Dataflow::ws, m, pass, 1, 4);
  // 2·1024 + 4·128 + 512 = 3072 B.
  CHECK(t.dram_read() + t.dram_write() == 3072);
  // Order k>n>m: K outermost → each output tile is visited once per K tile: 1 spill pass
  // of 8·64·4 = 2048 B each way; input: N between K and M → 2 passes; weights: M innermost → 1.
  m.order = {kSr, kSc, kT};
  derive_passes(m, Dataflow::ws);
  CHECK(m.passes == std::array<uint64_t, 3>{2, 1, 1});
  CHECK(m.spill_passes == 1);
  const Traffic u = mapped_traffic(f, Dataflow::ws, m, pass, 1, 4);
  CHECK(u.spill_bytes == 2048);
  CHECK(u.dram_read() + u.dram_write() == 2048 + 128 + 512 + 2 * 2048);
  // A loop of one trip changes nothing: N whole (1 trip) under n>m>k leaves the input one pass.
  m.trips = {2, 1, 4};
  m.order = {kSc, kT, kSr};
  derive_passes(m, Dataflow::ws);
  CHECK(m.passes == std::array<uint64_t, 3>{1, 4, 1});
}

TEST_CASE("systolic mapper: objective cycles trades DRAM bytes for time only when DRAM bounds it",
          "[systolic][mapper]") {
  // With no DRAM bandwidth given, the cycles objective compares array and buffer cycles; the
  // fixed plan and the 1664 B tilings take the same 522 array cycles, so DRAM bytes break the
  // tie, then buffer bytes: the pinned mapping of the objective dram_bytes is kept.
  const FoldMap f = map_gemm(64, 16, 8, Dataflow::ws, 4, 4);
  SystolicSpec s = small_spec(MapSearch::exhaustive);
  s.mapper.objective = MapObjective::cycles;
  const PassBytes pass = gemm_pass_bytes(f, Dataflow::ws, 1);
  const Mapping m = choose_mapping(f, {s, 1, 4, 0}, pass);
  CHECK(m.spill_passes == 0);
  CHECK(m.pinned == std::array<uint64_t, 3>{0, 128, 0});
  const Traffic t = mapped_traffic(tile_t(f, m.tile[kT]), Dataflow::ws, m, pass, 1, 4);
  CHECK(t.dram_read() + t.dram_write() == 1664);
}

TEST_CASE("systolic mapper: the DRAM floor on split buffers prices a partial-sum spill at 2·a bytes",
          "[systolic][mapper]") {
  // M = N = K = 256, int8 (e = 1), fp32 partial sums (a = 4); buffers of 2048 A elements,
  // 1024 B elements, 128 partial sums. At w = 2a = 8: Σ = 1·(2048 + 1024) + 8·128 = 4096,
  // Σ^1.5 = 262144; segments e·√8·MNK/Σ^1.5 = √8·2^24/2^18 = 181.0193; the floor is
  // (181.0193 − 1)·(2·4096 − 8) − (8 − 1)·256·256 = 1473278.3 − 458752 = 1014526.3 B, the
  // largest of the 17 grid points w = 1, 1.4375, …, 8 (it grows with w here: C is small).
  const FloorGemm g{256, 256, 256, 256 * 256, 1};
  CHECK(uint64_t(split_buffer_bound(g, {2048, 1024, 128}, 1, 4)) == 1014526);
  // w = e alone is Smith et al.'s unified bound on S = 3200 words: 2·2^24/√3200 − 2·3200 =
  // 586,766 (the grid's first point, (2^24/3200^1.5 − 1)·6400 = 586,764.6): the spill price
  // is what lifts the split floor 1.73× above it.
  CHECK(split_buffer_bound(g, {2048, 1024, 128}, 1, 4) > 1.7 * 586764);
  // A line buffer's ifmap element stands for up to uses = 9 elements of A: segments shrink
  // by √9 = 3 and the floor falls (w = 1.875 is then the best grid point).
  CHECK(uint64_t(split_buffer_bound({256, 256, 256, 256 * 256, 9}, {2048, 1024, 128}, 1, 4)) == 202082);
  // A buffer larger than its operand counts as the operand's size: B (K·N = 65536) held
  // whole in a 2^20-element buffer bounds like one of 65536.
  CHECK(split_buffer_bound(g, {2048, 1u << 20, 128}, 1, 4) == split_buffer_bound(g, {2048, 65536, 128}, 1, 4));

  // dram_floor: the same buffers as a chip, pes = 0: input 2048 B and weight 1024 B whole
  // (the mapper's pinned slices may fill them), the output's usable half 512 B / 4 = 128
  // partial sums → bound 1014526; the chip's full output buffer (256 partial sums) gives
  // 873042 (grid point w = 6.25: Σ = 3072 + 6.25·256 = 4672). Compulsory 3·65536.
  const SramConfig s{2048, 1024, 1024, true, 64};
  const FoldMap f = map_gemm(256, 256, 256, Dataflow::ws, 4, 4);
  const DramFloor d = dram_floor(g, s, 0, 1, 4, gemm_pass_bytes(f, Dataflow::ws, 1));
  CHECK(d.compulsory_bytes == 196608);
  CHECK(d.bound_bytes == 1014526);
  CHECK(d.chip_bound_bytes == 873042);
  CHECK(d.floor() == 1014526);
  // Each PE's registers (one per operand) add rows·cols to every buffer: 4×4 → +16, a lower floor.
  CHECK(dram_floor(g, s, 16, 1, 4, gemm_pass_bytes(f, Dataflow::ws, 1)).bound_bytes == 986145);
  // M=64, K=16, N=8 on 1 KiB × 3: the bound is negative (a segment of 2Σ moves more than the
  // whole GEMM needs), so 0, and the floor is the compulsory 1664 B.
  const FoldMap h = map_gemm(64, 16, 8, Dataflow::ws, 4, 4);
  const DramFloor c =
      dram_floor({64, 16, 8, 64 * 16, 1}, {1024, 1024, 1024, true, 64}, 16, 1, 4, gemm_pass_bytes(h, Dataflow::ws, 1));
  CHECK(c.bound_bytes == 0);
  CHECK(c.floor() == 1664);
}

TEST_CASE("systolic mapper: a pinned slice reaches the compulsory bytes where every loop nest repeats a pass",
          "[systolic][mapper]") {
  // GEMM M=64, K=32, N=32, int8, ws on 4×4 (Sr = K: 8 folds, Sc = N: 8, T = M = 64);
  // buffers input 4 KiB, weight 1 KiB, output 1 KiB, double buffered: tiles get 2048 input
  // elements, 512 weights, 128 partial sums. Compulsory: 2048 + 1024 + 2048 = 5120 B.
  const FoldMap f = map_gemm(64, 32, 32, Dataflow::ws, 4, 4);
  const PassBytes pass = gemm_pass_bytes(f, Dataflow::ws, 1);
  SystolicSpec s = small_spec(MapSearch::exhaustive);
  s.sram = {4096, 1024, 1024, true, 64};
  // Plain loop nests: a spill pass costs 64·32·4 = 8192 B each way, so none spills. Without
  // one, K's loop lies inside the output's: N whole needs a K tile ≤ 512/32 = 16 (2 trips)
  // and T tiles ≤ 128/32 = 4 (16 trips) outside them → 16 weight passes (20480 B); K whole
  // (tile 32) allows N tiles ≤ 16 and T tiles ≤ 128/16 = 8: n>m>k reads the weights once
  // and the input once per N tile (2): 4096 + 1024 + 2048 = 7168 B, the loop nests' best
  // (m>n>k: 8 weight passes, 12288 B; narrower N tiles only add input passes).
  Mapping plain = nest({32, 16, 8}, {1, 2, 8}, {kSc, kT, kSr});
  CHECK(plain.passes == std::array<uint64_t, 3>{2, 1, 1});
  const FoldMap tiled = tile_t(f, 8);
  const Traffic pt = mapped_traffic(tiled, Dataflow::ws, plain, pass, 1, 4);
  CHECK(pt.dram_read() + pt.dram_write() == 7168);
  // Pinned: the input tile (32 × 8 = 256 B) needs two copies, 512 B; the input slice never
  // changes, so it takes the rest of the whole 4 KiB buffer, 3584 B ≥ the 2048 B input: all
  // of it stays, loaded once. 2048 + 1024 + 2048 = 5120 B, the compulsory bytes.
  pin_slices(plain, f, Dataflow::ws, s.sram, 1, pass);
  CHECK(plain.pinned == std::array<uint64_t, 3>{2048, 0, 0});
  CHECK(std::string(plain.family()) == "pinned_slice");
  const Traffic pinned = mapped_traffic(tiled, Dataflow::ws, plain, pass, 1, 4);
  CHECK(pinned.dram_read() + pinned.dram_write() == 5120);
  CHECK(pinned.op[kInput].sram_write == 2048);  // each input byte is written to the buffer once
  // The search finds a mapping at the compulsory 5120 B, with a pinned slice.
  const Mapping m = choose_mapping(f, {s, 1, 4, 0}, pass);
  CHECK(std::string(m.family()) == "pinned_slice");
  const Traffic mt = mapped_traffic(tile_t(f, m.tile[kT]), Dataflow::ws, m, pass, 1, 4);
  CHECK(mt.dram_read() + mt.dram_write() == 5120);

  // A weight slice (the K-slice of B of GPT-2's fc2 on the 128×128 preset, in small): under
  // m>n>k with K whole, N tiles 16, T tiles 8, the weights repeat once per T tile (8 passes);
  // the stationary tile is fetched anew every T trip, so only one 4×4 fold (16 B, two
  // copies) is in flight and the slice takes 1024 − 32 = 992 of the 1024 weight bytes:
  // 992 + 8·32 = 1248 B of weights instead of 8192.
  Mapping w = plain;
  w.order = {kT, kSc, kSr};
  derive_passes(w, Dataflow::ws);
  CHECK(w.passes == std::array<uint64_t, 3>{1, 8, 1});
  pin_slices(w, f, Dataflow::ws, s.sram, 1, pass);
  CHECK(w.pinned == std::array<uint64_t, 3>{0, 992, 0});
  CHECK(mapped_traffic(tiled, Dataflow::ws, w, pass, 1, 4).op[kWeight].dram_read == 992 + 8 * 32);
  // search: fixed is the plan as before: no slice.
  s.mapper.search = MapSearch::fixed;
  CHECK(std::string(choose_mapping(f, {s, 1, 4, 0}, pass).family()) == "fixed");
}

TEST_CASE("systolic mapper: a single-buffered output holds what its half cannot, and drains between blocks",
          "[systolic][mapper]") {
  // GEMM M=16, K=256, N=16, int8, ws on 4×4: Sr = K (64 folds), Sc = N (4 folds), T = M = 16.
  // Buffers 1 KiB each, double buffered: 512 input or weight bytes per tile, 128 partial sums.
  // Compulsory: input 16·256 = 4096 B, weight 256·16 = 4096 B, output 256 B: 8448 B.
  const FoldMap f = map_gemm(16, 256, 16, Dataflow::ws, 4, 4);
  const PassBytes pass = gemm_pass_bytes(f, Dataflow::ws, 1);
  SystolicSpec s = small_spec(MapSearch::exhaustive);
  // The 256 outputs need two blocks of ≤ 128 partial sums (a spill costs 2·256·4 = 2048 B):
  // N whole with T tiles of 8 re-reads the weights per T block, 2 passes, of which the
  // weight buffer pins 1024 − 2·16 = 992 B (a refetched stationary tile is one 4×4 fold):
  // 2·4096 − 992 + 4096 + 256 = 11552 B; T whole with N tiles of 8 re-reads the input
  // instead, pinning 1024 − 2·(4·16) = 896 B at best: 11648 B. The best double-buffered
  // mapping moves 11552 B, 1.37× the compulsory bytes.
  Mapping a = nest({16, 16, 8}, {16, 1, 2}, {kSc, kT, kSr});
  CHECK(a.passes == std::array<uint64_t, 3>{1, 2, 1});
  pin_slices(a, f, Dataflow::ws, s.sram, 1, pass);
  CHECK(a.pinned[kWeight] == 992);
  const Traffic ta = mapped_traffic(tile_t(f, 8), Dataflow::ws, a, pass, 1, 4);
  CHECK(ta.dram_read() + ta.dram_write() == 11552);
  Mapping b = nest({4, 8, 16}, {64, 2, 1}, {kSc, kT, kSr});
  CHECK(b.passes == std::array<uint64_t, 3>{2, 1, 1});
  pin_slices(b, f, Dataflow::ws, s.sram, 1, pass);
  CHECK(b.pinned[kInput] == 896);
  const Traffic tb = mapped_traffic(f, Dataflow::ws, b, pass, 1, 4);
  CHECK(tb.dram_read() + tb.dram_write() == 11648);
  // Single buffered, the whole 1 KiB holds all 256 partial sums: one block, every operand
  // read once, 8448 B, the compulsory bytes.
  const Mapping m = choose_mapping(f, {s, 1, 4, 0}, pass);
  CHECK(m.output_single);
  CHECK(m.tile[kSc] == 16);
  CHECK(m.tile[kT] == 16);
  CHECK(m.passes == std::array<uint64_t, 3>{1, 1, 1});
  CHECK(m.spill_passes == 0);
  const Traffic t = mapped_traffic(tile_t(f, m.tile[kT]), Dataflow::ws, m, pass, 1, 4);
  CHECK(t.dram_read() + t.dram_write() == 8448);
  // One block: nothing drains while folds run; all 256 B leave after the last fold.
  CHECK(drain_stall_cycles(m, f, s.sram, 1, 0) == 0);
  CHECK(t.last_fold_write_bytes == 256);

  // M = 32: the 512 outputs make two blocks of 16 × 16 even single buffered. The first
  // block's 256 B drain before the second starts: 256 / 64 B per cycle (the buffer port,
  // the DRAM rate unknown) = 4 cycles; at 10 B per DRAM cycle ⌈25.6⌉ = 26. Three instances
  // back to back: 3·512 − 256 = 1280 B drain between blocks, 20 cycles at 64 B.
  const FoldMap f2 = map_gemm(32, 256, 16, Dataflow::ws, 4, 4);
  Mapping two = m;
  two.tile = {m.tile[kSr], 16, 16};
  two.trips = {m.trips[kSr], 1, 2};
  CHECK(drain_stall_cycles(two, f2, s.sram, 1, 0) == 4);
  CHECK(drain_stall_cycles(two, f2, s.sram, 1, 10.0) == 26);
  CHECK(drain_stall_cycles(two, f2, s.sram, 1, 0, 3) == 20);
  CHECK(mapped_traffic(tile_t(f2, 16), Dataflow::ws, two, gemm_pass_bytes(f2, Dataflow::ws, 1), 1, 4)
            .last_fold_write_bytes == 256);
  two.output_single = false;
  CHECK(drain_stall_cycles(two, f2, s.sram, 1, 0) == 0);  // double buffered: drains overlap the folds

  // search: fixed never takes it.
  s.mapper.search = MapSearch::fixed;
  CHECK_FALSE(choose_mapping(f, {s, 1, 4, 0}, pass).output_single);
}

namespace {
const std::string kSrc = BPSIM_SOURCE_DIR;

/// A one-layer network: the forward GEMM is M = batch 64, K = 16 features, N = 8 outputs.
struct OneLinear {
  test::Scratch dir{"systolic_mapper"};
  std::string config;
  OneLinear() {
    dir.file("net.yaml",
             "name: one_linear\ndtype: fp32\nbatch: 64\ninput: { shape: [16] }\noptimizer: sgd\n"
             "layers:\n  - { kind: linear, out_features: 8 }\n");
    config =
        dir.file("run.yaml", "include: [" + kSrc + "/configs/memory/ddr4_2400.yaml, " + kSrc +
                                 "/configs/energy/45nm.yaml, " + kSrc +
                                 "/configs/energy/45nm/systolic.yaml]\n"
                                 "accelerator:\n  kind: systolic\n  rows: 4\n  cols: 4\n  dataflow: ws\n  dtype: int8\n"
                                 "  sram: { input_kib: 1, weight_kib: 1, output_kib: 1, double_buffer: true }\n"
                                 "workload: { spec: net.yaml, dtype: int8 }\n");
  }
};

const nlohmann::json& op_named(const nlohmann::json& rep, const std::string& name) {
  for (const auto& op : rep["ops"])
    if (op["name"] == name) return op;
  FAIL("no op " << name);
  static const nlohmann::json none;
  return none;
}

/// run.yaml for one int8 linear layer (`features` → `outputs` at `batch`) on a 4×4 ws array
/// with double-buffered buffers of the given KiB (input, then weight and output: 1 KiB).
std::string one_linear_run(test::Scratch& dir, int batch, int features, int outputs, int input_kib) {
  dir.file("net.yaml",
           "name: one_linear\ndtype: int8\nbatch: " + std::to_string(batch) + "\ninput: { shape: [" +
               std::to_string(features) +
               "] }\noptimizer: sgd\nlayers:\n  - { kind: linear, out_features: " + std::to_string(outputs) + " }\n");
  return dir.file("run.yaml",
                  "include: [" + kSrc + "/configs/memory/ddr4_2400.yaml, " + kSrc + "/configs/energy/45nm.yaml, " +
                      kSrc +
                      "/configs/energy/45nm/systolic.yaml]\n"
                      "accelerator:\n  kind: systolic\n  rows: 4\n  cols: 4\n  dataflow: ws\n  dtype: int8\n"
                      "  sram: { input_kib: " +
                      std::to_string(input_kib) +
                      ", weight_kib: 1, output_kib: 1, double_buffer: true }\n"
                      "workload: { spec: net.yaml, dtype: int8 }\n");
}

/// `bpsim run` of `config` into `out` (with `args`): linear0.fwd's extra.
nlohmann::json fwd_extra(const std::string& config, const std::string& out, const std::string& args = "") {
  const test::CliResult r = run_bpsim("run " + config + " --quiet --force --out " + out + args);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return op_named(nlohmann::json::parse(test::slurp(out + "/report.json")), "linear0.fwd")["extra"];
}

/// The op's mapping moves exactly its compulsory `bytes`: ratio 1.
void check_at_compulsory(const nlohmann::json& extra, uint64_t bytes) {
  CHECK(extra["dram_floor"]["compulsory_bytes"] == bytes);
  CHECK(extra["dram_floor"]["operand_dram_bytes"] == bytes);
  CHECK(extra["dram_floor"]["ratio"] == 1.0);
}
}  // namespace

TEST_CASE("systolic mapper e2e: the mapping in report.json and ops.csv, bad mapper keys exit 2", "[systolic][mapper]") {
  OneLinear net;
  const std::string out = net.dir / "out";
  test::CliResult r = run_bpsim("run " + net.config + " --quiet --out " + out);
  INFO(r.err);
  REQUIRE(r.code == 0);
  const nlohmann::json rep = nlohmann::json::parse(test::slurp(out + "/report.json"));
  // The forward GEMM is the hand case above: tile k16 n4 m32, the whole weight pinned, no spill.
  const nlohmann::json& fwd = op_named(rep, "linear0.fwd")["extra"];
  CHECK(fwd["mapping"]["plan"] == "tiled");
  CHECK(fwd["mapping"]["family"] == "pinned_slice");
  CHECK(fwd["mapping"]["loop_order"] == "k>m>n");
  CHECK(fwd["mapping"]["tile"] == nlohmann::json{{"k", 16}, {"m", 32}, {"n", 4}});
  CHECK(fwd["mapping"]["pinned_bytes"] == nlohmann::json{{"input", 0}, {"weight", 128}});
  CHECK(fwd["mapping"]["spill_passes"] == 0);
  CHECK(fwd["spill_bytes"] == 0);
  CHECK(fwd["dram_floor"]["compulsory_bytes"] == 1664);
  CHECK(fwd["dram_floor"]["operand_dram_bytes"] == 1664);
  CHECK(fwd["dram_floor"]["ratio"] == 1.0);
  // ops.csv carries the mapping after the standard columns.
  const std::string csv = test::slurp(out + "/ops.csv");
  CHECK_THAT(csv,
             Catch::StartsWith("name,phase,kind,start_cycle,cycles,energy_pj,macs,macs_executed,macs_skipped,"
                               "macs_gated,dram_read_bytes,dram_write_bytes,onchip_read_bytes,onchip_write_bytes,"
                               "stall_cycles,layer,utilisation,dram_gbps,onchip_gbps,macs_per_dram_byte,gmacs_per_s,"
                               "map_family,loop_order,tile_m,tile_n,tile_k,input_passes,weight_passes,"
                               "spill_passes,dram_vs_floor\n"));
  CHECK_THAT(csv, Catch::Contains(",pinned_slice,k>m>n,32,4,16,1,2,0,1\n"));
  // dW (M = 16 features, K = 64 batch, N = 8) needs no slice: a plain loop nest.
  CHECK_THAT(csv, Catch::Contains("linear0.dw,") && Catch::Contains(",loop_nest,k>n>m,16,8,4,1,1,0,1\n"));

  // search: fixed is the plan before the mapper: input twice, 3 spill passes of 2048 B.
  r = run_bpsim("run " + net.config + " --quiet --force --out " + out + " --set accelerator.mapper.search=fixed");
  REQUIRE(r.code == 0);
  const nlohmann::json fixed = op_named(nlohmann::json::parse(test::slurp(out + "/report.json")), "linear0.fwd");
  CHECK(fixed["extra"]["mapping"]["plan"] == "fixed");
  CHECK(fixed["extra"]["spill_bytes"] == 6144);
  CHECK(fixed["extra"]["dram_floor"]["operand_dram_bytes"] == 14976);
  CHECK(fixed["dram_read_bytes"].get<uint64_t>() > op_named(rep, "linear0.fwd")["dram_read_bytes"].get<uint64_t>());

  // Bad keys: a misspelt key, a value outside the choices, a search SCALE-Sim timing cannot keep.
  r = run_bpsim("run " + net.config + " --quiet --out " + out + "2 --set accelerator.mapper.serch=fixed");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("accelerator.mapper.serch"));
  r = run_bpsim("run " + net.config + " --quiet --out " + out + "2 --set accelerator.mapper.objective=energy");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("accelerator.mapper.objective"));
  r = run_bpsim("run " + net.config + " --quiet --out " + out +
                "2 --set accelerator.timing=scalesim --set accelerator.mapper.search=exhaustive");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("accelerator.mapper.search") && Catch::Contains("timing: scalesim"));
  // auto with scalesim timing is the fixed plan.
  r = run_bpsim("run " + net.config + " --quiet --out " + out + "3 --set accelerator.timing=scalesim");
  REQUIRE(r.code == 0);
  CHECK(op_named(nlohmann::json::parse(test::slurp(out + "3/report.json")),
                 "linear0.fwd")["extra"]["mapping"]["plan"] == "fixed");
}

TEST_CASE("systolic mapper e2e: a pinned slice through a spec, in report.json and ops.csv", "[systolic][mapper]") {
  // linear 32 → 32 at batch 64, int8, 4×4 ws, buffers 4 / 1 / 1 KiB: the forward GEMM is the
  // pinned-slice hand case above (M=64, K=32, N=32): every loop nest repeats a pass (7168 B
  // at best), the pinned input reaches the compulsory 2048 + 1024 + 2048 = 5120 B.
  test::Scratch dir{"systolic_pinned"};
  const std::string config = one_linear_run(dir, 64, 32, 32, 4);
  const std::string out = dir / "out";
  const nlohmann::json fwd = fwd_extra(config, out);
  CHECK(fwd["mapping"]["family"] == "pinned_slice");
  CHECK(fwd["mapping"]["pinned_bytes"]["input"] == 2048);
  check_at_compulsory(fwd, 5120);
  // The floor for 4 KiB + 1 KiB + 128 partial sums (+16 PE registers each) is far below the
  // compulsory bytes of so small a GEMM: 0.
  CHECK(fwd["dram_floor"]["lower_bound_bytes"] == 0);
  CHECK_THAT(test::slurp(out + "/ops.csv"), Catch::Contains("linear0.fwd,") && Catch::Contains(",pinned_slice,"));
  // search: fixed keeps the plan before the mapper: no slice, more bytes.
  const nlohmann::json fixed = fwd_extra(config, out, " --set accelerator.mapper.search=fixed");
  CHECK(fixed["mapping"]["family"] == "fixed");
  CHECK(fixed["dram_floor"]["operand_dram_bytes"].get<uint64_t>() > 5120);
}

TEST_CASE("systolic mapper e2e: a single-buffered output through a spec, in report.json", "[systolic][mapper]") {
  // linear 256 → 16 at batch 16, int8, 4×4 ws, buffers 1 / 1 / 1 KiB: the forward GEMM is the
  // single-buffered hand case above (M=16, K=256, N=16): double buffered the best mapping
  // moves 11552 B; the whole output buffer holds all 256 partial sums, every operand is read
  // once: the compulsory 4096 + 4096 + 256 = 8448 B, in one block (no drain stall).
  test::Scratch dir{"systolic_single_output"};
  const std::string config = one_linear_run(dir, 16, 256, 16, 1);
  const std::string out = dir / "out";
  const nlohmann::json fwd = fwd_extra(config, out);
  CHECK(fwd["mapping"]["output_buffer"] == "single");
  CHECK(fwd["mapping"]["tile"]["m"] == 16);  // T whole and N whole: one block of 256 partial sums
  CHECK(fwd["mapping"]["tile"]["n"] == 16);
  CHECK(fwd["mapping"]["dram_passes"] == nlohmann::json{{"input", 1}, {"output", 1}, {"weight", 1}});
  check_at_compulsory(fwd, 8448);
  CHECK_FALSE(fwd.contains("drain_stall_cycles"));
  // search: fixed keeps the plan before the mapper: double buffered, more bytes.
  const nlohmann::json fixed = fwd_extra(config, out, " --set accelerator.mapper.search=fixed");
  CHECK_FALSE(fixed["mapping"].contains("output_buffer"));
  CHECK(fixed["dram_floor"]["operand_dram_bytes"].get<uint64_t>() > 11552);
}
