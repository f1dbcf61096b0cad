// The systolic mapper: tile sizes and loop order per GEMM, DRAM passes per operand, the
// DRAM floor (compulsory bytes, I/O lower bound), and the mapping through `bpsim run`.
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
  // 6 tile pairs × 6 loop orders + the fixed plan = 37 candidates. Only K and N whole
  // (16 × 8, the 128 B weight tile fits 512 B) let every operand pass once: the longest T
  // tile is min(64, 512 B / 16 input rows = 32, 128 psums / 8 columns = 16) = 16, so only T
  // loops (4 trips) and every order is the same; the first, k>n>m, is kept. DRAM is the
  // compulsory 1024 + 128 + 512 = 1664 B. (K tiled: the partial sums or the weights make a
  // second pass; N tiled with T tiled: the input or the weights do: ≥ 1664 + 128.)
  const SystolicSpec ex_spec = small_spec(MapSearch::exhaustive);
  const Mapping m = choose_mapping(f, {ex_spec, 1, 4, 0}, pass);
  CHECK_FALSE(m.fixed);
  CHECK(m.candidates == 37);
  CHECK(m.tile == std::array<uint64_t, 3>{16, 8, 16});
  CHECK(m.trips == std::array<uint64_t, 3>{1, 1, 4});
  CHECK(m.order == std::array<int, 3>{kSr, kSc, kT});
  CHECK(m.passes == std::array<uint64_t, 3>{1, 1, 1});
  CHECK(m.spill_passes == 0);
  const FoldMap tiled = tile_t(f, m.tile[kT]);
  CHECK(tiled.ft == 4);
  const Traffic t = mapped_traffic(tiled, Dataflow::ws, m, pass, 1, 4);
  CHECK(t.spill_bytes == 0);
  CHECK(t.dram_read() + t.dram_write() == 1664);
  // The stationary weights enter the array once per T tile: 128 B × 4 = 512 B of buffer reads.
  CHECK(t.op[kWeight].sram_read == 512);
  // Folds of 16 ≥ 4 rows hide every preload: 4 T tiles × 2 column folds × 4 row folds × 16
  // = 512 steady cycles, as the untiled 2 × 4 × 64; edges 4 + (4 + 4 − 2) = 10.
  CHECK(time_folds(tiled, Dataflow::ws, Timing::overlapped, 1).total() == 522);
  CHECK(time_folds(f, Dataflow::ws, Timing::overlapped, 1).total() == 522);
}

TEST_CASE("systolic mapper: a loop outside an operand's innermost loop costs it a pass per trip",
          "[systolic][mapper]") {
  // M=64, K=16, N=8 (as above) tiled 8 × 4 × 16 (K, N, M): trips K 2, N 2, M 4.
  const FoldMap f = tile_t(map_gemm(64, 16, 8, Dataflow::ws, 4, 4), 16);
  const PassBytes pass = gemm_pass_bytes(f, Dataflow::ws, 1);
  Mapping m;
  m.fixed = false;
  m.tile = {8, 4, 16};
  m.trips = {2, 2, 4};
  // Order n>m>k (N outermost, K innermost): the input (K×M) is not indexed by N, which lies
  // outside its innermost loop K → 2 passes; the weights (K×N) are not indexed by M, outside
  // K → 4 passes; the partial sums (N×M) are not indexed by K, innermost → kept, no spill.
  m.order = {kSc, kT, kSr};
  derive_passes(m, Dataflow::ws);
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
  // fixed plan and the 1664 B tiling take the same 522 array cycles, so DRAM bytes break the
  // tie and the tiling is kept.
  const FoldMap f = map_gemm(64, 16, 8, Dataflow::ws, 4, 4);
  SystolicSpec s = small_spec(MapSearch::exhaustive);
  s.mapper.objective = MapObjective::cycles;
  const Mapping m = choose_mapping(f, {s, 1, 4, 0}, gemm_pass_bytes(f, Dataflow::ws, 1));
  CHECK(m.passes == std::array<uint64_t, 3>{1, 1, 1});
  CHECK(m.spill_passes == 0);
}

TEST_CASE("systolic mapper: the DRAM floor is max(compulsory, 2·M·N·K/√S)", "[systolic][mapper]") {
  // M = N = K = 256, int8, buffers 4 + 4 + 8 KiB = 16384 one-byte words, √S = 128:
  // bound 2·256³/128 = 262144 B; compulsory 3 · 256·256 = 196608 B; the floor is the bound.
  const SramConfig s{4096, 4096, 8192, true, 64};
  const FoldMap f = map_gemm(256, 256, 256, Dataflow::ws, 32, 32);
  const DramFloor d = dram_floor(256, 256, 256, s, 1, gemm_pass_bytes(f, Dataflow::ws, 1));
  CHECK(d.compulsory_bytes == 196608);
  CHECK(d.bound_bytes == 262144);
  CHECK(d.floor() == 262144);
  // bf16 (2 B): S = 8192 words, bound 2·256³/√8192 = 370727.6 → 370728 words = 741456 B;
  // compulsory doubles to 393216 B.
  const DramFloor h = dram_floor(256, 256, 256, s, 2, gemm_pass_bytes(f, Dataflow::ws, 2));
  CHECK(h.compulsory_bytes == 393216);
  CHECK(h.bound_bytes == 741456);
  // M=64, K=16, N=8 on 1 KiB × 3 (S = 3072): bound ⌈16384/55.43⌉ = 296 B < compulsory 1664 B.
  const FoldMap g = map_gemm(64, 16, 8, Dataflow::ws, 4, 4);
  const DramFloor c = dram_floor(64, 16, 8, {1024, 1024, 1024, true, 64}, 1, gemm_pass_bytes(g, Dataflow::ws, 1));
  CHECK(c.bound_bytes == 296);
  CHECK(c.floor() == 1664);
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
}  // namespace

TEST_CASE("systolic mapper e2e: the mapping in report.json and ops.csv, bad mapper keys exit 2", "[systolic][mapper]") {
  OneLinear net;
  const std::string out = net.dir / "out";
  test::CliResult r = run_bpsim("run " + net.config + " --quiet --out " + out);
  INFO(r.err);
  REQUIRE(r.code == 0);
  const nlohmann::json rep = nlohmann::json::parse(test::slurp(out + "/report.json"));
  // The forward GEMM is the hand case above: tile k16 n8 m16, every operand once, no spill.
  const nlohmann::json& fwd = op_named(rep, "linear0.fwd")["extra"];
  CHECK(fwd["mapping"]["plan"] == "tiled");
  CHECK(fwd["mapping"]["loop_order"] == "k>n>m");
  CHECK(fwd["mapping"]["tile"] == nlohmann::json{{"k", 16}, {"m", 16}, {"n", 8}});
  CHECK(fwd["mapping"]["spill_passes"] == 0);
  CHECK(fwd["spill_bytes"] == 0);
  CHECK(fwd["dram_floor"]["compulsory_bytes"] == 1664);
  CHECK(fwd["dram_floor"]["operand_dram_bytes"] == 1664);
  CHECK(fwd["dram_floor"]["ratio"] == 1.0);
  // ops.csv carries the mapping after the standard columns.
  const std::string csv = test::slurp(out + "/ops.csv");
  CHECK_THAT(csv, Catch::StartsWith("name,phase,kind,start_cycle,cycles,energy_pj,macs,macs_executed,macs_skipped,"
                                    "macs_gated,dram_read_bytes,dram_write_bytes,onchip_read_bytes,onchip_write_bytes,"
                                    "loop_order,tile_m,tile_n,tile_k,input_passes,weight_passes,spill_passes,"
                                    "dram_vs_floor\n"));
  CHECK_THAT(csv, Catch::Contains(",k>n>m,16,8,16,1,1,0,1\n"));

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
