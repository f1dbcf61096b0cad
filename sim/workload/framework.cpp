#include "sim/workload/framework.h"

#include <algorithm>
#include <map>

#include "sim/core/error.h"
#include "sim/workload/cudnn_workspace.h"

namespace bpsim::workload {

namespace {

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

/// The largest power of two not above v (v ≥ 1).
uint64_t floor_pow2(uint64_t v) {
  uint64_t p = 1;
  while (p <= v / 2) p *= 2;
  return p;
}

}  // namespace

ReductionStaging reduction_staging(uint64_t rows, uint64_t n, uint64_t elem_bytes, const GpuSpec& gpu) {
  if (rows == 0 || n == 0) return {};
  // Past 2^31 bytes TensorIterator cannot index in 32 bits: the sum runs on two halves of the
  // rows, one after the other, each with its own buffer.
  while (rows * n * elem_bytes > (uint64_t(1) << 31)) rows /= 2;
  // Outputs are vectorised by 4 (or 2) along the contiguous n; a block has at most 512
  // threads (Reduce.cuh's max_num_threads) over the vectorised outputs (x) and the rows (y).
  const uint64_t vec = n % 4 == 0 ? 4 : n % 2 == 0 ? 2 : 1;
  const uint64_t max_threads = 512 / vec, dim0 = n / vec;
  const uint64_t d0 = dim0 < max_threads ? floor_pow2(dim0) : max_threads;
  const uint64_t d1 = rows < max_threads ? floor_pow2(rows) : max_threads;
  uint64_t bw = std::min<uint64_t>(d0, 32);
  const uint64_t bh = std::min(d1, max_threads / bw);
  bw = std::min(d0, max_threads / bh);
  // Each thread reduces `per_thread` rows; with many rows the block's y threads split them.
  uint64_t step_output = bw, per_thread = rows;
  bool split_rows = false;
  if (per_thread >= bh * 16 || per_thread >= 256) {
    per_thread = ceil_div(rows, bh);
    split_rows = true;
  } else {
    step_output *= bh;
  }
  const uint64_t grid_x = ceil_div(dim0, step_output);
  // Enough blocks to fill the GPU: the rows are split across blocks (ctas per output), whose
  // partial sums go to the global staging buffer, in the float accumulator whatever the dtype.
  const uint64_t target = gpu.sms * (gpu.threads_per_sm / (bw * bh));
  if (!split_rows || per_thread < 256 || grid_x > target) return {};
  const uint64_t ctas =
      std::max(std::min(ceil_div(target, grid_x), ceil_div(per_thread, 16)), ceil_div(per_thread, 256));
  if (ctas <= 1) return {};
  return ReductionStaging{4 * n * ctas * bw * vec, 4 * grid_x};
}

uint64_t cublas_process_workspace_bytes() {
  const uint64_t cublas = uint64_t(32) << 20, cublaslt = uint64_t(1) << 20;
  return 2 * cublas + cublaslt;
}

uint64_t optimizer_step_transient_bytes(const OpGraph& g) {
  uint64_t bytes = 0;
  for (const Op& o : g.ops) {
    if (o.kind != OpKind::optimizer || (o.detail != "adam" && o.detail != "adamw")) continue;
    // The update reads the parameter, its gradient, an optional master copy and the two
    // moments, the second (exp_avg_sq) last.
    for (auto it = o.reads.rbegin(); it != o.reads.rend(); ++it)
      if (g.tensors[*it].role == TensorRole::optimizer_state) {
        bytes += g.tensors[*it].bytes;
        break;
      }
  }
  return bytes;
}

namespace {

/// The ops of one explicit attention core, found by their sub-kinds (emit_backward.cpp).
struct AttentionOps {
  int64_t qk = -1, pv = -1, dv = -1, dp = -1, dq = -1, dk = -1;
};

/// A new tensor of `bytes` like `like` (its role), named `like`'s name + suffix.
uint32_t add_tensor(OpGraph& g, uint32_t like, const std::string& suffix, uint64_t bytes) {
  Tensor t;
  t.id = uint32_t(g.tensors.size());
  t.name = g.tensors[like].name + suffix;
  t.bytes = bytes;
  t.role = g.tensors[like].role;
  g.tensors.push_back(t);
  return t.id;
}

void replace(std::vector<uint32_t>& ids, uint32_t from, std::vector<uint32_t> to) {
  std::vector<uint32_t> out;
  for (uint32_t t : ids) {
    if (t != from) out.push_back(t);
    else out.insert(out.end(), to.begin(), to.end());
  }
  ids = std::move(out);
}

/// PyTorch's buffers of an explicit attention (`q @ k.transpose(-2, -1)`, softmax,
/// `att @ v` on head views of one QKV projection): matmul copies the transposed head views
/// of Q, K and V into three contiguous tensors, which the two BmmBackward0 nodes keep and
/// release when each node ends (V after dP and dV, Q and K after dQ and dK); the backward
/// yields dV, dQ and dK as three tensors, which SplitBackward0 concatenates into the
/// projection's gradient at the end (the three parts and the whole alive at once). bpsim's
/// ops share one QKV tensor and one gradient buffer: split them here. Only where the three
/// parts are equal (as many key/value heads as query heads).
void split_attention_buffers(OpGraph& g, const AttentionOps& a) {
  Op &qk = g.ops[size_t(a.qk)], &dv = g.ops[size_t(a.dv)], &dq = g.ops[size_t(a.dq)], &dk = g.ops[size_t(a.dk)];
  const uint32_t qkv = qk.reads.at(0), dqkv = dv.writes.at(0);
  const uint64_t third = g.tensors[qkv].bytes / 3;
  if (third * 3 != g.tensors[qkv].bytes || g.tensors[dqkv].bytes != g.tensors[qkv].bytes) return;
  if (dq.writes.at(0) != dqkv || dk.writes.at(0) != dqkv) return;
  const uint32_t q = add_tensor(g, qkv, ".q", third), k = add_tensor(g, qkv, ".k", third),
                 v = add_tensor(g, qkv, ".v", third);
  for (Op& o : g.ops)
    if (std::find(o.writes.begin(), o.writes.end(), qkv) != o.writes.end()) replace(o.writes, qkv, {q, k, v});
  replace(g.ops[size_t(a.qk)].reads, qkv, {q, k});
  replace(g.ops[size_t(a.pv)].reads, qkv, {v});
  replace(g.ops[size_t(a.dp)].reads, qkv, {v});
  replace(g.ops[size_t(a.dq)].reads, qkv, {k});
  replace(g.ops[size_t(a.dk)].reads, qkv, {q});
  g.ops[size_t(a.dk)].holds.push_back(k);  // the node of dQ and dK releases both copies at its end
  const uint32_t gv = add_tensor(g, dqkv, ".v", third), gq = add_tensor(g, dqkv, ".q", third),
                 gk = add_tensor(g, dqkv, ".k", third);
  replace(g.ops[size_t(a.dv)].writes, dqkv, {gv});
  replace(g.ops[size_t(a.dq)].writes, dqkv, {gq});
  // The concatenation is accounted to dK, the last of the three: dK's part and the whole are
  // written, dQ's and dV's parts are held and all three die after it.
  Op& last = g.ops[size_t(a.dk)];
  replace(last.writes, dqkv, {gk, dqkv});
  last.holds.push_back(gv);
  last.holds.push_back(gq);
}

/// Layers whose PyTorch CUDA memory the model cannot give: binary layers have no PyTorch
/// operator to follow; a convolution's bias gradient (a sum over N, H and W inside
/// convolution_backward) was measured only where `tokens` reads the convolution (ViT's patch
/// embedding, add_conv_bias_buffers): an N×C×H×W gradient's own reduction was not.
void refuse_unmodelled(const std::vector<LayerSpec>& layers) {
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerSpec& l = layers[i];
    if (l.kind == "binary_conv2d" || l.kind == "binary_linear")
      throw InputError(l.loc, l.name,
                       "framework pytorch_cuda cannot account a " + l.kind +
                           " layer's memory (no PyTorch operator defines it); use framework: none");
    if (l.kind == "conv2d" && l.bias && (i + 1 == layers.size() || layers[i + 1].kind != "tokens"))
      throw InputError(l.loc, l.name,
                       "framework pytorch_cuda accounts a conv2d's bias gradient only when a tokens layer reads "
                       "the convolution (its gradient then arrives with channels-last strides, as measured for "
                       "ViT's patch embedding); the reduction of an N x C x H x W gradient inside "
                       "convolution_backward was not measured: set bias: false or use framework: none");
    refuse_unmodelled(l.body);
    refuse_unmodelled(l.shortcut);
  }
}

/// Where the spec writes the layer an op belongs to: the layer of that name, else the group
/// (a residual block, a repeat) whose name prefixes it; nullptr when neither is found.
const LayerSpec* layer_of(const std::vector<LayerSpec>& layers, const std::string& name) {
  for (const LayerSpec& l : layers) {
    if (l.name == name) return &l;
    if (l.name.empty() || name.rfind(l.name + ".", 0) != 0) continue;
    const LayerSpec* inner = layer_of(l.body, name);
    if (!inner) inner = layer_of(l.shortcut, name);
    return inner ? inner : &l;
  }
  return nullptr;
}

/// The convolution of a conv op, as the refusal names it.
std::string describe_conv(const Op& o) {
  const ConvShape& c = o.conv;
  return "input " + std::to_string(c.n) + "x" + std::to_string(c.c) + "x" + std::to_string(c.h) + "x" +
         std::to_string(c.w) + ", " + std::to_string(c.k) + " filters " + std::to_string(c.r) + "x" +
         std::to_string(c.s) + ", stride " + std::to_string(c.stride) + ", padding " + std::to_string(c.pad) +
         ", groups " + std::to_string(c.groups) + ", " + to_string(o.dtype);
}

/// cuDNN's workspace around every convolution pass (cudnn_workspace.h): allocated after the
/// pass's output (Y in the forward and a checkpoint's recompute; dX, then dW, inside
/// ConvolutionBackward0) and freed when the cuDNN call returns, as the pass's own
/// run_conv_plan does. A shape or GPU the table does not hold is refused: the size belongs to
/// the algorithm cuDNN picks, which no formula gives.
template <typename AddWorkspace>
void add_conv_workspaces(OpGraph& g, const NetSpec& net, AddWorkspace&& workspace) {
  const GpuSpec h200;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const Op& o = g.ops[i];
    if (o.kind != OpKind::conv) continue;
    if (net.gpu.sms != h200.sms || net.gpu.threads_per_sm != h200.threads_per_sm)
      throw InputError("gpu: framework pytorch_cuda knows cuDNN's convolution workspaces only as " +
                       std::string(cudnn_table_provenance()) + "; layer " + o.layer +
                       " is a conv2d and gpu is not the H200 (132 SMs, 2048 threads per SM)");
    const std::optional<ConvWorkspace> ws = cudnn_conv_workspace(o.conv, o.dtype);
    if (!ws) {
      const std::string why = "framework pytorch_cuda has no measured cuDNN workspace for this conv2d (" +
                              describe_conv(o) + "); sim/workload/cudnn_workspace.cpp's table was " +
                              cudnn_table_provenance() +
                              ". Measure the shape the same way and add it, or use framework: none";
      const LayerSpec* l = layer_of(net.layers, o.layer);
      if (l) throw InputError(l->loc, o.layer, why);
      throw InputError("layer " + o.layer + ": " + why);
    }
    const uint64_t bytes = o.detail == "conv2d_dx"   ? ws->backward_data
                           : o.detail == "conv2d_dw" ? ws->backward_weight
                                                     : ws->forward;
    if (bytes) workspace(i, o.name + ".cudnn_ws", bytes);
  }
}

/// `o` keeps alive, to its end, each tensor of `ts` (another op's) that it does not read itself:
/// an autograd node releases what it saved only when it has run all its passes.
void hold_unread(Op& o, const std::vector<uint32_t>& ts) {
  for (uint32_t t : ts)
    if (std::find(o.reads.begin(), o.reads.end(), t) == o.reads.end()) o.holds.push_back(t);
}

/// ConvolutionBackward0 computes dX and then dW inside one node and releases its saved
/// tensors (input and weight) when the node ends: what dX's pass read lives to the end of
/// dW's. It matters for autocast's low-precision copy of the weight, which only dX reads
/// (traced: ResNet-50 under autocast bf16 frees the 4,194,304 B bf16 copy of layer4.0's
/// downsample weight after its dW and dW's workspace, at the step's peak).
void hold_conv_saved(OpGraph& g) {
  std::map<std::string, size_t> dx_op;  // layer → its conv dX op so far
  for (size_t i = 0; i < g.ops.size(); ++i) {
    Op& o = g.ops[i];
    if (o.kind != OpKind::conv) continue;
    if (o.detail == "conv2d_dx") dx_op[o.layer] = i;
    if (o.detail != "conv2d_dw") continue;
    const auto it = dx_op.find(o.layer);
    if (it == dx_op.end()) continue;  // no dX (the network's input needs no gradient)
    hold_unread(o, g.ops[it->second].reads);
    dx_op.erase(it);
  }
}

/// The global buffers of bias-gradient op `op` summing its gradient, read as a contiguous
/// rows × features matrix, over its rows (reduction_staging), freed when the sum is done.
template <typename AddWorkspace>
void add_bias_staging(OpGraph& g, size_t op, uint64_t rows, uint64_t features, const GpuSpec& gpu,
                      AddWorkspace& workspace) {
  const uint64_t elem_bytes = g.tensors[g.ops[op].reads.at(0)].bytes / std::max<uint64_t>(1, rows * features);
  const uint64_t staging = reduction_staging(rows, features, std::max<uint64_t>(1, elem_bytes), gpu).bytes();
  if (staging) workspace(op, g.ops[op].layer + ".db.staging", staging);
}

/// ConvolutionBackward0 of a convolution with a bias whose output `tokens` views as tokens
/// (refuse_unmodelled admits no other): the gradient reaching it is the tokens' gradient seen
/// through the permute, with channels-last strides. cuDNN runs on an N×C×H×W copy of it, made
/// before dX's and dW's passes and freed after dW's workspace; the bias gradient, summed over
/// N, H and W after them, reduces the strided gradient as a contiguous (N·H·W) × K matrix
/// over its rows: the Linear bias rule's staging. Measured (scripts/torch_memory.py
/// --probe-conv --conv-nets vit_b_16, torch 2.11, H200): ViT-B/16's patch conv at batch 32,
/// 64 and 256, fp32 and bf16, with dW+db as ViT asks (the image needs no gradient) and with
/// dX too: the copy is the gradient's size; the staging is 38,535,168 + 24, 77,070,336 + 24 and
/// 138,412,032 + 24 bytes, reduction_staging's figures for 6,272, 12,544 and 50,176 rows × 768.
/// The node frees its saved input and weight when it ends, after db: db holds what dW read and
/// held (hold_conv_saved), but not the copy.
template <typename AddWorkspace>
void add_conv_bias_buffers(OpGraph& g, const NetSpec& net, AddWorkspace&& workspace) {
  std::map<std::string, size_t> first_bwd, dw_op;  // layer → its first conv backward op, its dW op
  for (size_t i = 0; i < g.ops.size(); ++i) {
    if (g.ops[i].kind == OpKind::conv && (g.ops[i].detail == "conv2d_dx" || g.ops[i].detail == "conv2d_dw")) {
      first_bwd.emplace(g.ops[i].layer, i);
      if (g.ops[i].detail == "conv2d_dw") dw_op[g.ops[i].layer] = i;
      continue;
    }
    if (g.ops[i].detail != "bias_grad") continue;
    const auto dw_it = dw_op.find(g.ops[i].layer);
    if (dw_it == dw_op.end()) continue;  // a Linear's bias: apply_framework's loop
    Op& dw = g.ops[dw_it->second];
    hold_unread(g.ops[i], dw.reads);
    hold_unread(g.ops[i], dw.holds);
    const ConvShape& c = dw.conv;
    const uint32_t dy = g.ops[i].reads.at(0);
    Tensor copy;
    copy.id = uint32_t(g.tensors.size());
    copy.name = g.ops[i].layer + ".dy_nchw";
    copy.bytes = g.tensors[dy].bytes;
    copy.role = TensorRole::workspace;
    g.tensors.push_back(copy);
    g.ops[first_bwd.at(g.ops[i].layer)].writes.push_back(copy.id);
    dw.holds.push_back(copy.id);
    add_bias_staging(g, i, c.n * c.p * c.q, c.k, net.gpu, workspace);
    first_bwd.erase(g.ops[i].layer);
    dw_op.erase(dw_it);
  }
}

/// `loss.backward()` on a loss the caller holds: the loss value (a scalar; mse's
/// output-sized buffer, docs/workloads.md "Losses") and the one-element seed gradient
/// autograd makes for it stay allocated until backward() returns. Measured (torch 2.11, H200,
/// requested bytes): the MLP's sum, mean and cross_entropy peaks are the loss-none peak
/// without the output and its gradient, plus 4 + 4 bytes; mse's, plus 163,840 + 4.
void hold_loss(OpGraph& g, const NetSpec& net, int64_t last_backward) {
  if (net.loss == Loss::none || last_backward < 0) return;
  int64_t first_bwd = -1;
  uint32_t value = 0;
  bool found = false;
  for (const Op& o : g.ops) {
    if (o.layer != "loss") continue;
    if (o.phase == Phase::forward)
      for (uint32_t t : o.writes)
        if (g.tensors[t].name == "loss") value = t, found = true;
    if (o.phase != Phase::forward && first_bwd < 0 && o.detail != "loss_scale") first_bwd = o.id;
  }
  if (!found || first_bwd < 0) return;
  const bool fp32 = net.loss == Loss::float_sum || net.loss == Loss::float_mean;
  Tensor seed;
  seed.id = uint32_t(g.tensors.size());
  seed.name = "loss.seed";
  seed.bytes = fp32 ? 4 : dtype_bits(net.dtype) / 8;
  seed.role = TensorRole::workspace;
  g.tensors.push_back(seed);
  g.ops[size_t(first_bwd)].writes.push_back(seed.id);
  std::vector<uint32_t>& h = g.ops[size_t(last_backward)].holds;
  h.push_back(value);
  h.push_back(seed.id);
}

/// Under autocast a Linear's dX reads the weight's cast copy, which AddmmBackward0 (MmBackward0
/// without a bias) saved. Like the node's saved input it is released when the node has run,
/// not after dX: a copy the forward made lives through dW and db (op `db`: the bias reduction
/// runs in the same node, after apply()); a copy a non-reentrant checkpoint recomputed is handed
/// to apply() by the unpack hook and dies when apply() returns, after dW and before db (op
/// `dw`). Measured: the MLP under autocast peaks at its middle layer's bias reduction with that
/// layer's 2 MiB bf16 weight copy live; the 1.21 B GPT with per-block checkpoints peaks at the
/// last block's fc2 dW with its recomputed 32 MiB copy live. Without autocast dX reads the
/// parameter itself, which is not counted.
void hold_weight_copy(OpGraph& g, const std::vector<int64_t>& writer, const std::map<std::string, uint32_t>& dx_op,
                      size_t op) {
  const auto it = dx_op.find(g.ops[op].layer);
  if (it == dx_op.end() || g.ops[it->second].reads.size() < 2) return;
  const uint32_t w = g.ops[it->second].reads[1];
  if (g.tensors[w].role == TensorRole::weight || writer[w] < 0) return;
  const Phase made = g.ops[size_t(writer[w])].phase;
  const bool bias_reduction = g.ops[op].detail == "bias_grad";
  if (made == Phase::forward || (made == Phase::recompute && !bias_reduction)) g.ops[op].holds.push_back(w);
}

}  // namespace

void check_framework_policy(const NetSpec& net, const std::string& policy) {
  if (net.framework == Framework::none) return;
  const std::string kind = policy.substr(0, policy.find('('));  // a name may carry its parameters
  if (kind == "sparse_storage" || kind == "reversible" || kind == "confidence_skip")
    throw InputError("workload.policy.kind: policy '" + kind +
                     "' has no PyTorch eager counterpart; framework pytorch_cuda accounts PyTorch's memory "
                     "(use framework: none)");
}

void apply_framework(OpGraph& g, const NetSpec& net) {
  if (net.framework == Framework::none) return;
  refuse_unmodelled(net.layers);
  g.memory.framework = "pytorch_cuda";
  std::map<std::string, uint32_t> weight_grad_op;  // layer → its last dW op so far
  std::map<std::string, uint32_t> data_grad_op;    // layer → its last dX op so far
  const size_t n_ops = g.ops.size();
  auto workspace = [&](size_t op, const std::string& name, uint64_t bytes) {
    Tensor t;
    t.id = uint32_t(g.tensors.size());
    t.name = name;
    t.bytes = bytes;
    t.role = TensorRole::workspace;
    g.tensors.push_back(t);
    g.ops[op].writes.push_back(t.id);  // read by nobody: freed right after the op
  };
  std::map<std::string, AttentionOps> attention;  // by layer, in order of first sight
  for (const Op& o : g.ops) {
    AttentionOps& a = attention[o.layer];
    if (o.detail == "attention_qk") a.qk = o.id;
    else if (o.detail == "attention_pv") a.pv = o.id;
    else if (o.detail == "attention_dv") a.dv = o.id;
    else if (o.detail == "attention_dp") a.dp = o.id;
    else if (o.detail == "attention_dq") a.dq = o.id;
    else if (o.detail == "attention_dk") a.dk = o.id;
  }
  add_conv_workspaces(g, net, workspace);
  hold_conv_saved(g);
  add_conv_bias_buffers(g, net, workspace);
  for (const auto& [layer, a] : attention)
    if (a.qk >= 0 && a.pv >= 0 && a.dv >= 0 && a.dp >= 0 && a.dq >= 0 && a.dk >= 0) split_attention_buffers(g, a);
  std::vector<int64_t> writer(g.tensors.size(), -1);
  for (const Op& o : g.ops)
    for (uint32_t t : o.writes)
      if (writer[t] < 0) writer[t] = o.id;
  int64_t last_backward = -1;
  for (const Op& o : g.ops)
    if (o.phase != Phase::update) last_backward = o.id;
  hold_loss(g, net, last_backward);
  for (size_t i = 0; i < n_ops; ++i) {
    if (g.ops[i].detail == "loss_grad" && last_backward >= 0) {
      // out.backward(torch.ones_like(out)): the caller's `out` and the gradient it passes
      // stay referenced by Python until backward() returns.
      std::vector<uint32_t>& h = g.ops[size_t(last_backward)].holds;
      h.insert(h.end(), g.ops[i].reads.begin(), g.ops[i].reads.end());
      h.insert(h.end(), g.ops[i].writes.begin(), g.ops[i].writes.end());
      continue;
    }
    if (g.ops[i].detail == "attention_softmax_bwd" || g.ops[i].detail == "softmax_bwd") {
      // SoftmaxBackward0 (SafeSoftmaxBackward0's code) allocates two buffers of its output's
      // size, one of which becomes dX: measured alone for every shape and dtype tried (4-D
      // attention probabilities 512² to 2048² bf16 and fp32, 4096 × 10 and × 1000 fp32).
      workspace(i, g.ops[i].layer + ".softmax_bwd.tmp", g.tensors[g.ops[i].writes.at(0)].bytes);
      continue;
    }
    if (g.ops[i].detail == "mul_bwd" && i > 0 && g.ops[i - 1].detail == "mul_bwd" &&
        g.ops[i - 1].layer == g.ops[i].layer) {
      // MulBackward0 computes both factors' gradients in one apply() and releases the two
      // factors it saved when the node has run (a recomputed factor, handed over by the unpack
      // hook, when apply() returns: the same point). bpsim's first gradient op reads the other
      // factor: held through the second. Measured: Llama's SwiGLU product x·y peaks in its
      // backward with both factors live (32 MiB more than freeing y after dx).
      g.ops[i].holds.push_back(g.ops[i - 1].reads.at(1));
      continue;
    }
    if (g.ops[i].detail == "linear_dx") data_grad_op[g.ops[i].layer] = uint32_t(i);
    if (g.ops[i].detail == "linear_dw") {
      weight_grad_op[g.ops[i].layer] = uint32_t(i);
      hold_weight_copy(g, writer, data_grad_op, i);
    }
    if (g.ops[i].detail != "bias_grad") continue;
    const auto dw_it = weight_grad_op.find(g.ops[i].layer);
    if (dw_it == weight_grad_op.end()) continue;  // a convolution's bias: add_conv_bias_buffers
    hold_weight_copy(g, writer, data_grad_op, i);
    const Op& dw = g.ops[dw_it->second];
    // AddmmBackward0 returns dX and dW; autograd then sums the bias's gradient over the rows
    // (validate_outputs → sum_to) inside the same node: dX = dY·Wᵀ, dW = Xᵀ·dY, then db.
    const uint32_t x = dw.reads.at(0);
    add_bias_staging(g, i, dw.gemm.k, dw.gemm.n, net.gpu, workspace);
    // The node releases its saved input when it has finished, after db. A tensor recomputed
    // by a non-reentrant checkpoint is handed to the node by the unpack hook and dropped when
    // apply() returns, before the bias reduction: no hold.
    if (writer[x] >= 0 && g.ops[size_t(writer[x])].phase == Phase::forward) g.ops[i].holds.push_back(x);
  }
}

}  // namespace bpsim::workload
