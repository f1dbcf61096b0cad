// Explicit output-mask bitmaps (traces) and per-buffer SRAM prices on the systolic model.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "models/systolic/op_cost.h"
#include "models/systolic/systolic_actions.h"
#include "sim/core/config_node.h"
#include "sim/engine/engine.h"
#include "tests/cli/cli_harness.h"

using namespace bpsim;
using namespace bpsim::systolic;
using bpsim::test::run_bpsim;

namespace {
// The 4×6 pattern of the hand counts below (1 = output needed):
//   row 0: 1 1 0 0 0 0
//   row 1: 0 0 0 0 0 0
//   row 2: 0 0 0 0 0 1
//   row 3: 0 0 0 0 0 0
// Bits row-major, least significant first: bit 0, 1 and 2·6+5 = 17 set →
// bytes 0b00000011, 0b00000010, 0b00000000.
std::vector<uint8_t> pattern_bytes() { return {0x03, 0x02, 0x00}; }
MaskSpec bitmap_mask() {
  MaskSpec k;
  k.active = true;
  k.bitmap = std::make_shared<workload::MaskBitmap>(4, 6, pattern_bytes());
  return k;
}
MaskEffect effect(Granularity g, SparsityMode mode) {
  SparsityConfig cfg = systolic_defaults().sparsity;
  cfg.mode = mode;
  cfg.granularity = g;
  std::mt19937_64 rng(1);
  // A 2×2 ws array: tiles are 2 output rows (M) by 2 output columns (N).
  return apply_mask(4, 6, bitmap_mask(), cfg, Dataflow::ws, 2, 2, rng);
}
}  // namespace

TEST_CASE("systolic bitmap: element, row, column and tile effects are the hand counts", "[systolic][bitmap]") {
  REQUIRE(bitmap_mask().bitmap->needed_total() == 3);
  // Element: 24 outputs, 3 needed → 21 masked; rows 1 and 3 are wholly masked, so skipping
  // removes 2 rows (12 outputs) and gates the other 21 − 12 = 9.
  MaskEffect e = effect(Granularity::element, SparsityMode::skip);
  CHECK(e.units == 24);
  CHECK(e.masked_outputs == 21);
  CHECK(e.skipped_outputs == 12);
  CHECK(e.gated_outputs(SparsityMode::skip) == 9);
  REQUIRE(e.work.size() == 1);
  CHECK(e.work[0].m == 2);
  CHECK(e.work[0].n == 6);
  CHECK(e.metadata_bytes() == 3);  // 24 bits
  // Row: rows 1 and 3 masked, 2 × 6 = 12 outputs; the needed rows' zeros are not in a row mask.
  e = effect(Granularity::row, SparsityMode::skip);
  CHECK(e.units == 4);
  CHECK(e.masked_outputs == 12);
  CHECK(e.work[0].m == 2);
  // Column: columns 0, 1 (row 0) and 5 (row 2) are needed → 3 masked columns × 4 rows = 12.
  e = effect(Granularity::col, SparsityMode::skip);
  CHECK(e.units == 6);
  CHECK(e.masked_outputs == 12);
  CHECK(e.work[0].n == 3);
  CHECK(e.work[0].m == 4);
  // Tile (2×2; ws puts N on the columns: 3 column blocks of 2, 2 row tiles each → 6 tiles):
  //   block cols 0–1: rows 0–1 needed (r0c0), rows 2–3 masked (4 outputs)  → kept length 2
  //   block cols 2–3: both tiles masked (8 outputs)                         → kept length 0
  //   block cols 4–5: rows 0–1 masked (4 outputs), rows 2–3 needed (r2c5)  → kept length 2
  // masked = 16; 2 of 6 tiles kept; scheduled groups: two 2×2 GEMMs and one empty one.
  e = effect(Granularity::tile, SparsityMode::skip);
  CHECK(e.units == 6);
  CHECK(e.masked_outputs == 16);
  CHECK(e.skipped_outputs == 16);
  CHECK(e.kept_tile_fraction == Approx(2.0 / 6.0));
  // The union over blocks of the kept row tiles. The pattern's bytes set bits 0, 1 and 9
  // (0x02 in byte 1: row 1, column 3), so both kept tiles lie in row tile 0 (rows 0–1; the
  // comment above on r2c5 predates this check): the union is 2 of 4 rows, 0.5, above the mean
  // kept share 2/6. An input held across the column blocks is read for that half once.
  CHECK(e.kept_union_fraction == Approx(0.5));
  uint64_t scheduled = 0;
  for (const SubGemm& w : e.work) scheduled += w.m * w.n * w.count;
  CHECK(scheduled == 8);  // 24 − 16
  // Gating never removes work: everything masked is gated.
  for (Granularity g : {Granularity::element, Granularity::row, Granularity::col, Granularity::tile}) {
    const MaskEffect gate = effect(g, SparsityMode::gate);
    CHECK(gate.skipped_outputs == 0);
    CHECK(gate.work[0].m * gate.work[0].n == 24);
    CHECK(gate.gated_outputs(SparsityMode::gate) == gate.masked_outputs);
  }
}

TEST_CASE("systolic bitmap: a file of the wrong size is refused", "[systolic][bitmap]") {
  test::Scratch dir("bitmap_size");
  const std::string f = dir / "m.bin";
  std::ofstream(f, std::ios::binary) << "ab";
  CHECK_THROWS_WITH(workload::read_mask_bitmap(f, 4, 6), Catch::Contains("needs ⌈M·N/8⌉ = 3"));
  CHECK_THROWS_WITH(workload::read_mask_bitmap(dir / "none.bin", 4, 6), Catch::Contains("cannot open"));
}

namespace {
/// A one-GEMM trace (M×N = 64×64, K = 64) whose output mask is `bitmap`.
void write_trace(const std::filesystem::path& dir, const std::string& bitmap) {
  std::ofstream(dir / "t.jsonl")
      << R"({"format":"bpsim-trace","version":1,"name":"bitmap","dtype":"int8","batch":1})"
      << "\n"
      << R"({"tensor":0,"name":"a","bytes":4096,"role":"activation"})"
      << "\n"
      << R"({"tensor":1,"name":"w","bytes":4096,"role":"weight"})"
      << "\n"
      << R"({"tensor":2,"name":"y","bytes":4096,"role":"activation"})"
      << "\n"
      << R"({"op":0,"name":"g","phase":"forward","kind":"gemm","gemm":{"m":64,"n":64,"k":64},"reads":[0,1],"writes":[2],)"
      << R"("mask":{"source":"bitmap","bitmap":")" << bitmap << R"("}})"
      << "\n";
}
nlohmann::json run_trace(const std::filesystem::path& dir, const std::string& tag, const std::string& sets) {
  const test::CliResult r =
      run_bpsim("run " + std::string(BPSIM_SOURCE_DIR) + "/configs/examples/mlp_train_systolic.yaml --quiet --trace " +
                (dir / "t.jsonl").string() + " --out " + (dir / tag).string() +
                " --set accelerator.output_sparsity.pattern=from_op --set run.report_ops=all " + sets);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(test::slurp(dir / tag / "report.json"));
}
}  // namespace

TEST_CASE("systolic bitmap: a trace's bitmap masks exactly the rows it clears", "[systolic][bitmap]") {
  test::Scratch dir("bitmap_trace");
  // Rows 0–31 of the 64×64 output needed, rows 32–63 not: 64·64/8 = 512 bytes, of which the
  // first 32·64/8 = 256 (bits 0 .. 2047) are 0xFF.
  std::string bits(512, '\0');
  std::fill(bits.begin(), bits.begin() + 256, '\xFF');
  std::ofstream(dir.path / "half.bin", std::ios::binary) << bits;
  write_trace(dir.path, "half.bin");  // relative to the trace's folder
  const std::string row_skip =
      "--set accelerator.output_sparsity.mode=skip --set accelerator.output_sparsity.granularity=row";
  const nlohmann::json skip = run_trace(dir.path, "skip", row_skip);
  const nlohmann::json gate = run_trace(dir.path, "gate", "--set accelerator.output_sparsity.mode=gate");
  const nlohmann::json off = run_trace(dir.path, "off", "--set accelerator.output_sparsity.mode=off");
  // 32 of 64 rows masked → half of the 64·64·64 = 262144 MACs not executed or gated.
  CHECK(skip["totals"]["macs"] == 262144);
  CHECK(skip["totals"]["macs_executed"] == 131072);
  CHECK(gate["totals"]["macs_gated"] == 131072);
  CHECK(off["totals"]["macs_gated"] == 0);
  CHECK(skip["ops"][0]["extra"]["masked_outputs"] == 2048);
  // A wrong-size bitmap is bad input, located at the op's line (5) and its field.
  std::ofstream(dir.path / "short.bin", std::ios::binary) << std::string(100, '\xFF');
  write_trace(dir.path, "short.bin");
  const test::CliResult r =
      run_bpsim("run " + std::string(BPSIM_SOURCE_DIR) + "/configs/examples/mlp_train_systolic.yaml --quiet --trace " +
                dir / "t.jsonl" + " --out " + dir / "bad");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("t.jsonl:5") && Catch::Contains("bitmap") && Catch::Contains("512"));
}

TEST_CASE("systolic: each operand buffer is priced at its own capacity", "[systolic][energy]") {
  config::Node n = config::load_file(std::string(BPSIM_SOURCE_DIR) + "/configs/energy/45nm.yaml");
  EnergyTable t = EnergyTable::parse(*n.find("energy"), "energy", all_known_actions(), all_known_leakage());
  SystolicSpec s = systolic_defaults();
  s.sram = {64 * 1024, 2048 * 1024, 16 * 1024, true, 64};
  Buffers(s).price(t);
  // Double-buffered: an access reaches one half. Horowitz 45 nm points (configs/energy/45nm/sram.yaml):
  //   input 64 KiB → 32 KiB half: the 32 KiB point, 20 pJ.
  //   weight 2 MiB → 1 MiB half: the 1 MiB point, 100 pJ.
  //   output 16 KiB → 8 KiB half: the 8 KiB point, 10 pJ.
  const SystolicActions& A = systolic_actions();
  CHECK(t.pj(A.sram_input_read) == Approx(20.0));
  CHECK(t.pj(A.sram_weight_write) == Approx(100.0));
  CHECK(t.pj(A.sram_output_read) == Approx(10.0));
  // Single-buffered 2 MiB: beyond 1 MiB along the 32 KiB–1 MiB segment (log2 15 → 20):
  // 20 + 80 · (21 − 15)/5 = 116 pJ.
  s.sram.double_buffer = false;
  Buffers(s).price(t);
  CHECK(t.pj(A.sram_weight_read) == Approx(116.0));
}
