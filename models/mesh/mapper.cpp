#include "models/mesh/mapper.h"

#include <algorithm>
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

size_t Mapping::host_tile(size_t m, int32_t x, int32_t y, int32_t ch) const {
  const MappedLayer& prev = layers[m - 1];
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
  const MappedLayer& prev = layers[m - 1];
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

/// The forward chain the mesh maps: each layer reads the previous layer's output, through
/// single-input ops (activations, pooling, normalisation). A branch, a residual join or
/// an activation-by-activation product (attention) is not a chain of weight layers.
class ChainCheck {
 public:
  /// A forward op; returns why it breaks the chain ("" when it does not).
  std::string visit(const workload::Op& op, const workload::OpGraph& g, bool layer) {
    if (op.reads.empty())  // a trace may leave reads out: then a chain cannot be told from a branch
      return "op '" + op.name +
             "' names no tensors it reads, so the mesh cannot check that the layers form a chain "
             "(list its reads and writes)";
    std::vector<uint32_t> acts;  // activations read (weights and what is made of them are local)
    for (uint32_t t : op.reads)
      if (!weight_like(t, g)) acts.push_back(t);
    if (acts.empty()) {  // made of weights alone (a binarised weight): local to the layer too
      for (uint32_t t : op.writes) m_weights.insert(t);
      return "";
    }
    const auto on_chain = [&](uint32_t t) { return m_chain.empty() || m_chain.count(t); };
    size_t on = 0;
    for (uint32_t t : acts) on += on_chain(t);
    std::string why;
    if (layer && acts.size() > 1)
      why = "layer '" + op.layer + "' multiplies two activations (" + op.name +
            ", e.g. attention's QK^T or PV); the mesh maps layers whose second operand is a weight";
    else if (layer && on == 0)
      why = "layer '" + op.layer + "' does not read the previous layer's output (a branch: " + op.name + ")";
    else if (on > 0 && on < acts.size()) why = "op '" + op.name + "' joins two branches (a residual or concatenation)";
    if (layer || on > 0) {
      if (layer) m_chain.clear();
      for (uint32_t t : op.writes) m_chain.insert(t);
    }
    if (layer && m_chain.empty()) m_chain.insert(UINT32_MAX);  // a layer without outputs named
    return why;
  }

 private:
  bool weight_like(uint32_t t, const workload::OpGraph& g) const {
    return (t < g.tensors.size() && g.tensors[t].role == workload::TensorRole::weight) || m_weights.count(t);
  }
  std::set<uint32_t> m_chain;    ///< tensors derived from the last layer's output
  std::set<uint32_t> m_weights;  ///< tensors derived from weights alone
};

}  // namespace

Mapping map_graph(const workload::OpGraph& g, const MeshSpec& spec, const config::Values* where) {
  Mapping map;
  Refusals no{where, {}, {}};
  ChainCheck chain;
  const unsigned P = spec.cluster.elements;
  const uint64_t bytes = std::max(1u, workload::dtype_bits(g.dtype) / 8);
  for (const workload::Op& op : g.ops) {
    if (op.phase != workload::Phase::forward) continue;
    const bool layer = is_layer_op(op);
    if (op.kind == workload::OpKind::xnor_gemm)
      no.add("mode", "layer '" + op.layer +
                         "' is binary (XNOR-popcount); the mesh's elements are multiply-accumulate "
                         "units with no binary mode");
    const std::string why = chain.visit(op, g, layer);
    if (!why.empty()) no.add("mode", why);
    if (!layer) {
      // A ReLU or dropout after a layer thins that layer's outputs: zeros send nothing.
      if (op.out_mask.active() && map.layers.size() > 1) map.layers.back().out_density *= op.out_mask.density;
      continue;
    }
    MappedLayer L;
    L.name = op.layer;
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
    if (map.layers.empty()) {
      MappedLayer in;
      in.name = "input";
      in.w = c.in_w, in.h = c.in_h, in.c = c.in_c;
      in.out_density = spec.input_density;
      in.samples = L.samples;
      if (uint64_t(in.w) > P) no.need("cluster.elements", uint64_t(in.w), in.name);
      else tile_layer(in, P);
      map.layers.push_back(in);
    }
    if (uint64_t(L.w) > P) {
      no.need("cluster.elements", uint64_t(L.w), op.layer);  // a row of neurons must fit one cluster
      continue;
    }
    tile_layer(L, P);
    const uint64_t fan_in =
        c.kind == Connection::Kind::conv ? uint64_t(c.in_c) * c.kernel_w * c.kernel_h : uint64_t(c.in_c);
    L.weight_bytes_per_cluster =
        uint64_t(L.ch_per) * fan_in * bytes * (c.kind == Connection::Kind::conv ? 1 : uint64_t(L.rows_per) * L.w);
    no.need("cluster.sram_kib", 2 * L.weight_bytes_per_cluster, op.layer);  // weights + weight gradients
    map.layers.push_back(L);
  }
  if (map.layers.empty() && no.by_key.empty()) no.add("mode", "the workload has no gemm or conv layer to map");
  no.limit("cluster.elements", P, "neurons in one row of a layer (a row must fit one cluster's elements)");
  if (!no.by_key.empty()) {  // layers are missing: the checks below need all of them
    no.limit("cluster.sram_kib", spec.cluster.sram_bytes, "bytes per cluster (weights + weight gradients)");
    no.throw_if_any();
  }
  // Clusters in row-major order, one layer per cluster.
  unsigned next = 0;
  for (MappedLayer& L : map.layers) {
    for (size_t t = 0; t < L.boxes.size(); ++t) L.clusters.push_back(uint16_t(next + t));
    next += unsigned(L.boxes.size());
  }
  map.clusters_used = next;
  if (next > spec.noc.nodes())
    no.add("cols", "the layers need " + std::to_string(next) + " clusters of " + std::to_string(P) +
                       " elements; the mesh has " + std::to_string(spec.noc.nodes()));
  // Control store: one entry per destination cluster of the next layer (forward) and of
  // the previous layer (backward).
  const auto fwd_entries = [&](size_t m) { return m + 1 < map.layers.size() ? map.layers[m + 1].boxes.size() : 0; };
  const auto bwd_entries = [&](size_t m) { return m > 0 ? map.layers[m - 1].boxes.size() : 0; };
  for (size_t m = 0; m < map.layers.size(); ++m)
    no.need("cluster.max_control_entries", fwd_entries(m) + bwd_entries(m), map.layers[m].name);
  no.limit("cluster.sram_kib", spec.cluster.sram_bytes, "bytes per cluster (weights + weight gradients)");
  no.limit("cluster.max_control_entries", spec.cluster.max_control_entries, "control-store entries per cluster");
  no.throw_if_any();
  // A per-neuron table instead would list each neuron's destinations.
  for (size_t m = 0; m < map.layers.size(); ++m) {
    const MappedLayer& L = map.layers[m];
    const size_t fwd = fwd_entries(m), bwd = bwd_entries(m);
    const uint64_t cs = (fwd + bwd) * ControlEntry::kBytes;
    map.control_store_bytes_max = std::max(map.control_store_bytes_max, cs);
    map.control_store_bytes_total += cs * L.boxes.size();
    std::vector<uint64_t> table(L.boxes.size(), 0);
    for (int32_t ch = 0; ch < L.c; ++ch)
      for (int32_t y = 0; y < L.h; ++y)
        for (int32_t x = 0; x < L.w; ++x) {
          uint64_t dests = 0;
          if (fwd) {
            // This neuron, seen from the next layer's input space (same coordinates unless
            // pooled or flattened in between: then count the host's whole fan-out).
            const MappedLayer& N = map.layers[m + 1];
            const bool same = N.conn.in_w == L.w && N.conn.in_h == L.h && N.conn.in_c == L.c;
            const Box r = same ? forward_range(N.conn, x, y, ch)
                               : forward_range(N.conn, x * N.conn.in_w / L.w, y * N.conn.in_h / L.h, 0);
            for (const Box& b : N.boxes) dests += !r.intersect(b).empty();
          }
          if (bwd) {
            const Box r = backward_range(L.conn, x, y, ch);
            for (size_t t = 0; t < map.layers[m - 1].boxes.size(); ++t)
              dests += !r.intersect(map.input_space_box(m, t)).empty();
          }
          table[L.tile_of(x, y, ch)] += dests * 2;  // 2-byte cluster id per destination
        }
    for (uint64_t b : table) {
      map.routing_table_bytes_max = std::max(map.routing_table_bytes_max, b);
      map.routing_table_bytes_total += b;
    }
  }
  return map;
}

}  // namespace bpsim::mesh
