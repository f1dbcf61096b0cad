// The spec's `loss:` (docs/workloads.md "Losses"): each loss's ops and what it keeps after
// the forward, derived by hand from what PyTorch's autograd nodes save, and the loss cases
// measured with PyTorch on a GPU.
#include <catch2/catch.hpp>

#include "sim/core/build_info.h"
#include "sim/core/config_node.h"
#include "sim/core/error.h"
#include "sim/workload/builder.h"
#include "sim/workload/spec.h"
#include "tests/unit/workload/graph_lookup.h"
#include "tests/unit/workload/policy_yaml.h"
#include "tests/unit/workload/torch_measured.h"

using namespace bpsim;
using namespace bpsim::workload;

namespace {

NetSpec spec(const std::string& yaml) { return parse_net_spec(config::parse_yaml(yaml, "net.yaml")); }

/// Batch 8 of one feature through linear(1000): the output (8·1000 fp32 = 32,000 B) is
/// large next to the weights (1000 weights + 1000 biases, 4,000 B each), so the loss's
/// tensors set the peak. The layer's input is the network input: no dX.
NetSpec wide(const std::string& loss, const std::string& dtype = "fp32") {
  return spec("batch: 8\ndtype: " + dtype + "\nloss: " + loss +
              "\ninput: {shape: [1]}\nlayers:\n  - {kind: linear, out_features: 1000}\n");
}

const Tensor& tensor_named(const OpGraph& g, const std::string& name) {
  for (const Tensor& t : g.tensors)
    if (t.name == name) return t;
  FAIL("no tensor " << name);
  return g.tensors[0];
}

bool has_tensor(const OpGraph& g, const std::string& name) {
  for (const Tensor& t : g.tensors)
    if (t.name == name) return true;
  return false;
}

}  // namespace

TEST_CASE("loss: none is the default and keeps today's step", "[workload][loss]") {
  const OpGraph a =
      build_step(spec("batch: 8\ninput: {shape: [1]}\nlayers:\n  - {kind: linear, out_features: 1000}\n"));
  const OpGraph b = build_step(wide("none"));
  REQUIRE(a.ops.size() == b.ops.size());
  for (size_t i = 0; i < a.ops.size(); ++i) CHECK(a.ops[i].name == b.ops[i].name);
  // The output is kept for the external gradient: saved = 32,000. loss.bwd allocates the
  // output-sized gradient while the output is still live: 64,000; the weight gradients
  // come after the output is freed (32,000 + 4,000 + 4,000).
  CHECK(b.memory.saved_after_forward_bytes == 32000);
  CHECK(b.memory.peak_bytes == 64000);
  CHECK(test::find_op(b, "loss.bwd").reads == std::vector<uint32_t>{tensor_named(b, "linear0.out").id});
}

TEST_CASE("loss: sum and mean keep nothing of the output", "[workload][loss]") {
  for (const char* loss : {"sum", "mean", "float_sum", "float_mean"}) {
    INFO(loss);
    const OpGraph g = build_step(wide(loss));
    // SumBackward0 / MeanBackward0 save only the shape: after the forward only the 4-byte
    // fp32 loss is live; the output died with the reduction that read it.
    CHECK(g.memory.saved_after_forward_bytes == 4);
    const Op& f = test::find_op(g, "loss.fwd");
    CHECK(f.phase == Phase::forward);
    CHECK(f.kind == OpKind::reduction);
    CHECK(f.reads == std::vector<uint32_t>{tensor_named(g, "linear0.out").id});  // fp32: no copy
    // Backward: the output-sized gradient (32,000) with the loss, then the weight
    // gradients once the loss is gone: 32,000 + 4,000 + 4,000 = 40,000.
    CHECK(tensor_named(g, "loss.grad").bytes == 32000);
    CHECK(g.memory.peak_bytes == 40000);
  }
}

TEST_CASE("loss: float_sum copies a bf16 output to fp32 as a temporary", "[workload][loss]") {
  const OpGraph g = build_step(wide("float_sum", "bf16"));
  // out.float().sum(): the bf16 output (16,000 B) and its fp32 copy (32,000 B) are live
  // while the copy runs (48,000, the peak); then only the 4-byte fp32 loss is kept.
  CHECK(test::find_op(g, "loss.to_fp32").phase == Phase::forward);
  CHECK(tensor_named(g, "loss.input_fp32").bytes == 32000);
  CHECK(tensor_named(g, "loss").bytes == 4);
  CHECK(g.memory.saved_after_forward_bytes == 4);
  CHECK(g.memory.peak_bytes == 48000);
  // The gradient is cast back to the output's dtype: 8,000 bf16 elements.
  CHECK(tensor_named(g, "loss.grad").bytes == 16000);
  // out.sum() of a bf16 output: no copy, a bf16 scalar (2 B).
  const OpGraph s = build_step(wide("sum", "bf16"));
  CHECK_FALSE(has_tensor(s, "loss.input_fp32"));
  CHECK(s.memory.saved_after_forward_bytes == 2);
}

TEST_CASE("loss: cross_entropy keeps log_softmax's output, targets and total_weight", "[workload][loss]") {
  const OpGraph g = build_step(wide("cross_entropy"));
  // log_softmax's result (32,000) + the loss (4) + total_weight (4); the logits are freed.
  CHECK(g.memory.saved_after_forward_bytes == 32008);
  // 8 rows of 1000 classes: 8 int64 targets, loaded with the input (not counted).
  const Tensor& t = tensor_named(g, "loss.target");
  CHECK(t.bytes == 64);
  CHECK(t.role == TensorRole::input);
  // Backward: nll_loss_backward's output-sized gradient, then log_softmax's backward
  // reads it and the saved log-probabilities while writing the output's gradient:
  // 3 × 32,000 = 96,000, the peak.
  CHECK(g.memory.peak_bytes == 96000);
  std::vector<std::string> order;
  for (const Op& o : g.ops)
    if (o.layer == "loss") order.push_back(o.name + ":" + to_string(o.phase));
  CHECK(order == std::vector<std::string>{"loss.log_softmax:forward", "loss.fwd:forward", "loss.nll_bwd:backward_data",
                                          "loss.bwd:backward_data"});
  CHECK(test::find_op(g, "loss.fwd").detail == "nll_loss");
  CHECK(test::find_op(g, "loss.bwd").detail == "log_softmax_backward");
  // Classes are the last dimension: a [3, 7] output per sample is 2·3 rows of 7.
  const OpGraph s = build_step(
      spec("batch: 2\nloss: cross_entropy\ninput: {shape: [3, 5]}\nlayers:\n  - {kind: linear, out_features: 7}\n"));
  CHECK(tensor_named(s, "loss.target").bytes == 2 * 3 * 8);
  CHECK(test::find_op(s, "loss.fwd").elements == 6);
}

TEST_CASE("loss: mse keeps the output and an output-sized loss buffer", "[workload][loss]") {
  const OpGraph g = build_step(wide("mse"));
  // MseLossBackward0 saves the output (32,000; the target comes with the input); the
  // squared-error buffer the mean was taken from stays with the loss (32,000; measured,
  // see the PyTorch case below).
  CHECK(g.memory.saved_after_forward_bytes == 64000);
  CHECK(tensor_named(g, "loss.target").bytes == 32000);
  // loss.bwd reads the output and the target, writing the gradient: 3 × 32,000.
  CHECK(g.memory.peak_bytes == 96000);
}

TEST_CASE("loss: a config's workload section overrides the spec's loss", "[workload][loss]") {
  const NetSpec s = spec("loss: mse\ninput: {shape: [4]}\nlayers:\n  - {kind: linear, out_features: 2}\n");
  CHECK(s.loss == Loss::mse);
  CHECK_THROWS_WITH(spec("loss: softmax\ninput: {shape: [4]}\nlayers:\n  - {kind: relu}\n"),
                    Catch::Contains("net.yaml:1:7: loss: 'softmax' is not valid") &&
                        Catch::Contains("none, sum, mean, float_sum, float_mean, cross_entropy, mse"));
}

TEST_CASE("loss: every policy builds with every loss", "[workload][loss]") {
  // The loss's forward ops belong to no layer of the network: recompute plans (and the
  // optimal policy's chain model) leave them out; no policy recomputes a loss.
  NetSpec net = parse_net_spec(config::load_file(std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/mlp.yaml"));
  net.batch = 4096;  // activations above the weights: a budget of 80 MB needs recomputation
  for (const Loss loss : {Loss::sum, Loss::float_mean, Loss::cross_entropy, Loss::mse})
    for (const char* policy :
         {"{kind: checkpoint}", "{kind: checkpoint_sequential, segments: 2}", "{kind: full_recompute}",
          "{kind: threshold, threshold: 50}", "{kind: optimal, budget_bytes: 80000000}", "{kind: confidence_skip}",
          "{kind: sparse_storage}"}) {
      INFO(config::enum_name(kLossNames, loss) << " " << policy);
      net.loss = loss;
      std::vector<std::string> plain, planned;
      for (const Op& o : build_step(net).ops)
        if (o.layer == "loss") plain.push_back(o.name + ":" + to_string(o.phase));
      const OpGraph g = build_step(net, *test::policy(policy));
      for (const Op& o : g.ops)
        if (o.layer == "loss") planned.push_back(o.name + ":" + to_string(o.phase));
      CHECK(planned == plain);  // the same loss ops, once each, none recomputed
      if (std::string(policy).find("optimal") != std::string::npos) CHECK(g.memory.peak_bytes <= 80000000);
    }
}

TEST_CASE("loss: saved bytes agree with PyTorch on a GPU", "[workload][loss][torch]") {
  // Measured 2026-11-29 with scripts/torch_memory.py (torch 2.11.0+cu130, one NVIDIA H200):
  // the caching allocator's requested bytes after the forward and the loss minus the
  // baseline, the output dropped by Python unless the loss saves it. The MLP is
  // configs/workloads/mlp.yaml at batch 4096 (fp32), GPT-2 small is
  // configs/workloads/gpt2_small.yaml (bf16). memory_allocated() (block sizes) is higher by
  // 508 B per scalar (a 4-byte loss or total_weight takes a 512-byte block): 75,497,984 for
  // sum and mean, 75,662,336 for cross_entropy, 8,608,350,720 for GPT-2; mse has no scalar of
  // its own (the loss lives in the output-sized squared-error block) and is 75,825,152 both ways.
  struct Case {
    const char* spec;
    uint64_t batch;
    Loss loss;
    const char* policy;
    const char* torch_case;  ///< its id in torch_measured.jsonl
  };
  const Case cases[] = {
      {"mlp.yaml", 4096, Loss::sum, "{kind: none}", "mlp_loss_sum"},
      {"mlp.yaml", 4096, Loss::mean, "{kind: none}", "mlp_loss_mean"},
      {"mlp.yaml", 4096, Loss::cross_entropy, "{kind: none}", "mlp_loss_ce"},
      {"mlp.yaml", 4096, Loss::mse, "{kind: none}", "mlp_loss_mse"},
      {"gpt2_small.yaml", 0, Loss::float_sum, "{kind: none}", "gpt2_floatsum_none"},
      {"gpt2_small.yaml", 0, Loss::float_sum, "{kind: checkpoint}", "gpt2_floatsum_checkpoint"},
  };
  for (const Case& c : cases) {
    NetSpec net = parse_net_spec(config::load_file(std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/" + c.spec));
    if (c.batch) net.batch = c.batch;
    net.loss = c.loss;
    const OpGraph g = build_step(net, *test::policy(c.policy));
    INFO(c.spec << " " << config::enum_name(kLossNames, c.loss) << " " << c.policy);
    CHECK(g.memory.saved_after_forward_bytes == test::torch_figure(c.torch_case, "saved_requested_bytes"));
  }
}
