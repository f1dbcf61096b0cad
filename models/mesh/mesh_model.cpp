#include "models/mesh/mesh_model.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "models/mesh/mesh_actions.h"
#include "models/mesh/trainer.h"
#include "sim/memory/memory_system.h"

namespace bpsim::mesh {

namespace {
/// Input ports of every router: four neighbours and the local cluster (the network keeps
/// five input-VC sets per router, edge routers included).
constexpr double kRouterInputPorts = 5;
}  // namespace

MeshModel::MeshModel(sc_core::sc_module_name name, MeshSpec spec, std::shared_ptr<const workload::OpGraph> graph,
                     const config::Values& where, uint64_t seed, memory::MemorySystem* dram)
    : OpRunner(name, nullptr), m_spec(std::move(spec)), m_graph(std::move(graph)), m_seed(seed) {
  if (m_spec.mode == Mode::training) {
    if (!m_graph) throw where.error("mode", "mode 'training' needs a 'workload:' section (or use mode: synthetic)");
    // Tree multicast is deadlock-free only when a packet fits one VC buffer (docs/mesh.md).
    const unsigned flits = message_flits(m_spec, std::max(1u, workload::dtype_bits(m_graph->dtype) / 8));
    if (m_spec.multicast == Multicast::tree && flits > m_spec.noc.buf_depth)
      throw where.error("noc.buf_depth", "tree multicast needs a whole message in one VC buffer: messages are " +
                                             std::to_string(flits) + " flits, buf_depth is " +
                                             std::to_string(m_spec.noc.buf_depth) +
                                             " (raise buf_depth or flit_bytes, or use multicast: unicast)");
    m_map = std::make_unique<Mapping>(map_graph(*m_graph, m_spec, &where));
    m_memory = std::make_unique<ClusterMemory>(*m_map, *m_graph, m_spec);
    if (m_memory->spills()) {  // only then does the run use DRAM (and leak its background)
      if (!dram) throw std::logic_error("mesh: training spills but no DRAM device was offered");
      if (m_memory->spill_area_bytes() > dram->capacity_bytes())
        throw where.error("cluster.sram_kib", "what the clusters cannot hold (" +
                                                  std::to_string(m_memory->spill_area_bytes()) +
                                                  " bytes) does not fit the DRAM either (" +
                                                  std::to_string(dram->capacity_bytes()) + " bytes)");
      bind_memory(dram);
      m_memory->bind(dram);
    }
    take_ops(m_graph, nullptr);
  }
  if (m_spec.rtl_backend) {
    // What the Verilated router's fields hold (rtl/mesh/router.sv): N = 64 entries,
    // 16-bit signed coordinates, 8-bit stride / kernel / pad, 8-bit router coordinates.
    std::vector<std::string> need;  // every layer's unmet constraints at once
    for (size_t m = 1; m < m_map->layers.size(); ++m) {
      const MappedLayer& L = m_map->layers[m];
      const Connection& c = L.conn;
      const size_t entries = std::max(L.boxes.size(), m_map->layers[size_t(L.from)].boxes.size());
      if (c.kind == Connection::Kind::identity || c.kind == Connection::Kind::heads)
        need.push_back("conv and full connections only (layer '" + L.name + "' is a " +
                       (L.join() ? "residual join" : "attention product") + ")");
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
  register_stats();
}

MeshModel::~MeshModel() = default;

void MeshModel::run_synthetic_mode() {
  const TrafficResult r = run_synthetic(m_spec.noc, m_spec.traffic, m_seed);
  const sc_core::sc_time start = sc_core::sc_time_stamp();
  OpRecord rec;
  rec.name = "synthetic";
  rec.phase = "forward";
  rec.kind = "traffic";
  rec.cycles = r.cycles;
  const MeshActions& A = mesh_actions();
  rec.actions[A.buffer_write] = r.counters.buffer_writes;
  rec.actions[A.buffer_read] = r.counters.buffer_reads;
  rec.actions[A.xbar] = r.counters.xbar_flits;
  rec.actions[A.link] = r.counters.flit_hops;
  rec.extra["saturated"] = r.saturated;
  finish_op(std::move(rec));
  m_counters = r.counters;
  m_network = {{"avg_packet_latency_cycles", r.avg_packet_latency_cycles},
               {"offered_rate", r.offered_rate},
               {"accepted_rate", r.accepted_rate},
               {"packets", r.packets},
               {"flit_hops", r.counters.flit_hops},
               {"avg_hops", r.avg_hops},
               {"saturated", r.saturated},
               {"zero_load_latency_cycles", r.zero_load_latency_cycles}};
  wait_out(start, r.cycles);
}

void MeshModel::run_op(const workload::Op& op, OpRecord& rec) {
  m_trainer->run_op(op, rec);
  m_spill_stall_cycles += rec.extra.value("spill_stall_cycles", uint64_t(0));
  m_refresh_bytes += rec.extra.value("refresh_bytes", uint64_t(0));
}

void MeshModel::process() {
  if (m_spec.mode == Mode::synthetic) return run_synthetic_mode();
  m_trainer = std::make_unique<Trainer>(m_spec, *m_map, *m_graph, m_seed, m_rtl.get());
  m_trainer->set_memory(m_memory.get());
  OpRunner::process();
  const Trainer& tr = *m_trainer;
  m_rtl_firings = tr.rtl_stats().firings;
  m_rtl_cycles = tr.rtl_stats().cycles;
  m_rtl_edges = tr.rtl_stats().edges;
  m_rtl_mismatches = tr.rtl_stats().mismatches;
  m_counters = tr.counters();
  const double node_cycles = double(m_spec.noc.nodes()) * double(std::max<uint64_t>(1, total_cycles()));
  m_network = {{"avg_packet_latency_cycles", tr.avg_latency_cycles()},
               {"offered_rate", double(m_counters.injected_flits) / node_cycles},
               {"accepted_rate", double(m_counters.ejected_flits) / node_cycles},
               {"packets", m_counters.packets_injected},
               {"flit_hops", m_counters.flit_hops},
               {"multicast", config::enum_name(kMulticastNames, m_spec.multicast)},
               {"control_store_bytes_per_cluster_max", m_map->control_store_bytes_max},
               {"routing_table_bytes_per_cluster_max", m_map->routing_table_bytes_max},
               {"cluster_memory", m_memory->report()}};
}

std::vector<LeakingPart> MeshModel::leaking_parts() const {
  // The routers carry both modes; the clusters (PEs and SRAM) only take part in training:
  // synthetic traffic exercises the network alone. DRAM is not a part of the model: the
  // engine charges its background when a training step spills (uses_dram). A cluster that
  // holds no layer is power-gated: it is not used.
  const double nodes = m_spec.noc.nodes(), flit_bits = 8.0 * m_spec.noc.flit_bytes;
  std::vector<LeakingPart> parts = {{"mesh.router", mesh_actions().router_buffer_bit,
                                     nodes * kRouterInputPorts * m_spec.noc.vcs * m_spec.noc.buf_depth * flit_bits},
                                    {"mesh.router", mesh_actions().router_xbar_bit, nodes * flit_bits}};
  if (m_spec.mode == Mode::training) {
    const double used = m_map->clusters_used;
    parts.emplace_back("mesh.pe", mesh_actions().pe, used * m_spec.cluster.elements);
    parts.push_back(cluster_sram(m_spec.cluster).leaking_part(used));
  }
  return parts;
}

void MeshModel::register_stats() {
  StatGroup& g = m_stats;
  g.formula(
      "cycles", [this] { return total_cycles(); }, "simulated accelerator cycles");
  StatGroup& n = g.child("noc");
  n.add("buffer_writes", m_counters.buffer_writes, "flits written into router input buffers");
  n.add("buffer_reads", m_counters.buffer_reads, "flits read from router input buffers");
  n.add("xbar_flits", m_counters.xbar_flits, "flits through router crossbars");
  n.add("flit_hops", m_counters.flit_hops, "flits over router-to-router links");
  n.add("injected_flits", m_counters.injected_flits, "flits injected by clusters");
  n.add("ejected_flits", m_counters.ejected_flits, "flits ejected to clusters");
  n.add("packets", m_counters.packets_injected, "messages injected (a multicast counts once)");
  n.add("deliveries", m_counters.deliveries, "message copies delivered");
  if (!m_map) return;
  StatGroup& c = g.child("cluster");
  if (m_rtl) {
    c.add("rtl_router_firings", m_rtl_firings,
          "firings whose ranges, overlaps and ports came from the Verilated router (backend: rtl)");
    c.add("rtl_router_cycles", m_rtl_cycles,
          "the Verilated router's cycles for those firings (accepting edge to last entry)");
    c.add("rtl_router_edges", m_rtl_edges,
          "clock edges the Verilated router ran, resets, control-store loads and accepting edges included");
    c.add("rtl_router_mismatches", m_rtl_mismatches, "firings whose RTL result differed from the C++ logic module (0)");
  }
  c.add("spill_stall_cycles", m_spill_stall_cycles,
        "cycles ops waited for cluster memory spilled to DRAM (docs/mesh.md, training memory)");
  c.add("refresh_bytes", m_refresh_bytes, "bytes of W^T copies rewritten over the NoC after updates (transport)");
  const Mapping& m = *m_map;  // fixed at construction
  c.set("clusters_used", uint64_t(m.clusters_used), "clusters holding a layer");
  c.set("control_store_bytes_max", m.control_store_bytes_max, "control store of the largest cluster");
  c.set("control_store_bytes_total", m.control_store_bytes_total, "control stores, all clusters");
  c.set("routing_table_bytes_max", m.routing_table_bytes_max, "per-neuron routing table a cluster would need instead");
  c.set("routing_table_bytes_total", m.routing_table_bytes_total, "per-neuron routing tables, all clusters");
}

}  // namespace bpsim::mesh
