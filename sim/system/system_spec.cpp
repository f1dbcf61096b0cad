#include "sim/system/system_spec.h"

#include <set>
#include <stdexcept>

#include "sim/core/binder.h"
#include "sim/core/error.h"
#include "sim/engine/accelerator.h"
#include "sim/memory/ddr_spec.h"
#include "sim/memory/memory_factory.h"
#include "sim/source/load.h"

namespace bpsim::system {

namespace {

/// `fabric.link`: GB/s (1e9 B/s), ns, pJ per byte per hop.
struct LinkKeys {
  double bandwidth_gbps = 0;
  double latency_ns = 0;
  double energy_pj_per_byte = 0;
};

struct FabricKeys {
  Topology topology = Topology::switch_;
  std::vector<uint32_t> dims;
  LinkKeys link;
};

struct PlacementKeys {
  PlacementMode mode = PlacementMode::manual;
  std::string default_device;
};

const config::Binder<LinkKeys>& link_binder() {
  static const auto b = [] {
    config::Binder<LinkKeys> s("system.fabric.link", "one link of the fabric (each direction its own)");
    s.real("bandwidth_gbps", &LinkKeys::bandwidth_gbps, "GB/s", "bandwidth of one direction, 1 GB/s = 1e9 B/s")
        .req()
        .positive()
        .range(0, 1e6)
        .exclusive_min();
    s.real("latency_ns", &LinkKeys::latency_ns, "ns", "latency of one hop (wire, SerDes, switch)")
        .def(0.0)
        .range(0, 1e9);
    s.real("energy_pj_per_byte", &LinkKeys::energy_pj_per_byte, "pJ/B", "energy of one byte over one hop")
        .def(0.0)
        .range(0, 1e6);
    return s;
  }();
  return b;
}

const config::Binder<FabricKeys>& fabric_binder() {
  static const auto b = [] {
    config::Binder<FabricKeys> s("system.fabric", "the links between the devices (docs/system.md)");
    s.choice("topology", &FabricKeys::topology, kTopologyNames,
             "ring, switch (one link per device to a central switch), torus2d or mesh (rows × cols)")
        .def("switch");
    s.list("dims", &FabricKeys::dims, "torus2d, mesh: [rows, cols], rows · cols = the number of devices");
    s.group("link", &FabricKeys::link, link_binder(), "every link's parameters");
    return s;
  }();
  return b;
}

const config::Binder<PlacementKeys>& placement_binder() {
  static const auto b = [] {
    config::Binder<PlacementKeys> s("system.placement", "which device runs each op (docs/system.md)");
    s.choice("mode", &PlacementKeys::mode, kPlacementModeNames,
             "manual: each layer's `device:` key in the spec; auto: a list scheduler over the joint "
             "forward/backward graph; split: the same scheduler over the forward DAG, then the backward DAG; "
             "single: every op on the default device")
        .def("manual");
    s.string("default", &PlacementKeys::default_device,
             "the device of layers without a `device:` key "
             "(manual), and of the ops no other device can run")
        .def("\"\"");
    return s;
  }();
  return b;
}

const config::Binder<ParallelSpec>& parallel_binder() {
  static const auto b = [] {
    config::Binder<ParallelSpec> s("system.parallel", "data, pipeline and tensor parallelism of identical devices");
    s.integer("data", &ParallelSpec::data, "", "data-parallel replicas").def(1).range(1, 1 << 20);
    s.integer("pipeline", &ParallelSpec::pipeline, "", "pipeline stages").def(1).range(1, 1 << 16);
    s.integer("tensor", &ParallelSpec::tensor, "", "tensor-parallel ways").def(1).range(1, 1 << 16);
    s.integer("microbatches", &ParallelSpec::microbatches, "", "micro-batches per step").def(1).range(1, 1 << 20);
    s.choice("schedule", &ParallelSpec::schedule, kPipelineScheduleNames, "pipeline schedule").def("1f1b");
    s.choice("allreduce", &ParallelSpec::allreduce, kAlgorithmNames, "gradient all-reduce algorithm").def("ring");
    s.integer("inner_group", &ParallelSpec::inner_group, "",
              "hierarchical all-reduce: devices per inner group (0: the algorithm's choice)")
        .def(0)
        .range(0, 1 << 20);
    s.real("bucket_mb", &ParallelSpec::bucket_mb, "MB", "gradient bucket (1 MB = 1e6 B)").def(25.0).positive();
    s.boolean("overlap", &ParallelSpec::overlap, "overlap the all-reduce with the backward pass").def(true);
    return s;
  }();
  return b;
}

/// `memory: {shared_with: NAME}`: the device uses NAME's memory. Empty when the section is its own.
std::string shared_with(const config::Node* mem, const std::string& key_path) {
  if (!mem || !mem->is_map()) return "";
  const config::Node* s = mem->find("shared_with");
  if (!s) return "";
  config::check_keys(*mem, key_path, {"shared_with"});
  return config::as_string(*s, key_path + ".shared_with");
}

}  // namespace

int SystemSpec::find(const std::string& name) const {
  for (const DeviceSpec& d : devices)
    if (d.name == name) return int(d.index);
  return -1;
}

std::string SystemSpec::names() const {
  std::vector<std::string> n;
  for (const DeviceSpec& d : devices) n.push_back(d.name);
  return config::join(n, ", ");
}

SystemSpec parse_system(const RunSpec& spec) {
  const config::Node& root = spec.root;
  const config::Node::Entry* entry = root.entry("system");
  if (!entry) throw std::logic_error("parse_system: the config has no system: section");
  if (const config::Node* acc = root.find("accelerator"))
    throw InputError(acc->loc, "accelerator",
                     "a config with a system: section names each device's accelerator under "
                     "system.devices.NAME.accelerator, not at the top level");
  const config::Node& sys = config::expect_map(entry->value, "system");
  config::check_keys(sys, "system", {"devices", "fabric", "placement", "parallel"});
  SystemSpec out;
  out.where = entry->key_loc;

  const config::Node* devs = sys.find("devices");
  if (!devs) throw InputError(sys.loc, "system", "missing required key 'devices' (a map: device name → its sections)");
  config::expect_map(*devs, "system.devices");
  if (devs->map.empty()) throw InputError(devs->loc, "system.devices", "no device named (at least one)");

  // Devices in document order, count expanded; then the memory each one uses.
  struct Pending {
    std::string shared;  ///< the device named by memory.shared_with
    Location at;
    std::string path;
  };
  std::vector<Pending> pending;
  std::set<std::string> taken;
  for (const config::Node::Entry& e : devs->map) {
    const std::string p = "system.devices." + e.key;
    const config::Node& d = config::expect_map(e.value, p);
    config::check_keys(d, p, {"accelerator", "memory", "energy", "count", "memory_budget_mb"});
    uint32_t count = 1;
    bool counted = false;
    if (const config::Node* c = d.find("count")) {
      const int64_t n = config::as_int(*c, p + ".count");
      if (n < 1 || n > (1 << 20)) throw InputError(c->loc, p + ".count", "must be in [1, 1048576]");
      count = uint32_t(n);
      counted = true;
    }
    const config::Node* mem = d.find("memory");
    const std::string shared = shared_with(mem, p + ".memory");
    if (!shared.empty() && counted)
      throw InputError(mem->loc, p + ".memory.shared_with", "devices with a count have their own memory each");
    // A shared memory is the owner's section (its own, or the top-level one).
    const config::Node* own_mem = mem ? mem : root.find("memory");
    if (!shared.empty()) {
      if (shared == e.key)
        throw InputError(mem->loc, p + ".memory.shared_with", "a device cannot share its memory with itself");
      const config::Node* owner = devs->find(shared);
      if (!owner || !owner->is_map())
        throw InputError(mem->loc, p + ".memory.shared_with",
                         "no device named '" + shared +
                             "' under system.devices (a device with a count "
                             "cannot be shared)");
      const config::Node* om = owner->find("memory");
      if (!shared_with(om, "system.devices." + shared + ".memory").empty())
        throw InputError(mem->loc, p + ".memory.shared_with",
                         "device '" + shared + "' uses another device's memory itself: name the memory's owner");
      own_mem = om ? om : root.find("memory");
    }
    const config::Node* en = d.find("energy") ? d.find("energy") : root.find("energy");
    RunSpec one;
    prepare_device(one, d.find("accelerator"), own_mem, en, e.key_loc, p + ".");
    uint64_t budget = 0;
    if (const config::Node* b = d.find("memory_budget_mb")) {
      const double mb = config::as_float(*b, p + ".memory_budget_mb");
      if (!(mb > 0) || mb > 1e12) throw InputError(b->loc, p + ".memory_budget_mb", "must be in (0, 1e12] MB");
      budget = uint64_t(mb * 1e6);
    }
    config::Node sections;
    sections.type = config::Node::Type::Map;
    sections.loc = e.value.loc;
    sections.set("accelerator", *d.find("accelerator"));
    if (own_mem) sections.set("memory", *own_mem);
    if (en) sections.set("energy", *en);
    auto acc = std::make_shared<const config::Values>(*one.accelerator);
    auto memv = std::make_shared<const config::Values>(*one.memory);
    for (uint32_t i = 0; i < count; ++i) {
      DeviceSpec dev;
      dev.name = counted ? e.key + std::to_string(i) : e.key;
      dev.group = e.key;
      dev.index = uint32_t(out.devices.size());
      dev.where = e.key_loc;
      dev.kind = one.kind;
      dev.accelerator = acc;
      dev.memory = memv;
      dev.energy = one.energy;
      dev.sections = sections;
      dev.memory_owner = dev.index;
      dev.memory_budget_bytes = budget ? budget : memory::ddr_spec_from(*memv).capacity_bytes();
      if (!taken.insert(dev.name).second)
        throw InputError(e.key_loc, p, "device name '" + dev.name + "' is taken (a count names NAME0…NAME{N−1})");
      out.devices.push_back(std::move(dev));
      pending.push_back({shared, mem ? mem->loc : e.key_loc, p + ".memory.shared_with"});
    }
  }
  for (size_t i = 0; i < out.devices.size(); ++i) {
    const Pending& q = pending[i];
    if (q.shared.empty()) continue;
    const int owner = out.find(q.shared);
    if (owner < 0) throw InputError(q.at, q.path, "no device named '" + q.shared + "' (devices: " + out.names() + ")");
    DeviceSpec& d = out.devices[i];
    const DeviceSpec& o = out.devices[size_t(owner)];
    if (o.kind->memory == MemoryUse::none || d.kind->memory == MemoryUse::none)
      throw InputError(q.at, q.path,
                       "a shared memory is a DRAM both devices move bytes through; kind '" +
                           (o.kind->memory == MemoryUse::none ? o.kind->kind : d.kind->kind) + "' uses none");
    d.memory_owner = o.index;
    d.memory = o.memory;
    d.sections.set("memory", *o.sections.find("memory"));
    if (!devs->find(d.group)->find("memory_budget_mb")) d.memory_budget_bytes = o.memory_budget_bytes;
  }

  // fabric: required when there is more than one device.
  const uint32_t n = uint32_t(out.devices.size());
  out.fabric.devices = n;
  const config::Node* fab = sys.find("fabric");
  if (!fab && n > 1)
    throw InputError(sys.loc, "system",
                     "missing required key 'fabric' (" + std::to_string(n) + " devices need links between them)");
  if (fab) {
    const config::Values fv = config::validate(*fab, *fabric_binder().schema(), "system.fabric");
    const FabricKeys fk = fabric_binder().parse(fv);
    out.fabric.topology = fk.topology;
    out.fabric.link.bandwidth_bytes_per_s = fk.link.bandwidth_gbps * 1e9;
    out.fabric.link.latency_s = fk.link.latency_ns * 1e-9;
    out.fabric.link.energy_pj_per_byte = fk.link.energy_pj_per_byte;
    const bool grid = fk.topology == Topology::torus2d || fk.topology == Topology::mesh;
    if (grid) {
      if (fk.dims.size() != 2)
        throw fv.error(fv.has("dims") ? "dims" : "topology",
                       std::string(config::enum_name(kTopologyNames, fk.topology)) +
                           " needs dims: [rows, cols] (rows · cols = " + std::to_string(n) + " devices)");
      if (fk.dims[0] < 1 || fk.dims[1] < 1 || uint64_t(fk.dims[0]) * fk.dims[1] != n)
        throw fv.error("dims", "rows · cols = " + std::to_string(uint64_t(fk.dims[0]) * fk.dims[1]) +
                                   ", but the system has " + std::to_string(n) + " devices");
      out.fabric.rows = fk.dims[0];
      out.fabric.cols = fk.dims[1];
    } else if (!fk.dims.empty()) {
      throw fv.error("dims", std::string("dims apply to torus2d and mesh, not to ") +
                                 config::enum_name(kTopologyNames, fk.topology));
    } else {
      out.fabric.rows = 1;
      out.fabric.cols = n;
    }
    try {
      check_fabric(out.fabric);
    } catch (const std::invalid_argument& e) {
      throw InputError(fab->loc, "system.fabric", e.what());
    }
  }

  // placement
  const config::Node* pl = sys.find("placement");
  const config::Values pv =
      config::validate(pl ? *pl : config::Node{}, *placement_binder().schema(), "system.placement");
  const PlacementKeys pk = placement_binder().parse(pv);
  out.placement = pk.mode;
  if (!pk.default_device.empty()) {
    const int d = out.find(pk.default_device);
    if (d < 0) throw pv.error("default", "no device named '" + pk.default_device + "' (devices: " + out.names() + ")");
    out.default_device = uint32_t(d);
  }

  // parallel
  const config::Node* par = sys.find("parallel");
  out.parallel = parallel_binder().parse(
      config::validate(par ? *par : config::Node{}, *parallel_binder().schema(), "system.parallel"));
  return out;
}

DeviceEstimates device_estimates(const DeviceSpec& d) {
  DeviceEstimates e;
  if (d.kind->op_cost) e.cycles = d.kind->op_cost(*d.accelerator);
  if (d.kind->op_energy) {
    OpEnergyPrices prices{d.energy};
    prices.dram_burst_bytes = memory::price_memory(*d.memory, prices.table);
    e.energy_pj = d.kind->op_energy(*d.accelerator, prices);
  }
  return e;
}

std::shared_ptr<workload::OpGraph> load_system_workload(const RunSpec& spec, const SystemSpec& sys) {
  const config::Node* wl = spec.root.find("workload");
  if (!wl) throw InputError(spec.root.loc, "", "missing required section 'workload' (the step the system runs)");
  if (!workload::trace_path_of(*wl, "workload").empty() && sys.placement == PlacementMode::manual &&
      sys.devices.size() > 1)
    throw InputError(wl->loc, "workload",
                     "manual placement reads each layer's device: key from a network spec; a trace has none "
                     "(use placement.mode: auto)");
  const DeviceEstimates est = device_estimates(sys.devices.at(sys.default_device));
  auto g = workload::load_workload(*wl, "workload", spec.run.seed, est.cycles, est.energy_pj);
  if (g->memory.framework != "none")
    throw InputError(wl->find("framework") ? wl->find("framework")->loc : wl->loc, "workload.framework",
                     "a system runs the step on accelerators: framework: none");
  return g;
}

RunSpec device_run_spec(const RunSpec& top, const DeviceSpec& dev, std::shared_ptr<workload::OpGraph> graph) {
  RunSpec s;
  s.config_path = top.config_path;
  s.root = dev.sections;
  if (const config::Node* r = top.root.find("run")) s.root.set("run", *r);
  s.kind = dev.kind;
  s.accelerator = std::make_unique<config::Values>(*dev.accelerator);
  s.memory = std::make_unique<config::Values>(*dev.memory);
  s.run = top.run;
  s.energy = dev.energy;
  s.workload = std::move(graph);
  return s;
}

}  // namespace bpsim::system
