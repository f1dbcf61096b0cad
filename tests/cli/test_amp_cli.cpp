// Mixed precision (autocast, loss scaling), optimizer state by dtype and the memory
// breakdown, through specs and the CLI (docs/workloads.md, "Mixed precision and optimizer
// state" and "Memory breakdown").
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <string>

#include "sim/workload/framework.h"
#include "tests/cli/cli_harness.h"
#include "tests/cli/report_json.h"
#include "tests/unit/workload/torch_measured.h"

using namespace bpsim::test;
using Catch::Contains;

namespace {

/// Batch 4 of 8 features through linear(16) → ReLU → linear(2), fp32 parameters.
std::string mlp(const Scratch& s, const std::string& header, const std::string& file = "mlp.yaml") {
  return s.file(file, "name: amp_mlp\nbatch: 4\ninput: { shape: [8] }\n" + header +
                          "layers:\n  - { kind: linear, out_features: 16 }\n  - { kind: relu }\n"
                          "  - { kind: linear, out_features: 2 }\n");
}

nlohmann::json workload_json(const std::string& args) {
  CliResult r = run_bpsim("workload " + args + " --json");
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(r.out);
}

std::map<std::string, uint64_t> tensor_bytes(const nlohmann::json& g) {
  std::map<std::string, uint64_t> m;
  for (const auto& t : g["tensors"]) m[t["name"]] = t["bytes"];
  return m;
}

size_t ops_with(const nlohmann::json& g, const std::string& part) {
  size_t n = 0;
  for (const auto& o : g["ops"]) n += o["name"].get<std::string>().find(part) != std::string::npos;
  return n;
}

}  // namespace

TEST_CASE("amp: autocast bf16 on a small MLP keeps what PyTorch keeps, to the byte", "[cli][workload][amp]") {
  Scratch s("amp_mlp");
  const auto g = workload_json(mlp(s, "dtype: fp32\nautocast: bf16\n"));
  const auto b = tensor_bytes(g);
  // Parameters stay fp32: linear0 8·16 + 16, linear2 16·2 + 2 elements, 4 B each.
  CHECK(b.at("linear0.weight") == 512);
  CHECK(b.at("linear2.bias") == 8);
  // Casts to bf16 (2 B): the input 4·8, each weight and bias copy; outputs of the matmuls.
  CHECK(b.at("linear0.in.bf16") == 64);
  CHECK(b.at("linear0.weight.bf16") == 256);
  CHECK(b.at("linear0.bias.bf16") == 32);
  CHECK(b.at("linear2.weight.bf16") == 64);
  CHECK(b.at("linear0.out") == 128);  // 4·16·2
  CHECK(b.at("relu1.out") == 128);
  CHECK(b.at("linear2.out") == 16);  // 4·2·2
  // Gradients: dW in bf16, cast to the fp32 .grad.
  CHECK(b.at("linear0.weight.grad.bf16") == 256);
  CHECK(b.at("linear0.weight.grad") == 512);
  // Kept after the forward: linear0's bf16 input copy (its dW), ReLU's output (its backward
  // and linear2's dW), linear2's bf16 weight copy (its dX) and the output (the loss gradient):
  // 64 + 128 + 64 + 16 = 272. linear0's weight copy is not kept: its input needs no
  // gradient, so addmm saves no mat2 (the copy lives only in autocast's cache).
  CHECK(g["saved_after_forward_bytes"] == 272);
  // Peak at linear0.weight's grad cast: every .grad but linear0.bias's (712 − 64 = 648 B)
  // plus linear0's bf16 dW and db (256 + 32): 936.
  CHECK(g["peak_bytes"] == 936);
  // Ops: 5 forward casts (input, 2 weights, 2 biases), 4 gradient casts, no loss scaling.
  CHECK(ops_with(g, "grad_cast") == 4);
  CHECK(ops_with(g, ".bf16") == 5);
  CHECK(ops_with(g, "loss.scale") == 0);
  // Without autocast the same net keeps ReLU's output (fp32, 256 B) and the output (32 B).
  const auto f = workload_json(mlp(s, "dtype: fp32\n", "fp32.yaml"));
  CHECK(f["saved_after_forward_bytes"] == 256 + 32);
  CHECK(ops_with(f, "cast") == 0);
}

TEST_CASE("amp: autocast fp16 scales the loss and unscales every gradient", "[cli][workload][amp]") {
  Scratch s("amp_fp16");
  const auto g = workload_json(mlp(s, "autocast: fp16\noptimizer: adamw\n"));
  CHECK(ops_with(g, "loss.scale") == 1);
  CHECK(ops_with(g, ".unscale") == 4);  // one per parameter, in place before its update
  CHECK(tensor_bytes(g).at("linear0.weight.fp16") == 256);
  // loss_scale: false turns GradScaler off.
  const auto off = workload_json(mlp(s, "autocast: fp16\nloss_scale: false\n", "off.yaml"));
  CHECK(ops_with(off, ".unscale") == 0);
  // The same spec runs on an accelerator, every op through the conservation laws.
  const std::string cfg =
      s.file("run.yaml", preset_includes("systolic_32x32_bf16.yaml") +
                             "accelerator: { dtype: workload }\nworkload: { spec: " + (s / "mlp.yaml") + " }\n");
  CliResult r = run_bpsim("run " + cfg + " -q --out " + (s / "out"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto rep = nlohmann::json::parse(slurp(s / "out/report.json"));
  CHECK(op_of(rep, "linear0.weight.grad.unscale")["phase"] == "update");
}

TEST_CASE("amp: optimizer state by dtype and fp32 master weights", "[cli][workload][amp]") {
  Scratch s("amp_opt");
  // 178 parameters (8·16 + 16 + 16·2 + 2) in bf16.
  auto breakdown = [&](const std::string& header, const std::string& file) {
    CliResult r = run_bpsim("workload " + mlp(s, header, file) + " --breakdown --policies none --json");
    INFO(r.err);
    REQUIRE(r.code == 0);
    return nlohmann::json::parse(r.out)["policies"][0];
  };
  // Adam with fp32 moments and an fp32 master copy: 178 · (4 + 4 + 4) = 2136 B; weights and
  // gradients bf16: 356 B each.
  const auto m =
      breakdown("dtype: bf16\noptimizer: { kind: adam, state_dtype: fp32, master_weights: true }\n", "m.yaml");
  CHECK(m["optimizer_state"] == 2136);
  CHECK(m["weights"] == 356);
  CHECK(m["gradients"] == 356);
  // torch.optim's own: moments in the parameters' dtype, 178 · 2 · 2 = 712 B.
  CHECK(breakdown("dtype: bf16\noptimizer: { kind: adamw, state_dtype: bf16 }\n", "b.yaml")["optimizer_state"] == 712);
  // Momentum, fp32 state: 178 · 4.
  CHECK(breakdown("dtype: bf16\noptimizer: momentum\n", "p.yaml")["optimizer_state"] == 712);
}

TEST_CASE("amp: bad mixed-precision keys are refused with the key and what is expected", "[cli][workload][amp]") {
  Scratch s("amp_bad");
  auto refused = [&](const std::string& header, const std::string& needle) {
    CliResult r = run_bpsim("workload " + mlp(s, header, "bad.yaml"));
    INFO(header);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Contains(needle));
  };
  refused("autocast: int8\n", "autocast");
  refused("dtype: bf16\nautocast: bf16\n", "torch.autocast casts fp32 parameters; dtype is bf16");
  refused("optimizer: { kind: adamw, state_dtype: int8 }\n", "optimizer.state_dtype");
  refused("optimizer: { kind: adam, master_weights: true }\n", "the parameters are fp32 (dtype)");
  refused("optimizer: { state_dtype: fp32 }\n", "optimizer");
  refused("optimizer: { kind: adamw, state_dtyp: fp32 }\n", "did you mean 'state_dtype'");
  refused("loss_scale: maybe\n", "loss_scale");
  // A loss other than none under autocast (PyTorch runs it in fp32) is not modelled: refused,
  // in the spec and through the command line's --loss.
  refused("autocast: bf16\nloss: cross_entropy\n", "loss: a loss under autocast is not modelled yet");
  // A layer kind whose autocast rule was not measured (RMSNorm) is refused, naming the layer.
  CliResult k = run_bpsim("workload " + s.file("rms.yaml",
                                               "autocast: bf16\nbatch: 2\ninput: { shape: [8] }\nlayers:\n"
                                               "  - { kind: rmsnorm, name: norm }\n"
                                               "  - { kind: linear, out_features: 4 }\n"));
  CHECK(k.code == 2);
  CHECK_THAT(k.err, Contains("norm: autocast: no autocast rule is modelled yet for this layer (rmsnorm)"));
  CliResult l = run_bpsim("workload " + mlp(s, "autocast: bf16\n", "ampl.yaml") + " --loss sum");
  CHECK(l.code == 2);
  CHECK_THAT(l.err, Contains("a loss under autocast is not modelled yet"));
  // A config's dtype override may not take the fp32 parameters autocast needs.
  const std::string amp = mlp(s, "autocast: bf16\n", "amp.yaml");
  const std::string cfg = s.file(
      "cfg.yaml", preset_includes("systolic_32x32_bf16.yaml") + "workload: { spec: " + amp + ", dtype: bf16 }\n");
  CliResult d = run_bpsim("validate " + cfg);
  CHECK(d.code == 2);
  CHECK_THAT(d.err, Contains("workload.dtype: the spec runs under autocast, which needs fp32 parameters"));
  // A binary layer has no autocast rule.
  CliResult b = run_bpsim("workload " + s.file("bin.yaml",
                                               "autocast: bf16\nbatch: 2\ninput: { shape: [8] }\nlayers:\n"
                                               "  - { kind: binary_linear, out_features: 4 }\n"));
  CHECK(b.code == 2);
  CHECK_THAT(b.err, Contains("autocast: binary layers have no autocast rule"));
}

TEST_CASE("breakdown: weights, gradients, optimizer state, activations and temporaries per policy",
          "[cli][workload][breakdown]") {
  Scratch s("breakdown");
  const std::string spec = mlp(s, "dtype: fp32\nautocast: bf16\noptimizer: adamw\n");
  CliResult r = run_bpsim("workload " + spec + " --breakdown --json");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["policies"].size() == 3);  // none, checkpoint, full_recompute
  const auto& none = j["policies"][0];
  CHECK(none["policy"] == "none");
  // 178 fp32 parameters: 712 B of weights (and of gradients, all live only in the optimizer
  // step); AdamW's two fp32 moments 1424 B; the input 4·8·4 = 128 B; saved after the forward
  // and the peak as the autocast test derives (272, 936).
  CHECK(none["weights"] == 712);
  CHECK(none["optimizer_state"] == 1424);
  CHECK(none["input"] == 128);
  CHECK(none["saved_after_forward"] == 272);
  CHECK(none["peak"] == 936);
  // The lines are what is live at the high-water mark, the backward's peak (936 B > the
  // optimizer step's 712 B of gradients): linear0.weight's fp32 gradient being cast from
  // its bf16 dW. Live then: the fp32 gradients of linear2's weight (16·2·4 = 128) and bias
  // (2·4 = 8) and linear0's weight (8·16·4 = 512), 648 B; the bf16 dW being cast (256) and
  // linear0's bf16 db waiting for its cast (16·2 = 32), 288 B of temporaries; no
  // activation (the forward's tensors all had their last reader before).
  CHECK(none["gradients"] == 648);
  CHECK(none["activations"] == 0);
  CHECK(none["temporaries"] == 288);
  CHECK(none["total"] == 712 + 1424 + 128 + 936);
  // full_recompute keeps only the output (4·2·2 = 16 B) after the forward.
  CHECK(j["policies"][2]["saved_after_forward"] == 16);
  for (const auto& p : j["policies"]) {
    const int64_t sum = p["weights"].get<int64_t>() + p["gradients"].get<int64_t>() +
                        p["optimizer_state"].get<int64_t>() + p["input"].get<int64_t>() +
                        p["activations"].get<int64_t>() + p["temporaries"].get<int64_t>();
    CHECK(sum == p["total"].get<int64_t>());
    CHECK(p["gradients"].get<int64_t>() + p["activations"].get<int64_t>() + p["temporaries"].get<int64_t>() ==
          p["peak"].get<int64_t>());
  }
  // The table: one column per policy, human units.
  CliResult t = run_bpsim("workload " + spec + " --breakdown --policies none,optimal --budget 100000");
  INFO(t.err);
  REQUIRE(t.code == 0);
  CHECK_THAT(t.out, Contains("optimal(100000 B, flops)"));
  CHECK_THAT(t.out, Contains("optimizer_state"));
  CHECK_THAT(t.out, Contains("1.424 kB"));         // AdamW's two moments of 712 B of weights: 1424 B
  CHECK_THAT(t.out, Contains(" 3.2 kB"));          // total: 712 + 1424 + 128 + 648 + 0 + 288 = 3200 B
  CHECK_THAT(t.out, !Contains("optimizer_step"));  // PyTorch's rows need framework: pytorch_cuda
  // Under framework pytorch_cuda: AdamW's foreach step takes a temporary of the second
  // moments' size (178 · 4 = 712 B) and the process holds the cuBLAS workspaces (65 MiB). The
  // peak is 968 B (the pytorch_cuda test above); the optimizer step's high-water, gradients +
  // its temporary = 1424 B, is higher and sets the total: 712 + 1424 + 128 + 68,157,440 + 1424.
  const std::string pt = mlp(s, "dtype: fp32\nautocast: bf16\noptimizer: adamw\nframework: pytorch_cuda\n", "pt.yaml");
  CliResult p = run_bpsim("workload " + pt + " --breakdown --policies none --json");
  INFO(p.err);
  REQUIRE(p.code == 0);
  const auto pj = nlohmann::json::parse(p.out);
  CHECK(pj["framework"] == "pytorch_cuda");
  const auto& pn = pj["policies"][0];
  CHECK(pn["peak"] == 968);
  CHECK(pn["optimizer_step"] == 712);
  CHECK(pn["workspaces"] == 68157440);
  CHECK(pn["total"] == 712 + 1424 + 128 + 68157440 + 1424);
  // At that moment every gradient is live and no activation or backward buffer is.
  CHECK(pn["gradients"] == 712);
  CHECK(pn["activations"] == 0);
  CHECK(pn["temporaries"] == 0);
  CHECK(pn["optimizer_step_transient"] == 712);
  CliResult pt_table = run_bpsim("workload " + pt + " --breakdown --policies none");
  REQUIRE(pt_table.code == 0);
  CHECK_THAT(pt_table.out, Contains("optimizer_step") && Contains("workspaces") && Contains("68.16 MB"));
  // Mistakes: an unknown kind, a flag no listed kind takes, --policies alone.
  CliResult u = run_bpsim("workload " + spec + " --breakdown --policies none,lazy");
  CHECK(u.code == 2);
  CHECK_THAT(u.err, Contains("unknown policy kind 'lazy'"));
  CliResult f = run_bpsim("workload " + spec + " --breakdown --policies none --budget 1000");
  CHECK(f.code == 2);
  CHECK_THAT(f.err, Contains("'budget_bytes' applies to none of the policies none"));
  CliResult a = run_bpsim("workload " + spec + " --policies none");
  CHECK(a.code == 2);
  CHECK_THAT(a.err, Contains("--policies goes with --breakdown"));
}

TEST_CASE("amp: saved after forward equals PyTorch's under autocast bf16", "[cli][workload][amp][torch]") {
  // PyTorch 2.11.0+cu130 on an NVIDIA H200 (scripts/torch_memory.py, cases resnet50_amp_none,
  // gpt2_amp_none, gpt2_amp_checkpoint and mlp_amp_none: fp32 parameters, forward under
  // torch.autocast("cuda", torch.bfloat16), backward from ones_like(output)): the bytes
  // requested and live after the forward (saved_requested_bytes). The shipped specs with
  // `dtype: fp32` and `autocast: bf16` added.
  Scratch s("amp_torch");
  auto amp_of = [&](const std::string& spec, const std::string& batch) {
    std::string text = slurp(std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/" + spec + ".yaml");
    for (const char* key : {"\ndtype:", "\nbatch:"}) {
      const size_t at = text.find(key);
      REQUIRE(at != std::string::npos);
      text.erase(at + 1, text.find('\n', at + 1) - at);  // the line, kept: the '\n' before it
    }
    return s.file(spec + ".yaml", "dtype: fp32\nautocast: bf16\nbatch: " + batch + "\n" + text);
  };
  // ResNet-50, batch 32: the bf16 activations, int64 max-pool indices, fp32 batchnorm
  // statistics, and every conv's bf16 weight copy (conv1's too: ConvolutionBackward keeps it).
  CHECK(workload_json(amp_of("resnet50", "32"))["saved_after_forward_bytes"] ==
        torch_figure("resnet50_amp_none", "saved_requested_bytes"));
  // GPT-2 small, batch 8 × 1024: fp32 attention probabilities, their bf16 copies, fp32
  // LayerNorm inputs and residual stream, bf16 weight copies.
  const std::string gpt2 = amp_of("gpt2_small", "8");
  CHECK(workload_json(gpt2)["saved_after_forward_bytes"] == torch_figure("gpt2_amp_none", "saved_requested_bytes"));
  // Every block checkpointed: the blocks' fp32 inputs (the residual stream stays fp32) and
  // the final LayerNorm's.
  CHECK(workload_json(gpt2 + " --policy checkpoint")["saved_after_forward_bytes"] ==
        torch_figure("gpt2_amp_checkpoint", "saved_requested_bytes"));
  // The MLP at batch 4096: linear1's bf16 input copy, bf16 ReLU and dropout outputs, masks,
  // the bf16 weight copies of linear4 and linear7 (linear1's is not kept), the bf16 output.
  CHECK(workload_json(amp_of("mlp", "4096"))["saved_after_forward_bytes"] ==
        torch_figure("mlp_amp_none", "saved_requested_bytes"));
  // ViT-B/16, batch 32, with the cuDNN attention PyTorch picks under autocast: the patchify
  // conv's bf16 input and weight copies; torch.cat promotes the bf16 tokens to the fp32 class
  // token's dtype, so the position add and the residual stream are fp32 (25 fp32 LayerNorm
  // inputs); per layer the packed QKV storage, the attention output (which out_proj keeps
  // too: cuDNN writes it in the query's layout, so MHA's permute needs no copy), the bf16
  // casts of the two LayerNorm outputs, fc1's output, GELU's, the weight copies.
  std::string vit = slurp(std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/vit_b16.yaml");
  const size_t impl = vit.find("attention: mem_efficient");
  REQUIRE(impl != std::string::npos);
  vit.replace(impl, 24, "attention: cudnn");
  vit.erase(vit.find("dtype:"), vit.find('\n', vit.find("dtype:")) - vit.find("dtype:") + 1);
  const auto v = workload_json(s.file("vit.yaml", "dtype: fp32\nautocast: bf16\n" + vit));
  CHECK(v["saved_after_forward_bytes"] == torch_figure("vit_b16_amp_none", "saved_requested_bytes"));
  // The head casts only the class token it reads (x[:, 0], a view of the final LayerNorm's
  // output): 32 · 768 · 2 B, as PyTorch saves it; and no contiguous copy of the attention.
  const auto vb = tensor_bytes(v);
  CHECK(vb.at("head.in.bf16") == 32 * 768 * 2);
  CHECK(ops_with(v, "attn_contiguous") == 0);
}

TEST_CASE("amp: framework pytorch_cuda holds autocast's weight copies to the end of their node",
          "[cli][workload][amp][framework]") {
  Scratch s("amp_pt");
  const auto g = workload_json(mlp(s, "dtype: fp32\nautocast: bf16\nframework: pytorch_cuda\n"));
  CHECK(g["framework"] == "pytorch_cuda");
  // AddmmBackward0 releases its saved bf16 weight copy (read by dX) with its saved input,
  // after dW and the bias reduction of the same node: linear2.db holds both.
  std::map<std::string, std::string> name_of;
  for (const auto& t : g["tensors"]) name_of[std::to_string(t["id"].get<uint64_t>())] = t["name"];
  std::vector<std::string> held;
  for (const auto& o : g["ops"])
    if (o["name"] == "linear2.db" && o.contains("holds"))
      for (const auto& t : o["holds"]) held.push_back(name_of[std::to_string(t.get<uint64_t>())]);
  CHECK(held == std::vector<std::string>{"linear2.weight.bf16", "relu1.out"});
  // Saved is framework none's 272 B. The peak stays at linear0.weight's grad cast (936 B
  // under framework none, derived in the first test), plus the output and its ones_like
  // gradient (16 B each), which the caller holds to the end of backward: 968.
  CHECK(g["saved_after_forward_bytes"] == 272);
  CHECK(g["peak_bytes"] == 936 + 16 + 16);
}

TEST_CASE("amp: framework pytorch_cuda's peak equals PyTorch's under autocast bf16", "[cli][workload][amp][torch]") {
  // The peak (peak_requested_bytes: the caching allocator's requested high-water mark over
  // one warmed-up forward + backward, minus what was allocated before) of the torch cases
  // with fp32 parameters under torch.autocast("cuda", torch.bfloat16), measured with
  // scripts/torch_memory.py (torch 2.11.0+cu130, one H200). Each spec as the table
  // tests/unit/workload/torch_cases.json derives it, with framework: pytorch_cuda.
  Scratch s("amp_pt_torch");
  auto spec = [&](const std::string& name, const std::string& header) {
    std::string text = slurp(std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/" + name + ".yaml");
    for (const char* key : {"\ndtype:", "\nbatch:", "\noptimizer:"}) {
      const size_t at = text.find(key);
      if (at != std::string::npos) text.erase(at + 1, text.find('\n', at + 1) - at);
    }
    return s.file(name + ".yaml",
                  "dtype: fp32\nautocast: bf16\nframework: pytorch_cuda\noptimizer: adamw\n" + header + text);
  };
  auto peak = [&](const std::string& args) { return workload_json(args)["peak_bytes"].get<uint64_t>(); };
  // The MLP (b4096): the peak is linear4's bias reduction, with its 2 MiB bf16 weight copy
  // still held by AddmmBackward0.
  CHECK(peak(spec("mlp", "batch: 4096\n")) == torch_figure("mlp_amp_none", "peak_requested_bytes"));
  // GPT-2 small (8 × 1024, explicit attention): the softmax backward's buffers over the fp32
  // probabilities; with a checkpoint per block, the recomputed block's.
  const std::string gpt2 = spec("gpt2_small", "batch: 8\n");
  CHECK(peak(gpt2) == torch_figure("gpt2_amp_none", "peak_requested_bytes"));
  CHECK(peak(gpt2 + " --policy checkpoint") == torch_figure("gpt2_amp_checkpoint", "peak_requested_bytes"));
  // The 1.21 B GPT with flash attention, batch 8 × 2048: with per-block checkpoints the peak
  // is the last block's fc2 dW, with its recomputed 32 MiB weight copy live until apply()
  // returns.
  const std::string gpt1b = spec("gpt_1b_layers", "batch: 8\n");
  CHECK(peak(gpt1b) == torch_figure("gpt_1b_b8_amp_adamw_none", "peak_requested_bytes"));
  CHECK(peak(gpt1b + " --policy checkpoint") == torch_figure("gpt_1b_b8_amp_adamw_checkpoint", "peak_requested_bytes"));
}

TEST_CASE("breakdown: a whole training step's absolute peak against PyTorch's", "[cli][workload][breakdown][torch]") {
  // scripts/torch_memory.py's whole-step cases (torch 2.11.0+cu130, one H200): a warmed-up
  // forward + backward + torch.optim.AdamW step (foreach); step_peak_absolute_bytes is
  // everything allocated at the step's high-water mark (memory_allocated: weights, AdamW
  // state, input, the cuBLAS workspaces, then the larger of the backward's peak and the
  // optimizer step's gradients + temporary). bpsim's total is the same sum from its own
  // rows under framework pytorch_cuda.
  Scratch s("breakdown_torch");
  std::string text = slurp(std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/gpt_1b_layers.yaml");
  for (const char* key : {"\ndtype:", "\noptimizer:"}) {
    const size_t at = text.find(key);
    REQUIRE(at != std::string::npos);
    text.erase(at + 1, text.find('\n', at + 1) - at);
  }
  // bf16 parameters with torch.optim's bf16 moments (zeros_like), batch 1; and fp32
  // parameters under autocast bf16 with fp32 moments, batch 8.
  const std::string bf16 = s.file(
      "bf16.yaml", "dtype: bf16\noptimizer: { kind: adamw, state_dtype: bf16 }\nframework: pytorch_cuda\n" + text);
  const std::string amp =
      s.file("amp.yaml", "dtype: fp32\nautocast: bf16\noptimizer: adamw\nframework: pytorch_cuda\n" + text);
  auto row = [&](const std::string& args) {
    CliResult r = run_bpsim("workload " + args + " --breakdown --json");
    INFO(r.err);
    REQUIRE(r.code == 0);
    return nlohmann::json::parse(r.out)["policies"][0];
  };
  const struct {
    const char* id;
    std::string args;
  } cases[] = {{"gpt_1b_adamw_none", bf16 + " --policies none"},
               {"gpt_1b_b8_amp_adamw_none", amp + " --batch 8 --policies none"},
               {"gpt_1b_b8_amp_adamw_checkpoint", amp + " --batch 8 --policies checkpoint"}};
  for (const auto& c : cases) {
    INFO(c.id);
    const auto b = row(c.args);
    // The static rows and the optimizer step's temporary are PyTorch's to the byte.
    CHECK(b["weights"] == torch_figure(c.id, "param_bytes"));
    CHECK(b["optimizer_state"] == torch_figure(c.id, "optimizer_state_bytes"));
    CHECK(b["input"] == torch_figure(c.id, "input_bytes"));
    CHECK(b["optimizer_step_transient"] == torch_figure(c.id, "optimizer_step_transient_bytes"));
    // PyTorch's baseline holds 69,206,016 B besides weights, state and input in all three
    // cases: the 65 MiB of cuBLAS/cuBLASLt workspaces bpsim attributes, which a fresh process
    // holds to the byte (torch_workspaces.jsonl, checked below), and 1 MiB the measuring
    // process kept from its earlier cases (docs/workloads.md, "Memory breakdown").
    const uint64_t static_bytes = b["weights"].get<uint64_t>() + b["optimizer_state"].get<uint64_t>() +
                                  b["input"].get<uint64_t>() + b["workspaces"].get<uint64_t>();
    CHECK(torch_figure(c.id, "baseline_absolute_bytes") - static_bytes == 1048576);
    // The total: within 2 % (1 MiB + the allocator's block rounding of the peak low).
    const double total = b["total"].get<double>(), torch = double(torch_figure(c.id, "step_peak_absolute_bytes"));
    CHECK(std::abs(total - torch) / torch < 0.02);
    CHECK(total < torch);
  }
}

TEST_CASE("breakdown: the workspaces line is what a fresh PyTorch process keeps", "[breakdown][torch]") {
  // scripts/torch_workspaces.py: after the warm-up, in a fresh process, the blocks allocated
  // by cuBLAS's and cuBLASLt's workspace getters (tests/unit/workload/torch_workspaces.jsonl).
  std::ifstream in(std::string(BPSIM_SOURCE_DIR) + "/tests/unit/workload/torch_workspaces.jsonl");
  REQUIRE(in);
  std::string line;
  size_t cases = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    INFO(j["case"]);
    uint64_t blas = 0;
    for (const auto& b : j["blas_blocks"]) blas += b["bytes"].get<uint64_t>();
    CHECK(blas == bpsim::workload::cublas_process_workspace_bytes());
    // The 1.21 B GPT (with and without AdamW) keeps nothing else: the baseline is weights +
    // optimizer state + input + workspaces to the byte.
    if (j["case"].get<std::string>().rfind("gpt_1b", 0) == 0) CHECK(j["other_bytes"] == blas);
    ++cases;
  }
  CHECK(cases == 6);
}

TEST_CASE("amp: the mesh refuses an autocast step, the systolic array runs it", "[cli][amp][mesh]") {
  // The mesh's clusters hold and send every element in the step's dtype at one MAC price, so
  // autocast's bf16 casts and GEMMs over fp32 parameters would be priced as fp32: refused with
  // the op and the reason (exit 2), where it once ran and reported fp32 figures.
  Scratch s("amp_mesh");
  const std::string spec = mlp(s, "dtype: fp32\nautocast: bf16\n");
  const std::string mesh = s.file("mesh.yaml", preset_includes("mesh_8x8.yaml") + "workload: { spec: " + spec + " }\n");
  const CliResult r = run_bpsim("run " + mesh + " --out " + s / "mesh");
  CHECK(r.code == 2);
  // The first op in another dtype: the cast of the first linear layer's (linear0) input to bf16.
  CHECK_THAT(r.err, Contains("workload: op 'linear0.in.bf16' runs in bf16, the step in fp32 (a spec's autocast") &&
                        Contains("a mixed-precision step is not modelled on it"));
  CHECK_FALSE(std::ifstream(s / "mesh/report.json").good());
  // The same spec without autocast runs on the mesh; with it, on the systolic array.
  const std::string plain = mlp(s, "dtype: fp32\n", "plain.yaml");
  const std::string mesh_plain =
      s.file("mesh_plain.yaml", preset_includes("mesh_8x8.yaml") + "workload: { spec: " + plain + " }\n");
  const CliResult p = run_bpsim("run " + mesh_plain + " --quiet --out " + s / "mesh_plain");
  INFO(p.err);
  CHECK(p.code == 0);
  const std::string array =
      s.file("array.yaml", preset_includes("systolic_32x32_bf16.yaml") + "workload: { spec: " + spec + " }\n");
  const CliResult a = run_bpsim("run " + array + " --quiet --out " + s / "array");
  INFO(a.err);
  CHECK(a.code == 0);
}

TEST_CASE("amp: bpsim list shows the spec's mixed-precision and optimizer keys", "[cli][amp]") {
  CliResult l = run_bpsim("list");
  REQUIRE(l.code == 0);
  // The section after the workload: section's keys (each line below appears only there).
  const std::string spec = l.out.substr(l.out.find("\nnetwork spec (configs/workloads/*.yaml"));
  CHECK_THAT(spec, Contains("autocast (one of none|bf16|fp16, default none)"));
  CHECK_THAT(spec, Contains("loss_scale (bool, optional)"));
  CHECK_THAT(spec, Contains("optimizer (one of sgd|momentum|adam|adamw, default sgd)"));
  CHECK_THAT(spec, Contains("state_dtype (one of fp32|bf16|fp16, default fp32)"));
  CHECK_THAT(spec, Contains("master_weights (bool, default false)"));
}
