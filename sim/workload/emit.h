#pragma once
/// Emits the ops of one training step from a NetPlan: each primitive's forward, its
/// backward as PyTorch eager autograd runs it (what it saves is what its backward reads),
/// the loss with its backward (emit_loss.cpp) and the optimizer update.
#include <map>
#include <string>
#include <vector>

#include "sim/ir/ir.h"
#include "sim/workload/plan.h"

namespace bpsim::workload {

/// Tensors one node's forward produced that its backward reads.
struct NodeCtx {
  std::vector<uint32_t> in;  ///< input tensors (the network input for node -1)
  uint32_t out = 0;
  std::vector<uint32_t> keep;  ///< extra saved tensors: masks, indices, statistics, probabilities
};

class StepEmitter {
 public:
  StepEmitter(const NetSpec& net, const NetPlan& plan, OpGraph& g);

  uint32_t input() const { return m_input; }
  /// Forward (or recompute) of node i; its inputs are taken from `ctx`.
  void forward(size_t i, Phase ph, std::vector<NodeCtx>& ctx);
  /// Backward of node i given the gradient of its output; adds the gradients of its
  /// inputs to `grads` (summing when a tensor feeds several nodes, as autograd does).
  void backward(size_t i, const NodeCtx& c, uint32_t dy, std::vector<uint32_t>& grads);
  /// The loss's forward ops on the network output `out`, after the network's forward (the
  /// spec's `loss`; none: nothing).
  void loss_forward(uint32_t out);
  /// The gradient of `out`: the loss's backward ops (loss_backward), or for `none` an
  /// external gradient of its size, as `out.backward(torch.ones_like(out))`.
  uint32_t loss_grad(uint32_t out);
  void update();

 private:
  uint32_t tensor(const std::string& name, uint64_t bytes, TensorRole role);
  Op& op(const std::string& name, const std::string& layer, Phase ph, OpKind kind, std::vector<uint32_t> reads,
         std::vector<uint32_t> writes);
  /// Bytes of n elements in the network's dtype.
  uint64_t bytes(uint64_t n) const { return n * m_elem; }
  void params_of(size_t i);
  void forward_attention(size_t i, Phase ph, NodeCtx& c);
  void forward_binary(size_t i, Phase ph, NodeCtx& c);
  uint32_t backward_attention(size_t i, const NodeCtx& c, uint32_t dy);
  /// dX and dW of linear, conv2d and their binary forms; returns dX (0 when not needed).
  uint32_t backward_gemm(size_t i, const NodeCtx& c, uint32_t dy, bool need_dx);
  uint32_t weight_grad(uint32_t param);
  uint32_t loss_backward(uint32_t out);
  /// The mask of a dX whose layer reads node `node`'s output: the AND of the ReLU and
  /// dropout masks on the chain back to the producing layer, through flatten and pools.
  OutputMask activation_chain_mask(int node) const;
  /// Elements of a tensor: its bytes over the dtype's, or the count an integer tensor was made with.
  uint64_t elements(uint32_t t) const;
  GemmDims forward_dims(size_t i) const;
  ConvShape conv_shape(size_t i) const;

  const NetSpec& m_net;
  const NetPlan& m_plan;
  OpGraph& m_g;
  uint64_t m_elem;
  uint32_t m_input = 0;
  std::map<uint32_t, uint32_t> m_producer;      ///< tensor → last op that wrote it
  std::vector<std::vector<uint32_t>> m_params;  ///< per node: weight, then bias (or γ, β)
  std::vector<uint32_t> m_param_order;          ///< all parameters, in creation order
  std::map<uint32_t, uint32_t> m_grad_of;       ///< parameter → its .grad tensor
  std::map<uint32_t, uint64_t> m_elements;      ///< elements of tensors not in the dtype (Tensor::bits)
  /// What loss_forward made and the loss's backward reads (0: none).
  struct LossTensors {
    uint32_t value = 0, target = 0, log_probs = 0, total_weight = 0;
  } m_loss;
};

}  // namespace bpsim::workload
