#include "models/mesh/trainer.h"

#include <algorithm>
#include <cmath>

#include "models/mesh/mesh_actions.h"
#include "sim/core/int_math.h"

namespace bpsim::mesh {

namespace {

/// Adds `v` to the op's per-op figure `key` (an op can carry messages of several kinds).
void add_extra(OpRecord& rec, const char* key, uint64_t v) { rec.extra[key] = rec.extra.value(key, uint64_t(0)) + v; }

/// Σ over output positions of a window's in-bounds taps along one axis: the taps that do
/// not read zero padding.
uint64_t valid_taps(int32_t out, int32_t in, int32_t kernel, int32_t stride, int32_t pad) {
  uint64_t n = 0;
  for (int32_t o = 0; o < out; ++o) {
    const int32_t lo = o * stride - pad;
    n += uint64_t(std::max(0, std::min(in, lo + kernel) - std::max(0, lo)));
  }
  return n;
}

/// MACs of a convolution that multiply zero padding (per sample): an im2col GEMM issues
/// them, the mesh has no neuron to send them. K·C·(P·Q·R·S − valid rows · valid columns).
uint64_t padding_macs(const Connection& c) {
  if (c.kind != Connection::Kind::conv || c.pad == 0) return 0;
  const uint64_t all = uint64_t(c.out_w) * uint64_t(c.out_h) * uint64_t(c.kernel_w) * uint64_t(c.kernel_h);
  const uint64_t valid = valid_taps(c.out_w, c.in_w, c.kernel_w, c.stride, c.pad) *
                         valid_taps(c.out_h, c.in_h, c.kernel_h, c.stride, c.pad);
  return uint64_t(c.out_c) * uint64_t(c.in_c) * (all - valid);
}
}  // namespace

Trainer::Trainer(const MeshSpec& spec, const Mapping& map, const workload::OpGraph& g, uint64_t seed, RtlRouter* rtl)
    : m_spec(spec),
      m_map(map),
      m_sram(cluster_sram(spec.cluster)),
      m_noc(make_noc_model(spec.noc, seed)),
      m_net(*m_noc),
      m_rng(seed),
      m_rtl(rtl) {
  m_bytes = std::max(1u, workload::dtype_bits(g.dtype) / 8);
  m_msg_flits = message_flits(spec, m_bytes);
  m_net.set_sink([this](uint32_t, uint32_t, uint64_t create, uint64_t arrive) {
    m_lat_sum += arrive - create;
    ++m_deliveries;
  });
}

uint64_t Trainer::send_layer_messages(size_t m, bool backward, OpRecord& rec) {
  const MappedLayer& L = m_map.layers[m];
  const MappedLayer& prev = m_map.layers[size_t(L.from)];
  const Connection& c = L.conn;
  const bool identity = c.kind == Connection::Kind::identity;
  // Forward: layer m's input space fires into layer m's tiles; backward: layer m's
  // outputs fire gradients into its producer's tiles (in m's input space).
  const int32_t sw = backward ? L.w : c.in_w, sh = backward ? L.h : c.in_h, sc = backward ? L.c : c.in_c;
  const double density = backward ? L.out_density : prev.out_density;
  const MappedLayer& dst = backward ? prev : L;
  std::vector<Box> boxes(dst.boxes.size());
  for (size_t t = 0; t < boxes.size(); ++t) boxes[t] = backward ? m_map.input_space_box(m, t) : L.boxes[t];
  const bool full_back = backward && c.kind == Connection::Kind::full;
  // A full connection reaches every input neuron: the MACs of tile t are the input-space
  // neurons it hosts (its box, unless a flatten reorders them: then counted one by one).
  std::vector<uint64_t> hosted(boxes.size(), 0);
  if (full_back) {
    const bool flatten = !(prev.c == c.in_c && prev.w >= c.in_w && prev.h >= c.in_h);
    if (flatten) {
      for (int32_t ch = 0; ch < c.in_c; ++ch)
        for (int32_t y = 0; y < c.in_h; ++y)
          for (int32_t x = 0; x < c.in_w; ++x) ++hosted[m_map.host_tile(m, x, y, ch)];
    } else {
      for (size_t t = 0; t < boxes.size(); ++t) hosted[t] = boxes[t].volume();
    }
  }
  const uint64_t entries = boxes.size();
  const uint64_t gen_cycles = logic_cycles(entries, m_spec.cluster.range_units);
  // backend: rtl — the layer's control store (the same in every source cluster).
  std::vector<ControlEntry> store;
  if (m_rtl) {
    for (size_t t = 0; t < boxes.size(); ++t) {
      ControlEntry e;
      e.dest_cluster = dst.clusters[t];
      e.dest_box = boxes[t];
      e.conn = c;
      store.push_back(e);
    }
    m_rtl->load(store, m_spec.noc.cols);
  }
  std::vector<uint64_t> gen(m_spec.noc.nodes(), m_time), macs(boxes.size(), 0);
  std::bernoulli_distribution fire(density);
  // Pruned synapses (a compact weight): a tile of v destination neurons holds none of the
  // source's kept synapses with probability (1 − δ)^v and then gets no message; the MACs of
  // the pruned synapses are skipped where the message lands (the index is in its SRAM).
  const double wd = L.weight_density;
  const auto reaches = [&](uint64_t v) {
    return wd >= 1.0 || std::bernoulli_distribution(1.0 - std::pow(1.0 - wd, double(v)))(m_rng);
  };
  std::vector<uint16_t> dests, one(1);
  uint64_t fired = 0, msgs = 0, silent_macs = 0;
  // A source neuron's destinations (tile, neurons of the range there) from the C++ logic
  // module. For a conv or full connection the range depends on (x, y) alone, so each
  // column's list is worked out once; an identity reaches the one tile holding (x, y, ch).
  using Hits = std::vector<std::pair<uint32_t, uint64_t>>;
  const bool heads = c.kind == Connection::Kind::heads;  // the range depends on the channel (w = h = 1)
  std::vector<Hits> column(identity ? 0 : heads ? size_t(sc) : size_t(sw) * size_t(sh));
  std::vector<char> known(column.size(), 0);
  Hits point(1);
  const auto hits = [&](int32_t x, int32_t y, int32_t ch) -> const Hits& {
    if (identity) {
      point[0] = {uint32_t(backward ? m_map.host_tile(m, x, y, ch) : L.tile_of(x, y, ch)), 1};
      return point;
    }
    const size_t k = heads ? size_t(ch) : size_t(y) * size_t(sw) + size_t(x);
    if (!known[k]) {
      known[k] = 1;
      const Box r = backward ? backward_range(c, x, y, ch) : forward_range(c, x, y, ch);
      for (size_t t = 0; t < boxes.size(); ++t) {
        // Does the range reach entry t's box, and how many of its neurons? (A full
        // connection's backward reaches every destination with its hosted neurons.)
        const uint64_t volume = r.intersect(boxes[t]).volume();
        const uint64_t v = full_back ? hosted[t] : volume;
        if (v) column[k].emplace_back(uint32_t(t), v);
      }
    }
    return column[k];
  };
  const auto worth = [&](int32_t x, int32_t y, int32_t ch) {
    if (full_back) return uint64_t(c.in_w) * uint64_t(c.in_h) * uint64_t(c.in_c);  // every input neuron
    uint64_t v = 0;
    for (const auto& h : hits(x, y, ch)) v += h.second;
    return v;
  };
  for (uint64_t b = 0; b < L.samples; ++b)  // every token of every sample
    for (int32_t ch = 0; ch < sc; ++ch)
      for (int32_t y = 0; y < sh; ++y)
        for (int32_t x = 0; x < sw; ++x) {
          if (heads && hits(x, y, ch).empty()) continue;  // a K or V feature: delivered once (send_operands)
          if (density < 1.0 && !fire(m_rng)) {            // zero: nothing is sent, its MACs are skipped
            silent_macs += worth(x, y, ch);
            continue;
          }
          ++fired;
          const unsigned src = backward ? L.clusters[L.tile_of(x, y, ch)] : prev.clusters[m_map.host_tile(m, x, y, ch)];
          uint64_t logic = gen_cycles;
          dests.clear();
          if (m_rtl) {  // the range from the RTL router (backend: rtl)
            const RouterFiring f{backward, x, y, ch, uint16_t(src)};
            const RtlRouterRun run = m_rtl->run({f}, {0});
            m_rtl_stats.mismatches += !(run.results[0] == router_evaluate(store, m_spec.noc.cols, f));
            ++m_rtl_stats.firings;
            logic = run.timing.last[0] - run.timing.accept[0];
            m_rtl_stats.cycles += logic;
            for (size_t t = 0; t < boxes.size(); ++t) {
              if (!run.results[0].entries[t].hit) continue;
              const uint64_t v = full_back ? hosted[t] : run.results[0].entries[t].overlap.volume();
              if (!v) continue;
              macs[t] += v;
              if (reaches(v)) dests.push_back(dst.clusters[t]);
            }
          } else {
            for (const auto& [t, v] : hits(x, y, ch)) {
              macs[t] += v;
              if (reaches(v)) dests.push_back(dst.clusters[t]);
            }
          }
          gen[src] += logic;
          if (dests.empty()) continue;
          if (m_spec.multicast == Multicast::tree) {
            m_net.send(src, dests, m_msg_flits, gen[src], 0), ++msgs;
          } else {
            for (uint16_t d : dests) one[0] = d, m_net.send(src, one, m_msg_flits, gen[src], 0), ++msgs;
          }
        }
  m_messages += msgs;
  rec.actions[mesh_actions().range] += fired * entries;
  if (!identity) {  // a join's work is additions, not MACs
    const uint64_t padding = padding_macs(c) * L.samples;
    rec.macs_skipped = silent_macs + padding;
    if (silent_macs && padding) rec.skip_reason = "zero_activations, zero_padding";
    else if (rec.macs_skipped) rec.skip_reason = silent_macs ? "zero_activations" : "zero_padding";
  }
  add_extra(rec, "messages", msgs);
  add_extra(rec, "fired", fired);
  if (m_rtl) m_rtl_stats.edges = m_rtl->edges();
  uint64_t end = m_net.drain(), total = 0, pruned = 0;
  for (size_t t = 0; t < macs.size(); ++t) {
    const uint64_t kept = wd >= 1.0 ? macs[t] : uint64_t(std::llround(double(macs[t]) * wd));
    pruned += macs[t] - kept;
    total += kept;
    end = std::max(end, m_time + ceil_div(kept, m_spec.cluster.elements));
  }
  if (pruned) {
    rec.macs_skipped += pruned;
    rec.skip_reason += std::string(rec.skip_reason.empty() ? "" : ", ") + "zero_weights";
    add_extra(rec, "macs_zero_weights", pruned);
  }
  rec.cycles = std::max<uint64_t>(1, end - m_time);
  return total;
}

uint64_t Trainer::reduce_messages(const workload::Op& op, size_t m, OpRecord& rec) {
  const MappedLayer& L = m_map.layers[m];
  // The groups of tiles that share one row's statistics: a token's features lie across
  // every tile of a layer of w = h = 1 (layernorm, softmax: one reduction per token);
  // a channel's positions across the tiles of its channel group (batchnorm: one per step,
  // the batch summed locally first, carrying every channel of the group).
  std::vector<std::vector<uint16_t>> groups;
  uint64_t rounds = 1, values = 2;  // two sums per row: (Σx, Σx²), (Σdy, Σdy·x̂) or (max, Σe^x)
  if (L.attention() && L.conn.group_out == L.keys) {  // softmax over each head's keys
    for (int32_t h = 0; h < L.heads; ++h) {
      groups.emplace_back();
      for (int32_t ch = h * L.keys; ch < (h + 1) * L.keys; ch += L.ch_per - (ch % L.ch_per)) {
        const uint16_t k = L.clusters[L.tile_of(0, 0, ch)];
        if (groups.back().empty() || groups.back().back() != k) groups.back().push_back(k);
      }
    }
    rounds = L.samples;
  } else if (L.w == 1 && L.h == 1) {
    groups.push_back(L.clusters);
    rounds = L.samples;
  } else {
    const size_t tiles_y = size_t(L.tiles_y);
    for (size_t t0 = 0; t0 < L.clusters.size(); t0 += tiles_y)
      groups.emplace_back(L.clusters.begin() + long(t0),
                          L.clusters.begin() + long(std::min(t0 + tiles_y, L.clusters.size())));
    values = 2 * uint64_t(L.ch_per);
  }
  // A weight gradient of a normalisation (batchnorm's dγ, dβ) is gathered only; the
  // forward and backward statistics go back to every tile of the group.
  const bool broadcast = op.phase != workload::Phase::backward_weight;
  // A message carries as many sums as fit one VC buffer (a tree multicast must): the
  // values are split over several messages when a channel group has many channels.
  const uint64_t room = uint64_t(m_spec.noc.buf_depth) * m_spec.noc.flit_bytes;
  const uint64_t per_msg =
      std::max<uint64_t>(1, (room - std::min(room, uint64_t(m_spec.cluster.header_bytes))) / m_bytes);
  std::vector<unsigned> chunks;  // flits of each message of one partial (or result)
  for (uint64_t v = 0; v < values; v += per_msg)
    chunks.push_back(unsigned(
        ceil_div(m_spec.cluster.header_bytes + std::min(per_msg, values - v) * m_bytes, m_spec.noc.flit_bytes)));
  uint64_t msgs = 0;
  std::vector<uint16_t> one(1);
  const uint64_t start = m_time;
  for (uint64_t r = 0; r < rounds; ++r)
    for (const auto& grp : groups) {
      if (grp.size() < 2) continue;
      one[0] = grp[0];
      for (size_t i = 1; i < grp.size(); ++i)
        for (unsigned flits : chunks) m_net.send(grp[i], one, flits, start, 0), ++msgs;
    }
  uint64_t end = std::max(start, m_net.drain());  // drain() is the last delivery, maybe an earlier op's
  if (broadcast) {
    std::vector<uint16_t> rest;
    for (uint64_t r = 0; r < rounds; ++r)
      for (const auto& grp : groups) {
        if (grp.size() < 2) continue;
        rest.assign(grp.begin() + 1, grp.end());
        for (unsigned flits : chunks) {
          if (m_spec.multicast == Multicast::tree) {
            m_net.send(grp[0], rest, flits, end, 0), ++msgs;
          } else {
            for (uint16_t d : rest) one[0] = d, m_net.send(grp[0], one, flits, end, 0), ++msgs;
          }
        }
      }
    end = std::max(end, m_net.drain());
  }
  m_messages += msgs;
  add_extra(rec, "messages", msgs);
  return end - start;
}

void Trainer::send_join_gradients(size_t at, OpRecord& rec) {
  // The add's backward has no op of its own: the gradient at the sum reaches the residual
  // branch in place and is routed to the skip branch's clusters with the first backward op
  // on the skip branch's producer (its gradient sum at a fork, or its own backward) or
  // below it. The network input needs no gradient.
  for (size_t i = 0; i < m_pending.size();) {
    const size_t j = m_pending[i];
    const int from = m_map.layers[j].from;
    if (from < int(at)) {
      ++i;
      continue;
    }
    m_pending.erase(m_pending.begin() + long(i));
    if (from <= 0) continue;
    const uint64_t t0 = m_time;
    OpRecord part;
    send_layer_messages(j, true, part);
    for (const auto& [k, v] : part.extra.items()) add_extra(rec, k.c_str(), v.get<uint64_t>());
    rec.actions += part.actions;
    m_time = t0 + part.cycles;
  }
}

uint64_t Trainer::send_operands(size_t m, bool backward, OpRecord& rec) {
  // Every key token's K (for QK^T) or V (for PV) row, one message per element, from the
  // QKV projection's neuron to the tile of the attention neuron that keeps it: score
  // neuron (h, j) keeps K[j, h, ·]; output neuron (h, d) keeps V[·, h, d]. Backward, dK
  // and dV go the other way. Once per sequence: the rows serve every query token.
  const MappedLayer& A = m_map.layers[m];
  const MappedLayer& S = m_map.layers[size_t(A.operand)];
  const bool scores = A.conn.group_out == A.keys;  // QK^T (else PV)
  std::vector<uint16_t> one(1);
  std::vector<uint64_t> gen(m_spec.noc.nodes(), m_time);
  const uint64_t gen_cycles = logic_cycles(backward ? S.boxes.size() : A.boxes.size(), m_spec.cluster.range_units);
  uint64_t msgs = 0;
  for (uint64_t b = 0; b < A.sequences; ++b)
    for (int32_t j = 0; j < A.keys; ++j)
      for (int32_t h = 0; h < A.heads; ++h)
        for (int32_t d = 0; d < A.head_dim; ++d) {
          const uint16_t at_qkv = S.clusters[S.tile_of(0, 0, A.operand_offset + h * A.head_dim + d)];
          const int32_t ch = scores ? h * A.keys + j : h * A.head_dim + d;
          const uint16_t at_attn = A.clusters[A.tile_of(0, 0, ch)];
          const uint16_t src = backward ? at_attn : at_qkv;
          one[0] = backward ? at_qkv : at_attn;
          gen[src] += gen_cycles;
          m_net.send(src, one, m_msg_flits, gen[src], 0), ++msgs;
        }
  m_messages += msgs;
  add_extra(rec, "operand_messages", msgs);
  return std::max(m_time, m_net.drain()) - m_time;
}

void Trainer::run_op(const workload::Op& op, OpRecord& rec) {
  rec.macs = op.macs;
  const NocCounters before = m_net.counters();
  const uint64_t t0 = m_time;
  const int m = m_map.find(op.layer);
  int owner = m_map.owner_of(op.layer);
  const int scores = m_map.find(op.layer + ".scores");  // attention's softmax and dropout run on its scores
  if (scores >= 0 && (op.kind == workload::OpKind::softmax || op.kind == workload::OpKind::elementwise)) owner = scores;
  const bool backward = op.phase == workload::Phase::backward_data || op.phase == workload::Phase::backward_weight;
  if (backward && owner >= 0) send_join_gradients(size_t(owner), rec);
  const uint64_t base = m_time;
  if (op.detail.rfind("attention_", 0) == 0 && run_attention(op, rec)) {
    finish(op, rec, before, t0, base, rec.cycles);
    return;
  }
  const bool join = m >= 1 && m_map.layers[size_t(m)].join();
  const bool layer_op = m >= 1 && !join && (op.kind == workload::OpKind::gemm || op.kind == workload::OpKind::conv);
  const unsigned P = m_spec.cluster.elements;
  uint64_t cycles = 0;
  if (layer_op && op.phase != workload::Phase::backward_weight && op.phase != workload::Phase::update) {
    rec.macs_executed = send_layer_messages(size_t(m), op.phase == workload::Phase::backward_data, rec);
    rec.onchip_read_bytes = rec.macs_executed * m_bytes;  // one weight per MAC
    cycles = rec.cycles;
  } else if (join && op.phase == workload::Phase::forward) {
    // The skip branch's non-zero outputs arrive one message each; one add per element.
    m_pending.push_back(size_t(m));
    send_layer_messages(size_t(m), false, rec);
    rec.macs_executed = 0;
    rec.onchip_read_bytes = rec.onchip_write_bytes = op.elements * m_bytes;
    cycles =
        std::max<uint64_t>(rec.cycles, ceil_div(op.elements, uint64_t(P) * m_map.layers[size_t(m)].clusters.size()));
  } else {
    // Local work, spread over the clusters holding the op's input (or all used clusters).
    const uint64_t clusters = owner >= 0 ? m_map.layers[size_t(owner)].clusters.size() : m_map.clusters_used;
    uint64_t work = op.macs ? op.macs : (op.elements ? op.elements : op.flops);
    if (layer_op) {  // weight gradient: only non-zero output gradients contribute, to kept synapses only
      const MappedLayer& L = m_map.layers[size_t(m)];
      rec.macs_executed = uint64_t(std::llround(double(op.macs) * L.out_density * L.weight_density));
      rec.macs_skipped = op.macs - rec.macs_executed;
      if (rec.macs_skipped)
        rec.skip_reason = L.weight_density >= 1.0 ? "zero_gradients"
                          : L.out_density >= 1.0  ? "zero_weights"
                                                  : "zero_gradients, zero_weights";
      work = rec.macs_executed;
      rec.onchip_read_bytes = rec.onchip_write_bytes = work * m_bytes;  // dW accumulates in place
    } else {
      rec.macs_executed = op.macs;
      rec.onchip_read_bytes = work * m_bytes;
      rec.onchip_write_bytes = work * m_bytes;
    }
    cycles = std::max<uint64_t>(1, ceil_div(work, uint64_t(P) * std::max<uint64_t>(1, clusters)));
    // A row reduction across tiles: partial sums to the group's first tile, the result back.
    const bool rowwise = op.kind == workload::OpKind::normalization || op.kind == workload::OpKind::softmax ||
                         (op.kind == workload::OpKind::reduction && op.detail.rfind("batchnorm", 0) == 0);
    if (rowwise && owner >= 0 && op.phase != workload::Phase::update) {
      m_time = base + cycles;
      cycles += reduce_messages(op, size_t(owner), rec);
      m_time = base;
    }
  }
  finish(op, rec, before, t0, base, cycles);
}

bool Trainer::run_attention(const workload::Op& op, OpRecord& rec) {
  const int O = m_map.find(op.layer), S = m_map.find(op.layer + ".scores");
  if (O < 0 || S < 0 || !m_map.layers[size_t(O)].attention()) return false;
  const std::string& d = op.detail;
  const size_t so = size_t(d == "attention_qk" || d == "attention_dq" || d == "attention_dk" ? S : O);
  const uint64_t start = m_time;
  if (d == "attention_qk" || d == "attention_pv") {  // K or V rows, then each query's firings
    m_time += send_operands(so, false, rec);
    rec.macs_executed = send_layer_messages(so, false, rec);
    rec.onchip_read_bytes = rec.macs_executed * m_bytes;  // one stored K or V element per MAC
    m_time += rec.cycles;
  } else if (d == "attention_dp" || d == "attention_dq") {  // dO to the scores, dS to Q
    rec.macs_executed = send_layer_messages(so, true, rec);
    rec.onchip_read_bytes = rec.macs_executed * m_bytes;
    m_time += rec.cycles;
  } else if (d == "attention_dv" || d == "attention_dk") {  // like a weight gradient: local, then back to QKV
    const MappedLayer& L = m_map.layers[so];
    rec.macs_executed = op.macs;
    rec.onchip_read_bytes = rec.onchip_write_bytes = op.macs * m_bytes;
    m_time += std::max<uint64_t>(1, ceil_div(op.macs, uint64_t(m_spec.cluster.elements) * L.clusters.size()));
    m_time += send_operands(so, true, rec);
  } else {
    return false;
  }
  rec.cycles = std::max<uint64_t>(1, m_time - start);
  m_time = start;
  return true;
}

void Trainer::finish(const workload::Op& op, OpRecord& rec, const NocCounters& before, uint64_t t0, uint64_t base,
                     uint64_t cycles) {
  rec.cycles = (base - t0) + cycles;
  if (m_memory) m_memory->run_op(op, m_net, t0, rec);  // its refresh messages count below
  const NocCounters& after = m_net.counters();
  const MeshActions& A = mesh_actions();
  rec.actions[A.buffer_write] += after.buffer_writes - before.buffer_writes;
  rec.actions[A.buffer_read] += after.buffer_reads - before.buffer_reads;
  rec.actions[A.xbar] += after.xbar_flits - before.xbar_flits;
  rec.actions[A.link] += after.flit_hops - before.flit_hops;
  rec.actions[A.mac] += rec.macs_executed;
  m_sram.read(rec.actions, rec.onchip_read_bytes);
  m_sram.write(rec.actions, rec.onchip_write_bytes);
  rec.extra["flit_hops"] = after.flit_hops - before.flit_hops;
  m_time = t0 + rec.cycles;
}

}  // namespace bpsim::mesh
