#include "models/mesh/mesh_model.h"

#include <algorithm>
#include <string>

#include "models/mesh/trainer.h"
#include "sim/core/stats.h"
#include "sim/memory/sram.h"

namespace bpsim::mesh {

namespace {
/// Input ports of every router: four neighbours and the local cluster (the network keeps
/// five input-VC sets per router, edge routers included).
constexpr double kRouterInputPorts = 5;
}  // namespace

std::vector<ActionDecl> mesh_leakage_units() {
  return {{"mesh.pe", "one processing element (an fp32 MAC with its operand and accumulator registers)"},
          {"mesh.router_buffer_bit", "one bit of router input buffer (ports × VCs × depth × flit bits)"},
          {"mesh.router_xbar_bit", "one bit of flit width through a 5×5 router crossbar"}};
}

MeshModel::MeshModel(sc_core::sc_module_name name, MeshSpec spec, std::shared_ptr<const workload::OpGraph> graph,
                     const config::Values& where, uint64_t seed)
    : sc_core::sc_module(name), m_spec(std::move(spec)), m_graph(std::move(graph)), m_seed(seed) {
  if (m_spec.mode == Mode::training) {
    if (!m_graph) throw where.error("mode", "mode 'training' needs a 'workload:' section (or use mode: synthetic)");
    m_map = std::make_unique<Mapping>(map_graph(*m_graph, m_spec, &where));
  }
  if (m_spec.rtl_backend) {
    // What the Verilated router's fields hold (rtl/mesh/router.sv): N = 64 entries,
    // 16-bit signed coordinates, 8-bit stride / kernel / pad, 8-bit router coordinates.
    std::vector<std::string> need;  // every layer's unmet constraints at once
    for (size_t m = 1; m < m_map->layers.size(); ++m) {
      const MappedLayer& L = m_map->layers[m];
      const Connection& c = L.conn;
      const size_t entries = std::max(L.boxes.size(), m_map->layers[m - 1].boxes.size());
      if (entries > kRtlRouterEntries)
        need.push_back("at most " + std::to_string(kRtlRouterEntries) + " control entries per layer (layer '" + L.name +
                       "' has " + std::to_string(entries) + ")");
      const auto over = [](std::initializer_list<int32_t> ds, int32_t max) {
        return std::any_of(ds.begin(), ds.end(), [max](int32_t d) { return d > max; });
      };
      if (over({c.in_w, c.in_h, c.in_c, c.out_w, c.out_h, c.out_c}, 32767))
        need.push_back("layer dimensions up to 32767 (layer '" + L.name + "')");
      if (over({c.stride, c.kernel_w, c.kernel_h, c.pad}, 255))
        need.push_back("stride, kernel and pad up to 255 (layer '" + L.name + "')");
    }
    if (!need.empty()) throw where.error("backend", "rtl needs " + config::join(need, "; and "));
    m_rtl = make_rtl_router("rtl_router", 1000.0 / m_spec.clock_ghz);
  }
  SC_THREAD(run);
}

void MeshModel::run() {
  if (m_spec.mode == Mode::synthetic)
    run_synthetic_mode();
  else
    run_training();
}

void MeshModel::run_synthetic_mode() {
  const TrafficResult r = run_synthetic(m_spec.noc, m_spec.traffic, m_seed);
  OpRecord rec;
  rec.name = "synthetic";
  rec.phase = "forward";
  rec.kind = "traffic";
  rec.cycles = r.cycles;
  rec.actions["mesh.buffer_write"] = r.counters.buffer_writes;
  rec.actions["mesh.buffer_read"] = r.counters.buffer_reads;
  rec.actions["mesh.xbar"] = r.counters.xbar_flits;
  rec.actions["mesh.link"] = r.counters.flit_hops;
  rec.extra["saturated"] = r.saturated;
  emit(std::move(rec));
  m_counters = r.counters;
  m_cycles = r.cycles;
  m_network = {{"avg_packet_latency_cycles", r.avg_packet_latency_cycles}, {"offered_rate", r.offered_rate},
               {"accepted_rate", r.accepted_rate}, {"packets", r.packets}, {"flit_hops", r.counters.flit_hops},
               {"avg_hops", r.avg_hops}, {"saturated", r.saturated},
               {"zero_load_latency_cycles", double(m_spec.noc.zero_load_cycles(0, m_spec.traffic.packet_flits)) +
                                                r.avg_hops * (m_spec.noc.zero_load_cycles(1, 1) - m_spec.noc.zero_load_cycles(0, 1))}};
  wait(sc_core::sc_time(double(r.cycles) / m_spec.clock_ghz, sc_core::SC_NS));
}

void MeshModel::run_training() {
  Trainer tr(m_spec, *m_map, *m_graph, m_seed, m_rtl.get());
  for (const workload::Op& op : m_graph->ops) {
    const sc_core::sc_time start = sc_core::sc_time_stamp();
    OpRecord rec = tr.run_op(op);
    const double cycles = double(rec.cycles);
    emit(std::move(rec));
    // backend: rtl has already spent the router's edges in simulated time.
    const sc_core::sc_time want(cycles / m_spec.clock_ghz, sc_core::SC_NS);
    const sc_core::sc_time spent = sc_core::sc_time_stamp() - start;
    if (want > spent) wait(want - spent);
  }
  m_rtl_firings = tr.rtl_stats().firings;
  m_rtl_cycles = tr.rtl_stats().cycles;
  m_rtl_edges = tr.rtl_stats().edges;
  m_rtl_mismatches = tr.rtl_stats().mismatches;
  m_cycles = tr.now();
  m_counters = tr.counters();
  const double node_cycles = double(m_spec.noc.nodes()) * double(std::max<uint64_t>(1, m_cycles));
  m_network = {{"avg_packet_latency_cycles", tr.avg_latency_cycles()},
               {"offered_rate", double(m_counters.injected_flits) / node_cycles},
               {"accepted_rate", double(m_counters.ejected_flits) / node_cycles},
               {"packets", m_counters.packets_injected}, {"flit_hops", m_counters.flit_hops},
               {"multicast", config::enum_name(kMulticastNames, m_spec.multicast)},
               {"control_store_bytes_per_cluster_max", m_map->control_store_bytes_max},
               {"routing_table_bytes_per_cluster_max", m_map->routing_table_bytes_max}};
}

std::vector<LeakingPart> MeshModel::leaking_parts() const {
  // The routers carry both modes; the clusters (PEs and SRAM) only take part in training:
  // synthetic traffic exercises the network alone. Nothing reaches DRAM in either mode,
  // so no DRAM background. A cluster that holds no layer is power-gated: it is not used.
  const double nodes = m_spec.noc.nodes(), flit_bits = 8.0 * m_spec.noc.flit_bytes;
  std::vector<LeakingPart> parts = {
      {"mesh.router", "mesh.router_buffer_bit", nodes * kRouterInputPorts * m_spec.noc.vcs * m_spec.noc.buf_depth * flit_bits},
      {"mesh.router", "mesh.router_xbar_bit", nodes * flit_bits}};
  if (m_spec.mode == Mode::training) {
    const double used = m_map->clusters_used;
    parts.push_back({"mesh.pe", "mesh.pe", used * m_spec.cluster.elements});
    parts.push_back(memory::sram_leakage("mesh.sram", uint64_t(m_map->clusters_used) * m_spec.cluster.sram_bytes));
  }
  return parts;
}

void MeshModel::report_stats(StatGroup& g) const {
  g.set("cycles", m_cycles, "simulated accelerator cycles");
  StatGroup& n = g.child("noc");
  n.set("buffer_writes", m_counters.buffer_writes, "flits written into router input buffers");
  n.set("buffer_reads", m_counters.buffer_reads, "flits read from router input buffers");
  n.set("xbar_flits", m_counters.xbar_flits, "flits through router crossbars");
  n.set("flit_hops", m_counters.flit_hops, "flits over router-to-router links");
  n.set("injected_flits", m_counters.injected_flits, "flits injected by clusters");
  n.set("ejected_flits", m_counters.ejected_flits, "flits ejected to clusters");
  n.set("packets", m_counters.packets_injected, "messages injected (a multicast counts once)");
  n.set("deliveries", m_counters.deliveries, "message copies delivered");
  if (!m_map) return;
  StatGroup& c = g.child("cluster");
  if (m_rtl) {
    c.set("rtl_router_firings", m_rtl_firings, "firings whose ranges, overlaps and ports came from the Verilated router (backend: rtl)");
    c.set("rtl_router_cycles", m_rtl_cycles, "the Verilated router's cycles for those firings (accepting edge to last entry)");
    c.set("rtl_router_edges", m_rtl_edges, "clock edges the Verilated router ran, resets, control-store loads and accepting edges included");
    c.set("rtl_router_mismatches", m_rtl_mismatches, "firings whose RTL result differed from the C++ logic module (0)");
  }
  c.set("clusters_used", uint64_t(m_map->clusters_used), "clusters holding a layer");
  c.set("control_store_bytes_max", m_map->control_store_bytes_max, "control store of the largest cluster");
  c.set("control_store_bytes_total", m_map->control_store_bytes_total, "control stores, all clusters");
  c.set("routing_table_bytes_max", m_map->routing_table_bytes_max, "per-neuron routing table a cluster would need instead");
  c.set("routing_table_bytes_total", m_map->routing_table_bytes_total, "per-neuron routing tables, all clusters");
}

}  // namespace bpsim::mesh
