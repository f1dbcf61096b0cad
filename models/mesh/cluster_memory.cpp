#include "models/mesh/cluster_memory.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/core/enum_names.h"
#include "sim/core/int_math.h"
#include "sim/memory/memory_system.h"

namespace bpsim::mesh {

namespace {

using workload::Op;
using workload::Phase;
using workload::TensorRole;

constexpr uint64_t kAlign = 4096;  // spill regions start on a 4 KiB boundary, as placed tensors do

bool layer_kind(const Op& op) { return op.kind == workload::OpKind::gemm || op.kind == workload::OpKind::conv; }

/// The ops of one mapped layer that the memory account hangs on (-1: the graph has none).
struct LayerOps {
  int fwd = -1, dx = -1, dw = -1, update = -1, x_writer = -1;
  int64_t weight = -1, x = -1;  ///< tensor ids
  /// The feedback matrix B the dX reads instead of W^T (`<layer>.feedback`, feedback
  /// alignment: the workload's training.feedback), or -1: the dX reads W^T (transport).
  int64_t feedback = -1;
};

LayerOps find_ops(const workload::OpGraph& g, const std::string& name) {
  LayerOps o;
  for (const Op& op : g.ops) {
    if (op.layer != name || !layer_kind(op)) continue;
    if (op.phase == Phase::forward && o.fwd < 0) o.fwd = int(op.id);
    if (op.phase == Phase::backward_data && o.dx < 0) o.dx = int(op.id);
    if (op.phase == Phase::backward_weight && o.dw < 0) o.dw = int(op.id);
  }
  if (o.fwd >= 0)
    for (uint32_t t : g.ops[size_t(o.fwd)].reads)
      if (t < g.tensors.size() && g.tensors[t].role == TensorRole::weight) {
        o.weight = t;
        break;
      }
  for (const Op& op : g.ops)
    if (op.phase == Phase::update && !op.reads.empty() && int64_t(op.reads[0]) == o.weight) o.update = int(op.id);
  if (o.dx >= 0)
    for (uint32_t t : g.ops[size_t(o.dx)].reads)
      if (t < g.tensors.size() && g.tensors[t].name == name + ".feedback") o.feedback = t;
  if (o.dw >= 0 && !g.ops[size_t(o.dw)].reads.empty() && g.ops[size_t(o.dw)].reads[0] < g.tensors.size()) {
    o.x = g.ops[size_t(o.dw)].reads[0];  // dW = X^T·dY reads X first
    // X is written when it is produced: by its latest writer before the dW (a recompute
    // under a checkpointing policy), else it arrives with the layer's forward (the input).
    for (const Op& op : g.ops) {
      if (int(op.id) >= o.dw) break;
      if (std::find(op.writes.begin(), op.writes.end(), uint32_t(o.x)) != op.writes.end()) o.x_writer = int(op.id);
    }
    if (o.x_writer < 0) o.x_writer = o.fwd;
  }
  return o;
}

/// Input rows a conv tile's output rows [lo, hi] read: its share of the stored input.
uint64_t input_rows(const Connection& c, const Box& b) {
  const int32_t lo = std::max(0, b.lo[1] * c.stride - c.pad);
  const int32_t hi = std::min(c.in_h - 1, b.hi[1] * c.stride - c.pad + c.kernel_h - 1);
  return hi >= lo ? uint64_t(hi - lo + 1) : 0;
}

/// Spills `over` bytes of `from` (at most all of it) into `to`; returns what is left over.
uint64_t spill(uint64_t over, uint64_t& from, uint64_t& to) {
  const uint64_t take = std::min(over, from);
  from -= take, to += take;
  return over - take;
}

}  // namespace

ClusterBytes& ClusterBytes::operator+=(const ClusterBytes& o) {
  weights += o.weights, weight_grads += o.weight_grads, optimizer += o.optimizer, saved += o.saved;
  backward_weights += o.backward_weights;
  return *this;
}

nlohmann::json ClusterBytes::to_json() const {
  return {{"weights", weights},    {"weight_gradients", weight_grads},     {"optimizer_state", optimizer},
          {"saved_inputs", saved}, {"backward_weights", backward_weights}, {"total", total()}};
}

ClusterMemory::ClusterMemory(const Mapping& map, const workload::OpGraph& g, const MeshSpec& spec)
    : m_map(map), m_spec(spec), m_elem_bytes(std::max(1u, workload::dtype_bits(g.dtype) / 8)) {
  const size_t n = map.layers.size();
  std::vector<LayerOps> ops(n);
  for (size_t m = 1; m < n; ++m) {
    ops[m] = find_ops(g, map.layers[m].name);
    if (ops[m].feedback >= 0) m_backward_weights = BackwardWeights::feedback_alignment;
  }
  // W^T of each weight layer m at its producer's tiles (layers[m].from), in rows hosted: a
  // full connection's input-space neurons there, a convolution's input channels there (its
  // filters are shared over positions). A producer feeding several layers (a fork) holds each.
  const auto has_wt = [&](size_t m) {
    const MappedLayer& L = map.layers[m];
    return m > 0 && ops[m].dx >= 0 && !L.join() && !L.attention() &&
           (L.conn.kind == Connection::Kind::full || L.conn.kind == Connection::Kind::conv);
  };
  m_bw_units.assign(n, {});
  for (size_t m = 1; m < n; ++m) {
    if (!has_wt(m)) continue;  // no backward message through weights into the producer
    const size_t p = size_t(map.layers[m].from);
    m_bw_units[m].assign(map.layers[p].boxes.size(), 0);
    const Connection& c = map.layers[m].conn;
    if (c.kind == Connection::Kind::full) {
      for (int32_t ch = 0; ch < c.in_c; ++ch)
        for (int32_t y = 0; y < c.in_h; ++y)
          for (int32_t x = 0; x < c.in_w; ++x) ++m_bw_units[m][map.host_tile(m, x, y, ch)];
    } else {
      for (size_t t = 0; t < m_bw_units[m].size(); ++t) {
        const Box b = map.input_space_box(m, t);
        m_bw_units[m][t] = b.hi[2] >= b.lo[2] ? uint64_t(b.hi[2] - b.lo[2] + 1) : 0;
      }
    }
  }
  const auto per_unit = [&](size_t m) {  // bytes of layer m's W^T per hosted row: every output (× its kernel)
    const Connection& c = map.layers[m].conn;
    const uint64_t k = c.kind == Connection::Kind::conv ? uint64_t(c.kernel_w) * uint64_t(c.kernel_h) : 1;
    const uint64_t wt = uint64_t(c.out_c) * k * m_elem_bytes;
    if (ops[m].feedback < 0) return wt;
    // Feedback alignment: B has W^T's shape in its own dtype (its bytes over W's), and a B
    // regenerated from its seed at each dX is not stored (a workspace tensor in the graph).
    const workload::Tensor& b = g.tensors[size_t(ops[m].feedback)];
    if (b.role != TensorRole::weight || ops[m].weight < 0) return uint64_t(0);
    const uint64_t w = g.tensors[size_t(ops[m].weight)].bytes;
    return w ? uint64_t(static_cast<unsigned __int128>(wt) * b.bytes / w) : uint64_t(0);
  };
  // Per producer tile: the W^T bytes of every consumer (all of them, and those refreshed).
  std::vector<std::vector<uint64_t>> bw(n), refreshed(n);
  for (size_t m = 0; m < n; ++m) bw[m].assign(map.layers[m].boxes.size(), 0), refreshed[m] = bw[m];
  for (size_t m = 1; m < n; ++m)
    for (size_t t = 0; t < m_bw_units[m].size(); ++t) {
      const size_t p = size_t(map.layers[m].from);
      bw[p][t] += m_bw_units[m][t] * per_unit(m);
      if (ops[m].update >= 0 && ops[m].feedback < 0) refreshed[p][t] += m_bw_units[m][t] * per_unit(m);
    }
  const uint64_t cap = spec.cluster.sram_bytes;
  m_layers.assign(n, {});
  std::vector<uint64_t> saved_addr(n), opt_addr(n), bw_addr(n);
  for (size_t m = 0; m < n; ++m) {
    const MappedLayer& L = map.layers[m];
    const LayerOps& o = ops[m];
    ClusterBytes base;
    if (m > 0) {
      base.weights = L.weight_bytes_per_cluster;
      base.weight_grads = o.dw >= 0 ? base.weights : 0;
      if (o.update >= 0) {  // the optimizer's state tensors, in proportion to the weights they follow
        uint64_t state = 0;
        for (uint32_t t : g.ops[size_t(o.update)].reads)
          if (t < g.tensors.size() && g.tensors[t].role == TensorRole::optimizer_state) state += g.tensors[t].bytes;
        const uint64_t wt = g.tensors[size_t(o.weight)].bytes;  // found among the forward op's reads
        base.optimizer = wt ? base.weights * state / wt : 0;
      }
    }
    LayerMemory& lm = m_layers[m];
    for (size_t t = 0; t < L.boxes.size(); ++t) {
      ClusterBytes c = base;
      if (o.x >= 0) {  // a full connection's outputs each read every input; a conv tile its rows'
        const uint64_t xb = g.tensors[size_t(o.x)].bytes;
        c.saved =
            L.conn.kind == Connection::Kind::full ? xb : xb / uint64_t(L.conn.in_h) * input_rows(L.conn, L.boxes[t]);
      }
      c.backward_weights = bw[m][t];
      if (c.total() > lm.need.total()) lm.need = c;
      lm.refresh_bytes += refreshed[m][t];
      ClusterBytes out;
      uint64_t over = c.total() > cap ? c.total() - cap : 0;
      over = spill(over, c.saved, out.saved);
      over = spill(over, c.optimizer, out.optimizer);
      over = spill(over, c.backward_weights, out.backward_weights);
      if (over)
        throw std::logic_error("mesh: weights and gradients of '" + L.name + "' passed the SRAM check but do not fit");
      lm.spilled += out;
      lm.spilled_max = std::max(lm.spilled_max, out.total());
    }
    saved_addr[m] = m_spill_total;
    opt_addr[m] = saved_addr[m] + align_up(lm.spilled.saved, kAlign);
    bw_addr[m] = opt_addr[m] + align_up(lm.spilled.optimizer, kAlign);
    m_spill_total = bw_addr[m] + align_up(lm.spilled.backward_weights, kAlign);
  }
  // The ops that move the spilled bytes: saved inputs written when produced and read by the
  // dW; optimizer state read and written by the update; a consumer's W^T (its share of its
  // producer's spilled W^T) read by its dX and, with transport, rewritten by its update's refresh.
  const auto add = [&](int op, bool write, uint64_t addr, uint64_t bytes) {
    if (op < 0 || !bytes) return;
    (write ? m_ops[uint32_t(op)].writes : m_ops[uint32_t(op)].reads).push_back({addr, bytes});
  };
  std::vector<uint64_t> bw_total(n, 0), bw_offset(n, 0);
  for (size_t m = 0; m < n; ++m)
    for (uint64_t b : bw[m]) bw_total[m] += b;
  for (size_t m = 1; m < n; ++m) {
    const LayerMemory& lm = m_layers[m];
    add(ops[m].x_writer, true, saved_addr[m], lm.spilled.saved);
    add(ops[m].dw, false, saved_addr[m], lm.spilled.saved);
    add(ops[m].update, false, opt_addr[m], lm.spilled.optimizer);
    add(ops[m].update, true, opt_addr[m], lm.spilled.optimizer);
    if (m_bw_units[m].empty()) continue;
    const size_t p = size_t(map.layers[m].from);
    uint64_t mine = 0;  // this consumer's part of the producer's W^T
    for (uint64_t u : m_bw_units[m]) mine += u * per_unit(m);
    const uint64_t spilled = m_layers[p].spilled.backward_weights;
    const uint64_t share = bw_total[p] ? uint64_t(static_cast<unsigned __int128>(spilled) * mine / bw_total[p]) : 0;
    const uint64_t addr = bw_addr[p] + bw_offset[p];
    bw_offset[p] += share;
    add(ops[m].dx, false, addr, share);
    if (ops[m].feedback < 0 && ops[m].update >= 0) {
      m_ops[uint32_t(ops[m].update)].refresh_layer = int(m);
      add(ops[m].update, true, addr, share);
    }
  }
}

const OpMemoryTraffic* ClusterMemory::traffic_of(uint32_t id) const {
  const auto it = m_ops.find(id);
  return it == m_ops.end() ? nullptr : &it->second;
}

uint64_t ClusterMemory::send_refresh(size_t m, NocModel& net, uint64_t start) const {
  const MappedLayer& src = m_map.layers[m];
  const MappedLayer& dst = m_map.layers[size_t(src.from)];
  const Connection& c = src.conn;
  const uint64_t k = c.kind == Connection::Kind::conv ? uint64_t(c.kernel_w) * uint64_t(c.kernel_h) : 1;
  const uint64_t header = m_spec.cluster.header_bytes, flit = m_spec.noc.flit_bytes;
  std::vector<uint16_t> one(1);
  uint64_t sent = 0;
  // Tiles of one channel group hold the same filters: they take the destinations in turn.
  const size_t group = size_t(src.tiles_y);
  for (size_t g = 0; g < src.boxes.size(); g += group) {
    const uint64_t channels = uint64_t(src.boxes[g].hi[2]) - uint64_t(src.boxes[g].lo[2]) + 1;
    for (size_t t = 0; t < dst.boxes.size(); ++t) {
      const size_t s = std::min(src.boxes.size() - 1, g + t % group);
      uint64_t bytes = m_bw_units[m][t] * channels * k * m_elem_bytes;
      sent += bytes;
      one[0] = dst.clusters[t];
      while (bytes) {
        const uint64_t payload = std::min(bytes, kRefreshPayloadBytes);
        net.send(src.clusters[s], one, unsigned((header + payload + flit - 1) / flit), start, 0);
        bytes -= payload;
      }
    }
  }
  return sent;
}

void ClusterMemory::run_op(const workload::Op& op, NocModel& net, uint64_t start, OpRecord& rec) const {
  const OpMemoryTraffic* t = traffic_of(op.id);
  if (!t) return;
  if (t->refresh_layer > 0) {
    // The new weights go out once the update has computed them; the op ends when they land.
    const uint64_t sent = send_refresh(size_t(t->refresh_layer), net, start + rec.cycles);
    const uint64_t end = net.drain();
    rec.cycles = std::max(rec.cycles, end > start ? end - start : 0);
    rec.onchip_read_bytes += sent;  // read at the senders, written at the receivers
    rec.onchip_write_bytes += sent;
    rec.extra["refresh_bytes"] = sent;
  }
  if (t->reads.empty() && t->writes.empty()) return;
  if (!m_mem) throw std::logic_error("mesh: cluster memory spills but no DRAM device is bound");
  time_spill(*t, *m_mem, m_spec.clock_ghz, start, rec);
}

nlohmann::json ClusterMemory::report() const {
  nlohmann::json layers = nlohmann::json::array();
  uint64_t spilled = 0;
  for (size_t m = 0; m < m_layers.size(); ++m) {
    const LayerMemory& lm = m_layers[m];
    if (lm.need.total() == 0) continue;  // the network input, when no backward reaches it
    spilled += lm.spilled.total();
    layers.push_back({{"layer", m_map.layers[m].name},
                      {"clusters", m_map.layers[m].clusters.size()},
                      {"largest_cluster", lm.need.to_json()},
                      {"spilled", lm.spilled.to_json()},
                      {"spilled_per_cluster_max", lm.spilled_max},
                      {"refresh_bytes", lm.refresh_bytes}});
  }
  return {{"sram_bytes_per_cluster", m_spec.cluster.sram_bytes},
          {"backward_weights", config::enum_name(kBackwardWeightsNames, m_backward_weights)},
          {"spilled_bytes", spilled},
          {"layers", layers}};
}

void time_spill(const OpMemoryTraffic& t, memory::MemorySystem& mem, double clock_ghz, uint64_t start_cycle,
                OpRecord& rec) {
  const double period_ps = 1000.0 / clock_ghz;
  const auto to_cycles = [&](uint64_t ps) { return uint64_t(std::ceil(double(ps) / period_ps - 1e-9)); };
  const uint64_t t0 = uint64_t(std::llround(double(start_cycle) * period_ps));
  uint64_t end = t0, read = 0, written = 0;
  for (const SpillTransfer& r : t.reads) end = mem.transfer(r.addr, r.bytes, false, end), read += r.bytes;
  const uint64_t compute = rec.cycles;
  const uint64_t read_cycles = to_cycles(end - t0);
  end = t0 + uint64_t(std::llround(double(read_cycles + compute) * period_ps));
  for (const SpillTransfer& w : t.writes) end = mem.transfer(w.addr, w.bytes, true, end), written += w.bytes;
  rec.cycles = std::max(read_cycles + compute, to_cycles(end - t0));
  rec.onchip_write_bytes += read;  // staged into the cluster SRAM
  rec.onchip_read_bytes += written;
  rec.extra["spill_stall_cycles"] = rec.cycles - compute;
  rec.stall_cycles = rec.cycles - compute;  // the clusters wait for spilled operands
}

}  // namespace bpsim::mesh
