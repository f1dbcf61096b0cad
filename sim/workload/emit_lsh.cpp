// Reformer's LSH attention (Kitaev, Kaiser, Levskaya 2020; docs/techniques.md "LSH attention"):
// the forward and backward ops of `attention: lsh` on an attention_core.
#include "sim/workload/emit.h"

namespace bpsim::workload {

namespace {

/// ⌈log2 n⌉ (0 for n ≤ 1): the comparison rounds of sorting n keys, per key.
uint64_t ceil_log2(uint64_t n) {
  uint64_t b = 0;
  while (b < 63 && (uint64_t(1) << b) < n) ++b;
  return b;
}

}  // namespace

LshDims StepEmitter::lsh_dims(size_t i) const {
  const LayerSpec& l = *m_plan.nodes[i].l;
  LshDims x;
  x.a = attn_dims(i);
  x.c = l.bucket_size;
  x.r = l.rounds;
  x.buckets = x.a.s / x.c;
  x.bh = x.a.b * x.a.heads;
  x.chunks = x.bh * x.r * x.buckets;  // every (batch, head, round) cuts its s sorted tokens into s/c chunks
  x.rows = x.bh * x.r * x.a.s;        // a query per token, head and round
  return x;
}

// The forward of one shared-QK LSH attention, as Reformer computes it per head:
//   R ~ N(0, 1) of d × rounds·n_buckets/2 (drawn in every forward, not a parameter);
//   bucket = argmax([qR, −qR]) per round;  sort the tokens by (bucket, position);
//   k = q/‖q‖ in sorted order;  chunks of c queries attend to their chunk and the one
//   before (2c keys), a token not to itself;  the rounds' outputs un-sorted and combined
//   with weights softmax over rounds of their log-sum-exp.
// The scores and probabilities are [chunks, c, 2c] tensors: s·2c per round instead of s².
void StepEmitter::forward_lsh(size_t i, Phase ph, NodeCtx& c) {
  const LayerSpec& l = *m_plan.nodes[i].l;
  const std::string re = ph == Phase::recompute ? ".re" : "";
  const LshDims x = lsh_dims(i);
  const uint64_t d = x.a.d, cw = x.c, half = x.buckets / 2;
  const uint64_t sorted_el = x.rows * d, probs_el = x.rows * 2 * cw;
  const uint32_t qv = c.in[0];  // [tokens, 2·hidden]: the shared query/key, then the value
  auto name = [&](const std::string& what) { return l.name + "." + what + re; };
  auto gemm = [&](const std::string& what, std::vector<uint32_t> reads, std::vector<uint32_t> writes, GemmDims g) {
    Op& o = op(name(what), l.name, ph, OpKind::gemm, std::move(reads), std::move(writes));
    o.gemm = g;
    o.macs = g.macs();
    o.detail = what;
  };
  auto other = [&](const std::string& what, OpKind kind, std::vector<uint32_t> reads, std::vector<uint32_t> writes,
                   uint64_t elements, uint64_t flops) {
    Op& o = op(name(what), l.name, ph, kind, std::move(reads), std::move(writes));
    o.elements = elements;
    o.flops = flops;
    o.detail = what;
  };
  // The random rotations of every head and round (torch.randn in the forward; a backward or
  // a recompute draws them again from the same seed, as Reformer's reversible layers do).
  const uint64_t rot_el = x.a.heads * d * x.r * half;
  const uint32_t rot = tensor(name("lsh_rotations"), bytes(rot_el), TensorRole::workspace);
  other("lsh_rotations", OpKind::elementwise, {}, {rot}, rot_el, rot_el);
  // qR for all rounds at once: [s × d]·[d × rounds·n_buckets/2] per batch and head.
  const uint32_t rotated = tensor(name("lsh_rotated"), bytes(x.rows * half), TensorRole::activation);
  gemm("lsh_hash", {qv, rot}, {rotated}, GemmDims{x.a.s, x.r * half, d, x.bh});
  // argmax over [qR, −qR]: n_buckets compares per query and round; int64 bucket ids.
  const uint32_t buckets = tensor(name("lsh_buckets"), x.rows * 8, TensorRole::activation);
  other("lsh_argmax", OpKind::reduction, {rotated}, {buckets}, x.rows, x.rows * x.buckets);
  // Sort by (bucket, position) per round: ⌈log2 s⌉ compare-and-swap rounds per key (a
  // comparison sort); the permutation and its inverse (int64) are kept to gather and un-sort.
  const uint32_t sort_idx = tensor(name("lsh_sort_idx"), x.rows * 8, TensorRole::saved);
  const uint32_t undo_idx = tensor(name("lsh_undo_idx"), x.rows * 8, TensorRole::saved);
  other("lsh_sort", OpKind::elementwise, {buckets}, {sort_idx, undo_idx}, x.rows, x.rows * ceil_log2(x.a.s));
  // The permutation applied: q and v gathered into sorted order per round (pure data movement).
  const uint32_t sq = tensor(name("lsh_sorted_q"), bytes(sorted_el), TensorRole::activation);
  const uint32_t sv = tensor(name("lsh_sorted_v"), bytes(sorted_el), TensorRole::activation);
  other("lsh_gather", OpKind::elementwise, {qv, sort_idx}, {sq, sv}, 2 * sorted_el, 0);
  // Shared-QK: the keys are the queries normalised to unit length (square, sum, divide).
  const uint32_t sk = tensor(name("lsh_sorted_k"), bytes(sorted_el), TensorRole::activation);
  other("lsh_key_norm", OpKind::normalization, {sq}, {sk}, sorted_el, 3 * sorted_el);
  // Scores of each chunk's c queries against its own and the previous chunk's keys (read in
  // place: the look-back is an index, not a copy).
  const uint32_t scores = tensor(name("lsh_scores"), bytes(probs_el), TensorRole::activation);
  gemm("lsh_qk", {sq, sk}, {scores}, GemmDims{cw, 2 * cw, d, x.chunks});
  // Softmax over the 2c keys with the self mask (and the causal mask) from the sorted
  // positions; its fp32 log-sum-exp per query row weighs the rounds.
  const uint32_t probs = tensor(name("lsh_probs"), bytes(probs_el), TensorRole::activation);
  const uint32_t lse = tensor(name("lsh_lse"), x.rows * 4, TensorRole::saved);
  other("lsh_softmax", OpKind::softmax, {scores, sort_idx}, {probs, lse}, probs_el, probs_el * (l.causal ? 8 : 7));
  c.keep = {probs, sq, sk, sv, sort_idx, undo_idx, lse};
  uint32_t used = probs;
  if (l.p > 0) {
    const uint32_t drop = tensor(name("lsh_drop_mask"), probs_el, TensorRole::mask);
    used = tensor(name("lsh_dropped"), bytes(probs_el), TensorRole::activation);
    other("lsh_dropout", OpKind::elementwise, {probs}, {used, drop}, probs_el, probs_el);
    c.keep.push_back(drop);
    c.keep.push_back(used);
  }
  // O = P·V per chunk, in sorted order, every round.
  const uint32_t so = tensor(name("lsh_sorted_out"), bytes(sorted_el), TensorRole::activation);
  gemm("lsh_pv", {used, sv}, {so}, GemmDims{cw, d, 2 * cw, x.chunks});
  // Un-sort each round and combine them: o = Σ_r exp(lse_r − logsumexp_r lse)·o_r (a
  // multiply and an add per element and round, and the weights per query and round).
  c.out = tensor(l.name + ".out" + re, bytes(x.a.b * x.a.s * x.a.h), TensorRole::activation);
  Op& un = op(l.name + (ph == Phase::recompute ? ".recompute" : ".fwd"), l.name, ph, OpKind::elementwise,
              {so, undo_idx, lse}, {c.out});
  un.elements = sorted_el;
  un.flops = 2 * sorted_el + 3 * x.rows;
  un.detail = "lsh_unsort";
  // With one round the weights are all 1: the sorted output itself is not needed again.
  if (x.r > 1) c.keep.push_back(so);
}

// The backward, op by op as autograd runs it in reverse: the un-sort's gather backward (and the
// rounds' weights), P·V, dropout, the softmax, QKᵀ, the key normalisation and the gather's
// scatter-add into the projection's gradient. The hash has no gradient (an argmax).
void StepEmitter::backward_lsh(size_t i, const NodeCtx& c, uint32_t dy, std::vector<uint32_t>& gin) {
  const LayerSpec& l = *m_plan.nodes[i].l;
  const LshDims x = lsh_dims(i);
  const uint64_t d = x.a.d, cw = x.c;
  const uint64_t sorted_el = x.rows * d, probs_el = x.rows * 2 * cw;
  const uint32_t probs = c.keep[0], sq = c.keep[1], sk = c.keep[2], sv = c.keep[3], sort_idx = c.keep[4],
                 undo_idx = c.keep[5], lse = c.keep[6];
  const uint32_t used = l.p > 0 ? c.keep[8] : probs;
  auto name = [&](const std::string& what) { return l.name + "." + what; };
  auto gemm = [&](const std::string& what, std::vector<uint32_t> reads, uint32_t out, GemmDims g) {
    Op& o = op(name(what), l.name, Phase::backward_data, OpKind::gemm, std::move(reads), {out});
    o.gemm = g;
    o.macs = g.macs();
    o.detail = what;
  };
  auto other = [&](const std::string& what, OpKind kind, std::vector<uint32_t> reads, std::vector<uint32_t> writes,
                   uint64_t elements, uint64_t flops) {
    Op& o = op(name(what), l.name, Phase::backward_data, kind, std::move(reads), std::move(writes));
    o.elements = elements;
    o.flops = flops;
    o.detail = what;
  };
  // dO back into each round's sorted order; with several rounds, through the combination
  // weights too (reading each round's output and log-sum-exp): the lse gradient goes to the
  // softmax backward below.
  const uint32_t dso = tensor(name("lsh_dsorted_out"), bytes(sorted_el), TensorRole::gradient);
  std::vector<uint32_t> un_reads = {dy, undo_idx};
  std::vector<uint32_t> un_writes = {dso};
  uint32_t dlse = 0;
  if (x.r > 1) {
    un_reads.push_back(c.keep.back());
    un_reads.push_back(lse);
    dlse = tensor(name("lsh_dlse"), x.rows * 4, TensorRole::gradient);
    un_writes.push_back(dlse);
  }
  other("lsh_unsort_bwd", OpKind::elementwise, un_reads, un_writes, sorted_el,
        x.r > 1 ? 4 * sorted_el + 3 * x.rows : sorted_el);
  const uint32_t dsv = tensor(name("lsh_dsorted_v"), bytes(sorted_el), TensorRole::gradient);
  gemm("lsh_dv", {used, dso}, dsv, GemmDims{2 * cw, d, cw, x.chunks});  // dV = Pᵀ·dO per chunk
  uint32_t dp = tensor(name("lsh_dprobs"), bytes(probs_el), TensorRole::gradient);
  gemm("lsh_dp", {dso, sv}, dp, GemmDims{cw, 2 * cw, d, x.chunks});  // dP = dO·Vᵀ
  if (l.p > 0) {
    const uint32_t undropped = tensor(name("lsh_dprobs_in"), bytes(probs_el), TensorRole::gradient);
    other("lsh_dropout_bwd", OpKind::elementwise, {dp, c.keep[7]}, {undropped}, probs_el, probs_el);
    dp = undropped;
  }
  // dS = P⊙(dP − rowsum(dP⊙P)) (+ P·dlse with several rounds).
  const uint32_t ds = tensor(name("lsh_dscores"), bytes(probs_el), TensorRole::gradient);
  std::vector<uint32_t> sm_reads = {dp, probs};
  if (dlse) sm_reads.push_back(dlse);
  other("lsh_softmax_bwd", OpKind::softmax, sm_reads, {ds}, probs_el, probs_el * (dlse ? 4 : 3));
  const uint32_t dsq = tensor(name("lsh_dsorted_q"), bytes(sorted_el), TensorRole::gradient);
  const uint32_t dsk = tensor(name("lsh_dsorted_k"), bytes(sorted_el), TensorRole::gradient);
  gemm("lsh_dq", {ds, sk}, dsq, GemmDims{cw, d, 2 * cw, x.chunks});  // dQ = dS·K
  gemm("lsh_dk", {ds, sq}, dsk, GemmDims{2 * cw, d, cw, x.chunks});  // dK = dSᵀ·Q
  // k = q/‖q‖: dq += (dk − k(k·dk))/‖q‖, accumulated into dQ.
  other("lsh_key_norm_bwd", OpKind::normalization, {dsk, sq, dsq}, {dsq}, sorted_el, 5 * sorted_el);
  // The gather's backward: a scatter-add of every round's dQ and dV into the projection's
  // output gradient [tokens, 2·hidden].
  gin[0] = tensor(name("dqkv"), bytes(x.a.b * x.a.s * 2 * x.a.h), TensorRole::gradient);
  other("lsh_scatter", OpKind::elementwise, {dsq, dsv, sort_idx}, {gin[0]}, 2 * sorted_el, 2 * sorted_el);
}

}  // namespace bpsim::workload
