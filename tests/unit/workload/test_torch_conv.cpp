// framework: pytorch_cuda on convolutional networks: cuDNN's convolution workspaces
// (sim/workload/cudnn_workspace.h) against the probe that measured them, and what is live at
// ResNet-18's peak, allocation by allocation, against PyTorch's own trace of the step. The
// nine ResNet cases and two held-out batches run through the CLI in test_torch_reference.cpp
// (torch_cases.json, rows "…/pytorch_cuda": exact to the byte).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include "sim/core/build_info.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "sim/core/config_node.h"
#include "sim/ir/liveness.h"
#include "sim/workload/builder.h"
#include "sim/workload/cudnn_workspace.h"
#include "sim/workload/framework.h"
#include "sim/workload/spec.h"
#include "tests/cli/cli_harness.h"
#include "tests/unit/workload/graph_lookup.h"
#include "tests/unit/workload/policy_yaml.h"
#include "tests/unit/workload/torch_measured.h"

using namespace bpsim;
using namespace bpsim::workload;
using nlohmann::json;

namespace {

/// cuDNN's workspaces (made in run_conv_plan) one pass of a probed convolution freed before
/// returning, in order; with `cudnn` false, its other transients (a gradient's copy, a bias
/// reduction's staging).
std::vector<uint64_t> workspaces(const json& pass, bool cudnn = true) {
  std::vector<uint64_t> out;
  for (const json& w : pass.at("workspaces"))
    if ((w.at(1).get<std::string>().find("run_conv_plan") != std::string::npos) == cudnn)
      out.push_back(w.at(0).get<uint64_t>());
  return out;
}

uint64_t total(const std::vector<uint64_t>& v) {
  uint64_t s = 0;
  for (uint64_t x : v) s += x;
  return s;
}

NetSpec resnet18_pytorch_cuda() {
  NetSpec net = parse_net_spec(config::load_file(std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/resnet18.yaml"));
  net.framework = Framework::pytorch_cuda;
  return net;
}

}  // namespace

TEST_CASE("cuDNN workspace table: every probed convolution, pass by pass", "[workload][torch][framework]") {
  // scripts/torch_memory.py --probe-conv 32 64 256 (torch 2.11.0+cu130, cuDNN 9.19.0, H200):
  // each distinct convolution of torchvision's resnet18 / resnet50, each pass called alone.
  std::ifstream in(std::string(BPSIM_SOURCE_DIR) + "/tests/unit/workload/torch_conv_workspaces.jsonl");
  REQUIRE(in);
  std::string line;
  int rows = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const json j = json::parse(line);
    INFO(j.at("net").get<std::string>() << " batch " << j.at("batch") << " " << j.at("conv").get<std::string>() << " "
                                        << j.at("dtype").get<std::string>());
    REQUIRE(j.at("cudnn").get<int>() == 91900);
    // What the model adds per op: a pass's peak is its output plus at most one workspace,
    // allocated after the output, and (ViT's patch conv, whose gradient comes with
    // channels-last strides) the gradient's copy; nothing else transient.
    const bool biased = j.value("bias", false);
    for (const char* pass : {"forward", "backward_data", "backward_weight"}) {
      const json& p = j.at(pass);
      uint64_t outputs = 0;
      for (const json& o : p.at("outputs")) outputs += o.get<uint64_t>();
      CHECK(workspaces(p).size() <= 1);
      CHECK(p.at("peak_requested").get<uint64_t>() == outputs + total(workspaces(p)) + total(workspaces(p, false)));
      if (!biased || std::string(pass) == "forward") CHECK(workspaces(p, false).empty());
    }
    // ConvolutionBackward0 with both gradients: dX's pass, then dW's, each with its workspace.
    std::vector<uint64_t> both = workspaces(j.at("backward_data"));
    for (uint64_t w : workspaces(j.at("backward_weight"))) both.push_back(w);
    CHECK(workspaces(j.at("backward_both")) == both);
    const json &x = j.at("input"), &y = j.at("output");
    const ConvShape c{x[0].get<uint64_t>(),
                      x[1].get<uint64_t>(),
                      x[2].get<uint64_t>(),
                      x[3].get<uint64_t>(),
                      j.at("out_channels").get<uint64_t>(),
                      j.at("kernel")[0].get<uint64_t>(),
                      j.at("kernel")[1].get<uint64_t>(),
                      j.at("stride")[0].get<uint64_t>(),
                      j.at("padding")[0].get<uint64_t>(),
                      j.at("groups").get<uint64_t>(),
                      y[2].get<uint64_t>(),
                      y[3].get<uint64_t>()};
    const DType dtype = j.at("dtype").get<std::string>() == "float32" ? DType::fp32 : DType::bf16;
    const auto ws = cudnn_conv_workspace(c, dtype);
    REQUIRE(ws);
    CHECK(ws->forward == total(workspaces(j.at("forward"))));
    CHECK(ws->backward_data == total(workspaces(j.at("backward_data"))));
    CHECK(ws->backward_weight == total(workspaces(j.at("backward_weight"))));
    if (biased) {
      // framework.cpp's add_conv_bias_buffers: ConvolutionBackward0 as ViT runs it (dW and db,
      // the image needs no gradient) copies the strided gradient (Y's size) before dW's pass
      // and frees it after dW's workspace, then sums the bias over N·P·Q rows × K with the
      // Linear bias rule's staging (buffer, then semaphores). Its peak is the larger phase.
      const uint64_t y_bytes = j.at("forward").at("outputs")[0].get<uint64_t>();
      const uint64_t rows_nhw = c.n * c.p * c.q, elem_bytes = y_bytes / (rows_nhw * c.k);
      const ReductionStaging st = reduction_staging(rows_nhw, c.k, elem_bytes, GpuSpec{});
      CHECK(st.buffer > 0);
      const json& wb = j.at("backward_weight_bias");
      CHECK(workspaces(j.at("backward_data"), false) == std::vector<uint64_t>{y_bytes});
      CHECK(workspaces(wb, false) == std::vector<uint64_t>{y_bytes, st.buffer, st.semaphores});
      CHECK(workspaces(wb) == std::vector<uint64_t>{ws->backward_weight});
      const uint64_t dw = wb.at("outputs")[0].get<uint64_t>(), db = wb.at("outputs")[1].get<uint64_t>();
      CHECK(wb.at("peak_requested").get<uint64_t>() ==
            std::max(y_bytes + dw + ws->backward_weight, dw + db + st.bytes()));
      // With dX as well, the one copy serves both passes (dX's has no cuDNN workspace here).
      CHECK(workspaces(j.at("backward_all"), false) == workspaces(wb, false));
      // A contiguous N×K×P×Q gradient is neither copied nor reduced through a staging buffer:
      // the rule holds for the channels-last gradient only (framework.cpp refuses the rest).
      CHECK(workspaces(j.at("backward_weight_bias_contiguous"), false).empty());
    }
    ++rows;
  }
  // 52 distinct ResNet convolutions (resnet18 fp32, resnet50 fp32 and bf16) and ViT-B/16's
  // patch conv (fp32, bf16), × 3 batches
  CHECK(rows == 162);
  // An unmeasured batch, or dtype, is not in the table.
  CHECK_FALSE(cudnn_conv_workspace(ConvShape{16, 64, 56, 56, 64, 3, 3, 1, 1, 1, 56, 56}, DType::fp32));
  CHECK_FALSE(cudnn_conv_workspace(ConvShape{32, 64, 56, 56, 64, 3, 3, 1, 1, 1, 56, 56}, DType::fp16));
  CHECK(cudnn_conv_workspace(ConvShape{32, 64, 56, 56, 64, 3, 3, 1, 1, 1, 56, 56}, DType::fp32));
}

TEST_CASE("framework: pytorch_cuda, ResNet-18's peak allocation by allocation", "[workload][torch][framework]") {
  // PyTorch's trace of the resnet18_none step (torch 2.11, H200, requested bytes): the peak is
  // inside layer4.0.conv2's ConvolutionBackward0, at its weight-gradient workspace
  // (run_conv_plan, 21,365,247 B) with dX (3,211,264 B) and dW (9,437,184 B) allocated. Live
  // then, by size: the forward's saved tensors still needed (9 × 25,690,112, 2 × 102,760,448,
  // 9 × 12,845,056, 9 × 6,422,528, 51,380,224 (max-pool's indices), 2 × 3,211,264, the output
  // 128,000 and the batch norms' saved mean and inverse std, C floats each: 10 × 1,024,
  // 10 × 512, 2 × 2,048, 10 × 256) and the backward's:
  // 3 × 9,437,184 (layer4's 3×3 dW), 6,422,528 (the downsample's dX, waiting for the residual
  // sum), 3,211,264 (layer4.0.bn2's dX) and 3,211,264 (this conv's dX), 2,048,000 (fc's dW),
  // 524,288 (downsample dW), 128,000 (the seed gradient), 8 × 2,048 (batch-norm dγ/dβ),
  // 4,000 (fc's db) and the workspace.
  const std::multiset<uint64_t> torch_live = {
      25690112, 25690112, 25690112, 25690112, 25690112, 25690112, 25690112, 25690112, 25690112, 102760448, 102760448,
      12845056, 12845056, 12845056, 12845056, 12845056, 12845056, 12845056, 12845056, 12845056, 6422528,   6422528,
      6422528,  6422528,  6422528,  6422528,  6422528,  6422528,  6422528,  51380224, 3211264,  3211264,   128000,
      1024,     1024,     1024,     1024,     1024,     1024,     1024,     1024,     1024,     1024,      512,
      512,      512,      512,      512,      512,      512,      512,      512,      512,      2048,      2048,
      256,      256,      256,      256,      256,      256,      256,      256,      256,      256,       9437184,
      9437184,  9437184,  21365247, 6422528,  3211264,  3211264,  2048000,  524288,   128000,   2048,      2048,
      2048,     2048,     2048,     2048,     2048,     2048,     4000};
  uint64_t torch_sum = 0;
  for (uint64_t b : torch_live) torch_sum += b;
  const uint64_t peak = test::torch_figure("resnet18_none", "peak_requested_bytes");
  REQUIRE(torch_sum == peak);  // 733,335,455: the list is the whole peak

  const OpGraph g = build_step(resnet18_pytorch_cuda(), *test::policy("{kind: none}"));
  const std::vector<uint64_t> during = memory_timeline(g);
  const size_t at = size_t(std::max_element(during.begin(), during.end()) - during.begin());
  CHECK(g.ops[at].name == "basic_block10.conv2.dw");  // layer4.0.conv2 (blocks 4–11 are layer1–4)
  CHECK(during[at] == peak);
  // The live set at that op, tensor by tensor, against PyTorch's.
  const LiveEvents ev = live_events(g);
  std::map<uint32_t, bool> live;
  for (size_t i = 0; i <= at; ++i) {
    for (uint32_t t : ev.alloc_before[i]) live[t] = true;
    if (i < at)
      for (uint32_t t : ev.free_after[i]) live.erase(t);
  }
  // bpsim keeps a batch norm's statistics as one tensor; cudnn_batch_norm returns its saved
  // mean and inverse standard deviation as two of C floats each.
  std::multiset<uint64_t> bpsim_live;
  for (const auto& [t, on] : live) {
    const Tensor& x = g.tensors[t];
    const bool stats = x.name.size() > 6 && x.name.compare(x.name.size() - 6, 6, ".stats") == 0;
    for (int half = 0; half < (stats ? 2 : 1); ++half) bpsim_live.insert(stats ? x.bytes / 2 : x.bytes);
  }
  CHECK(bpsim_live == torch_live);
  CHECK(g.tensors[g.ops[at].writes.back()].name == "basic_block10.conv2.dw.cudnn_ws");
  CHECK(g.tensors[g.ops[at].writes.back()].bytes == 21365247);
  // ConvolutionBackward0 releases its saved weight when the node ends, after dW: the dW op
  // holds what only dX read (in fp32 the parameter, not counted; under autocast its bf16 copy).
  const Op& dx = test::find_op(g, "basic_block10.conv2.dx");
  const Op& dw = g.ops[at];
  REQUIRE(dx.reads.size() == 2);
  CHECK(std::find(dw.reads.begin(), dw.reads.end(), dx.reads[1]) == dw.reads.end());
  CHECK(std::find(dw.holds.begin(), dw.holds.end(), dx.reads[1]) != dw.holds.end());
  CHECK(g.tensors[dx.reads[1]].name == "basic_block10.conv2.weight");
}

TEST_CASE("cli: framework pytorch_cuda refuses convolutions it has no measurement for", "[cli][workload][framework]") {
  test::Scratch s("torch_conv");
  const std::string head = "name: c\nbatch: 32\ninput: {shape: [64, 56, 56]}\nframework: pytorch_cuda\n";
  // A measured shape runs: ResNet's 3×3 64→64 at 56×56, batch 32, fp32. The network input
  // needs no gradient, so the backward computes dW alone. Forward: Y 25,690,112 + its
  // workspace 25,837,584 = 51,527,696. Backward: Y (held by the caller) + the seed gradient
  // 25,690,112 (held to the end) + dW 147,456 + dW's workspace 53,592,743 = 105,120,423, the peak.
  const std::string ok =
      s.file("ok.yaml", head + "layers:\n  - {kind: conv2d, out_channels: 64, kernel: 3, padding: 1, bias: false}\n");
  test::CliResult r = test::run_bpsim("workload " + ok + " --json");
  REQUIRE(r.code == 0);
  CHECK(json::parse(r.out).at("peak_bytes").get<uint64_t>() == 25690112 + 25690112 + 147456 + 53592743);
  // Stride 2 at this input was never measured: exit 2, naming the layer and the shape.
  const std::string bad =
      s.file("bad.yaml", head +
                             "layers:\n  - {kind: conv2d, out_channels: 64, kernel: 3, stride: 2, padding: 1, "
                             "bias: false, name: stem}\n");
  r = test::run_bpsim("workload " + bad);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("bad.yaml:6:5: stem: framework pytorch_cuda has no measured cuDNN workspace for "
                                    "this conv2d (input 32x64x56x56, 64 filters 3x3, stride 2, padding 1, groups 1, "
                                    "fp32)") &&
                        Catch::Contains("--probe-conv"));
  // Inside a residual block the generated layer name and the block's line are given.
  r = test::run_bpsim("workload " +
                      s.file("block.yaml", head + "layers:\n  - {kind: basic_block, out_channels: 64, stride: 2}\n"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("block.yaml:6:5: basic_block0.conv1: framework pytorch_cuda has no measured"));
  // A convolution's bias gradient is measured only as ViT's patch embedding reduces it (the
  // gradient through `tokens`, channels-last); an N×C×H×W gradient's reduction was not.
  r = test::run_bpsim("workload " + s.file("bias.yaml", head + "layers:\n  - {kind: conv2d, out_channels: 64, "
                                                               "kernel: 3, padding: 1, name: c}\n"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("bias.yaml:6:5: c: framework pytorch_cuda accounts a conv2d's bias gradient "
                                    "only when a tokens layer reads the convolution"));
  // The table is the H200's: another GPU's cuDNN heuristics pick other algorithms.
  r = test::run_bpsim("workload " +
                      s.file("gpu.yaml", head + "gpu: {sms: 108}\nlayers:\n  - {kind: conv2d, "
                                                "out_channels: 64, kernel: 3, padding: 1, bias: false}\n"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("gpu: framework pytorch_cuda knows cuDNN's convolution workspaces only as "
                                    "measured on an NVIDIA H200"));
}

TEST_CASE("cli: framework pytorch_cuda, ViT's patch conv with its bias", "[cli][workload][framework]") {
  // ViT-B/16's patch embedding alone (no class token), batch 32, fp32: conv_proj 3→768,
  // 16×16, stride 16 (Y = 32·768·14·14·4 = 19,267,584 B, no forward workspace), the tokens
  // view, the position embedding added (Z, 19,267,584 B). Backward: the caller holds Z and
  // the seed gradient (19,267,584 each); the position table's gradient (196·768·4 = 602,112)
  // is made first; then ConvolutionBackward0 (dW and db: the image needs no gradient), whose
  // peak is dW's pass: the gradient's N×C×H×W copy 19,267,584 + dW 2,359,296 + cuDNN's
  // workspace 48,103,568 (torch_conv_workspaces.jsonl, vit_b_16 batch 32 float32). The bias
  // reduction after it (3,072 + 38,535,192 of staging) is lower.
  test::Scratch s("torch_conv_vit");
  const std::string spec = s.file("pe.yaml",
                                  "name: pe\nbatch: 32\ninput: {shape: [3, 224, 224]}\nframework: pytorch_cuda\n"
                                  "layers:\n  - {kind: patch_embedding, patch: 16, hidden: 768, class_token: false}\n");
  const test::CliResult r = test::run_bpsim("workload " + spec + " --json");
  REQUIRE(r.code == 0);
  CHECK(json::parse(r.out).at("peak_bytes").get<uint64_t>() ==
        3 * uint64_t(19267584) + 602112 + 2359296 + 48103568);  // 108,867,728

  // Under autocast bf16 the convolution runs on bf16 copies of the image (9,633,792) and of
  // the weight (1,179,648), both saved, and Z is fp32 (the position table's add promotes).
  // At dW's pass: Z and the seed gradient 19,267,584 each, the position gradient 602,112,
  // the tokens' gradient cast to bf16 (ToCopyBackward0) 9,633,792 and its N×C×H×W copy
  // 9,633,792, the saved copies, dW (bf16) 1,179,648 and cuDNN's bf16 workspace 57,344,144
  // (torch_conv_workspaces.jsonl, vit_b_16 batch 32 bfloat16).
  const std::string amp = s.file("pe_amp.yaml",
                                 "name: pe\nbatch: 32\ninput: {shape: [3, 224, 224]}\nframework: pytorch_cuda\n"
                                 "autocast: bf16\nlayers:\n  - {kind: patch_embedding, patch: 16, hidden: 768, "
                                 "class_token: false}\n");
  const test::CliResult ra = test::run_bpsim("workload " + amp + " --json");
  REQUIRE(ra.code == 0);
  CHECK(json::parse(ra.out).at("peak_bytes").get<uint64_t>() ==
        2 * uint64_t(19267584) + 602112 + 2 * 9633792 + 9633792 + 1179648 + 1179648 + 57344144);  // 127,742,096

  // The fp32 graph: the copy written by dW's op and freed after it, the staging by db's
  // op (reduction_staging over 6,272 rows × 768: 38,535,168 + 24 semaphore bytes), and the
  // bias reduction at the op the memory timeline puts there.
  const OpGraph g = build_step(parse_net_spec(config::load_file(spec)), *test::policy("{kind: none}"));
  const Op& dw = test::find_op(g, "patch_embedding0.conv_proj.dw");
  const Op& db = test::find_op(g, "patch_embedding0.conv_proj.db");
  const auto named = [&](const Op& o, const std::string& suffix) {
    for (uint32_t t : o.writes)
      if (g.tensors[t].name.size() >= suffix.size() &&
          g.tensors[t].name.compare(g.tensors[t].name.size() - suffix.size(), suffix.size(), suffix) == 0)
        return g.tensors[t].bytes;
    return uint64_t(0);
  };
  CHECK(named(dw, ".dy_nchw") == 19267584);
  CHECK(named(db, ".db.staging") == 38535168 + 24);
  const std::vector<uint64_t> during = memory_timeline(g);
  CHECK(during[size_t(dw.id)] == 108867728);
  // At db: Z, the seed gradient, the position gradient, dW, db and the staging.
  CHECK(during[size_t(db.id)] == 2 * uint64_t(19267584) + 602112 + 2359296 + 3072 + 38535192);
}
