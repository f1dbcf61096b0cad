#include "models/mesh/mapper.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace bpsim::mesh {

namespace {

InputError fail(const config::Values* where, const std::string& key, const std::string& msg) {
  if (where) return where->error(key, msg);
  return InputError("accelerator." + key + ": " + msg);
}

bool is_layer_op(const workload::Op& op) {
  return op.phase == workload::Phase::forward &&
         (op.kind == workload::OpKind::gemm || op.kind == workload::OpKind::conv);
}

/// Splits a layer into boxes of whole rows × a channel group that fit in P (≥ L.w) elements.
void tile_layer(MappedLayer& L, unsigned P) {
  L.ch_per = std::min<int32_t>(L.c, int32_t(P / unsigned(L.w)));
  L.rows_per = std::min<int32_t>(L.h, int32_t(P / unsigned(L.w * L.ch_per)));
  L.tiles_y = (L.h + L.rows_per - 1) / L.rows_per;
  const int32_t tiles_c = (L.c + L.ch_per - 1) / L.ch_per;
  for (int32_t tc = 0; tc < tiles_c; ++tc)
    for (int32_t ty = 0; ty < L.tiles_y; ++ty) {
      Box b;
      b.lo[0] = 0, b.hi[0] = L.w - 1;
      b.lo[1] = ty * L.rows_per, b.hi[1] = std::min(L.h, (ty + 1) * L.rows_per) - 1;
      b.lo[2] = tc * L.ch_per, b.hi[2] = std::min(L.c, (tc + 1) * L.ch_per) - 1;
      L.boxes.push_back(b);
    }
}

}  // namespace

int Mapping::find(const std::string& layer) const {
  for (size_t i = 1; i < layers.size(); ++i)
    if (layers[i].name == layer) return int(i);
  return -1;
}

int Mapping::owner_of(const std::string& layer) const {
  const auto it = owner.find(layer);
  return it == owner.end() ? -1 : it->second;
}

size_t Mapping::host_tile(size_t m, int32_t x, int32_t y, int32_t ch) const {
  const MappedLayer& prev = layers[size_t(layers[m].from)];
  const Connection& c = layers[m].conn;
  if (prev.w == c.in_w && prev.h == c.in_h && prev.c == c.in_c) return prev.tile_of(x, y, ch);
  if (prev.c == c.in_c && prev.w >= c.in_w && prev.h >= c.in_h)  // pooling kept local
    return prev.tile_of(x * prev.w / c.in_w, y * prev.h / c.in_h, ch);
  // Flatten: the j-th input of this layer is the (j·n_prev/n_in)-th output of the previous.
  const uint64_t in_n = uint64_t(c.in_w) * c.in_h * c.in_c;
  const uint64_t j = (uint64_t(ch) * c.in_h + uint64_t(y)) * c.in_w + uint64_t(x);
  const uint64_t jp = j * prev.neurons() / in_n;
  return prev.tile_of(int32_t(jp % prev.w), int32_t((jp / prev.w) % prev.h), int32_t(jp / (uint64_t(prev.w) * prev.h)));
}

Box Mapping::input_space_box(size_t m, size_t t) const {
  const MappedLayer& prev = layers[size_t(layers[m].from)];
  const Connection& c = layers[m].conn;
  Box b = prev.boxes[t];
  if (prev.w == c.in_w && prev.h == c.in_h && prev.c == c.in_c) return b;
  if (prev.c == c.in_c && prev.w >= c.in_w && prev.h >= c.in_h) {
    // The input neurons whose host (host_tile: coordinate·prev/in, rounded down) lies in
    // the box: lo' = ⌈lo·in/prev⌉, hi' = ⌊((hi+1)·in − 1)/prev⌋. Boxes stay disjoint.
    const int32_t in_dim[2] = {c.in_w, c.in_h}, prev_dim[2] = {prev.w, prev.h};
    for (int d = 0; d < 2; ++d) {
      const int64_t lo = (int64_t(b.lo[d]) * in_dim[d] + prev_dim[d] - 1) / prev_dim[d];
      const int64_t hi = ((int64_t(b.hi[d]) + 1) * in_dim[d] - 1) / prev_dim[d];
      b.lo[d] = int32_t(lo), b.hi[d] = int32_t(hi);
    }
    return b;
  }
  Box all;
  all.lo[0] = all.lo[1] = all.lo[2] = 0;
  all.hi[0] = c.in_w - 1, all.hi[1] = c.in_h - 1, all.hi[2] = c.in_c - 1;
  return all;
}

namespace {

/// Everything that keeps a graph off the mesh, gathered over all layers so that one error
/// lists them all (for sizes: the largest need).
struct Refusals {
  const config::Values* where;
  std::map<std::string, std::vector<std::string>> by_key;           ///< accelerator key → reasons
  std::map<std::string, std::pair<uint64_t, std::string>> largest;  ///< key → (need, layer)
  void add(const std::string& key, const std::string& why) { by_key[key].push_back(why); }
  void need(const std::string& key, uint64_t need, const std::string& layer) {
    auto& l = largest[key];
    if (need > l.first) l = {need, layer};
  }
  /// The largest need recorded for `key`, if above `have`, becomes a reason.
  void limit(const std::string& key, uint64_t have, const std::string& what) {
    const auto it = largest.find(key);
    if (it != largest.end() && it->second.first > have)
      add(key, "the largest need is " + std::to_string(it->second.first) + " " + what + " (layer '" +
                   it->second.second + "'); it holds " + std::to_string(have));
  }
  /// One error with every reason, pointing at the first key.
  void throw_if_any() const {
    if (by_key.empty()) return;
    constexpr size_t kShown = 3;  // per key: enough to see the pattern, then a count
    std::string msg;
    for (const auto& [key, reasons] : by_key) {
      for (size_t i = 0; i < std::min(kShown, reasons.size()); ++i)
        msg +=
            (msg.empty() ? "" : "; ") + (key == by_key.begin()->first ? "" : "accelerator." + key + ": ") + reasons[i];
      if (reasons.size() > kShown) msg += "; and " + std::to_string(reasons.size() - kShown) + " more like these";
    }
    throw fail(where, by_key.begin()->first, msg);
  }
};

/// Which mapped layer holds each activation tensor of the forward pass: a layer op's
/// outputs are its own; a single-input op (activation, normalisation, pooling, dropout)
/// leaves its output where its input is; tensors made of weights alone are local to
/// whatever uses them.
class Holders {
 public:
  explicit Holders(const workload::OpGraph& g) : m_g(g) {}
  /// The activation tensors `op` reads (weights and what is made of them left out; a loss's
  /// targets, data that comes with the input, are read from memory as weights are).
  std::vector<uint32_t> activations(const workload::Op& op) const {
    std::vector<uint32_t> acts;
    for (uint32_t t : op.reads)
      if (!weight_like(t) && !(is_loss(op.layer) && is_input(t))) acts.push_back(t);
    return acts;
  }
  /// The step's loss, or an early-exit head's ("exit0.loss", training_exit.h).
  static bool is_loss(const std::string& layer) {
    return layer == "loss" || (layer.size() > 5 && layer.compare(layer.size() - 5, 5, ".loss") == 0);
  }
  /// The layer holding tensor t: -1 when no forward op wrote it. The network input is
  /// held by layer 0.
  int of(uint32_t t) const {
    const auto it = m_held.find(t);
    if (it != m_held.end()) return it->second;
    return is_input(t) ? 0 : -1;
  }
  void write(const workload::Op& op, int layer) {
    for (uint32_t t : op.writes) m_held[t] = layer;
  }
  void weights_from(const workload::Op& op) { m_weights.insert(op.writes.begin(), op.writes.end()); }

 private:
  bool is_input(uint32_t t) const {
    return t < m_g.tensors.size() && m_g.tensors[t].role == workload::TensorRole::input;
  }
  bool weight_like(uint32_t t) const {
    return (t < m_g.tensors.size() && m_g.tensors[t].role == workload::TensorRole::weight) || m_weights.count(t);
  }
  const workload::OpGraph& m_g;
  std::map<uint32_t, int> m_held;  ///< tensor → layer index
  std::set<uint32_t> m_weights;    ///< tensors derived from weights alone
};

/// Whether a row-wise op on layer L reduces over a row the mesh can gather: a token's
/// features (w = h = 1: layernorm, softmax) or, for batchnorm, a channel's positions.
bool reducible(const workload::Op& op, const MappedLayer& L) {
  if (L.w == 1 && L.h == 1) return true;
  return op.kind == workload::OpKind::normalization && op.detail.rfind("batchnorm", 0) == 0;
}

/// Sets the input layer's neurons from the first connection that reads it.
void size_input(MappedLayer& in, const Connection& c, uint64_t samples, unsigned P, Refusals& no) {
  if (!in.boxes.empty() || in.name != "input") return;
  in.w = c.in_w, in.h = c.in_h, in.c = c.in_c;
  in.samples = samples;
  if (uint64_t(in.w) > P) no.need("cluster.elements", uint64_t(in.w), in.name);
  else tile_layer(in, P);
}

/// Per cluster: control-store entries (one per destination cluster of every consumer,
/// forward, and of the producer, backward) and the layer named for the largest.
void control_entries(Mapping& map, Refusals& no) {
  std::map<uint16_t, std::pair<uint64_t, std::string>> per_cluster;
  for (size_t m = 1; m < map.layers.size(); ++m) {
    const MappedLayer& L = map.layers[m];
    const MappedLayer& src = map.layers[size_t(L.from)];
    for (uint16_t k : L.clusters) {
      auto& e = per_cluster[k];
      e.first += src.boxes.size();
      if (e.second.empty()) e.second = L.name;
    }
    for (uint16_t k : src.clusters) {
      auto& e = per_cluster[k];
      e.first += L.boxes.size();
      if (e.second.empty()) e.second = src.name;
    }
    if (!L.attention()) continue;
    // K or V rows to the attention layer's tiles, and their gradients back.
    const MappedLayer& op = map.layers[size_t(L.operand)];
    for (uint16_t k : op.clusters) per_cluster[k].first += L.boxes.size();
    for (uint16_t k : L.clusters) per_cluster[k].first += op.boxes.size();
  }
  for (const auto& [k, e] : per_cluster) {
    no.need("cluster.max_control_entries", e.first, e.second);
    const uint64_t cs = e.first * ControlEntry::kBytes;
    map.control_store_bytes_max = std::max(map.control_store_bytes_max, cs);
    map.control_store_bytes_total += cs;
  }
}

/// Count over a layer's neurons, one (x, y) column at a time: `per_xy(x, y)` is what every
/// channel of that column adds to its tile; channels of one tile share it.
template <class F>
void per_column(const MappedLayer& L, std::vector<uint64_t>& per_tile, F per_xy) {
  const int32_t tiles_c = (L.c + L.ch_per - 1) / L.ch_per;
  for (int32_t y = 0; y < L.h; ++y)
    for (int32_t x = 0; x < L.w; ++x) {
      const uint64_t v = per_xy(x, y);
      if (!v) continue;
      for (int32_t tc = 0; tc < tiles_c; ++tc) {
        const uint64_t chans = uint64_t(std::min(L.c, (tc + 1) * L.ch_per) - tc * L.ch_per);
        per_tile[L.tile_of(x, y, tc * L.ch_per)] += v * chans;
      }
    }
}

/// A per-neuron routing table instead of the control store: each neuron lists its
/// destination clusters (2-byte ids) forward (every consumer) and backward (its producer).
void routing_tables(Mapping& map) {
  std::map<uint16_t, uint64_t> per_cluster;
  for (size_t m = 0; m < map.layers.size(); ++m) {
    const MappedLayer& L = map.layers[m];
    std::vector<uint64_t> dests(L.boxes.size(), 0);  // per tile, summed over its neurons
    for (size_t n = m + 1; n < map.layers.size(); ++n) {
      const MappedLayer& N = map.layers[n];
      if (N.from != int(m)) continue;
      if (N.conn.kind == Connection::Kind::identity) {  // one destination per neuron
        for (size_t t = 0; t < L.boxes.size(); ++t) dests[t] += L.boxes[t].volume();
        continue;
      }
      if (N.conn.kind == Connection::Kind::heads) {  // depends on the channel (w = h = 1)
        for (int32_t ch = 0; ch < L.c; ++ch) {
          const Box r = forward_range(N.conn, 0, 0, ch);
          for (const Box& b : N.boxes) dests[L.tile_of(0, 0, ch)] += !r.intersect(b).empty();
        }
        continue;
      }
      // This neuron, seen from N's input space (same coordinates unless pooled or
      // flattened in between: then count the host's whole fan-out). The range depends on
      // (x, y) alone.
      const bool same = N.conn.in_w == L.w && N.conn.in_h == L.h && N.conn.in_c == L.c;
      per_column(L, dests, [&](int32_t x, int32_t y) {
        const Box r = same ? forward_range(N.conn, x, y, 0)
                           : forward_range(N.conn, x * N.conn.in_w / L.w, y * N.conn.in_h / L.h, 0);
        uint64_t d = 0;
        for (const Box& b : N.boxes) d += !r.intersect(b).empty();
        return d;
      });
    }
    if (m > 0) {
      const size_t src_tiles = map.layers[size_t(L.from)].boxes.size();
      if (L.conn.kind == Connection::Kind::identity) {
        for (size_t t = 0; t < L.boxes.size(); ++t) dests[t] += L.boxes[t].volume();
      } else if (L.conn.kind == Connection::Kind::heads) {
        for (int32_t ch = 0; ch < L.c; ++ch) {
          const Box r = backward_range(L.conn, 0, 0, ch);
          for (size_t t = 0; t < src_tiles; ++t)
            dests[L.tile_of(0, 0, ch)] += !r.intersect(map.layers[size_t(L.from)].boxes[t]).empty();
        }
      } else {
        std::vector<Box> in_boxes(src_tiles);
        for (size_t t = 0; t < src_tiles; ++t) in_boxes[t] = map.input_space_box(m, t);
        per_column(L, dests, [&](int32_t x, int32_t y) {
          const Box r = backward_range(L.conn, x, y, 0);
          uint64_t d = 0;
          for (const Box& b : in_boxes) d += !r.intersect(b).empty();
          return d;
        });
      }
    }
    for (size_t t = 0; t < L.boxes.size(); ++t) per_cluster[L.clusters[t]] += dests[t] * 2;
  }
  for (const auto& [k, b] : per_cluster) {
    map.routing_table_bytes_max = std::max(map.routing_table_bytes_max, b);
    map.routing_table_bytes_total += b;
  }
}

/// Attention's activation-by-activation products, from the op's detail: QK^T (reads the
/// QKV projection's output: Q features [0, H·d), K [H·d, 2H·d), V [2H·d, 3H·d), as the
/// builder lays them out) becomes a layer of H·keys score neurons per query token; PV
/// (reads the probabilities and the QKV output) a layer of H·d neurons per query token.
/// Returns why it cannot be mapped ("" when it was: the layer is the last of `map`).
/// Why the mesh does not map an op of an attention variant (docs/workloads.md "Attention
/// variants"); empty when the op is not one. The mesh maps QKᵀ and PV of a QKV projection
/// of 3·heads·head_dim features, its scores held by the attention layer's clusters.
std::string attention_variant_refusal(const workload::Op& op) {
  const std::string& d = op.detail;
  if (d.rfind("sdpa_", 0) == 0)
    return "runs fused scaled-dot-product attention (attention: flash, mem_efficient or cudnn), whose kernel keeps "
           "the scores on chip; the mesh maps QKᵀ, softmax and PV as separate layers (use attention: explicit)";
  if (d.rfind("lsh_", 0) == 0)
    return "runs LSH attention (attention: lsh), whose sort by hash bucket is a data-dependent permutation of the "
           "tokens; the mesh's clusters compute fixed destination ranges from the layer's connectivity (use "
           "attention: explicit)";
  if (d == "rope")
    return "applies rotary embeddings (rope: true) to q and k, which the mesh's attention does not place";
  if (d == "repeat_kv" || d == "contiguous")
    return "copies q, k and v for its products (grouped-query attention, rotary embeddings or separate q, k, v "
           "projections); the mesh maps attention on a projection of 3·heads·head_dim features only";
  if (d == "causal_mask")
    return "builds a causal mask tensor in its forward (causal_mask: kept), which the mesh's attention does not hold";
  return "";
}

std::string map_attention(const workload::Op& op, const std::vector<int>& from, Mapping& map, unsigned P,
                          uint64_t bytes) {
  const bool qk = op.detail == "attention_qk", pv = op.detail == "attention_pv";
  if (!qk && !pv) return "the mesh maps attention's QK^T and PV (details attention_qk, attention_pv) only";
  const int qkv = qk ? from[0] : (from.size() == 2 ? from[1] : -1);
  const int scores = pv ? from[0] : -1;
  if (qkv < 0 || (pv && !map.layers[size_t(scores)].attention()))
    return "PV must read the probabilities of a mapped QK^T and the QKV projection's output";
  const MappedLayer& Q = map.layers[size_t(qkv)];
  const uint64_t d = op.gemm.k, keys = op.gemm.n, queries = op.gemm.m;
  const uint64_t dk = qk ? d : op.gemm.n, kk = qk ? keys : d;  // head dim, key tokens
  if (Q.w != 1 || Q.h != 1 || Q.boxes.empty() || dk == 0 || uint64_t(Q.c) % (3 * dk) != 0)
    return "its operands are not a mapped QKV projection of 3·heads·head_dim features per token";
  const uint64_t heads = uint64_t(Q.c) / (3 * dk);
  if (op.gemm.batch % heads != 0 || queries != kk)
    return "its batch is not sequences × heads, or queries and keys differ (cross-attention)";
  MappedLayer L;
  L.name = qk ? op.layer + ".scores" : op.layer;
  L.from = qk ? qkv : scores;
  L.operand = qkv;
  L.heads = int32_t(heads), L.head_dim = int32_t(dk), L.keys = int32_t(kk);
  L.sequences = op.gemm.batch / heads;
  L.operand_offset = int32_t((qk ? 1 : 2) * heads * dk);
  L.samples = L.sequences * queries;
  Connection& c = L.conn;
  c.kind = Connection::Kind::heads;
  c.in_c = qk ? Q.c : map.layers[size_t(scores)].c;
  c.group_in = int32_t(qk ? dk : kk), c.group_out = int32_t(qk ? kk : dk), c.offset = 0;
  c.out_c = int32_t(heads) * c.group_out;
  L.c = c.out_c;
  tile_layer(L, P);
  // The kept operand is held like a layer's weights (and dK, dV accumulate like weight
  // gradients): a score neuron keeps d values of K, an output neuron s values of V.
  L.weight_bytes_per_cluster = uint64_t(L.ch_per) * uint64_t(qk ? dk : kk) * bytes;
  map.layers.push_back(L);
  return "";
}

}  // namespace

Mapping map_graph(const workload::OpGraph& g, const MeshSpec& spec, const config::Values* where) {
  Mapping map;
  // Direct feedback alignment's dX = e·B_l reads the output layer's error at every layer: the
  // mesh sends a layer's backward messages only to the layer it reads from (W^T or B at the
  // producer's clusters), and a multicast of e from the output clusters to every layer, whose
  // backwards could then overlap, is not modelled.
  for (const workload::Op& op : g.ops)
    if (op.detail.size() > 7 && op.detail.compare(op.detail.size() - 7, 7, "_dx_dfa") == 0)
      throw InputError("workload.training.feedback.kind: dfa: layer '" + op.layer +
                       "': the mesh routes a layer's error only to the layer it reads from; sending the output error "
                       "to every layer (direct feedback alignment) is not modelled (use fa or backprop on the mesh)");
  // K-FAC (training.newton) reduces a layer's inputs and output gradients over every sample
  // into dense factors and inverts them: a gather from all of the layer's clusters that the
  // mesh's message model does not map.
  for (const workload::Op& op : g.ops)
    if (op.detail.rfind("kfac_", 0) == 0)
      throw InputError("workload.training.newton.kind: kfac: layer '" + op.layer +
                       "': the Kronecker factors (X^T X and dY^T dY over every sample) and their inversion are not "
                       "mapped onto the mesh's clusters (run K-FAC on the systolic array)");
  Refusals no{where, {}, {}};
  // Training techniques whose precision the mesh cannot carry (docs/techniques.md): its
  // clusters hold and send every element in the graph's dtype, at one MAC price.
  const std::map<std::string, double>& fig = g.memory.figures;
  if (fig.count("precision_wide_bits"))
    throw fail(where, "mode",
               "training.precision: the mesh holds and sends every element in the graph's dtype and prices every MAC "
               "alike, so neuron groups in a wider dtype are not modelled on it");
  // Mixed precision (a spec's autocast: casts, GEMMs in bf16/fp16 over fp32 parameters): the
  // clusters hold and send every element in the graph's dtype at one MAC price, so an op in a
  // narrower or wider float dtype would be priced as if in the graph's.
  auto is_float = [](workload::DType d) {
    return d == workload::DType::fp32 || d == workload::DType::bf16 || d == workload::DType::fp16;
  };
  for (const workload::Op& op : g.ops)
    if (is_float(op.dtype) && is_float(g.dtype) && op.dtype != g.dtype)
      throw InputError(
          "workload: op '" + op.name + "' runs in " + workload::to_string(op.dtype) + ", the step in " +
          workload::to_string(g.dtype) +
          " (a spec's autocast, or a trace's own dtypes): the mesh holds and sends every element in the "
          "step's dtype and prices every MAC alike, so a mixed-precision step is not modelled on it (write "
          "autocast: none, or run the step on the systolic array)");
  const auto bits = fig.find("enkf_weight_bits");
  if (bits != fig.end() && unsigned(bits->second) != workload::dtype_bits(g.dtype))
    throw fail(where, "mode",
               "training.learner.weight_bits: the mesh keeps a layer's weights in its clusters in the graph's dtype (" +
                   std::string(workload::to_string(g.dtype)) + "); set weight_bits to its " +
                   std::to_string(workload::dtype_bits(g.dtype)) + " bits");
  Holders held(g);
  const unsigned P = spec.cluster.elements;
  const uint64_t bytes = std::max(1u, workload::dtype_bits(g.dtype) / 8);
  MappedLayer input;
  input.name = "input";
  input.out_density = spec.input_density;
  map.layers.push_back(input);
  bool any_layer = false;
  std::set<std::string> variant_refused;  // one refusal per attention layer, its later ops skipped
  for (const workload::Op& op : g.ops) {
    if (op.phase != workload::Phase::forward) continue;
    const std::string variant = attention_variant_refusal(op);
    if (!variant.empty() || variant_refused.count(op.layer)) {
      if (variant_refused.insert(op.layer).second) no.add("mode", "layer '" + op.layer + "' " + variant);
      held.write(op, op.reads.empty() ? 0 : std::max(0, held.of(op.reads[0])));  // keep following the graph
      continue;
    }
    if (op.detail == "enkf_perturb")  // alone: the copies it writes would only add noise to the message
      throw fail(where, "mode",
                 "op '" + op.name +
                     "': training.learner.perturbations: seeded draws each member's weights into a copy as it runs; "
                     "the mesh keeps a layer's weights resident in its clusters (use perturbations: stored)");
    const bool layer = is_layer_op(op);
    if (op.kind == workload::OpKind::xnor_gemm)
      no.add("mode", "layer '" + op.layer +
                         "' is binary (XNOR-popcount); the mesh's elements are multiply-accumulate "
                         "units with no binary mode");
    if (op.reads.empty()) {  // a trace may leave reads out: then a branch cannot be told from a chain
      no.add("mode", "op '" + op.name +
                         "' names no tensors it reads, so the mesh cannot tell which layer feeds it "
                         "(list its reads and writes)");
      continue;
    }
    const std::vector<uint32_t> acts = held.activations(op);
    if (acts.empty()) {  // made of weights alone (a binarised weight): local to the layer too
      held.weights_from(op);
      continue;
    }
    std::vector<int> from;
    for (uint32_t t : acts) {
      const int h = held.of(t);
      if (h < 0) {
        no.add("mode", "op '" + op.name + "' reads tensor " + std::to_string(t) +
                           " that no earlier forward op writes and that is not the network input");
        break;
      }
      from.push_back(h);
    }
    if (from.size() != acts.size()) continue;
    if (!layer) {
      if (from.size() == 1) {  // local to the clusters holding its input
        const int h = from[0];
        held.write(op, h);
        map.owner[op.layer] = h;
        // A ReLU or dropout after a layer thins that layer's outputs: zeros send nothing.
        if (op.out_mask.active() && h > 0) map.layers[size_t(h)].out_density *= op.out_mask.density;
        const bool rowwise = op.kind == workload::OpKind::normalization || op.kind == workload::OpKind::softmax;
        if (rowwise && !map.layers[size_t(h)].boxes.empty() && !reducible(op, map.layers[size_t(h)]))
          no.add("mode", "op '" + op.name + "' (" + op.detail +
                             ") reduces over a layer's spatial positions; the mesh gathers rows of a "
                             "token's features or batchnorm's channels only");
        continue;
      }
      const bool add = op.kind == workload::OpKind::elementwise && op.detail == "add" && from.size() == 2;
      const MappedLayer* a = add ? &map.layers[size_t(from[0])] : nullptr;
      const MappedLayer* b = add ? &map.layers[size_t(from[1])] : nullptr;
      // The skip branch may be pooled on its clusters (ResNet's stem: a max-pool kept local).
      if (!add || a->boxes.empty() || a->c != b->c || b->w < a->w || b->h < a->h) {
        no.add("mode", "op '" + op.name + "' joins " + std::to_string(from.size()) + " branches (" +
                           (add                 ? "of different shapes"
                            : op.detail.empty() ? std::string("not an add")
                                                : op.detail) +
                           "); the mesh joins two branches of one shape by an add only");
        held.write(op, from[0]);  // keep following the graph: one refusal, not one per later op
        continue;
      }
      // A residual join: the sum stays on the first operand's clusters; the skip branch
      // is routed to them, neuron by neuron (from the host of a pooled neuron).
      MappedLayer J = *a;
      J.name = op.layer;
      J.shares = from[0] > 0 && map.layers[size_t(from[0])].join() ? map.layers[size_t(from[0])].shares : from[0];
      J.from = from[1];
      J.conn = Connection{};
      J.conn.kind = Connection::Kind::identity;
      J.conn.in_w = J.conn.out_w = J.w, J.conn.in_h = J.conn.out_h = J.h, J.conn.in_c = J.conn.out_c = J.c;
      J.out_density = op.out_mask.active() ? op.out_mask.density : 1.0;
      J.weight_bytes_per_cluster = 0;
      J.clusters.clear();
      held.write(op, int(map.layers.size()));
      map.owner[op.layer] = int(map.layers.size());
      map.layers.push_back(J);
      continue;
    }
    if (from.size() > 1 || acts.size() == op.reads.size()) {  // no weight operand: QK^T reads one tensor twice
      const std::string why = map_attention(op, from, map, P, bytes);
      if (!why.empty()) {
        no.add("mode", "layer '" + op.layer + "' multiplies two activations (" + op.name + "): " + why);
        held.write(op, from[0]);  // keep following the graph: one refusal, not one per later op
      } else {
        held.write(op, int(map.layers.size()) - 1);
        map.owner[op.layer] = int(map.layers.size()) - 1;
        no.need("cluster.sram_kib", 2 * map.layers.back().weight_bytes_per_cluster, op.layer);
      }
      continue;
    }
    any_layer = true;
    MappedLayer L;
    L.name = op.layer;
    L.from = from[0];
    Connection& c = L.conn;
    if (op.kind == workload::OpKind::conv) {
      const workload::ConvShape& s = op.conv;
      if (s.groups != 1) no.add("mode", "layer '" + op.layer + "': grouped convolutions are not mapped");
      c.kind = Connection::Kind::conv;
      c.stride = int32_t(s.stride), c.kernel_w = int32_t(s.s), c.kernel_h = int32_t(s.r), c.pad = int32_t(s.pad);
      c.in_w = int32_t(s.w), c.in_h = int32_t(s.h), c.in_c = int32_t(s.c);
      c.out_w = int32_t(s.q), c.out_h = int32_t(s.p), c.out_c = int32_t(s.k);
      L.samples = std::max<uint64_t>(1, s.n);
    } else {
      c.kind = Connection::Kind::full;
      c.in_c = int32_t(op.gemm.k), c.out_c = int32_t(op.gemm.n);
      L.samples = op.gemm.m * op.gemm.batch;  // every token of every sample
    }
    L.w = c.out_w, L.h = c.out_h, L.c = c.out_c;
    if (op.out_mask.active()) L.out_density = op.out_mask.density;
    if (L.from == 0) size_input(map.layers[0], c, L.samples, P, no);
    held.write(op, int(map.layers.size()));
    map.owner[op.layer] = int(map.layers.size());
    if (uint64_t(L.w) > P) {
      no.need("cluster.elements", uint64_t(L.w), op.layer);  // a row of neurons must fit one cluster
      map.layers.push_back(L);
      continue;
    }
    tile_layer(L, P);
    const uint64_t fan_in =
        c.kind == Connection::Kind::conv ? uint64_t(c.in_c) * c.kernel_w * c.kernel_h : uint64_t(c.in_c);
    L.weight_bytes_per_cluster =
        uint64_t(L.ch_per) * fan_in * bytes * (c.kind == Connection::Kind::conv ? 1 : uint64_t(L.rows_per) * L.w);
    if (op.weight_density < 1) {  // a compact weight: its kept values, and its index shared out over the tiles
      L.weight_density = op.weight_density;
      L.weight_bytes_per_cluster = uint64_t(std::ceil(double(L.weight_bytes_per_cluster) * op.weight_density)) +
                                   (op.weight_index_bytes + L.boxes.size() - 1) / std::max<size_t>(1, L.boxes.size());
    }
    no.need("cluster.sram_kib", 2 * L.weight_bytes_per_cluster, op.layer);  // weights + weight gradients
    map.layers.push_back(L);
  }
  if (!any_layer && no.by_key.empty()) no.add("mode", "the workload has no gemm or conv layer to map");
  // A layer's backward messages are sent for every sample its forward mapped: a dX that runs
  // for fewer samples (confidence_skip's skipped samples) is not what the mesh would send.
  std::map<std::string, uint64_t> forward_samples;
  auto samples = [](const workload::Op& op) { return op.conv.n ? op.conv.n : op.gemm.m; };
  for (const workload::Op& op : g.ops) {
    const bool gemm = (op.kind == workload::OpKind::gemm || op.kind == workload::OpKind::conv) && op.gemm.batch == 1;
    if (gemm && op.phase == workload::Phase::forward) forward_samples.emplace(op.layer, samples(op));
    const auto f = forward_samples.find(op.layer);
    if (gemm && op.phase == workload::Phase::backward_data && f != forward_samples.end() && samples(op) < f->second)
      no.add("mode", "op '" + op.name +
                         "' runs for fewer samples than its forward (a policy skipped samples' "
                         "backward); the mesh sends a layer's backward messages for every sample its forward mapped");
  }
  no.limit("cluster.elements", P, "neurons in one row of a layer (a row must fit one cluster's elements)");
  if (!no.by_key.empty()) {  // layers are missing: the checks below need all of them
    no.limit("cluster.sram_kib", spec.cluster.sram_bytes, "bytes per cluster (weights + weight gradients)");
    no.throw_if_any();
  }
  // Clusters in row-major order, one layer per cluster; a join's sum stays on its
  // residual branch's clusters.
  unsigned next = 0;
  for (MappedLayer& L : map.layers) {
    if (L.join()) {
      L.clusters = map.layers[size_t(L.shares)].clusters;
      continue;
    }
    for (size_t t = 0; t < L.boxes.size(); ++t) L.clusters.push_back(uint16_t(next + t));
    next += unsigned(L.boxes.size());
  }
  map.clusters_used = next;
  if (next > spec.noc.nodes())
    no.add("cols", "the layers need " + std::to_string(next) + " clusters of " + std::to_string(P) +
                       " elements; the mesh has " + std::to_string(spec.noc.nodes()));
  control_entries(map, no);
  no.limit("cluster.sram_kib", spec.cluster.sram_bytes, "bytes per cluster (weights + weight gradients)");
  no.limit("cluster.max_control_entries", spec.cluster.max_control_entries, "control-store entries per cluster");
  no.throw_if_any();
  routing_tables(map);
  return map;
}

}  // namespace bpsim::mesh
