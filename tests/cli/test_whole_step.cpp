// Whole training steps from the user's side (issue: runs that gave wrong numbers in
// silence): specs and traces through `bpsim run` / `validate`, never hand-built graphs.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/cli/report_json.h"

using namespace bpsim::test;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

/// Two samples of 8 tokens × 64 features through linear(64) → ReLU → linear(32).
std::string seq_spec(const Scratch& s, const std::string& relu_density, int tokens = 8) {
  return s.file("seq" + std::to_string(tokens) + ".yaml",
                "name: seq_mlp\nbatch: 2\ninput: { shape: [" + std::to_string(tokens) +
                    ", 64] }\nlayers:\n  - { kind: linear, out_features: 64 }\n  - { kind: relu, density: " +
                    relu_density + " }\n  - { kind: linear, out_features: 32 }\n");
}

std::string mesh_config(const Scratch& s, const std::string& workload, const std::string& accel = "") {
  return s.file("mesh.yaml", preset_includes("mesh_8x8.yaml") + (accel.empty() ? "" : "accelerator: " + accel + "\n") +
                                 "workload: " + workload + "\n");
}

}  // namespace

TEST_CASE("whole step: the mesh runs every token of a sequence", "[cli][mesh][whole_step]") {
  Scratch s("ws_tokens");
  for (int tokens : {8, 16}) {
    const std::string cfg = mesh_config(s, "{spec: " + seq_spec(s, "1.0", tokens) + "}");
    CliResult r = run_bpsim("run " + cfg + " -q --out " + (s / ("o" + std::to_string(tokens))));
    INFO(r.err);
    REQUIRE(r.code == 0);
    const auto rep = nlohmann::json::parse(slurp(s / ("o" + std::to_string(tokens)) + "/report.json"));
    // linear0: rows = 2 samples × T tokens, K = N = 64: every MAC runs (density 1, no
    // padding); one message per input neuron per row: 2·T·64.
    const auto l0 = op_of(rep, "linear0.fwd");
    CHECK(l0["macs_executed"] == 2 * tokens * 64 * 64);
    CHECK(l0["macs_skipped"] == 0);
    CHECK(l0["extra"]["messages"] == 2 * tokens * 64);
    // linear2: 2·T rows × 64 × 32.
    CHECK(op_of(rep, "linear2.fwd")["macs_executed"] == 2 * tokens * 64 * 32);
  }
}

TEST_CASE("whole step: ReLU density from the spec thins the mesh's messages", "[cli][mesh][whole_step]") {
  Scratch s("ws_density");
  const std::string cfg = mesh_config(s, "{spec: " + seq_spec(s, "0.5") + "}");
  for (const char* d : {"0", "1"}) {
    CliResult r = run_bpsim("run " + cfg + " -q --set workload.relu_density=" + d + " --out " + (s / d));
    INFO(r.err);
    REQUIRE(r.code == 0);
  }
  const auto off = nlohmann::json::parse(slurp(s / "0/report.json"));
  const auto on = nlohmann::json::parse(slurp(s / "1/report.json"));
  // Density 1: linear2 gets all 16·64 input messages and runs 16·64·32 = 32768 MACs.
  CHECK(op_of(on, "linear2.fwd")["extra"]["messages"] == 16 * 64);
  CHECK(op_of(on, "linear2.fwd")["macs_executed"] == 32768);
  // Density 0: the ReLU zeroes every input of linear2: no message, all 32768 MACs skipped
  // for zero activations; linear0's weight gradient (dY = 0 through the ReLU) likewise.
  const auto l2 = op_of(off, "linear2.fwd");
  CHECK(l2["extra"]["messages"] == 0);
  CHECK(l2["macs_executed"] == 0);
  CHECK(l2["macs_skipped"] == 32768);
  CHECK(l2["skip_reason"] == "zero_activations");
  CHECK(op_of(off, "linear0.dw")["macs_skipped"] == 65536);
  CHECK(op_of(off, "linear0.dw")["skip_reason"] == "zero_gradients");
  // 1024 fewer packets: linear2's forward inputs.
  CHECK(on["network"]["packets"].get<uint64_t>() - off["network"]["packets"].get<uint64_t>() == 1024);

  // The same step replayed from its trace: the ReLU's density travels in the trace.
  const std::string trace = s / "seq.jsonl";
  REQUIRE(run_bpsim("trace export " + seq_spec(s, "0") + " -o " + trace).code == 0);
  CliResult r = run_bpsim("run " + cfg + " -q --trace " + trace + " --out " + (s / "trace"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto replay = nlohmann::json::parse(slurp(s / "trace/report.json"));
  CHECK(replay["totals"]["macs_executed"] == off["totals"]["macs_executed"]);
  CHECK(replay["network"]["packets"] == off["network"]["packets"]);
}

TEST_CASE("whole step: validate runs the model's own checks and names the largest need", "[cli][mesh][whole_step]") {
  Scratch s("ws_validate");
  const std::string mlp = std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/mlp.yaml";
  // 512 KiB clusters. A fully connected layer's tile holds 256 neurons (P = 256 elements):
  // weights + gradients = 2 · 256 · fan-in · 4 B: 1,605,632 B for the 784-input layer,
  // 2,097,152 B for the 1024-input ones (the largest), 20,480·… for the 10-output one.
  CliResult r = run_bpsim("validate " + mesh_config(s, "{spec: " + mlp + "}"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("accelerator.cluster.sram_kib") && Contains("largest need is 2097152 bytes") &&
                        Contains("it holds 524288"));
  // With room, validate and run agree.
  const std::string ok = mesh_config(s, "{spec: " + mlp + ", batch: 2}", "{cluster: {sram_kib: 2048}}");
  CHECK(run_bpsim("validate " + ok).code == 0);
}

TEST_CASE("whole step: an RTL back end's unmet constraints come in one message", "[cli][whole_step]") {
  Scratch s("ws_rtl");
  const std::string cfg =
      s.file("sys.yaml", preset_includes("systolic_32x32_int8.yaml") +
                             "accelerator: {backend: rtl, rows: 16, dataflow: os, timing: overlapped, stages: 2}\n"
                             "workload: {spec: " +
                             std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/mlp.yaml}\n");
  CliResult r = run_bpsim("validate " + cfg);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("accelerator.backend: rtl needs rows x cols 4x4 or 8x8") && Contains("dataflow: ws") &&
                        Contains("timing: scalesim") && Contains("stages: 1"));
}

TEST_CASE("whole step: a refused --trace-vcd leaves the previous results in place", "[cli][whole_step]") {
  Scratch s("ws_vcd");
  const std::string cfg = s.file("t.yaml", preset_includes() + "accelerator: {kind: traffic, requests: 50}\n");
  REQUIRE(run_bpsim("run " + cfg + " -q --out " + (s / "out")).code == 0);
  const std::string before = slurp(s / "out/report.json");
  s.file("wave.vcd", "a waveform the user keeps");
  CliResult r = run_bpsim("run " + cfg + " -q --out " + (s / "out") + " --trace-vcd " + (s / "wave.vcd"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("wave.vcd exists"));
  CHECK(slurp(s / "out/report.json") == before);
  CHECK(fs::exists(s.path / "out/ops.csv"));
  CHECK(slurp(s / "wave.vcd") == "a waveform the user keeps");
}

TEST_CASE("whole step: the in-DRAM array times its host work as a roofline", "[cli][pim][whole_step]") {
  Scratch s("ws_host");
  const std::string cfg =
      s.file("pim.yaml", preset_includes("pim_ddr4.yaml") + "workload: {spec: " + std::string(BPSIM_SOURCE_DIR) +
                             "/configs/workloads/binary_mlp.yaml}\n");
  CliResult r = run_bpsim("run " + cfg + " -q --set accelerator.host_gflops=1 --out " + (s / "o"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto rep = nlohmann::json::parse(slurp(s / "o/report.json"));
  // fc1 (784 → 2048, real-valued, no bias, batch 100) runs on the host: 100·784·2048 =
  // 160,563,200 MACs = 321,126,400 FLOP at 1 GFLOP/s = 0.3211264 s = 385,505,882.4 cycles
  // of the preset's 0.833 ns tCK, rounded up; its 7.5 MB of traffic take under 1 ms.
  const auto fc1 = op_of(rep, "fc1.fwd");
  CHECK(fc1["extra"]["host_work"] == true);
  CHECK(fc1["macs_executed"] == 160563200);
  CHECK(fc1["extra"]["host_cycles"].get<double>() == Approx(385505883).margin(1));
  CHECK(fc1["cycles"] == fc1["extra"]["host_cycles"]);
}

TEST_CASE("whole step: every op the in-DRAM array cannot map is named in one error", "[cli][pim][whole_step]") {
  Scratch s("ws_pim_fit");
  // 65,536 rows per bank / 2048 subarrays = 32 rows, 11 reserved: 21 data rows. A binary
  // layer's backward needs an accumulator of ⌈log2(K)⌉ + 8 bits plus an 8-bit gradient and
  // its sign row: dX (K = 2048 outputs summed, 11 + 8 = 19 bits) 28 rows, dW (K = 100
  // samples, 7 + 8 = 15 bits) 24 rows; both binary layers fail both ways: 4 problems.
  const std::string cfg = s.file(
      "pim.yaml", preset_includes("pim_ddr4.yaml") + "accelerator: {subarrays_per_bank: 2048}\nworkload: {spec: " +
                      std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/binary_mlp.yaml}\n");
  CliResult r = run_bpsim("validate " + cfg);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("4 problems") && Contains("binary_linear2.dx") && Contains("binary_linear2.dw") &&
                        Contains("binary_linear4.dx") && Contains("binary_linear4.dw") && Contains("needs 28"));
}

TEST_CASE("whole step: a padded convolution's taps on zero padding are skipped on the mesh",
          "[cli][mesh][whole_step]") {
  Scratch s("ws_padding");
  const std::string spec = s.file("conv.yaml",
                                  "name: padded\nbatch: 2\ninput: { shape: [1, 8, 8] }\nlayers:\n"
                                  "  - { kind: conv2d, out_channels: 4, kernel: 3, padding: 1 }\n"
                                  "  - { kind: relu, density: 1.0 }\n  - { kind: flatten }\n"
                                  "  - { kind: linear, out_features: 10 }\n");
  CliResult r = run_bpsim("run " + mesh_config(s, "{spec: " + spec + "}") + " -q --out " + (s / "o"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto conv = op_of(nlohmann::json::parse(slurp(s / "o/report.json")), "conv2d0.fwd");
  // 8×8 output, 3×3 kernel, pad 1, stride 1, C = 1, K = 4. In-bounds taps per axis: the
  // edge outputs see 2 of 3, the 6 inner ones 3: 2 + 6·3 + 2 = 22; per sample the im2col
  // GEMM issues K·C·P·Q·R·S = 4·64·9 = 2304 MACs, of which 4·22·22 = 1936 read the input
  // and 4·(576 − 484) = 368 read zero padding. Two samples: 4608 = 3872 + 736.
  CHECK(conv["macs"] == 4608);
  CHECK(conv["macs_executed"] == 3872);
  CHECK(conv["macs_skipped"] == 736);
  CHECK(conv["skip_reason"] == "zero_padding");
}

TEST_CASE("whole step: a trace op without its reads is refused on the mesh, not chained blindly",
          "[cli][mesh][whole_step]") {
  Scratch s("ws_noreads");
  const std::string trace = s / "seq.jsonl";
  REQUIRE(run_bpsim("trace export " + seq_spec(s, "1.0") + " -o " + trace).code == 0);
  // Drop linear2.fwd's "reads" list: the format allows it, but then nothing says which
  // tensor the layer consumes, so a chain cannot be told from a branch.
  std::istringstream in(slurp(trace));
  std::string edited;
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"linear2.fwd\"") != std::string::npos) {
      const size_t at = line.find("\"reads\":[");
      REQUIRE(at != std::string::npos);
      line.erase(at, line.find(']', at) + 2 - at);  // the list and its comma
    }
    edited += line + "\n";
  }
  const std::string bad = s.file("noreads.jsonl", edited);
  CliResult r = run_bpsim("run " + mesh_config(s, "{trace: " + bad + "}") + " -q --out " + (s / "o"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("accelerator.mode") && Contains("op 'linear2.fwd' names no tensors it reads"));
  CHECK_FALSE(fs::exists(s.path / "o/report.json"));
}

TEST_CASE("whole step: tile skipping reads a held input for every row some block keeps",
          "[cli][systolic][whole_step]") {
  // LeNet-5 on the 32×32 array with tile skipping of the ReLU masks: conv2's dX GEMM once
  // read its input (dY, read in one DRAM pass for all column blocks) only for the mean block's
  // share of kept tiles, below the rows the fullest block alone needs, and the compulsory_reads
  // law stopped the run (exit 1). Each pass now reads the union of the blocks' kept rows, at
  // least the fullest block's: compulsory bytes = needed_rows · k · elem (SystolicModel::
  // compulsory_operand_bytes) ≤ the op's DRAM reads.
  Scratch s("ws_tile_skip");
  CliResult r = run_bpsim("run " + std::string(BPSIM_SOURCE_DIR) +
                          "/configs/examples/lenet5_train_systolic.yaml -q --set accelerator.output_sparsity.mode=skip "
                          "--set accelerator.output_sparsity.granularity=tile --out " +
                          (s / "o"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto rep = nlohmann::json::parse(slurp(s / "o/report.json"));
  const auto dx = op_of(rep, "conv2.dx");
  CHECK(dx["macs_skipped"].get<uint64_t>() > 0);  // the tiles are skipped, not gated
  // Exit 0 is the check: every run meets compulsory_reads per op (laws.cpp). The input is
  // read in one DRAM pass here, so its reads are one pass's bytes × the union share, at most
  // the dense pass (conv2's dY: 1600 rows × 16 channels × 2 bytes, bf16 = 51,200 B).
  CHECK(dx["extra"]["mapping"]["dram_passes"]["input"] == 1);
  CHECK(dx["extra"]["operands"]["input"]["dram_read_bytes"].get<uint64_t>() <= 51200);
}
