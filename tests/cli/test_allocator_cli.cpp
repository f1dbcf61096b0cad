// allocator: caching through the CLI: `bpsim workload` replays the step through the model of
// PyTorch's CUDA caching allocator and reports memory_allocated()'s figures next to the
// requested ones; checked against PyTorch's measured blocks (torch_measured.jsonl) on two specs
// whose difference from the requested bytes is derived here by hand.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <nlohmann/json.hpp>

#include <string>

#include "tests/cli/cli_harness.h"
#include "tests/unit/workload/torch_measured.h"

using namespace bpsim::test;
using Catch::Contains;

namespace {

/// A spec of configs/workloads with `extra` top-level keys in place of its `optimizer: adam`
/// line (torch_memory.py's measure() runs no optimizer step: no optimizer state shares the
/// allocator's segments, so the spec runs plain SGD).
std::string derived(const Scratch& s, const std::string& spec, const std::string& extra) {
  std::string text = slurp(std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/" + spec);
  const std::string line = "optimizer: adam\n";
  const size_t at = text.find(line);
  REQUIRE(at != std::string::npos);
  text.replace(at, line.size(), "optimizer: sgd\n" + extra);
  return s.file(spec, text);
}

nlohmann::json workload_json(const std::string& args) {
  CliResult r = run_bpsim("workload " + args + " --json");
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(r.out);
}

}  // namespace

TEST_CASE("cli workload: allocator caching gives PyTorch's allocated bytes on the MLP", "[cli][workload][allocator]") {
  Scratch s("allocator_mlp");
  const std::string spec = derived(s, "mlp.yaml", "framework: pytorch_cuda\nallocator: caching\n");
  const auto g = workload_json(spec + " --batch 4096");
  const auto& a = g.at("allocator");
  CHECK(a["kind"] == "caching");
  CHECK(a["warmup_steps"] == 2);
  // Requested bytes are the pytorch_cuda figures (PyTorch's requested_bytes, to the byte).
  const uint64_t peak = g["peak_bytes"], saved = g["saved_after_forward_bytes"];
  CHECK(peak == torch_figure("mlp_none", "peak_requested_bytes"));
  // After the forward every live tensor is a multiple of 512 B (4096 rows × 1024 or 10 fp32,
  // the masks 4096 × 1024 B): blocks = requested bytes.
  CHECK(a["saved_after_forward_bytes"] == saved);
  // At the peak (linear4's bias-gradient reduction) two live tensors are not multiples of 512:
  // linear7.bias.grad, 10 × 4 = 40 B (a 512 B block: +472), and the reduction's staging
  // buffer, 33,554,432 B of partial sums + 8 block columns × 4 B = 33,554,464 B (+480); every
  // large block is split exactly (no cached block with ≤ 1 MiB to spare is handed out whole).
  CHECK(a["peak_bytes"] == peak + 472 + 480);
  CHECK(a["peak_bytes"] == torch_figure("mlp_none", "peak_bytes"));  // PyTorch's memory_allocated
  CHECK(a["saved_after_forward_bytes"] == torch_figure("mlp_none", "saved_after_forward_bytes"));
  // Segments: reserved bytes hold every block, and the weights' blocks are the baseline.
  CHECK(uint64_t(a["reserved_bytes"]) >= uint64_t(a["baseline_bytes"]) + uint64_t(a["peak_bytes"]));
  // The text output prints the same figures.
  CliResult t = run_bpsim("workload " + spec + " --batch 4096");
  REQUIRE(t.code == 0);
  CHECK_THAT(t.out, Contains("allocator caching (after 2 warm-up steps)\n"));
  CHECK_THAT(t.out, Contains("allocated_peak_bytes " + std::to_string(peak + 952) + "\n"));
  CHECK_THAT(t.out, Contains("allocated_saved_after_forward_bytes " + std::to_string(saved) + "\n"));
}

TEST_CASE("cli workload: allocator caching hands a large block out whole when ≤ 1 MiB would remain",
          "[cli][workload][allocator]") {
  Scratch s("allocator_llama");
  // Llama-3.2-1B with its tied LM head and cross-entropy over 128,256 classes (torch case
  // llama_lm_ce_none, batch 1 × 2048, bf16).
  const std::string spec =
      derived(s, "llama_1b.yaml", "framework: pytorch_cuda\nallocator: caching\nloss: cross_entropy\n");
  const auto g = workload_json(spec);
  const uint64_t saved = g["saved_after_forward_bytes"];
  CHECK(saved == torch_figure("llama_lm_ce_none", "saved_requested_bytes"));
  // Kept after the forward, beyond multiples of 512 B:
  // - log_softmax's output, 2048 × 128,256 bf16 = 525,336,576 B (250.5 × 2 MiB): no cached
  //   block fits, so a segment of the request rounded up to 2 MiB, 526,385,152 B; the 1 MiB
  //   left is not more than 1 MiB, so the block is the whole segment: +1,048,576;
  // - cuDNN attention's philox seed and offset, 8 B each, 2 per block × 16 blocks: +32 × 504;
  // - the bf16 loss and total_weight scalars, 2 B each: +2 × 510.
  const uint64_t slack = 1048576 + 32 * 504 + 2 * 510;
  CHECK(g["allocator"]["saved_after_forward_bytes"] == saved + slack);
  CHECK(g["allocator"]["saved_after_forward_bytes"] == torch_figure("llama_lm_ce_none", "saved_after_forward_bytes"));
}

TEST_CASE("cli workload: allocator refused without framework pytorch_cuda, absent by default",
          "[cli][workload][allocator]") {
  Scratch s("allocator_bad");
  const std::string none = derived(s, "mlp.yaml", "allocator: caching\n");
  CliResult r = run_bpsim("workload " + none);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("allocator: caching replays PyTorch's allocation sequence, which framework none does "
                             "not model (write framework: pytorch_cuda)"));
  // The same through a config's workload section, which overrides the spec's key.
  const std::string cfg =
      s.file("run.yaml", "include: [" + std::string(BPSIM_SOURCE_DIR) + "/configs/examples/mlp_train_mesh.yaml]\n" +
                             "workload:\n  spec: " + std::string(BPSIM_SOURCE_DIR) +
                             "/configs/workloads/mlp.yaml\n  batch: 16\n  allocator: caching\n");
  CliResult v = run_bpsim("validate " + cfg);
  CHECK(v.code == 2);
  CHECK_THAT(v.err, Contains("allocator: caching replays PyTorch's allocation sequence"));
  CliResult bad = run_bpsim("workload " + derived(s, "mlp.yaml", "framework: pytorch_cuda\nallocator: cuda\n"));
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Contains("allocator"));
  // Without the key nothing changes: no allocator figures in either output.
  const std::string plain = derived(s, "mlp.yaml", "framework: pytorch_cuda\n");
  CHECK_FALSE(workload_json(plain).contains("allocator"));
  CliResult t = run_bpsim("workload " + plain);
  REQUIRE(t.code == 0);
  CHECK_THAT(t.out, !Contains("allocated_"));
}
