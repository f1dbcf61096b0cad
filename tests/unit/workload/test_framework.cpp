// framework: pytorch_cuda — the buffers PyTorch eager autograd holds on a CUDA GPU beyond the
// ops' own tensors (sim/workload/framework.h), checked against PyTorch's measurements and by hand.
#include <catch2/catch.hpp>

#include "sim/core/config_node.h"
#include "sim/core/error.h"
#include "sim/workload/builder.h"
#include "sim/workload/framework.h"
#include "sim/workload/spec.h"
#include "tests/unit/workload/graph_lookup.h"
#include "tests/unit/workload/policy_yaml.h"

using namespace bpsim;
using namespace bpsim::workload;

namespace {

NetSpec spec(const std::string& yaml) { return parse_net_spec(config::parse_yaml(yaml, "net.yaml")); }

constexpr uint64_t kNone = ~uint64_t(0);

struct SweepRow {
  uint64_t rows;
  uint64_t bytes[8];  ///< per n of kSweepN; kNone: not measured (the input did not fit)
};
constexpr uint64_t kSweepN[8] = {10, 64, 256, 768, 1024, 3072, 4096, 8192};

// Measured on an H200 (132 SMs), torch 2.11.0+cu130, 2026-11-29: max_memory_allocated during
// x.sum(0) of a contiguous bf16 rows × n tensor, minus the memory allocated after it (the
// output): the reduction's transient buffers, in caching-allocator blocks (each rounded up to
// 512 B). fp32 measured the same except where its input passes 2 GiB (kFp32Halved).
const SweepRow kSweep[] = {
    {64, {0, 0, 0, 0, 0, 0, 0, 0}},
    {256, {0, 0, 0, 0, 0, 0, 0, 0}},
    {1024, {0, 0, 2097664, 6291968, 8389120, 25166336, 33554944, 67109376}},
    {2048, {0, 262656, 4194816, 12583424, 16777728, 50332160, 67109376, 134218240}},
    {4096, {0, 524800, 8389120, 25166336, 33554944, 100663808, 134218240, 138412544}},
    {8192, {0, 1049088, 16777728, 50332160, 67109376, 138412544, 138412544, 138412544}},
    {16384, {5632, 2097664, 33554944, 100663808, 134218240, 138412544, 138412544, 138412544}},
    {65536, {20992, 8389120, 134218240, 138412544, 138412544, 138412544, 138412544, 268435968}},
    {262144, {82432, 33554944, 138412544, 138412544, 138412544, 402653696, 536871424, kNone}},
};
/// fp32 at 262144 rows × 3072 and × 4096 (3 and 4 GiB inputs): the sum runs on halves.
constexpr uint64_t kFp32Halved[2] = {201327104, 268435968};

uint64_t blocks(const ReductionStaging& s) {
  auto round = [](uint64_t b) { return (b + 511) / 512 * 512; };
  return round(s.buffer) + round(s.semaphores);
}

}  // namespace

TEST_CASE("framework: the reduction staging formula against 142 PyTorch measurements", "[workload][framework]") {
  const GpuSpec h200;
  int checked = 0;
  for (const uint64_t elem : {4, 2})
    for (size_t r = 0; r < 9; ++r)
      for (size_t i = 0; i < 8; ++i) {
        uint64_t want = kSweep[r].bytes[i];
        if (want == kNone) continue;
        if (elem == 4 && r == 8 && (i == 5 || i == 6)) want = kFp32Halved[i - 5];
        INFO("rows " << kSweep[r].rows << " n " << kSweepN[i] << " elem " << elem);
        CHECK(blocks(reduction_staging(kSweep[r].rows, kSweepN[i], elem, h200)) == want);
        ++checked;
      }
  CHECK(checked == 142);
}

TEST_CASE("framework: the staging size by hand, and its dependence on the SM count", "[workload][framework]") {
  // rows 4096, n 1024 (the MLP's second Linear at batch 4096): vectors of 4 outputs, 512/4 =
  // 128 threads per block: 32 along n × 4 along the rows; 4096 rows / 4 = 1024 per thread, so
  // the rows are split. 256 vectorised outputs / 32 = 8 block columns; the GPU holds 132 SMs ×
  // 2048/128 = 2112 blocks; blocks per column = max(min(⌈2112/8⌉, ⌈1024/16⌉), ⌈1024/256⌉) = 64.
  // Staging: 4 B (float) × 1024 outputs × 64 × 32 × 4 = 33,554,432 = 8·rows·n; semaphores 4 × 8.
  const ReductionStaging s = reduction_staging(4096, 1024, 4, GpuSpec{});
  CHECK(s.buffer == 33554432);
  CHECK(s.semaphores == 32);
  // rows 16384, n 3072: 24 block columns, 4096 rows per thread: min(⌈2112/24⌉ = 88, 256) = 88
  // blocks per column: 4 × 3072 × 88 × 128 = 138,412,032 (the "1 MiB per SM" cap). An A100's
  // 108 SMs hold 1728 blocks: ⌈1728/24⌉ = 72 → 113,246,208.
  CHECK(reduction_staging(16384, 3072, 2, GpuSpec{}).buffer == 138412032);
  CHECK(reduction_staging(16384, 3072, 2, GpuSpec{108, 2048}).buffer == 113246208);
  // Below 256 rows per thread no block column is split: no staging.
  CHECK(reduction_staging(1000, 1024, 4, GpuSpec{}).bytes() == 0);
  CHECK(cublas_process_workspace_bytes() == 68157440);  // 2 × 32 MiB + 1 MiB
}

TEST_CASE("framework: pytorch_cuda frees a Linear's input after its whole node, by hand", "[workload][framework]") {
  // batch 2048, fp32: X[2048×512] → linear0 1024 → gelu → linear2 512. MiB = 1,048,576 B.
  const std::string net =
      "name: t\nbatch: 2048\ninput: {shape: [512]}\nlayers:\n"
      "  - {kind: linear, out_features: 1024}\n  - {kind: gelu}\n  - {kind: linear, out_features: 512}\n";
  const OpGraph none = build_step(spec(net));
  const OpGraph pt = build_step(spec(net + "framework: pytorch_cuda\n"));
  CHECK(none.memory.framework == "none");
  CHECK(pt.memory.framework == "pytorch_cuda");
  // Saved: linear0's output L (8 MiB, GELU's input), gelu's output G (8 MiB, linear2's input),
  // the output O (4 MiB): 20 MiB, the same in both.
  CHECK(none.memory.saved_after_forward_bytes == 20971520);
  CHECK(pt.memory.saved_after_forward_bytes == 20971520);
  // none: the peak is at linear2.dw: L + G + the loss gradient D (4) + dX (8) + dW (2) = 30 MiB;
  // G dies after dw, O after the loss gradient.
  CHECK(none.memory.peak_bytes == 31457280);
  for (const Tensor& t : none.tensors) CHECK(t.role != TensorRole::workspace);
  // pytorch_cuda: O and D stay (the caller holds them through backward()), G stays to the end
  // of linear2's node, and linear2.db adds the bias reduction's staging 8·2048·512 = 8 MiB plus
  // 16 B of semaphores (4 block columns): L + G + O + D + dX + dW + db (2048 B) + staging =
  // 8+8+4+4+8+2+8 MiB + 2048 + 16 = 44,042,256.
  CHECK(pt.memory.peak_bytes == 44040192 + 2048 + 16);
  const Op& db = test::find_op(pt, "linear2.db");
  REQUIRE(db.writes.size() == 2);
  const Tensor& staging = pt.tensors[db.writes[1]];
  CHECK(staging.name == "linear2.db.staging");
  CHECK(staging.role == TensorRole::workspace);
  CHECK(staging.bytes == 8388608 + 16);
  REQUIRE(db.holds.size() == 1);
  CHECK(pt.tensors[db.holds[0]].name == "gelu1.out");
}

TEST_CASE("framework: a recomputed input is not held, a stored one is", "[workload][framework]") {
  const std::string net =
      "name: t\nbatch: 2048\ninput: {shape: [512]}\nframework: pytorch_cuda\nlayers:\n"
      "  - {kind: linear, out_features: 1024}\n  - {kind: gelu}\n  - {kind: linear, out_features: 512}\n";
  const OpGraph full = build_step(spec(net), *test::policy("{kind: full_recompute}"));
  // Under non-reentrant checkpoint the unpack hook hands the node a recomputed tensor and
  // drops it when apply() returns, before the bias reduction (measured: PyTorch's MLP under
  // full_recompute peaks with no input-sized tensor at the reduction).
  CHECK(test::find_op(full, "linear2.db").holds.empty());
  const OpGraph stored = build_step(spec(net));
  CHECK(test::find_op(stored, "linear2.db").holds.size() == 1);
}

TEST_CASE("framework: explicit attention's buffers split as PyTorch's autograd holds them", "[workload][framework]") {
  // One pre-LN block, bf16, batch 2, 64 tokens, h 32, 2 heads: B = 2·64·32·2 = 8192 bytes per
  // [tokens, h] tensor, P = 2·2·64·64·2 = 32768 bytes per probability tensor.
  const std::string net =
      "name: t\nbatch: 2\ndtype: bf16\ninput: {shape: [64, 32]}\nframework: pytorch_cuda\nlayers:\n"
      "  - {kind: transformer_block, hidden: 32, heads: 2, dropout: 0.1}\n";
  const OpGraph g = build_step(spec(net));
  const Op& dk = test::find_op(g, "transformer_block0.attn.dk");
  const Op& dv = test::find_op(g, "transformer_block0.attn.dv");
  // dV is its own B-sized tensor; dK writes its part and the concatenated 3B gradient and
  // holds dQ's and dV's parts (SplitBackward0's cat), then all three parts die.
  REQUIRE(dv.writes.size() == 1);
  CHECK(g.tensors[dv.writes[0]].bytes == 8192);
  REQUIRE(dk.writes.size() == 2);
  CHECK(g.tensors[dk.writes[1]].bytes == 3 * 8192);
  CHECK(dk.holds.size() == 3);  // K's copy (read by dQ), dV's and dQ's parts
  const Op& sm = test::find_op(g, "transformer_block0.attn.softmax_bwd");
  REQUIRE(sm.writes.size() == 2);
  CHECK(g.tensors[sm.writes[1]].role == TensorRole::workspace);
  CHECK(g.tensors[sm.writes[1]].bytes == 32768);
  // framework none: one QKV tensor and one gradient buffer, as before.
  const OpGraph n = build_step(spec(std::string(net).replace(net.find("pytorch_cuda"), 12, "none")));
  CHECK(test::find_op(n, "transformer_block0.attn.dk").writes.size() == 1);
  CHECK(test::find_op(n, "transformer_block0.attn.dk").holds.empty());
}

TEST_CASE("framework: a softmax layer's backward holds a second output-sized buffer", "[workload][framework]") {
  // Batch 4096, 10 classes, fp32: the output and its gradient 163,840 B each (PyTorch, alone:
  // 327,680 B allocated by SoftmaxBackward0 over 4096 × 10, one of them dX).
  const OpGraph g =
      build_step(spec("name: t\nbatch: 4096\ninput: {shape: [10]}\nframework: pytorch_cuda\nlayers:\n"
                      "  - {kind: linear, out_features: 10}\n  - {kind: softmax}\n"));
  const Op& sm = test::find_op(g, "softmax1.bwd");
  REQUIRE(sm.writes.size() == 2);
  CHECK(g.tensors[sm.writes[1]].name == "softmax1.softmax_bwd.tmp");
  CHECK(g.tensors[sm.writes[1]].bytes == 163840);
}

TEST_CASE("framework: pytorch_cuda refuses what it cannot account", "[workload][framework]") {
  // A convolution whose cuDNN workspace was not measured (the size belongs to the algorithm
  // cuDNN's heuristics pick: no formula), and a convolution's bias gradient (not measured).
  const std::string conv =
      "name: t\nbatch: 2\ninput: {shape: [3, 8, 8]}\nframework: pytorch_cuda\nlayers:\n"
      "  - {kind: conv2d, out_channels: 4, kernel: 3, name: c1, bias: false}\n";
  try {
    build_step(spec(conv));
    FAIL("a conv2d of an unmeasured shape under pytorch_cuda was accepted");
  } catch (const InputError& e) {
    CHECK_THAT(e.what(), Catch::Contains("net.yaml:6:5: c1: framework pytorch_cuda has no measured cuDNN workspace "
                                         "for this conv2d (input 2x3x8x8, 4 filters 3x3, stride 1, padding 0, "
                                         "groups 1, fp32)"));
  }
  CHECK_THROWS_WITH(build_step(spec("name: t\nbatch: 2\ninput: {shape: [3, 8, 8]}\nframework: pytorch_cuda\n"
                                    "layers:\n  - {kind: conv2d, out_channels: 4, kernel: 3, name: c1}\n")),
                    Catch::Contains("net.yaml:6:5: c1: framework pytorch_cuda accounts a conv2d's bias "
                                    "gradient only when a tokens layer reads the convolution"));
  // A policy that rewrites the step into something PyTorch does not run.
  const NetSpec mlp = spec(
      "name: t\nbatch: 4\ninput: {shape: [8]}\nframework: pytorch_cuda\nlayers:\n"
      "  - {kind: linear, out_features: 8}\n  - {kind: relu}\n  - {kind: linear, out_features: 2}\n");
  CHECK_THROWS_WITH(build_step(mlp, *test::policy("{kind: sparse_storage}")),
                    Catch::Contains("workload.policy.kind: policy 'sparse_storage' has no PyTorch eager counterpart"));
  CHECK_NOTHROW(build_step(mlp, *test::policy("{kind: checkpoint}")));
  CHECK_THROWS_WITH(spec("name: t\ninput: {shape: [4]}\nframework: tf\nlayers:\n  - {kind: relu}\n"),
                    Catch::Contains("framework"));
  CHECK_THROWS_WITH(spec("name: t\ninput: {shape: [4]}\ngpu: {sms: 0}\nlayers:\n  - {kind: relu}\n"),
                    Catch::Contains("gpu.sms"));
}
