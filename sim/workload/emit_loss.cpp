// The loss on the network output and its backward, as PyTorch eager autograd runs them
// (docs/workloads.md "Losses"): what each loss's autograd node saves is what its backward
// ops read, so the liveness walk keeps exactly that after the forward.
#include "sim/workload/emit.h"

namespace bpsim::workload {

namespace {

/// Bytes of an fp32 element: what `out.float()` makes and what its sum or mean returns.
constexpr uint64_t kFp32 = 4;

bool reduces_all(Loss l) { return l == Loss::sum || l == Loss::mean || l == Loss::float_sum || l == Loss::float_mean; }
bool averages(Loss l) { return l == Loss::mean || l == Loss::float_mean; }
bool in_fp32(Loss l) { return l == Loss::float_sum || l == Loss::float_mean; }

}  // namespace

void StepEmitter::loss_forward(uint32_t out) {
  const Loss loss = m_net.loss;
  if (loss == Loss::none) return;
  const uint64_t n = elements(out);
  if (reduces_all(loss)) {
    // out.sum() / out.mean(): SumBackward0 and MeanBackward0 save only the shape, so nothing
    // of the output is kept; the result is a scalar of the output's dtype. float_*: the
    // output is first copied to fp32 (`out.float()`), a temporary (ToCopyBackward0 saves
    // only the dtype); the scalar is fp32.
    uint32_t x = out;
    const bool cast = in_fp32(loss) && m_elem != kFp32;
    if (cast) {
      x = tensor("loss.input_fp32", n * kFp32, TensorRole::activation);
      Op& c = op("loss.to_fp32", "loss", Phase::forward, OpKind::elementwise, {out}, {x});
      c.elements = n;
      c.flops = n;
      c.detail = "to_fp32";
    }
    m_loss.value = tensor("loss", in_fp32(loss) ? kFp32 : bytes(1), TensorRole::activation);
    Op& r = op("loss.fwd", "loss", Phase::forward, OpKind::reduction, {x}, {m_loss.value});
    if (in_fp32(loss)) r.dtype = DType::fp32;
    r.elements = n;
    r.flops = averages(loss) ? n + 1 : n;
    r.detail = averages(loss) ? "mean" : "sum";
    return;
  }
  if (loss == Loss::cross_entropy) {
    // F.cross_entropy(out.reshape(-1, C), target) = nll_loss(log_softmax(out), target), mean
    // over the rows; C is the output's last dimension. LogSoftmaxBackward0 saves its result
    // (in the output's dtype); NllLossBackward0 saves the same tensor, the targets and
    // total_weight (a 0-d tensor of the output's dtype). The logits themselves are not kept.
    const Shape& shape = m_plan.nodes[size_t(m_plan.output)].out_shape;
    const uint64_t rows = n / shape.back();
    m_loss.target = tensor("loss.target", rows * 8, TensorRole::input);  // int64 class indices, with the input
    m_loss.log_probs = tensor("loss.log_probs", bytes(n), TensorRole::activation);
    Op& s = op("loss.log_softmax", "loss", Phase::forward, OpKind::softmax, {out}, {m_loss.log_probs});
    s.elements = n;
    s.flops = n * 5;  // max, subtract, exp, sum, log-subtract
    s.detail = "log_softmax";
    m_loss.value = tensor("loss", bytes(1), TensorRole::activation);
    m_loss.total_weight = tensor("loss.total_weight", bytes(1), TensorRole::saved);
    Op& l = op("loss.fwd", "loss", Phase::forward, OpKind::reduction, {m_loss.log_probs, m_loss.target},
               {m_loss.value, m_loss.total_weight});
    l.elements = rows;
    l.flops = rows + 1;  // gather each row's target, sum, divide by the count
    l.detail = "nll_loss";
    return;
  }
  // mse: F.mse_loss(out, target), mean. MseLossBackward0 saves the output and the target
  // (the target has the output's shape and dtype and comes with the input, so it is not
  // counted). The squared errors are an output-sized buffer that the mean reduces; measured
  // (torch 2.11, H200: the ground-truth case mlp_loss_mse) that buffer stays allocated while
  // the loss lives and no separate scalar is, so the mean is written in place and the loss
  // value is that buffer.
  m_loss.target = tensor("loss.target", bytes(n), TensorRole::input);
  m_loss.value = tensor("loss", bytes(n), TensorRole::activation);
  Op& d = op("loss.mse", "loss", Phase::forward, OpKind::elementwise, {out, m_loss.target}, {m_loss.value});
  d.elements = n;
  d.flops = n * 2;  // subtract, square
  d.detail = "mse";
  Op& r = op("loss.fwd", "loss", Phase::forward, OpKind::reduction, {m_loss.value}, {m_loss.value});
  r.elements = n;
  r.flops = n + 1;
  r.detail = "mean";
}

uint32_t StepEmitter::loss_backward(uint32_t out) {
  const Loss loss = m_net.loss;
  const uint64_t n = elements(out);
  m_cur = dtype_of(out);
  if (m_net.loss_scale) loss_scaling();  // GradScaler scales whichever loss it is given
  // `loss.backward()` seeds a 1-element gradient; the loss value lives until then.
  const uint32_t dy = tensor("loss.grad", bytes(n), TensorRole::gradient);
  if (reduces_all(loss)) {
    // SumBackward0 expands the scalar gradient to the output's shape, a view that the next
    // node copies to a dense buffer (a GEMM's operand, a normalisation's dY); MeanBackward0
    // also divides by the count, float_* cast back to the output's dtype (ToCopyBackward0).
    // Either way the next node reads an output-sized gradient in the output's dtype.
    Op& o = op("loss.bwd", "loss", Phase::backward_data, OpKind::elementwise, {m_loss.value}, {dy});
    o.elements = n;
    o.flops = averages(loss) || (in_fp32(loss) && m_elem != kFp32) ? n : 0;
    o.detail = averages(loss) ? "mean_backward" : "sum_backward";
    return dy;
  }
  if (loss == Loss::cross_entropy) {
    // nll_loss_backward: a zeroed output-sized gradient with −1/total_weight at each row's
    // target; then _log_softmax_backward_data: g − exp(log_probs)·Σg per row.
    const uint32_t g = tensor("loss.nll_grad", bytes(n), TensorRole::gradient);
    Op& l = op("loss.nll_bwd", "loss", Phase::backward_data, OpKind::elementwise,
               {m_loss.value, m_loss.target, m_loss.total_weight}, {g});
    l.elements = n;
    l.flops = n;  // a fill per element (the scatter of one per row is within)
    l.detail = "nll_loss_backward";
    Op& s = op("loss.bwd", "loss", Phase::backward_data, OpKind::softmax, {g, m_loss.log_probs}, {dy});
    s.elements = n;
    s.flops = n * 3;
    s.detail = "log_softmax_backward";
    return dy;
  }
  // mse_loss_backward: 2·(out − target)·g / n.
  Op& o = op("loss.bwd", "loss", Phase::backward_data, OpKind::elementwise, {m_loss.value, out, m_loss.target}, {dy});
  o.elements = n;
  o.flops = n * 3;
  o.detail = "mse_backward";
  return dy;
}

}  // namespace bpsim::workload
