#include "models/mesh/mapper.h"

#include <algorithm>

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

/// Splits a layer into boxes of whole rows × a channel group that fit in P elements.
void tile_layer(MappedLayer& L, unsigned P, const config::Values* where) {
  if (uint64_t(L.w) > P)
    throw fail(where, "cluster.elements", "layer '" + L.name + "' has rows of " + std::to_string(L.w) +
                                              " neurons; a cluster of " + std::to_string(P) + " elements cannot hold one row");
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

Mapping map_graph(const workload::OpGraph& g, const MeshSpec& spec, const config::Values* where) {
  Mapping map;
  const unsigned P = spec.cluster.elements;
  const uint64_t bytes = std::max(1u, workload::dtype_bits(g.dtype) / 8);
  for (const workload::Op& op : g.ops) {
    if (!is_layer_op(op)) {
      // A ReLU (or any masked forward op) after a layer sets that layer's output density.
      if (op.phase == workload::Phase::forward && op.out_mask.active() && map.layers.size() > 1)
        map.layers.back().out_density = op.out_mask.density;
      continue;
    }
    MappedLayer L;
    L.name = op.layer;
    Connection& c = L.conn;
    if (op.kind == workload::OpKind::conv) {
      const workload::ConvShape& s = op.conv;
      if (s.groups != 1) throw fail(where, "mode", "layer '" + op.layer + "': grouped convolutions are not mapped");
      c.kind = Connection::Kind::conv;
      c.stride = int32_t(s.stride), c.kernel_w = int32_t(s.s), c.kernel_h = int32_t(s.r), c.pad = int32_t(s.pad);
      c.in_w = int32_t(s.w), c.in_h = int32_t(s.h), c.in_c = int32_t(s.c);
      c.out_w = int32_t(s.q), c.out_h = int32_t(s.p), c.out_c = int32_t(s.k);
    } else {
      c.kind = Connection::Kind::full;
      c.in_c = int32_t(op.gemm.k), c.out_c = int32_t(op.gemm.n);
    }
    L.w = c.out_w, L.h = c.out_h, L.c = c.out_c;
    if (op.out_mask.active()) L.out_density = op.out_mask.density;
    if (map.layers.empty()) {
      MappedLayer in;
      in.name = "input";
      in.w = c.in_w, in.h = c.in_h, in.c = c.in_c;
      in.out_density = spec.input_density;
      tile_layer(in, P, where);
      map.layers.push_back(in);
    }
    tile_layer(L, P, where);
    const uint64_t fan_in = c.kind == Connection::Kind::conv ? uint64_t(c.in_c) * c.kernel_w * c.kernel_h : uint64_t(c.in_c);
    L.weight_bytes_per_cluster = uint64_t(L.ch_per) * fan_in * bytes * (c.kind == Connection::Kind::conv ? 1 : uint64_t(L.rows_per) * L.w);
    if (2 * L.weight_bytes_per_cluster > spec.cluster.sram_bytes)
      throw fail(where, "cluster.sram_kib", "layer '" + op.layer + "' needs " + std::to_string(2 * L.weight_bytes_per_cluster) +
                                                " bytes per cluster (weights + weight gradients); the SRAM holds " +
                                                std::to_string(spec.cluster.sram_bytes));
    map.layers.push_back(L);
  }
  if (map.layers.empty()) throw fail(where, "mode", "the workload has no gemm or conv layer to map");
  // Clusters in row-major order, one layer per cluster.
  unsigned next = 0;
  for (MappedLayer& L : map.layers) {
    for (size_t t = 0; t < L.boxes.size(); ++t) L.clusters.push_back(uint16_t(next + t));
    next += unsigned(L.boxes.size());
  }
  map.clusters_used = next;
  if (next > spec.noc.nodes())
    throw fail(where, "cols", "the layers need " + std::to_string(next) + " clusters of " + std::to_string(P) +
                                  " elements; the mesh has " + std::to_string(spec.noc.nodes()));
  // Control store: one entry per destination cluster of the next layer (forward) and of
  // the previous layer (backward). A per-neuron table lists each neuron's destinations.
  for (size_t m = 0; m < map.layers.size(); ++m) {
    const MappedLayer& L = map.layers[m];
    const size_t fwd = m + 1 < map.layers.size() ? map.layers[m + 1].boxes.size() : 0;
    const size_t bwd = m > 0 ? map.layers[m - 1].boxes.size() : 0;
    if (fwd + bwd > spec.cluster.max_control_entries)
      throw fail(where, "cluster.max_control_entries", "layer '" + L.name + "' needs " + std::to_string(fwd + bwd) +
                                                           " control-store entries per cluster; the store holds " +
                                                           std::to_string(spec.cluster.max_control_entries));
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
            const Box r = same ? forward_range(N.conn, x, y, ch) : forward_range(N.conn, x * N.conn.in_w / L.w, y * N.conn.in_h / L.h, 0);
            for (const Box& b : N.boxes) dests += !r.intersect(b).empty();
          }
          if (bwd) {
            const Box r = backward_range(L.conn, x, y, ch);
            for (size_t t = 0; t < map.layers[m - 1].boxes.size(); ++t) dests += !r.intersect(map.input_space_box(m, t)).empty();
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
