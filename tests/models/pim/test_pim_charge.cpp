// The charge-domain physics (signal per count, reliable rows, error rate), the two forward
// mappings on tiny layers (command counts by hand), auto's choice, the integer readout's key,
// and the price of one RowClone-PSM burst from the preset's IDD currents.
#include <catch2/catch.hpp>

#include "models/pim/charge.h"
#include "models/pim/core.h"
#include "models/pim/mapper.h"
#include "pim_test_util.h"
#include "sim/core/config_node.h"
#include "sim/core/error.h"

using namespace bpsim;
using namespace bpsim::pim;

namespace {
/// A binary forward op M × K → N over a graph holding it (and, with `out_bytes`, the tensor it
/// writes: more than one bit per output asks for the integer popcount).
struct Layer {
  workload::OpGraph g;
  workload::Op op;
  Layer(uint64_t M, uint64_t K, uint64_t N, uint64_t out_bytes = 0) {
    op.name = "fc.fwd";
    op.kind = workload::OpKind::xnor_gemm;
    op.dtype = workload::DType::binary;
    op.phase = workload::Phase::forward;
    op.gemm = {M, N, K, 1};
    if (out_bytes > 0) {
      g.tensors.push_back({0, "fc.out", out_bytes, workload::TensorRole::activation});
      op.writes = {0};
    }
    g.ops.push_back(op);
  }
};

uint64_t job_count(const OpPlan& p, const std::string& name) {
  for (const Job& j : p.jobs)
    if (j.name == name) return j.count;
  return 0;
}

Seq total(const PimSpec& s, const OpPlan& p) {
  Seq t;
  Core(s).run(p, &t);
  return t;
}
}  // namespace

TEST_CASE("pim charge: signal per count, reliable rows and error rate by hand", "[pim][charge]") {
  // Defaults: C_c 24 fF, C_b 96 fF, 1.2 V, σ 10 mV, wordlines open, target 1e-6.
  const PimSpec s = testing::pim_spec();
  const ChargeModel c(s);
  // ΔV(n) = C_c·V/(C_b + n·C_c) = 28.8 fF·V/(96 + 24n) fF.
  CHECK(c.signal_per_count_v(1) == Approx(28.8 / 120));  // 0.24 V
  CHECK(c.signal_per_count_v(8) == Approx(0.1));         // 28.8/288
  CHECK(c.signal_per_count_v(9) == Approx(28.8 / 312));  // 92.3 mV
  // Error with the reference half a count away: Φ(−(ΔV/2)/σ). n = 8: Φ(−5) = 2.8665e-7
  // (normal tables); n = 9: Φ(−4.6154) = 1.96e-6 (tables: Φ(−4.6) = 2.11e-6, Φ(−4.62) = 1.92e-6).
  CHECK(c.error_rate(8) == Approx(2.8665e-7).epsilon(1e-3));
  CHECK(c.error_rate(9) > 1.9e-6);
  CHECK(c.error_rate(9) < 2.0e-6);
  // So 8 cells per sense meet 1e-6 and 9 do not.
  CHECK(c.max_reliable_rows(1000) == 8);
  CHECK(c.max_reliable_rows(5) == 5);  // bounded by the room given
  CHECK(c.rows_per_sense(1000) == 8);
  // σ = 5 mV: n ≤ V/(2·z·σ) − C_b/C_c with z = Φ⁻¹(1 − 1e-6) = 4.7534: 1.2/0.047534 − 4 =
  // 21.24 → 21.
  const PimSpec s5 = testing::pim_spec("{sense_offset_mv: 5}");
  CHECK(ChargeModel(s5).max_reliable_rows(1000) == 21);
  // Wordlines closing between steps of r = 4 rows: 8 cells take 2 steps; the first step's
  // cells share with C_b + 4·C_c = 192 fF (ΔV = 28.8/192 = 0.15 V), then the bitline
  // shares with the next 4 cells: × 96/192 = 0.5 → 75 mV for the weakest count; a sense is
  // kept within one step (4 rows).
  const PimSpec sc = testing::pim_spec("{wordline_policy: close, max_rows_per_step: 4}");
  CHECK(ChargeModel(sc).signal_per_count_v(8) == Approx(0.075));
  CHECK(ChargeModel(sc).max_reliable_rows(1000) == 4);
  // The distribution function against table values.
  CHECK(ChargeModel::phi(0) == Approx(0.5));
  CHECK(ChargeModel::phi(-1.96) == Approx(0.025).epsilon(1e-3));
}

TEST_CASE("pim charge: rows_per_sense past the margin and hopeless offsets are refused", "[pim][charge]") {
  CHECK(testing::pim_spec("{rows_per_sense: 8}").rows_per_sense == 8);
  CHECK_THROWS_WITH(testing::pim_spec("{rows_per_sense: 9}"),
                    Catch::Contains("accelerator.rows_per_sense") && Catch::Contains("at most 8 cells"));
  // σ = 200 mV: one cell's 0.24 V is 0.6σ from the reference: Φ(−0.6) = 0.27 per sense.
  CHECK_THROWS_WITH(testing::pim_spec("{sense_offset_mv: 200}"),
                    Catch::Contains("accelerator.sense_offset_mv") && Catch::Contains("not even one cell"));
}

TEST_CASE("pim forward: weight-selected layer, sign by one sense, counted by hand", "[pim][charge]") {
  // M = 16 samples, K = 8 inputs, N = 4 outputs, sign only (no written tensor). K = 8 fits
  // one reliable sense, so each (output, sample tile) is one charge-domain accumulate.
  const PimSpec s = testing::pim_spec();
  const Layer l(16, 8, 4);
  const OpPlan p = Mapper(s, nullptr).map(l.op, l.g);
  CHECK(p.mapping == "weight_selected");
  CHECK(p.readout == "sense");
  CHECK(p.rows_per_sense == 8);
  CHECK(p.sense_error == Approx(2.8665e-7).epsilon(1e-3));
  CHECK_FALSE(p.integer_readout);
  // Lanes hold the 16 samples (one row address per input serves every lane), one output per
  // tile: 4 tiles, 16 of 65,536 lanes each.
  CHECK(p.tiles == 4);
  CHECK(p.lanes_used == 16);
  // X laid out once per busy subarray: min(32 units, 4 items) = 4 copies of its 8 rows:
  // 32 RowClone-PSM rows and 32 NOTs (2 AAP each) for ¬x. Per tile the weight bits pick 8
  // rows, copied (8 AAP: sharing consumes the cells) and shared: 1 step of ≤ 16 rows.
  const Seq t = total(s, p);
  CHECK(t.psm == 32);
  CHECK(t.aap == 32 * 2 + 4 * 8);
  CHECK(t.ap == 0);
  CHECK(t.shares == 4);
  CHECK(t.senses == 4);
  // Activations: PSM 2 each (64), NOT 2 AAP × 2 ACT (128), copies 32 AAP × 2 (64), and per
  // accumulate one sharing ACT plus the output row's (8): 264. No XNOR anywhere.
  CHECK(t.acts == 64 + 128 + 64 + 8);
  // The controller reads the 32 weight bits (4 bytes) once per sample tile.
  REQUIRE(!p.transfers.empty());
  CHECK(p.transfers[0].what == "weight_bits");
  CHECK(p.transfers[0].bytes == 4);
}

TEST_CASE("pim forward: the integer popcount is read out when the op writes more than a bit", "[pim][charge]") {
  const PimSpec s = testing::pim_spec("{readout: bit_serial}");
  // 16 × 4 outputs: 8 bytes hold them as bits; a 256-byte (fp32) tensor asks for the count.
  const Layer sign(16, 8, 4, 8), integer(16, 8, 4, 256);
  CHECK_FALSE(Mapper(s, nullptr).map(sign.op, sign.g).integer_readout);
  const OpPlan p = Mapper(s, nullptr).map(integer.op, integer.g);
  CHECK(p.integer_readout);
  CHECK(p.readout == "bit_serial");
  // Bit-serial popcount of the 8 selected rows per tile (the adder's operand addresses are
  // the x or ¬x rows the weight bits pick): 4 one-bit adds, 2 two-bit, 1 three-bit, each
  // n-bit add 7n + 1 AAP and n AP: AAP 4·8 + 2·15 + 22 = 84, AP 4 + 4 + 3 = 11. One slice:
  // nothing to combine, no threshold. 4 tiles, plus the 32 NOTs' 64 AAP.
  const Seq t = total(s, p);
  CHECK(t.aap == 4 * 84 + 64);
  CHECK(t.ap == 4 * 11);
  CHECK(t.senses == 0);
  CHECK(job_count(p, "popcount") == 4);
  CHECK(job_count(p, "combine_count") == 0);
}

TEST_CASE("pim forward: successive approximation with per-lane reference cells", "[pim][charge]") {
  // readout charge, integer wanted, K = 8: a slice of kc operands shares with 2^b − 1
  // reference cells (b = ⌈log2(kc + 1)⌉), all within the 8 reliable cells: kc = 4 needs
  // 4 + 7 = 11, kc = 3 needs 3 + 3 = 6 → kc = 3, b = 2, S = ⌈8/3⌉ = 3 slices.
  const PimSpec s = testing::pim_spec("{readout: charge, forward_mapping: ambit_xnor}");
  const Layer l(16, 8, 4, 256);
  const OpPlan p = Mapper(s, nullptr).map(l.op, l.g);
  CHECK(p.mapping == "ambit_xnor");
  CHECK(p.readout == "sar");
  CHECK(p.rows_per_sense == 6);
  // ΔV(6) = 28.8/240 = 0.12 V: Φ(−6) = 9.87e-10.
  CHECK(p.sense_error == Approx(9.866e-10).epsilon(1e-3));
  CHECK(p.slices == 3);
  // Ambit lanes: one tile of 16 × 4. Per slice: 2 senses, each of fresh copies of 6 cells
  // (12 AAP); the 3 partials of 2 bits: 2·2 PSM copies and 2 adds of w = 2 + ⌈log2 3⌉ = 4
  // bits (29 AAP + 4 AP each); the count is wanted, so no threshold.
  const Seq t = total(s, p);
  CHECK(t.senses == 3 * 2);
  CHECK(job_count(p, "sar_copy") == 3);
  CHECK(t.psm == 8 + 8 + 4);                // x and w layout (8 rows each) + partial copies
  CHECK(t.aap == 8 * 5 + 3 * 12 + 2 * 29);  // XNOR 5 AAP per row + copies + adds
  CHECK(t.ap == 8 * 2 + 2 * 4);
}

TEST_CASE("pim forward: auto picks weight_selected for one output, ambit_xnor for many", "[pim][charge]") {
  const PimSpec s = testing::pim_spec("{forward_mapping: auto}");
  {
    // N = 1, K = 256: both use one row of 16 sample lanes and the same reduction (one slice,
    // K > 8 reliable cells: a popcount). weight_selected lays out 256 x rows (PSM) and makes
    // 256 ¬x rows (2 AAP each); ambit_xnor lays out 256 x and 256 w rows and runs 256 XNORs
    // (5 AAP + 2 AP each): more than three times the commands, none of them cheaper.
    const Layer l(16, 256, 1);
    const OpPlan p = Mapper(s, nullptr).map(l.op, l.g);
    CHECK(p.mapping == "weight_selected");
    CHECK_THAT(p.mapping_reason, Catch::Contains("auto") && Catch::Contains("ambit_xnor"));
  }
  {
    // M = N = 256: ambit_xnor fits all 65,536 (m, n) pairs in one row (8 x and 8 w rows, 8
    // XNORs, one accumulate); weight_selected needs 256 tiles of 256 sample lanes, each
    // with 8 copies and an accumulate.
    const Layer l(256, 8, 256);
    const OpPlan p = Mapper(s, nullptr).map(l.op, l.g);
    CHECK(p.mapping == "ambit_xnor");
    CHECK(p.tiles == 1);
  }
}

TEST_CASE("pim energy: a RowClone-PSM burst is one internal read and one internal write", "[pim][charge]") {
  // DRAMPower per device: read burst VDD·(IDD4R − IDD3N)·tBL·tCK, write burst with IDD4W;
  // the IDD currents are VDD's (output drivers draw from VDDQ, which they exclude). DDR4-2400
  // preset: 8 devices × 1.2 V × (IDD4R − IDD3N = 92 mA) × 4 × 0.833 ns = 2942.8 pJ, and
  // × (IDD4W − IDD3N = 80 mA) = 2559.0 pJ: 5501.8 pJ per 64-byte burst.
  const memory::DdrSpec d = testing::ddr4_2400();
  const double per_burst = 8 * d.vdd * ((d.idd4r - d.idd3n) + (d.idd4w - d.idd3n)) * d.tbl * d.tck_ns;
  CHECK(per_burst == Approx(5501.8).epsilon(1e-4));
  const config::Node table = config::load_file(std::string(BPSIM_SOURCE_DIR) + "/configs/energy/45nm/pim.yaml");
  const config::Node* e = table.find("energy")->find("actions")->find("pim.psm_burst")->find("pj");
  REQUIRE(e != nullptr);
  CHECK(std::stod(e->scalar) == Approx(per_burst).epsilon(1e-4));
  // One copy of an 8 KiB row: 2 ACT, 2 PRE and 128 bursts.
  const PimSpec s = testing::pim_spec();
  const Seq q = Primitives(s).rowclone_psm(8192);
  CHECK(q.acts == 2);
  CHECK(q.pres == 2);
  CHECK(q.bursts == 128);
}

TEST_CASE("pim forward: a charge readout that cannot fit one operand and one reference is refused", "[pim][charge]") {
  // σ = 24 mV: one cell's 0.24 V is 5σ from the reference (Φ(−5) = 2.9e-7), two cells'
  // 0.2 V per count 4.17σ (Φ(−4.17) = 1.5e-5 > 1e-6): one reliable cell, and successive
  // approximation needs an operand and a reference cell per sense.
  const PimSpec s = testing::pim_spec("{readout: charge, sense_offset_mv: 24}");
  CHECK(ChargeModel(s).max_reliable_rows(1000) == 1);
  const Layer integer(16, 8, 4, 256);
  CHECK_THROWS_WITH(Mapper(s, nullptr).map(integer.op, integer.g),
                    Catch::Contains("accelerator.readout") && Catch::Contains("reliable cells per sense 1,"));
  // The bit-serial readout has no analog limit.
  const PimSpec b = testing::pim_spec("{readout: auto, sense_offset_mv: 24}");
  CHECK(Mapper(b, nullptr).map(integer.op, integer.g).readout == "bit_serial");
}
