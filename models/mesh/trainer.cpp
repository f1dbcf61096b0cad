#include "models/mesh/trainer.h"

#include <algorithm>
#include <cmath>

#include "models/mesh/mesh_actions.h"

namespace bpsim::mesh {

namespace {
uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

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
  const MappedLayer& prev = m_map.layers[m - 1];
  const Connection& c = L.conn;
  // Forward: layer m's input space fires into layer m's tiles; backward: layer m's
  // outputs fire gradients into layer m−1's tiles (in m's input space).
  const int32_t sw = backward ? L.w : c.in_w, sh = backward ? L.h : c.in_h, sc = backward ? L.c : c.in_c;
  const double density = backward ? L.out_density : prev.out_density;
  const MappedLayer& dst = backward ? prev : L;
  std::vector<Box> boxes(dst.boxes.size());
  for (size_t t = 0; t < boxes.size(); ++t) boxes[t] = backward ? m_map.input_space_box(m, t) : L.boxes[t];
  // A full connection reaches every input neuron: the MACs of tile t are the input-space
  // neurons it hosts (counted once here, whatever the flatten order).
  std::vector<uint64_t> hosted(boxes.size(), 0);
  const bool full_back = backward && c.kind == Connection::Kind::full;
  if (full_back)
    for (int32_t ch = 0; ch < c.in_c; ++ch)
      for (int32_t y = 0; y < c.in_h; ++y)
        for (int32_t x = 0; x < c.in_w; ++x) ++hosted[m_map.host_tile(m, x, y, ch)];
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
  std::vector<uint16_t> dests, one(1);
  uint64_t fired = 0, msgs = 0, silent_macs = 0;
  // A source neuron's destination range (the C++ logic module), and what its message
  // would be worth at the destinations.
  const auto range_of = [&](int32_t x, int32_t y, int32_t ch) {
    return backward ? backward_range(c, x, y, ch) : forward_range(c, x, y, ch);
  };
  const auto worth = [&](int32_t x, int32_t y, int32_t ch) {
    if (full_back) return uint64_t(c.in_w) * uint64_t(c.in_h) * uint64_t(c.in_c);  // every input neuron
    const Box r = range_of(x, y, ch);
    uint64_t v = 0;
    for (const Box& b : boxes) v += r.intersect(b).volume();
    return v;
  };
  for (uint64_t b = 0; b < L.samples; ++b)  // every token of every sample
    for (int32_t ch = 0; ch < sc; ++ch)
      for (int32_t y = 0; y < sh; ++y)
        for (int32_t x = 0; x < sw; ++x) {
          if (density < 1.0 && !fire(m_rng)) {  // zero: nothing is sent, its MACs are skipped
            silent_macs += worth(x, y, ch);
            continue;
          }
          ++fired;
          const unsigned src = backward ? L.clusters[L.tile_of(x, y, ch)] : prev.clusters[m_map.host_tile(m, x, y, ch)];
          // The range from the RTL router (backend: rtl) or from the C++ logic module.
          uint64_t logic = gen_cycles;
          RtlRouterRun run;
          Box r;
          if (m_rtl) {
            const RouterFiring f{backward, x, y, ch, uint16_t(src)};
            run = m_rtl->run({f}, {0});
            m_rtl_stats.mismatches += !(run.results[0] == router_evaluate(store, m_spec.noc.cols, f));
            ++m_rtl_stats.firings;
            logic = run.timing.last[0] - run.timing.accept[0];
            m_rtl_stats.cycles += logic;
          } else {
            r = range_of(x, y, ch);
          }
          dests.clear();
          for (size_t t = 0; t < boxes.size(); ++t) {
            // Does the range reach entry t's box, and how many of its neurons? (A full
            // connection's backward reaches every destination with its hosted neurons.)
            bool hit;
            uint64_t volume;
            if (m_rtl) {
              hit = run.results[0].entries[t].hit;
              volume = run.results[0].entries[t].overlap.volume();
            } else {
              volume = r.intersect(boxes[t]).volume();
              hit = full_back || volume > 0;
            }
            const uint64_t v = !hit ? 0 : full_back ? hosted[t] : volume;
            if (!v) continue;
            macs[t] += v;
            dests.push_back(dst.clusters[t]);
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
  const uint64_t padding = padding_macs(c) * L.samples;
  rec.macs_skipped = silent_macs + padding;
  if (silent_macs && padding) rec.skip_reason = "zero_activations, zero_padding";
  else if (rec.macs_skipped) rec.skip_reason = silent_macs ? "zero_activations" : "zero_padding";
  rec.extra["messages"] = msgs;
  rec.extra["fired"] = fired;
  if (m_rtl) m_rtl_stats.edges = m_rtl->edges();
  uint64_t end = m_net.drain(), total = 0;
  for (size_t t = 0; t < macs.size(); ++t) {
    total += macs[t];
    end = std::max(end, m_time + ceil_div(macs[t], m_spec.cluster.elements));
  }
  rec.cycles = std::max<uint64_t>(1, end - m_time);
  return total;
}

void Trainer::run_op(const workload::Op& op, OpRecord& rec) {
  rec.macs = op.macs;
  const NocCounters before = m_net.counters();
  const int m = m_map.find(op.layer);
  const bool layer_op = m >= 1 && (op.kind == workload::OpKind::gemm || op.kind == workload::OpKind::conv);
  const unsigned P = m_spec.cluster.elements;
  if (layer_op && op.phase != workload::Phase::backward_weight && op.phase != workload::Phase::update) {
    rec.macs_executed = send_layer_messages(size_t(m), op.phase == workload::Phase::backward_data, rec);
    rec.onchip_read_bytes = rec.macs_executed * m_bytes;  // one weight per MAC
  } else {
    // Local work, spread over the layer's clusters (or all used clusters).
    const uint64_t clusters = m >= 0 ? m_map.layers[size_t(m)].clusters.size() : m_map.clusters_used;
    uint64_t work = op.macs ? op.macs : (op.elements ? op.elements : op.flops);
    if (layer_op) {  // weight gradient: only non-zero output gradients contribute
      rec.macs_executed = uint64_t(std::llround(double(op.macs) * m_map.layers[size_t(m)].out_density));
      rec.macs_skipped = op.macs - rec.macs_executed;
      if (rec.macs_skipped) rec.skip_reason = "zero_gradients";
      work = rec.macs_executed;
      rec.onchip_read_bytes = rec.onchip_write_bytes = work * m_bytes;  // dW accumulates in place
    } else {
      rec.macs_executed = op.macs;
      rec.onchip_read_bytes = work * m_bytes;
      rec.onchip_write_bytes = work * m_bytes;
    }
    rec.cycles = std::max<uint64_t>(1, ceil_div(work, uint64_t(P) * std::max<uint64_t>(1, clusters)));
  }
  if (m_memory) m_memory->run_op(op, m_net, m_time, rec);  // its refresh messages count below
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
  m_time += rec.cycles;
}

}  // namespace bpsim::mesh
