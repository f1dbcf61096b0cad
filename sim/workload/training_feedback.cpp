#include "sim/workload/training_feedback.h"

#include <algorithm>
#include <map>

#include "sim/core/error.h"
#include "sim/workload/plan.h"

namespace bpsim::workload {

const config::Binder<FeedbackSpec>& feedback_binder() {
  static const auto b = [] {
    config::Binder<FeedbackSpec> f("feedback",
                                   "feedback alignment: the backward's dX through fixed random matrices B "
                                   "(Lillicrap 2016; direct: Nokland 2016)");
    f.choice("kind", &FeedbackSpec::kind, kFeedbackKindNames,
             "backprop: dX = dY·W^T; fa: dX = dY·B, B a fixed random matrix of W^T's shape (no weight transport); "
             "dfa: every weight layer's dX = e·B_l, e the output error, B_l [output width × the layer's input "
             "width] (the backward GEMMs depend only on e)")
        .def("backprop");
    f.choice("storage", &FeedbackSpec::storage, kFeedbackStorageNames,
             "stored: B kept beside the weights (memory.figures.feedback_matrix_bytes); regenerated: drawn from a "
             "per-layer seed before each dX that reads it (an op of 7 integer operations per element, B alive "
             "only through that dX)")
        .def("stored");
    f.choice("dtype", &FeedbackSpec::dtype, dtype_names(true),
             "element type of B (binary: signs, packed 8 per byte); default: signs in a binary layer, else the dtype "
             "the layer's dX computes in");
    return f;
  }();
  return b;
}

void check_feedback(const FeedbackSpec& f, const NetPlan& plan) {
  if (f.kind != FeedbackKind::dfa) return;
  if (plan.output < 0) throw InputError("training.feedback.kind: dfa needs a network output to send the error from");
  // DFA (Nøkland 2016) is defined for a chain of layers: the error reaches each weight layer
  // through its own B, and what lies between two weight layers (activations, pools, norms,
  // dropout, views) is differentiated locally. A merge or a fork has no such rule: which
  // branch receives e·B, and is the other's gradient summed in? Attention's q, k and v are
  // three such branches. Those networks are refused rather than given a rule of bpsim's own.
  std::map<int, int> consumers;
  for (const Node& n : plan.nodes)
    for (int i : n.in) ++consumers[i];
  for (const Node& n : plan.nodes) {
    const LayerSpec& l = *n.l;
    std::string why;
    if (n.kind == "add" || n.kind == "mul")
      why = "merges two branches (a residual or product): DFA has no rule for a merge";
    else if (n.kind == "attention_core")
      why = "is an attention core (q, k and v are three branches): DFA has no rule for it";
    else if (n.tied >= 0) why = "shares its weight with an embedding: DFA has no rule for a tied weight";
    if (why.empty()) continue;
    throw InputError(l.loc, l.name, "training.feedback.kind: dfa: this layer " + why + " (use fa or backprop)");
  }
  for (size_t i = 0; i < plan.nodes.size(); ++i)
    if (consumers[int(i)] > 1) {
      const LayerSpec& l = *plan.nodes[i].l;
      throw InputError(l.loc, l.name,
                       "training.feedback.kind: dfa: this layer's output feeds several layers: DFA has no rule for a "
                       "fork (use fa or backprop)");
    }
}

FeedbackGemm feedback_gemm(const FeedbackSpec& f, const GemmDims& own, uint64_t weights, uint64_t batch,
                           uint64_t in_per_sample, uint64_t err_per_sample) {
  if (f.kind == FeedbackKind::fa) return {own, weights};  // B has W's shape: the same GEMM
  // DFA: per sample, the input gradient (all E_in elements, flattened) is e's E_out
  // elements times B [E_out × E_in]: one GEMM over the batch.
  FeedbackGemm d;
  d.gemm = GemmDims{batch, in_per_sample, err_per_sample, 1};
  d.b_elements = product_or_throw("training.feedback: the elements of B", {err_per_sample, in_per_sample});
  return d;
}

uint64_t feedback_bytes(uint64_t elements, DType d) {
  return d == DType::binary ? (elements + 7) / 8 : elements * (dtype_bits(d) / 8);
}

void feedback_figures(const FeedbackSpec& f, OpGraph& g) {
  if (f.kind == FeedbackKind::backprop) return;
  double stored = 0, seeds = 0, gen_ops = 0, matrices = 0;
  for (const Op& o : g.ops) {
    if (o.detail == "feedback_gen") {
      seeds += double(kFeedbackSeedBytes);
      gen_ops += double(o.flops);
    }
  }
  for (const Tensor& t : g.tensors)
    if (t.name.size() > 9 && t.name.compare(t.name.size() - 9, 9, ".feedback") == 0) {
      matrices += 1;
      if (t.role == TensorRole::weight) stored += double(t.bytes);
    }
  // The backward's depth: the longest chain of backward ops each reading what an earlier
  // one wrote (the tensors' last writers), the loss's gradient op included.
  std::vector<uint64_t> depth(g.ops.size(), 0);
  std::map<uint32_t, uint32_t> writer;
  uint64_t longest = 0;
  for (const Op& o : g.ops) {
    const bool bwd = o.phase == Phase::backward_data || o.phase == Phase::backward_weight;
    if (bwd) {
      uint64_t d = 0;
      for (uint32_t t : o.reads) {
        const auto w = writer.find(t);
        if (w != writer.end()) d = std::max(d, depth[w->second]);
      }
      depth[o.id] = d + 1;
      longest = std::max(longest, depth[o.id]);
    }
    for (uint32_t t : o.writes) writer[t] = o.id;
  }
  g.memory.figures["feedback_matrices"] = matrices;
  g.memory.figures["feedback_matrix_bytes"] = stored;
  g.memory.figures["feedback_seed_bytes"] = seeds;
  g.memory.figures["feedback_generate_ops"] = gen_ops;
  g.memory.figures["backward_depth"] = double(longest);
}

}  // namespace bpsim::workload
