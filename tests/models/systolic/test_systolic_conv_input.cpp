// Conv inputs on the systolic array (models/systolic/conv_input.h): the ifmap bytes an
// im2col block reads, the line buffer, the DRAM pass per dataflow, and the same through
// `bpsim run` on a spec. Every number is derived by hand in the comment beside it.
#include <catch2/catch.hpp>

#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "models/systolic/conv_input.h"
#include "models/systolic/mapper.h"
#include "tests/cli/cli_harness.h"
#include "tests/cli/report_json.h"

using namespace bpsim;
using namespace bpsim::systolic;

namespace {

workload::ConvShape shape(uint64_t n, uint64_t c, uint64_t hw, uint64_t k, uint64_t rs, uint64_t stride, uint64_t pad) {
  const uint64_t pq = (hw + 2 * pad - rs) / stride + 1;
  return workload::ConvShape{n, c, hw, hw, k, rs, rs, stride, pad, 1, pq, pq};
}

/// The ifmap addresses of im2col rows [m0, m1) and columns [k0, k1), one at a time (rows
/// (n, p, q), columns (r, s, c) with the channel fastest, or (c, r, s); padding is no address).
uint64_t brute(const workload::ConvShape& c, uint64_t m0, uint64_t m1, uint64_t k0, uint64_t k1, bool crs) {
  std::set<uint64_t> seen;
  for (uint64_t m = m0; m < m1; ++m) {
    const uint64_t n = m / (c.p * c.q), p = m / c.q % c.p, q = m % c.q;
    for (uint64_t k = k0; k < k1; ++k) {
      const uint64_t r = crs ? k / c.s % c.r : k / (c.s * c.c), s = crs ? k % c.s : k / c.c % c.s,
                     ch = crs ? k / (c.r * c.s) : k % c.c;
      const int64_t y = int64_t(p * c.stride + r) - int64_t(c.pad), x = int64_t(q * c.stride + s) - int64_t(c.pad);
      if (y >= 0 && x >= 0 && y < int64_t(c.h) && x < int64_t(c.w))
        seen.insert(((n * c.c + ch) * c.h + uint64_t(y)) * c.w + uint64_t(x));
    }
  }
  return seen.size();
}

workload::Op conv_op(const workload::ConvShape& c, workload::Phase ph = workload::Phase::forward) {
  workload::Op op;
  op.kind = workload::OpKind::conv;
  op.phase = ph;
  op.conv = c;
  const uint64_t pixels = c.n * c.p * c.q, window = c.c * c.r * c.s;
  if (ph == workload::Phase::backward_weight) op.gemm = {window, c.k, pixels, 1};
  else if (ph == workload::Phase::backward_data) op.gemm = {pixels, window, c.k, 1};
  else op.gemm = {pixels, c.k, window, 1};
  return op;
}

SystolicSpec spec(Dataflow df, uint64_t input_bytes, ConvInput mode = ConvInput::line_buffer) {
  SystolicSpec s = systolic_defaults();
  s.dataflow = df;
  s.sram.input_bytes = input_bytes;
  s.sram.double_buffer = false;
  s.conv_input = mode;
  return s;
}

}  // namespace

TEST_CASE("systolic conv input: unique ifmap bytes with padding and stride, by hand", "[systolic][conv_input]") {
  // 5×5×2 input, 3×3 kernel, stride 2, pad 1 → 3×3 outputs. Rows read per axis: outputs 0, 1,
  // 2 start at −1, 1, 3 and span 3: {−1..1} ∪ {1..3} ∪ {3..5} ∩ [0, 5) = all 5, so every one
  // of the 5·5·2 = 50 ifmap elements is read, none twice. The lowered matrix has M·K =
  // 9·18 = 162 entries: in-bounds taps per axis are 2 + 3 + 2 = 7, so 7·7·2 = 98 read the
  // ifmap and 64 are padding (never fetched).
  const workload::ConvShape a = shape(1, 2, 5, 4, 3, 2, 1);
  CHECK(a.p == 3);
  CHECK(conv_unique_bytes(a, 1) == 50);
  CHECK(conv_unique_bytes(a, 2) == 100);  // fp16: two bytes each
  // 7×7×3 input, 2 images, 2×2 kernel, stride 3: outputs read rows {0, 1} and {3, 4}; rows 2,
  // 5, 6 (and those columns) are never read: 2 images · 4·4 pixels · 3 channels = 96 of the
  // 294 ifmap elements, equal to the lowered M·K = (2·2·2)·(2·2·3) = 96: windows that do not
  // overlap have no duplicates to remove.
  const workload::ConvShape b = shape(2, 3, 7, 8, 2, 3, 0);
  CHECK(b.p == 2);
  CHECK(conv_unique_bytes(b, 1) == 96);
}

TEST_CASE("systolic conv input: one block's distinct elements (a fold's slice of the im2col)",
          "[systolic][conv_input]") {
  // 4×4×1 input, 3×3 kernel, stride 1 → 2×2 outputs. Columns [0, 4) are taps (0,0), (0,1),
  // (0,2), (1,0). Kernel row 0 reads ifmap rows {0, 1} × columns {0..3} = 8; tap (1,0) reads
  // rows {1, 2} × columns {0, 1} = 4; they share row 1 × columns {0, 1} = 2: 8 + 4 − 2 = 10.
  const workload::ConvShape c = shape(1, 1, 4, 1, 3, 1, 0);
  CHECK(touched_elements(c, 0, 4, 0, 4) == 10);
  // Rows [1, 3) = outputs (0,1) and (1,0), all 9 taps: ifmap rows 0..2 × columns 1..3 and
  // rows 1..3 × columns 0..2, 9 + 9 − 4 shared (rows 1..2 × columns 1..2) = 14.
  CHECK(touched_elements(c, 1, 3, 0, 9) == 14);
  // The 5×5×2 conv above, columns [4, 8): taps (0,2) and (1,0), both channels. Tap (0,2)
  // reads rows 2p − 1 = {1, 3} × columns 2q + 1 = {1, 3} (5 is outside): 2·2·2 = 8; tap (1,0)
  // rows {0, 2, 4} × columns {1, 3}: 3·2·2 = 12; disjoint rows: 20.
  CHECK(touched_elements(shape(1, 2, 5, 4, 3, 2, 1), 0, 9, 4, 8) == 20);
}

TEST_CASE("systolic conv input: every block's count equals enumeration", "[systolic][conv_input]") {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 300; ++i) {
    const uint64_t rs = 1 + rng() % 4, stride = 1 + rng() % 3, pad = rng() % rs, hw = rs + rng() % 6;
    const workload::ConvShape c = shape(1 + rng() % 2, 1 + rng() % 3, hw, 4, rs, stride, pad);
    const uint64_t m = c.n * c.p * c.q, k = c.c * c.r * c.s;
    const uint64_t m0 = rng() % m, m1 = m0 + 1 + rng() % (m - m0), k0 = rng() % k, k1 = k0 + 1 + rng() % (k - k0);
    INFO("case " << i << ": hw " << hw << " c " << c.c << " rs " << rs << " stride " << stride << " pad " << pad
                 << " rows [" << m0 << "," << m1 << ") cols [" << k0 << "," << k1 << ")");
    REQUIRE(touched_elements(c, m0, m1, k0, k1) == brute(c, m0, m1, k0, k1, false));
    REQUIRE(touched_elements(c, m0, m1, k0, k1, TapOrder::crs) == brute(c, m0, m1, k0, k1, true));
  }
}

TEST_CASE("systolic conv input: a pass is the sum of its folds' blocks in every dataflow", "[systolic][conv_input]") {
  // 3 images of 7×7×2, 3×3, pad 1: M = 147 rows (49 a image: 5-row blocks cross images),
  // K = 18. A 4×5 array and a 100-byte buffer: the 294-byte ifmap does not fit, the 56-byte
  // window (4 rows × 7 × 2 channels) does. The plan groups blocks that count alike; the sum
  // it gives must equal the plain sum of every block's own count, for the cheaper order.
  const workload::ConvShape c = shape(3, 2, 7, 4, 3, 1, 1);
  const workload::Op op = conv_op(c);
  for (Dataflow df : {Dataflow::ws, Dataflow::os, Dataflow::is}) {
    SystolicSpec s = spec(df, 100);
    s.rows = 4;
    s.cols = 5;
    const uint64_t mc = df == Dataflow::ws ? 147 : df == Dataflow::os ? 4 : 5, kc = df == Dataflow::os ? 18 : 4;
    uint64_t best = UINT64_MAX;
    for (TapOrder order : {TapOrder::rsc, TapOrder::crs}) {
      uint64_t sum = 0;
      for (uint64_t m0 = 0; m0 < 147; m0 += mc)
        for (uint64_t k0 = 0; k0 < 18; k0 += kc)
          sum += brute(c, m0, std::min<uint64_t>(147, m0 + mc), k0, std::min<uint64_t>(18, k0 + kc),
                       order == TapOrder::crs);
      best = std::min(best, sum);
    }
    const ConvInputPlan p = plan_conv_input(op, s, 1);
    INFO("dataflow " << to_string(df));
    CHECK(p.line_buffer);
    CHECK(p.pass_bytes == best);
    CHECK(p.pass_bytes > 294);  // more than the ifmap: blocks share rows at their edges
  }
}

TEST_CASE("systolic conv input: line buffer size and the pass per dataflow", "[systolic][conv_input]") {
  // AlexNet Conv1 as SCALE-Sim runs it: 224×224×3, 11×11, stride 4, 96 filters, output
  // ⌈(224 − 11 + 4)/4⌉ = 55 (SCALE-Sim's size: the last windows reach past the ifmap).
  workload::ConvShape alex{1, 3, 224, 224, 96, 11, 11, 4, 0, 1, 55, 55};
  // Window: 11 kernel rows + 4 arriving = 15 rows × 224 × 3 channels (a ws fold's 32 K
  // columns span all 3) = 10080 bytes.
  CHECK(line_buffer_bytes(alex, 3, 1) == 10080);
  const workload::Op op = conv_op(alex);
  // The whole ifmap (224·224·3 = 150528 bytes, every row and column read) fits 256 KiB: one
  // pass reads it once.
  ConvInputPlan big = plan_conv_input(op, spec(Dataflow::ws, 256 * 1024), 1);
  CHECK(big.view == ConvView::forward);
  CHECK(big.line_buffer);
  CHECK(big.unique_bytes == 150528);
  CHECK(big.pass_bytes == 150528);
  CHECK(big.lowered_bytes == 3025 * 363);
  // 32 KiB usable (SCALE-Sim's 64 KiB, half active): the ifmap does not fit, the window
  // does; each of the ⌈363/32⌉ = 12 ws row folds sweeps the rows its 32 taps read. Their
  // distinct elements sum to 598944 (the same count from SCALE-Sim's own address function,
  // enumerated in numpy, fold by fold), so 3 column folds read 1796832.
  SystolicSpec sc = spec(Dataflow::ws, 32 * 1024);
  sc.timing = Timing::scalesim;  // SCALE-Sim's column order, rsc
  const ConvInputPlan ws = plan_conv_input(op, sc, 1);
  CHECK(ws.line_buffer);
  CHECK(ws.order == TapOrder::rsc);
  CHECK(ws.window_bytes == 10080);
  CHECK(ws.pass_bytes == 598944);
  const Traffic t = plan_traffic(map_gemm(3025, 363, 96, Dataflow::ws, 32, 32), Dataflow::ws,
                                 spec(Dataflow::ws, 32 * 1024).sram, 1, 4, ws.pass_bytes);
  CHECK(t.op[kInput].dram_read == 3 * 598944);
  CHECK(t.op[kInput].sram_read == 3 * 3025 * 363);  // the array still takes every im2col element
  // conv_input: im2col reads the lowered matrix: the same GEMM-view bytes as without the hook.
  const ConvInputPlan low = plan_conv_input(op, spec(Dataflow::ws, 32 * 1024, ConvInput::im2col), 1);
  CHECK_FALSE(low.line_buffer);
  CHECK(low.pass_bytes == 3025 * 363);
  CHECK(low.unique_bytes == 150528);
}

TEST_CASE("systolic conv input: a window larger than the buffer falls back to the lowered rows",
          "[systolic][conv_input]") {
  // 32×32×16 input, 3×3, pad 1, ws folds of 32 columns. rsc: 32 columns span all 16
  // channels, window (3 + 1) rows × 32 × 16 = 2048 bytes; crs: 32 columns of 9-tap windows
  // span at most ⌊(32 − 2 + 9)/9⌋ + 1 = 5 channels, 4 × 32 × 5 = 640. Both exceed 512
  // bytes: the lowered rows stream from DRAM, M·K = 1024·144 bytes, with a note.
  const workload::ConvShape c = shape(1, 16, 32, 8, 3, 1, 1);
  CHECK(channels_spanned(c, 32, TapOrder::rsc) == 16);
  CHECK(channels_spanned(c, 32, TapOrder::crs) == 5);
  const ConvInputPlan p = plan_conv_input(conv_op(c), spec(Dataflow::ws, 512), 1);
  CHECK_FALSE(p.line_buffer);
  CHECK(p.window_bytes == 640);
  CHECK(p.pass_bytes == 1024 * 144);
  CHECK(p.note.find("line buffer needs 640 bytes, the input buffer has 512") != std::string::npos);
}

TEST_CASE("systolic conv input: channel-slowest columns give each fold whole windows", "[systolic][conv_input]") {
  // 4×4×4 input, 3×3, pad 1 → 4×4 outputs, K = 36, on 9 rows (ws: 4 row folds of 9 columns).
  // crs: fold f holds channel f's whole 3×3 window and sweeps its 16-pixel plane once: the
  // pass is 4·16 = 64 bytes, every ifmap byte once. Its window: 4 rows × 4 × 2 channels (9
  // columns may straddle two) = 32 ≤ 48 bytes. rsc would need 4 × 4 × 4 channels = 64 > 48.
  const workload::Op op = conv_op(shape(1, 4, 4, 2, 3, 1, 1));
  SystolicSpec s = spec(Dataflow::ws, 48);
  s.rows = 9;
  const ConvInputPlan p = plan_conv_input(op, s, 1);
  CHECK(p.line_buffer);
  CHECK(p.order == TapOrder::crs);
  CHECK(p.window_bytes == 32);
  CHECK(p.pass_bytes == 64);
  // Under timing: scalesim the columns are SCALE-Sim's (rsc), whose window does not fit:
  // the lowered 16 × 36 bytes.
  s.timing = Timing::scalesim;
  const ConvInputPlan q = plan_conv_input(op, s, 1);
  CHECK_FALSE(q.line_buffer);
  CHECK(q.pass_bytes == 16 * 36);
}

TEST_CASE("systolic conv input: dW reads X through the line buffer, dX reads dY as it is", "[systolic][conv_input]") {
  const workload::ConvShape c = shape(2, 3, 8, 4, 3, 1, 1);
  // dW = Xᵀ·dY: its input is the transposed im2col of X: the same 2·3·8·8 = 384 unique bytes.
  const ConvInputPlan dw = plan_conv_input(conv_op(c, workload::Phase::backward_weight), spec(Dataflow::ws, 4096), 1);
  CHECK(dw.view == ConvView::weight_grad);
  CHECK(dw.pass_bytes == 384);
  // dX = dY·Wᵀ: dY [M × K] has no duplicates; its GEMM view is read: 128·4 bytes.
  const ConvInputPlan dx = plan_conv_input(conv_op(c, workload::Phase::backward_data), spec(Dataflow::ws, 4096), 1);
  CHECK(dx.view == ConvView::none);
  CHECK(dx.pass_bytes == 128 * 4);
}

TEST_CASE("systolic conv input: a spec's conv reads each ifmap byte once through bpsim run",
          "[systolic][conv_input][cli]") {
  test::Scratch s("conv_input");
  // 2 images of 3×16×16, conv 3×3 pad 1 to 8 channels: M = 2·16·16 = 512, K = 27, N = 8.
  const std::string net = s.file("net.yaml",
                                 "name: convnet\nbatch: 2\ninput: { shape: [3, 16, 16] }\nlayers:\n"
                                 "  - { kind: conv2d, out_channels: 8, kernel: 3, padding: 1 }\n"
                                 "  - { kind: relu, density: 1.0 }\n  - { kind: flatten }\n"
                                 "  - { kind: linear, out_features: 10 }\n");
  const auto run = [&](const std::string& mode, const std::string& input_kib) {
    const std::string cfg =
        s.file("sys_" + mode + input_kib + ".yaml",
               test::preset_includes("systolic_32x32_int8.yaml") + "accelerator: { conv_input: " + mode +
                   ", sram: { input_kib: " + input_kib + " } }\nworkload: { spec: " + net + ", dtype: int8 }\n");
    const test::CliResult r = test::run_bpsim("run " + cfg + " -q --out " + (s / ("o_" + mode + input_kib)));
    INFO(r.err);
    REQUIRE(r.code == 0);
    return nlohmann::json::parse(test::slurp(s / ("o_" + mode + input_kib + "/report.json")));
  };
  // line_buffer, 4 KiB (2 KiB per half): the 2·3·16·16 = 1536-byte ifmap fits: read once.
  const nlohmann::json lb = run("line_buffer", "4");
  const nlohmann::json fwd = test::op_of(lb, "conv2d0.fwd");
  CHECK(fwd["extra"]["operands"]["input"]["dram_read_bytes"] == 1536);
  CHECK(fwd["extra"]["conv_input"]["mode"] == "line_buffer");
  CHECK(fwd["extra"]["conv_input"]["unique_bytes"] == 1536);
  // dW reads X (its first operand) through the line buffer too: 1536.
  CHECK(test::op_of(lb, "conv2d0.dw")["extra"]["operands"]["input"]["dram_read_bytes"] == 1536);
  // im2col: the lowered 512 × 27 = 13824 bytes (> 2 KiB, one column fold: read once).
  const nlohmann::json low = run("im2col", "4");
  const nlohmann::json fwd_low = test::op_of(low, "conv2d0.fwd");
  CHECK(fwd_low["extra"]["operands"]["input"]["dram_read_bytes"] == 13824);
  CHECK(fwd_low["extra"]["conv_input"]["mode"] == "im2col");
  // The op's DRAM reads drop by exactly the duplicates: 13824 − 1536.
  CHECK(fwd_low["dram_read_bytes"].get<uint64_t>() - fwd["dram_read_bytes"].get<uint64_t>() == 13824 - 1536);
  // 1 KiB (512 bytes a half): the ifmap does not fit but the 4 × 16 × 3 = 192-byte window
  // does; the one ws row fold (K = 27 ≤ 32) sweeps every ifmap byte once: 1536 again.
  const nlohmann::json small = run("line_buffer", "1");
  CHECK(test::op_of(small, "conv2d0.fwd")["extra"]["operands"]["input"]["dram_read_bytes"] == 1536);
  CHECK(test::op_of(small, "conv2d0.fwd")["extra"]["conv_input"]["window_bytes"] == 192);
}

TEST_CASE("systolic conv input: a window too large for the buffer reads the lowered rows, said in the report",
          "[systolic][conv_input][cli]") {
  test::Scratch s("conv_input_fallback");
  // 2 images of 16×32×32, conv 3×3 pad 1 to 8 channels: M = 2048, K = 144. Input buffer
  // 1 KiB, 512 bytes a half: the ifmap (32 KiB) does not fit, nor does either window (rsc:
  // 4 rows × 32 × 16 channels = 2048; crs: 4 × 32 × 5 channels = 640): the lowered
  // 2048 × 144 = 294912 bytes are read, once (one column fold of 8 filters).
  const std::string net = s.file("wide.yaml",
                                 "name: wide\nbatch: 2\ninput: { shape: [16, 32, 32] }\nlayers:\n"
                                 "  - { kind: conv2d, out_channels: 8, kernel: 3, padding: 1 }\n");
  const std::string cfg =
      s.file("sys.yaml", test::preset_includes("systolic_32x32_int8.yaml") +
                             "accelerator: { sram: { input_kib: 1 } }\nworkload: { spec: " + net + ", dtype: int8 }\n");
  const test::CliResult r = test::run_bpsim("run " + cfg + " -q --out " + (s / "o"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  const nlohmann::json fwd = test::op_of(nlohmann::json::parse(test::slurp(s / "o/report.json")), "conv2d0.fwd");
  CHECK(fwd["extra"]["operands"]["input"]["dram_read_bytes"] == 294912);
  CHECK(fwd["extra"]["conv_input"]["mode"] == "im2col");
  CHECK(fwd["extra"]["conv_input"]["window_bytes"] == 640);
  CHECK(fwd["extra"]["conv_input"]["note"].get<std::string>().find("line buffer needs 640 bytes") != std::string::npos);
}

TEST_CASE("systolic conv input: a SCALE-Sim conv row reads its unique ifmap bytes, not its lowered tensor",
          "[systolic][conv_input][cli]") {
  test::Scratch s("conv_input_scalesim");
  // 8×8×2, 3×3, stride 2: SCALE-Sim's output ⌈(8 − 3 + 2)/2⌉ = 4, windows at rows 0, 2, 4, 6
  // reach rows 0..8, all 8 inside: 8·8·2 = 128 unique bytes. The importer stores the lowered
  // 16 × 18 = 288-byte matrix as the input tensor; the compulsory-reads law (checked on every
  // op, exit 1 when broken) must take the 128, not the tensor.
  const std::string topo = s.file("t.csv",
                                  "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                                  "Num Filter, Strides,\nc1,8,8,3,3,2,4,2,\n");
  const std::string cfg =
      s.file("sys.yaml", test::preset_includes("systolic_32x32_int8.yaml") +
                             "accelerator: { timing: scalesim }\nworkload: { scalesim: " + topo + " }\n");
  const test::CliResult r = test::run_bpsim("run " + cfg + " -q --out " + (s / "o"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  const nlohmann::json op = test::op_of(nlohmann::json::parse(test::slurp(s / "o/report.json")), "c1");
  CHECK(op["extra"]["operands"]["input"]["dram_read_bytes"] == 128);
  CHECK(op["extra"]["conv_input"]["lowered_bytes"] == 288);
  CHECK(op["dram_read_bytes"] == 128 + 18 * 4);  // the ifmap, then the 18 × 4 weights
}

TEST_CASE("systolic conv input: AlexNet Conv1 from a SCALE-Sim topology, the ifmap bytes both tools define",
          "[systolic][conv_input][cli]") {
  test::Scratch s("conv_input_alex");
  // SCALE-Sim's AlexNet Conv1 row (224×224×3, 11×11, 96 filters, stride 4), ws on 32×32 with
  // timing: scalesim (SCALE-Sim's fixed plan and rsc taps).
  const std::string topo =
      s.file("alex.csv",
             "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
             "Strides,\nalex_c1,224,224,11,11,3,96,4,\n");
  const auto ifmap_reads = [&](const std::string& kib) {
    const std::string cfg =
        s.file("alex" + kib + ".yaml", test::preset_includes("systolic_32x32_int8.yaml") +
                                           "accelerator: { dataflow: ws, timing: scalesim, sram: { input_kib: " + kib +
                                           ", weight_kib: " + kib + ", output_kib: " + kib +
                                           " } }\nworkload: { scalesim: " + topo + " }\n");
    const test::CliResult r = test::run_bpsim("run " + cfg + " -q --out " + (s / ("o" + kib)));
    INFO(r.err);
    REQUIRE(r.code == 0);
    const nlohmann::json op =
        test::op_of(nlohmann::json::parse(test::slurp(s / ("o" + kib + "/report.json"))), "alex_c1");
    return op["extra"]["operands"]["input"]["dram_read_bytes"].get<uint64_t>();
  };
  // Buffers that hold the ifmap (SCALE-Sim's DRAM reads are then the distinct addresses its
  // operand matrix names): the unique bytes, the whole 224·224·3 = 150528-byte ifmap.
  CHECK(ifmap_reads("8192") == 150528);
  // 64 KiB (32 KiB a half): each of the 12 row folds reads its distinct bytes (598944 in
  // all) once per column fold (3): 1796832 B = the sum over SCALE-Sim's 36 folds of the
  // distinct addresses of its own ifmap demand matrix. SCALE-Sim reports 1805023: the misses
  // of its estimate-bandwidth read buffer (sets of ⌊65536/100⌋ = 655 addresses, all dropped
  // when 50 have filled), which also refetches 8191 bytes inside folds whose 49,912 distinct
  // addresses (on average) overflow its window of at most 32,749 (docs/systolic.md).
  CHECK(ifmap_reads("64") == 3 * 598944);
}
