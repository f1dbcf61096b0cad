#include "models/mesh/mesh_params.h"

#include <string>

#include "sim/core/binder.h"

namespace bpsim::mesh {

namespace {

using config::into;

const config::Binder<MeshSpec>& mesh_binder() {
  static const config::Binder<MeshSpec> m = [] {
    config::Binder<NocConfig> noc("mesh.noc", "routers and links");
    noc.integer("vcs", &NocConfig::vcs, "", "virtual channels per input port").def(2).range(1, 64);
    noc.integer("buf_depth", &NocConfig::buf_depth, "flits", "buffer depth per virtual channel").def(8).range(1, 1024);
    noc.integer("rc_cycles", &NocConfig::rc_cycles, "cycles", "route computation stage").def(1).range(0, 16);
    noc.integer("va_cycles", &NocConfig::va_cycles, "cycles", "virtual-channel allocation stage").def(1).range(0, 16);
    noc.integer("sa_cycles", &NocConfig::sa_cycles, "cycles", "switch allocation stage").def(1).range(0, 16);
    noc.integer("st_cycles", &NocConfig::st_cycles, "cycles", "switch traversal stage").def(1).range(0, 16);
    noc.integer("link_cycles", &NocConfig::link_cycles, "cycles", "link latency (injection and ejection channels too)")
        .def(1)
        .range(1, 64);
    noc.integer("credit_cycles", &NocConfig::credit_cycles, "cycles", "credit return latency").def(1).range(1, 64);
    noc.integer("ni_cycles", &NocConfig::ni_cycles, "cycles",
                "network-interface output stage: from a packet's creation until its head enters the injection channel")
        .def(1)
        .range(0, 16);
    noc.boolean("wait_for_tail_credit", &NocConfig::wait_for_tail_credit,
                "an output VC is reallocated only after the credit of its last packet's tail has returned "
                "(false: as soon as the tail wins the switch)")
        .def(false);
    noc.integer("input_speedup", &NocConfig::input_speedup, "",
                "crossbar inputs per router input port; VC v uses crossbar input v mod input_speedup (at most vcs)")
        .def(1)
        .range(1, 64);
    noc.integer("flit_bytes", &NocConfig::flit_bytes, "bytes", "flit width").def(16).range(1, 1024);
    noc.choice("routing", &NocConfig::routing, kRoutingNames,
               "dimension order (o1turn: XY or YX per packet, needs >= 2 VCs)")
        .def("xy");
    noc.choice("model", &NocConfig::model, kNocModelNames,
               "flit: flits through buffers, cycle by cycle; flow: each message (or run of identical messages from "
               "one source, spaced as the flit level sends them back to back) reserves injection, output VCs and "
               "their credits, links and ejection router by router (exact without contention, within 1-5% of flit "
               "level below saturation and on the example training steps: docs/mesh.md)")
        .def("flit");

    config::Binder<TrafficConfig> tr("mesh.traffic", "synthetic traffic (mode: synthetic)");
    tr.choice("pattern", &TrafficConfig::pattern, kPatternNames, "destination pattern").def("uniform");
    tr.real("rate", &TrafficConfig::rate, "flits/node/cycle", "offered load, in (0, 1]")
        .def(0.1)
        .range(0, 1)
        .exclusive_min();
    tr.integer("packet_flits", &TrafficConfig::packet_flits, "flits", "packet size").def(1).range(1, 1024);
    tr.integer("warmup_cycles", &TrafficConfig::warmup_cycles, "cycles", "not measured").def(10000).range(0, 1e10);
    tr.integer("measure_cycles", &TrafficConfig::measure_cycles, "cycles", "measurement window")
        .def(100000)
        .range(1, 1e10);
    tr.integer("drain_cycles", &TrafficConfig::drain_cycles, "cycles",
               "drain limit after the window; beyond it the load is saturated")
        .def(100000)
        .range(1, 1e10);
    tr.list("hotspot_nodes", &TrafficConfig::hotspot_nodes, "hotspot node ids (pattern: hotspot)");
    tr.real("hotspot_fraction", &TrafficConfig::hotspot_fraction, "", "share of packets sent to a hotspot")
        .def(0.1)
        .range(0, 1);

    config::Binder<ClusterConfig> cl("mesh.cluster", "one processor cluster");
    cl.integer("elements", &ClusterConfig::elements, "", "processing elements (neurons) per cluster")
        .def(256)
        .range(1, 1 << 20);
    cl.integer("sram_kib", &ClusterConfig::sram_bytes, "KiB",
               "local SRAM: weights, gradients, optimizer state, stored inputs, backward weights")
        .def(512)
        .range(1, 1 << 20)
        .scale(1024);
    cl.integer("range_units", &ClusterConfig::range_units, "", "control-store entries evaluated per cycle")
        .def(4)
        .range(1, 1024);
    cl.integer("header_bytes", &ClusterConfig::header_bytes, "bytes", "message header").def(8).range(1, 1024);
    cl.integer("max_control_entries", &ClusterConfig::max_control_entries, "",
               "control-store capacity (destination clusters)")
        .def(64)
        .range(1, 65536);

    config::Binder<MeshSpec> m("mesh", "X×Y processor clusters on a coordinate-routed message mesh");
    m.integer("cols", into(&MeshSpec::noc, &NocConfig::cols), "", "clusters along X").def(8).range(1, 256);
    m.integer("rows", into(&MeshSpec::noc, &NocConfig::rows), "", "clusters along Y").def(8).range(1, 256);
    m.real("clock_ghz", &MeshSpec::clock_ghz, "GHz", "clock")
        .def(1.0)
        .range(config::kMinClockGhz, config::kMaxClockGhz);
    m.choice("mode", &MeshSpec::mode, kModeNames, "training step from the workload, or synthetic traffic")
        .def("training");
    m.choice("multicast", &MeshSpec::multicast, kMulticastNames,
             "tree: replicate at DOR branch routers; unicast: one copy per destination")
        .def("tree");
    m.real("input_density", &MeshSpec::input_density, "", "share of non-zero network inputs").def(1.0).range(0, 1);
    m.choice("backend", &MeshSpec::rtl_backend, config::kBackendNames,
             "model: the logic module in C++; rtl: every firing's destination ranges, overlap tests and output ports "
             "come from the Verilated router (mode training, range_units 1, routing xy, at most 64 control entries)")
        .def("model");
    m.group("noc", &MeshSpec::noc, noc, "network");
    m.group("traffic", &MeshSpec::traffic, tr, "synthetic traffic");
    m.group("cluster", &MeshSpec::cluster, cl, "cluster");
    return m;
  }();
  return m;
}

}  // namespace

std::shared_ptr<const config::Schema> mesh_schema() { return mesh_binder().schema(); }

MeshSpec parse_mesh_spec(const config::Values& v) {
  MeshSpec s = mesh_binder().parse(v);
  if (s.noc.nodes() > 65535) throw v.error("rows", "cols × rows must be at most 65535 clusters");
  if (s.noc.input_speedup > s.noc.vcs)
    throw v.error("noc.input_speedup", "at most vcs (" + std::to_string(s.noc.vcs) +
                                           "): each crossbar input of a port serves at least one VC (it is " +
                                           std::to_string(s.noc.input_speedup) + ")");
  if (s.noc.routing == Routing::o1turn && s.noc.vcs < 2)
    throw v.error("noc.routing",
                  "o1turn mixes XY and YX paths, which deadlocks without separate VC classes: needs vcs >= 2 (vcs is " +
                      std::to_string(s.noc.vcs) + ")");
  for (unsigned node : s.traffic.hotspot_nodes)
    if (node >= s.noc.nodes())
      throw v.error("traffic.hotspot_nodes", "node " + std::to_string(node) + " is outside the mesh (0.." +
                                                 std::to_string(s.noc.nodes() - 1) + ")");
  if (s.traffic.pattern == Pattern::hotspot && s.traffic.hotspot_nodes.empty())
    throw v.error("traffic.hotspot_nodes", "pattern hotspot needs at least one hotspot node");
  if (s.traffic.pattern == Pattern::transpose && s.noc.cols != s.noc.rows)
    throw v.error("traffic.pattern", "transpose needs a square mesh (cols = rows)");
  if (s.traffic.rate / s.traffic.packet_flits > 1.0)
    throw v.error("traffic.rate", "more than one packet per node per cycle");

  if (s.rtl_backend) {
    // The Verilated router (rtl/mesh/router.sv) evaluates one entry per cycle with XY
    // routing, and only firings exist in training mode.
    std::vector<std::string> need;  // every unmet constraint at once
    if (s.mode != Mode::training)
      need.emplace_back("mode: training (synthetic traffic has no firings for the logic module)");
    if (s.cluster.range_units != 1)
      need.emplace_back("cluster.range_units: 1 (the RTL router evaluates one entry per cycle; it is " +
                        std::to_string(s.cluster.range_units) + ")");
    if (s.noc.routing != Routing::xy) need.emplace_back("noc.routing: xy (the RTL router selects XY output ports)");
    if (!need.empty()) throw v.error("backend", "rtl needs " + config::join(need, "; and "));
  }
  return s;
}

}  // namespace bpsim::mesh
