// framework: pytorch_cuda through the CLI: bpsim workload shows the PyTorch/CUDA buffers and
// their peak; a run on an accelerator refuses the mode (a GPU's memory, not the model's).
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;

namespace {

// batch 2048, fp32: X[2048×512] → linear0 1024 → gelu → linear2 512 (test_framework.cpp
// derives its peaks by hand: 31,457,280 B op by op, 44,042,256 B as PyTorch holds it).
const char* const kNet =
    "name: t\nbatch: 2048\ninput: {shape: [512]}\nlayers:\n"
    "  - {kind: linear, out_features: 1024}\n  - {kind: gelu}\n  - {kind: linear, out_features: 512}\n";

}  // namespace

TEST_CASE("cli workload: framework pytorch_cuda adds PyTorch's buffers and holds", "[cli][workload][framework]") {
  Scratch s("framework");
  const std::string none = s.file("none.yaml", kNet);
  const std::string pt = s.file("pt.yaml", std::string(kNet) + "framework: pytorch_cuda\n");
  CliResult a = run_bpsim("workload " + none);
  REQUIRE(a.code == 0);
  CHECK_THAT(a.out, Catch::Contains("peak_bytes 31457280\n"));
  CliResult b = run_bpsim("workload " + pt);
  REQUIRE(b.code == 0);
  CHECK_THAT(b.out, Catch::Contains("peak_bytes 44042256\n"));
  CHECK_THAT(b.out, Catch::Contains("saved_after_forward_bytes 20971520\n"));  // the same as none
  CliResult j = run_bpsim("workload " + pt + " --json");
  REQUIRE(j.code == 0);
  const auto g = nlohmann::json::parse(j.out);
  CHECK(g["framework"] == "pytorch_cuda");
  CHECK(g["peak_bytes"] == 44042256);
  // The staging buffer is a workspace tensor written by linear2.db; linear2.db holds gelu's output.
  uint64_t staging = 0, workspace_id = ~uint64_t(0);
  for (const auto& t : g["tensors"])
    if (t["name"] == "linear2.db.staging") {
      CHECK(t["role"] == "workspace");
      staging = t["bytes"];
      workspace_id = t["id"];
    }
  CHECK(staging == 8388608 + 16);  // 8·2048·512 B of partial sums + 4 block columns × 4 B
  bool found = false;
  for (const auto& o : g["ops"])
    if (o["name"] == "linear2.db") {
      found = true;
      CHECK(o["writes"].back() == workspace_id);
      REQUIRE(o.contains("holds"));
      CHECK(o["holds"].size() == 1);
    }
  CHECK(found);
  // framework none prints neither key.
  const auto n = nlohmann::json::parse(run_bpsim("workload " + none + " --json").out);
  CHECK_FALSE(n.contains("framework"));
  for (const auto& o : n["ops"]) CHECK_FALSE(o.contains("holds"));
}

TEST_CASE("cli: framework pytorch_cuda refused where it cannot hold", "[cli][workload][framework]") {
  Scratch s("framework_bad");
  // A run simulates an accelerator: CUDA's buffers are not its memory. mlp.yaml has no
  // framework key: the workload section's overrides it.
  const std::string cfg =
      s.file("run.yaml", "include: [" + std::string(BPSIM_SOURCE_DIR) + "/configs/examples/mlp_train_mesh.yaml]\n" +
                             "workload:\n  spec: " + std::string(BPSIM_SOURCE_DIR) +
                             "/configs/workloads/mlp.yaml\n  batch: 16\n  framework: pytorch_cuda\n");
  CliResult r = run_bpsim("validate " + cfg);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("workload.framework: framework 'pytorch_cuda' accounts PyTorch's memory on a "
                                    "CUDA GPU (bpsim workload); an accelerator run needs framework: none"));
  // Nor is a trace, which feeds such runs; the temporary file does not stay.
  const std::string pt = s.file("pt.yaml", std::string(kNet) + "framework: pytorch_cuda\n");
  CliResult t = run_bpsim("trace export " + pt + " -o " + (s / "t.jsonl"));
  CHECK(t.code == 2);
  CHECK_THAT(t.err, Catch::Contains("pt.yaml: framework 'pytorch_cuda' accounts PyTorch's memory on a CUDA GPU; "
                                    "export the step with framework: none"));
  CHECK_FALSE(std::filesystem::exists(s / "t.jsonl"));
  // A convolution's cuDNN workspace has no formula: a shape the measured table lacks is
  // refused, naming the layer (test_torch_conv.cpp covers the table and the other refusals).
  const std::string conv = s.file("conv.yaml",
                                  "name: c\nbatch: 2\ninput: {shape: [3, 8, 8]}\nframework: pytorch_cuda\nlayers:\n"
                                  "  - {kind: conv2d, out_channels: 4, kernel: 3, name: stem, bias: false}\n");
  CliResult d = run_bpsim("workload " + conv);
  CHECK(d.code == 2);
  CHECK_THAT(d.err, Catch::Contains("conv.yaml:6:5: stem: framework pytorch_cuda has no measured cuDNN workspace"));
  CliResult e = run_bpsim("workload " + s.file("bad.yaml", std::string(kNet) + "framework: tensorflow\n"));
  CHECK(e.code == 2);
  CHECK_THAT(e.err, Catch::Contains("framework"));
}

TEST_CASE("cli workload: framework pytorch_cuda holds a product's factors through both its gradients",
          "[cli][workload][framework]") {
  // SwiGLU on 2 tokens of 8 (fp32): down(silu(gate(x)) · up(x)), intermediate 16.
  // MulBackward0 computes d(silu) = dy·up and d(up) = dy·silu in one apply() and frees both
  // factors after it: glu.bwd0 reads up.out, and glu.bwd1 holds it (PyTorch's Llama cases
  // peak in this node with both factors live; tests/unit/workload/torch_cases.json checks
  // their peaks to the byte).
  Scratch s("framework_mul");
  const std::string net =
      "name: sw\ndtype: fp32\nbatch: 1\ninput: {shape: [2, 8]}\nlayers:\n"
      "  - {kind: swiglu, hidden: 8, intermediate: 16}\n";
  auto holds_of = [&](const std::string& file, const std::string& text, const std::string& op) {
    CliResult r = run_bpsim("workload " + s.file(file, text) + " --json");
    INFO(r.err);
    REQUIRE(r.code == 0);
    const auto g = nlohmann::json::parse(r.out);
    std::vector<std::string> held;
    for (const auto& o : g["ops"])
      if (o["name"] == op && o.contains("holds"))
        for (const auto& t : o["holds"]) held.push_back(g["tensors"][t.get<size_t>()]["name"]);
    return held;
  };
  CHECK(holds_of("pt.yaml", net + "framework: pytorch_cuda\n", "swiglu0.glu.bwd1") ==
        std::vector<std::string>{"swiglu0.up.out"});
  CHECK(holds_of("none.yaml", net, "swiglu0.glu.bwd1").empty());  // framework none frees op by op
}
