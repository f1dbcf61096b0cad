#pragma once
/// Emits the ops of one training step from a NetPlan: each primitive's forward, its
/// backward as PyTorch eager autograd runs it (what it saves is what its backward reads),
/// the loss with its backward (emit_loss.cpp) and the optimizer update.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/ir/ir.h"
#include "sim/workload/plan.h"

namespace bpsim::workload {

/// Appends an op to `g`: its deps are the last writers (`producer`) of the tensors it reads,
/// and it becomes the last writer of those it writes. Its dtype is left to the caller.
Op& append_op(OpGraph& g, std::map<uint32_t, uint32_t>& producer, const std::string& name, const std::string& layer,
              Phase ph, OpKind kind, std::vector<uint32_t> reads, std::vector<uint32_t> writes);

/// Tensors one node's forward produced that its backward reads.
struct NodeCtx {
  std::vector<uint32_t> in;  ///< input tensors (the network input for node -1)
  uint32_t out = 0;
  std::vector<uint32_t> keep;  ///< extra saved tensors: masks, indices, statistics, probabilities
  /// Under autocast: the inputs before their casts (`in` holds the cast copies the op reads
  /// and saves; equal where no cast was needed), and the parameters as the op reads them (the
  /// weight copies cast to the lower dtype). Empty without autocast.
  std::vector<uint32_t> uncast;
  std::vector<uint32_t> params;
};

/// The sizes of one attention_core: batch, tokens, query heads, key/value heads, head
/// dimension, and h = heads·d (its output width).
struct AttnDims {
  uint64_t b = 1, s = 1, heads = 1, kv = 1, d = 1, h = 1;
};

/// The sizes of one LSH attention (attention: lsh): chunk length c, hash rounds r, buckets
/// s/c, batch·heads, the chunks of all rounds (b·heads·r·s/c) and the query rows (b·heads·r·s).
struct LshDims {
  AttnDims a;
  uint64_t c = 1, r = 1, buckets = 1, bh = 1, chunks = 1, rows = 1;
};

/// The tensors an attention reads q, k and v from (the same one when they are views of one
/// projection's output).
struct QkvSrc {
  uint32_t q = 0, k = 0, v = 0;
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
  /// The gradient at the network output (the loss's backward result): what DFA sends to
  /// every weight layer (training_feedback.h).
  void set_output_error(uint32_t e) { m_error = e; }
  /// Element type of an activation or gradient tensor: the dtype its producer computed in
  /// (under autocast, docs/workloads.md "Mixed precision"); the network's dtype otherwise.
  DType dtype_of(uint32_t t) const;

 private:
  uint32_t tensor(const std::string& name, uint64_t bytes, TensorRole role);
  Op& op(const std::string& name, const std::string& layer, Phase ph, OpKind kind, std::vector<uint32_t> reads,
         std::vector<uint32_t> writes);
  /// Bytes of n elements in the dtype the current node computes in: the network's dtype, or
  /// under autocast the node's (set by forward, backward and loss_grad; autocast_node).
  uint64_t bytes(uint64_t n) const { return n * (dtype_bits(m_cur) / 8); }
  /// Autocast: which dtype node i computes in (PyTorch's op lists); casts its inputs to it
  /// (ops `<layer>.cast`) and its weights to the lower dtype (`<param>.<dtype>`, cached per
  /// forward as autocast does); sets m_cur.
  void autocast_node(size_t i, Phase ph, NodeCtx& c);
  /// A cast op of tensor `t` (or of `part` of its elements when part > 0: what a view such as
  /// x[:, 0] reads) to `to`, written as a new tensor of `role`.
  uint32_t cast(uint32_t t, DType to, const std::string& name, const std::string& layer, Phase ph, TensorRole role,
                uint64_t part = 0);
  /// Backward of node i's input casts: each input gradient back to its producer's dtype.
  void uncast_grads(size_t i, const NodeCtx& c, std::vector<uint32_t>& gin);
  /// The low-precision weight gradients of node i cast to their fp32 .grad (autocast).
  void flush_grad_casts(size_t i);
  void loss_scaling();
  void params_of(size_t i);
  /// The weight of linear/conv node i, `rows` × `cols`: dense, or compact (weight_format).
  void add_weight(size_t i, uint64_t rows, uint64_t cols);
  AttnDims attn_dims(size_t i) const;
  void forward_attention(size_t i, Phase ph, NodeCtx& c);
  /// softmax(QKᵀ/√d)·V as separate ops, q, k and v read from `src`.
  void explicit_attention(size_t i, Phase ph, NodeCtx& c, uint32_t src);
  /// PyTorch's fused scaled-dot-product kernel (flash or memory-efficient) on `t`.
  void forward_sdpa(size_t i, Phase ph, NodeCtx& c, const QkvSrc& t);
  static QkvSrc qkv_sources(const NodeCtx& c);
  static uint64_t sdpa_lse_bytes(const LayerSpec& l, const AttnDims& a);
  void forward_binary(size_t i, Phase ph, NodeCtx& c);
  /// Reformer's LSH attention (emit_lsh.cpp): hash, sort, chunked attention, un-sort.
  LshDims lsh_dims(size_t i) const;
  void forward_lsh(size_t i, Phase ph, NodeCtx& c);
  void backward_lsh(size_t i, const NodeCtx& c, uint32_t dy, std::vector<uint32_t>& gin);
  /// The gradients of the attention's inputs (one fused projection, or q, k and v) into `gin`.
  void backward_attention(size_t i, const NodeCtx& c, uint32_t dy, std::vector<uint32_t>& gin);
  /// The explicit ops' backward: dQ, dK and dV into one new tensor named `grad_name`.
  uint32_t explicit_attention_bwd(size_t i, const NodeCtx& c, uint32_t dy, uint32_t src, const std::string& grad_name);
  /// The fused kernel's backward: the gradients of q, k and v as it writes them.
  QkvSrc backward_sdpa(size_t i, const NodeCtx& c, uint32_t dy);
  /// dX and dW of linear, conv2d and their binary forms; returns dX (0 when not needed).
  uint32_t backward_gemm(size_t i, const NodeCtx& c, uint32_t dy, bool need_dx);
  /// Layer `layer`'s feedback matrix B of `n` elements (signs by default when `binary`): a
  /// stored tensor, or one drawn from its seed by a generator op just before the dX reads it
  /// (training_feedback.h).
  uint32_t feedback_matrix(const std::string& layer, uint64_t n, bool binary);
  /// K-FAC's ops for weight layer i (training_newton.cpp): its factors from `x` and `dy`, their
  /// running averages, the inverses on an inverting step, and `grads` (dW, then db)
  /// preconditioned in place. `f`: the layer's forward GEMM.
  void kfac(size_t i, uint32_t x, uint32_t dy, const GemmDims& f, const std::vector<uint32_t>& grads);
  uint32_t weight_grad(uint32_t param);
  /// Marks a gemm/conv reading weight `w` with its compact storage (weight_density, index bytes).
  void mark_compact(Op& o, uint32_t w) const;
  /// SET's prune and regrow of every pruned weight (training: prune_regrow), after the update.
  void prune_regrow();
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
  std::map<uint32_t, uint32_t> m_producer;                  ///< tensor → last op that wrote it
  std::vector<std::vector<uint32_t>> m_params;              ///< per node: weight, then bias (or γ, β)
  std::vector<uint32_t> m_param_order;                      ///< all parameters, in creation order
  std::map<uint32_t, uint32_t> m_grad_of;                   ///< parameter → its .grad tensor
  std::map<uint32_t, CompactWeights> m_compact;             ///< weight in a compact format → its storage
  std::map<uint32_t, std::vector<uint32_t>> m_state_of;     ///< parameter → its optimizer state (and master copy)
  std::map<uint32_t, uint64_t> m_elements;                  ///< elements of tensors not in the dtype (Tensor::bits)
  DType m_cur;                                              ///< the dtype the node being emitted computes in
  bool m_amp = false;                                       ///< autocast on
  DType m_low = DType::fp32;                                ///< autocast's lower dtype
  std::map<uint32_t, DType> m_dtype;                        ///< autocast: tensor → its element type
  std::vector<DType> m_node_dtype;                          ///< autocast: per node, the dtype it computed in
  std::vector<std::pair<uint32_t, uint32_t>> m_grad_casts;  ///< (low-precision dW, parameter) to cast
  std::set<uint32_t> m_low_params;                          ///< autocast: parameters read as cast copies
  /// Gradients of a tied weight written by this node's backward, to add into its .grad.
  std::vector<std::pair<uint32_t, uint32_t>> m_pending_accumulate;
  /// What loss_forward made and the loss's backward reads (0: none).
  struct LossTensors {
    uint32_t value = 0, target = 0, log_probs = 0, total_weight = 0;
  } m_loss;
  uint32_t m_error = 0;  ///< the output error (set_output_error)
};

}  // namespace bpsim::workload
