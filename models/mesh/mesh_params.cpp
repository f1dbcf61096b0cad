#include "models/mesh/mesh_params.h"

#include <string>

namespace bpsim::mesh {

std::shared_ptr<const config::Schema> mesh_schema() {
  static std::shared_ptr<const config::Schema> s = [] {
    auto noc = std::make_shared<config::Schema>("mesh.noc", "routers and links");
    noc->integer("vcs", "", "virtual channels per input port").def(2).range(1, 64);
    noc->integer("buf_depth", "flits", "buffer depth per virtual channel").def(8).range(1, 1024);
    noc->integer("rc_cycles", "cycles", "route computation stage").def(1).range(0, 16);
    noc->integer("va_cycles", "cycles", "virtual-channel allocation stage").def(1).range(0, 16);
    noc->integer("sa_cycles", "cycles", "switch allocation stage").def(1).range(0, 16);
    noc->integer("st_cycles", "cycles", "switch traversal stage").def(1).range(0, 16);
    noc->integer("link_cycles", "cycles", "link latency (injection and ejection channels too)").def(1).range(1, 64);
    noc->integer("credit_cycles", "cycles", "credit return latency").def(1).range(1, 64);
    noc->integer("vc_release_cycles", "cycles", "from the tail's switch grant until its output VC can be allocated again").def(2).range(1, 64);
    noc->integer("flit_bytes", "bytes", "flit width").def(16).range(1, 1024);
    noc->choice("routing", {"xy", "yx", "o1turn"}, "dimension order (o1turn: XY or YX per packet, needs >= 2 VCs)").def("xy");

    auto tr = std::make_shared<config::Schema>("mesh.traffic", "synthetic traffic (mode: synthetic)");
    tr->choice("pattern", {"uniform", "transpose", "bitcomp", "hotspot"}, "destination pattern").def("uniform");
    auto& rate = tr->real("rate", "flits/node/cycle", "offered load, in (0, 1]").def(0.1);
    rate.range(0, 1);
    rate.min_exclusive = true;
    tr->integer("packet_flits", "flits", "packet size").def(1).range(1, 1024);
    tr->integer("warmup_cycles", "cycles", "not measured").def(10000).range(0, 1e10);
    tr->integer("measure_cycles", "cycles", "measurement window").def(100000).range(1, 1e10);
    tr->integer("drain_cycles", "cycles", "drain limit after the window; beyond it the load is saturated").def(100000).range(1, 1e10);
    tr->list("hotspot_nodes", config::ParamType::Int, "hotspot node ids (pattern: hotspot)");
    tr->real("hotspot_fraction", "", "share of packets sent to a hotspot").def(0.1).range(0, 1);

    auto cl = std::make_shared<config::Schema>("mesh.cluster", "one processor cluster");
    cl->integer("elements", "", "processing elements (neurons) per cluster").def(256).range(1, 1 << 20);
    cl->integer("sram_kib", "KiB", "local SRAM for weights and weight gradients").def(512).range(1, 1 << 20);
    cl->integer("range_units", "", "control-store entries evaluated per cycle").def(4).range(1, 1024);
    cl->integer("header_bytes", "bytes", "message header").def(8).range(1, 1024);
    cl->integer("max_control_entries", "", "control-store capacity (destination clusters)").def(64).range(1, 65536);

    auto m = std::make_shared<config::Schema>("mesh", "X×Y processor clusters on a coordinate-routed message mesh");
    m->integer("cols", "", "clusters along X").def(8).range(1, 256);
    m->integer("rows", "", "clusters along Y").def(8).range(1, 256);
    m->real("clock_ghz", "GHz", "clock").def(1.0).range(config::kMinClockGhz, config::kMaxClockGhz);
    m->choice("mode", {"training", "synthetic"}, "training step from the workload, or synthetic traffic").def("training");
    m->choice("multicast", {"tree", "unicast"}, "tree: replicate at DOR branch routers; unicast: one copy per destination").def("tree");
    m->real("input_density", "", "share of non-zero network inputs").def(1.0).range(0, 1);
    m->choice("backend", {"model", "rtl"}, "model: the logic module in C++; rtl: every firing's destination ranges, overlap tests and output ports come from the Verilated router (mode training, range_units 1, routing xy, at most 64 control entries)").def("model");
    m->group("noc", noc, "network");
    m->group("traffic", tr, "synthetic traffic");
    m->group("cluster", cl, "cluster");
    return m;
  }();
  return s;
}

MeshSpec parse_mesh_spec(const config::Values& v) {
  MeshSpec s;
  s.noc.cols = unsigned(v.i("cols"));
  s.noc.rows = unsigned(v.i("rows"));
  if (s.noc.nodes() > 65535) throw v.error("rows", "cols × rows must be at most 65535 clusters");
  s.clock_ghz = v.f("clock_ghz");
  s.mode = v.s("mode") == "synthetic" ? Mode::synthetic : Mode::training;
  s.multicast = v.s("multicast") == "unicast" ? Multicast::unicast : Multicast::tree;
  s.input_density = v.f("input_density");

  const config::Values& n = v.g("noc");
  s.noc.vcs = unsigned(n.i("vcs"));
  s.noc.buf_depth = unsigned(n.i("buf_depth"));
  s.noc.rc_cycles = unsigned(n.i("rc_cycles"));
  s.noc.va_cycles = unsigned(n.i("va_cycles"));
  s.noc.sa_cycles = unsigned(n.i("sa_cycles"));
  s.noc.st_cycles = unsigned(n.i("st_cycles"));
  s.noc.link_cycles = unsigned(n.i("link_cycles"));
  s.noc.credit_cycles = unsigned(n.i("credit_cycles"));
  s.noc.flit_bytes = unsigned(n.i("flit_bytes"));
  s.noc.vc_release_cycles = unsigned(n.i("vc_release_cycles"));
  const std::string routing = n.s("routing");
  s.noc.routing = routing == "yx" ? Routing::yx : routing == "o1turn" ? Routing::o1turn : Routing::xy;
  if (s.noc.routing == Routing::o1turn && s.noc.vcs < 2)
    throw n.error("routing", "o1turn mixes XY and YX paths, which deadlocks without separate VC classes: needs vcs >= 2 (vcs is " +
                                 std::to_string(s.noc.vcs) + ")");

  const config::Values& t = v.g("traffic");
  const std::string pat = t.s("pattern");
  s.traffic.pattern = pat == "transpose" ? Pattern::transpose : pat == "bitcomp" ? Pattern::bitcomp
                      : pat == "hotspot" ? Pattern::hotspot : Pattern::uniform;
  s.traffic.rate = t.f("rate");
  s.traffic.packet_flits = unsigned(t.i("packet_flits"));
  s.traffic.warmup_cycles = uint64_t(t.i("warmup_cycles"));
  s.traffic.measure_cycles = uint64_t(t.i("measure_cycles"));
  s.traffic.drain_cycles = uint64_t(t.i("drain_cycles"));
  s.traffic.hotspot_fraction = t.f("hotspot_fraction");
  if (t.has("hotspot_nodes"))
    for (const std::string& id : t.strings("hotspot_nodes")) {
      const long long node = std::stoll(id);
      if (node < 0 || node >= static_cast<long long>(s.noc.nodes()))
        throw t.error("hotspot_nodes", "node " + id + " is outside the mesh (0.." + std::to_string(s.noc.nodes() - 1) + ")");
      s.traffic.hotspot_nodes.push_back(unsigned(node));
    }
  if (s.traffic.pattern == Pattern::hotspot && s.traffic.hotspot_nodes.empty())
    throw t.error("hotspot_nodes", "pattern hotspot needs at least one hotspot node");
  if (s.traffic.pattern == Pattern::transpose && s.noc.cols != s.noc.rows)
    throw t.error("pattern", "transpose needs a square mesh (cols = rows)");
  if (s.traffic.rate / s.traffic.packet_flits > 1.0)
    throw t.error("rate", "more than one packet per node per cycle");

  const config::Values& c = v.g("cluster");
  s.cluster.elements = unsigned(c.i("elements"));
  s.cluster.sram_bytes = uint64_t(c.i("sram_kib")) * 1024;
  s.cluster.range_units = unsigned(c.i("range_units"));
  s.cluster.header_bytes = unsigned(c.i("header_bytes"));
  s.cluster.max_control_entries = unsigned(c.i("max_control_entries"));

  s.rtl_backend = v.s("backend") == "rtl";
  if (s.rtl_backend) {
    // The Verilated router (rtl/mesh/router.sv) evaluates one entry per cycle with XY
    // routing, and only firings exist in training mode.
    std::vector<std::string> need;  // every unmet constraint at once
    if (s.mode != Mode::training) need.push_back("mode: training (synthetic traffic has no firings for the logic module)");
    if (s.cluster.range_units != 1)
      need.push_back("cluster.range_units: 1 (the RTL router evaluates one entry per cycle; it is " +
                     std::to_string(s.cluster.range_units) + ")");
    if (s.noc.routing != Routing::xy) need.push_back("noc.routing: xy (the RTL router selects XY output ports)");
    if (!need.empty()) throw v.error("backend", "rtl needs " + config::join(need, "; and "));
  }
  return s;
}

}  // namespace bpsim::mesh
