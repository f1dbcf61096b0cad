#include "sim/system/system_run.h"

#include <algorithm>
#include <map>

#include "sim/core/error.h"
#include "sim/ir/liveness.h"
#include "sim/source/load.h"
#include "sim/system/device_run.h"
#include "sim/system/parallel_run.h"

namespace bpsim::system {

namespace {

/// The device of an op by its layer: the longest `device:` layer name that is the op's
/// layer or a prefix of it followed by '.'; the default device when none is.
uint32_t device_by_layer(const std::string& layer, const std::vector<std::pair<std::string, uint32_t>>& named,
                         uint32_t fallback) {
  size_t best_len = 0;
  uint32_t best = fallback;
  for (const auto& [name, dev] : named) {
    const bool match = layer == name || (layer.size() > name.size() && layer.compare(0, name.size(), name) == 0 &&
                                         layer[name.size()] == '.');
    if (match && name.size() >= best_len) best_len = name.size(), best = dev;
  }
  return best;
}

}  // namespace

namespace {

/// Each op's seconds on `dev` as its own model runs the whole step `g` alone (for a kind that
/// gives no op-cost estimate), or the model's refusal.
std::vector<double> profiled_cost_s(const RunSpec& top, const DeviceSpec& dev, const workload::OpGraph& g) {
  RunSpec one = device_run_spec(top, dev, std::make_shared<workload::OpGraph>(g));
  return op_times(g, simulate_device(one, dev.name), dev.name).seconds;
}

}  // namespace

ScheduleProblem schedule_problem(const RunSpec& top, const SystemSpec& sys, const workload::OpGraph& g,
                                 PlaceNotes* notes) {
  ScheduleProblem p;
  p.graph = &g;
  p.fabric = sys.fabric;
  p.fallback = sys.default_device;
  const size_t nd = sys.devices.size();
  p.cost_s.assign(g.ops.size(), std::vector<double>(nd, -1.0));
  for (const DeviceSpec& d : sys.devices) {
    p.memory_owner.push_back(d.memory_owner);
    p.budget_bytes.push_back(d.memory_budget_bytes);
  }
  // Identical devices (count: N) are priced once: the same sections give the same costs.
  std::map<std::string, std::vector<double>> profiled;
  std::vector<std::string> priced_by(nd);
  std::map<std::string, std::string> refused_as;  ///< by sections: the first device whose run was refused
  for (const DeviceSpec& d : sys.devices) {
    const DeviceEstimates est = device_estimates(d);
    if (est.cycles && d.accelerator->has("clock_ghz")) {
      priced_by[d.index] = "estimate";
      const double hz = d.accelerator->f("clock_ghz") * 1e9;
      for (const workload::Op& op : g.ops) {
        try {
          const double c = est.cycles(g, op);
          if (c >= 0) p.cost_s[op.id][d.index] = c / hz;
        } catch (const InputError&) {
          // the device refuses the op: not a candidate for it
        }
      }
      continue;
    }
    const std::string key = d.kind->kind + "\n" + d.sections.to_yaml();
    priced_by[d.index] = "own_run";
    // Its model refuses the step: the scheduler cannot price its ops, and puts none there.
    const auto refused = [&](const std::string& why) {
      priced_by[d.index] = "refused";
      if (notes)
        notes->warnings.push_back("placement " + std::string(config::enum_name(kPlacementModeNames, sys.placement)) +
                                  ": device '" + d.name + "' (" + d.kind->kind + ") cannot be priced: " + why +
                                  ", so the scheduler put no op on it (place ops there with placement.mode: manual "
                                  "and a layer's device key)");
    };
    // An identical device (the same sections) whose run was refused is no candidate either.
    if (const auto r = refused_as.find(key); r != refused_as.end()) {
      refused("it is configured as '" + r->second + "', whose model refuses the whole step");
      continue;
    }
    auto it = profiled.find(key);
    if (it == profiled.end()) {
      try {
        it = profiled.emplace(key, profiled_cost_s(top, d, g)).first;
      } catch (const InputError& e) {
        refused(std::string("its model refuses the whole step (") + e.what() + ")");
        refused_as.emplace(key, d.name);
        continue;
      }
    }
    for (const workload::Op& op : g.ops) p.cost_s[op.id][d.index] = it->second[op.id];
  }
  if (notes) notes->priced_by = std::move(priced_by);
  return p;
}

Placement place(const RunSpec& top, const SystemSpec& sys, const workload::OpGraph& g, PlaceNotes* notes) {
  const uint32_t nd = uint32_t(sys.devices.size());
  switch (sys.placement) {
    case PlacementMode::single: return placement_of(g, std::vector<uint32_t>(g.ops.size(), sys.default_device), nd);
    case PlacementMode::manual: {
      std::vector<std::pair<std::string, uint32_t>> named;
      for (const workload::LayerDevice& l : workload::layer_devices(*top.root.find("workload"), "workload")) {
        const int d = sys.find(l.device);
        if (d < 0)
          throw InputError(l.where, "workload.layers." + l.layer + ".device",
                           "no device named '" + l.device + "' (system.devices: " + sys.names() + ")");
        named.emplace_back(l.layer, uint32_t(d));
      }
      std::vector<uint32_t> device_of;
      device_of.reserve(g.ops.size());
      for (const workload::Op& o : g.ops) device_of.push_back(device_by_layer(o.layer, named, sys.default_device));
      return placement_of(g, std::move(device_of), nd);
    }
    case PlacementMode::automatic: return schedule_joint(schedule_problem(top, sys, g, notes));
    case PlacementMode::split: return schedule_split(schedule_problem(top, sys, g, notes));
  }
  throw std::logic_error("place: unknown placement mode");
}

void check_placement(const RunSpec& top, const SystemSpec& sys, const workload::OpGraph& g, const Placement& pl) {
  for (const DeviceSpec& dev : sys.devices) {
    const std::vector<uint32_t>& ops = pl.order.at(dev.index);
    if (ops.empty()) continue;
    RunSpec one = device_run_spec(top, dev, std::make_shared<workload::OpGraph>(subgraph(g, ops)));
    check_device(one, dev.name);
  }
}

SystemResult simulate_placement(const RunSpec& top, const SystemSpec& sys, const workload::OpGraph& g,
                                const Placement& pl) {
  SystemResult r;
  r.placement = config::enum_name(kPlacementModeNames, sys.placement);
  const size_t nd = sys.devices.size();
  std::vector<double> duration(g.ops.size(), 0);
  std::vector<const nlohmann::json*> entry(g.ops.size(), nullptr);
  std::vector<DeviceReport> reports(nd);
  for (const DeviceSpec& dev : sys.devices) {
    DeviceFigures f;
    f.name = dev.name;
    f.kind = dev.kind->kind;
    f.memory_of = sys.devices[dev.memory_owner].name;
    const std::vector<uint32_t>& ops = pl.order.at(dev.index);
    f.ops = ops.size();
    if (!ops.empty()) {
      auto sub = std::make_shared<workload::OpGraph>(subgraph(g, ops));
      for (uint64_t b : workload::memory_timeline(*sub)) f.peak_memory_bytes = std::max(f.peak_memory_bytes, b);
      RunSpec one = device_run_spec(top, dev, sub);
      reports[dev.index] = simulate_device(one, dev.name);
      const nlohmann::json& rep = reports[dev.index].report;
      const OpTimes times = op_times(*sub, reports[dev.index], dev.name);  // sub's op k is ops[k]
      for (size_t k = 0; k < ops.size(); ++k) {
        duration[ops[k]] = times.seconds[k];
        entry[ops[k]] = times.entry[k];
        f.busy_s += times.seconds[k];
      }
      const nlohmann::json& t = rep.at("totals");
      f.energy_pj = t.at("energy_pj").get<double>();
      f.dram_read_bytes = t.value("dram_read_bytes", uint64_t(0));
      f.dram_write_bytes = t.value("dram_write_bytes", uint64_t(0));
    }
    r.devices.push_back(std::move(f));
  }

  TimelineProblem tp;
  tp.graph = &g;
  tp.placement = &pl;
  tp.duration_s = duration;
  tp.fabric = sys.fabric;
  for (const DeviceSpec& d : sys.devices) {
    tp.memory_owner.push_back(d.memory_owner);
    tp.device_names.push_back(d.name);
  }
  Timeline tl = simulate_timeline(tp);
  r.step_s = tl.step_s;
  // Leakage while waiting: each device's parts over the step less its own run; each DRAM's
  // background over the step less the runs that already charged it (its devices take turns).
  std::vector<double> dram_rate(nd, -1), dram_charged(nd, 0);
  for (const DeviceSpec& d : sys.devices) {
    if (pl.order[d.index].empty()) continue;
    const nlohmann::json& rep = reports[d.index].report;
    const LeakageRates l = leakage_rates(rep);
    const double own = rep.at("totals").at("seconds").get<double>();
    r.devices[d.index].energy_pj += l.parts_pj_per_s * std::max(0.0, r.step_s - own);
    dram_rate[d.memory_owner] = std::max(dram_rate[d.memory_owner], l.dram_pj_per_s);
    dram_charged[d.memory_owner] += own;
  }
  for (const DeviceSpec& d : sys.devices) {
    if (dram_rate[d.index] <= 0) continue;  // d owns no memory, or none of its devices ran
    uint32_t at = d.index;                  // charged to the owner, or to a device that ran on it
    if (pl.order[at].empty())
      for (const DeviceSpec& m : sys.devices)
        if (m.memory_owner == d.index && !pl.order[m.index].empty()) at = m.index;
    r.devices[at].energy_pj += dram_rate[d.index] * std::max(0.0, r.step_s - dram_charged[d.index]);
  }
  r.transfers = std::move(tl.transfers);
  r.links = std::move(tl.links);
  r.critical_path = std::move(tl.critical_path);
  for (const workload::Op& o : g.ops) {
    PlacedOp po;
    po.name = o.name;
    po.phase = workload::to_string(o.phase);
    po.kind = workload::to_string(o.kind);
    po.device = sys.devices[pl.device_of[o.id]].name;
    po.start_s = tl.start_s[o.id];
    po.end_s = tl.end_s[o.id];
    if (const nlohmann::json* e = entry[o.id]) {
      po.energy_pj = e->at("energy_pj").get<double>();
      po.dram_read_bytes = e->value("dram_read_bytes", uint64_t(0));
      po.dram_write_bytes = e->value("dram_write_bytes", uint64_t(0));
    }
    r.ops.push_back(std::move(po));
  }
  std::stable_sort(r.ops.begin(), r.ops.end(),
                   [](const PlacedOp& a, const PlacedOp& b) { return a.start_s < b.start_s; });
  for (const DeviceSpec& d : sys.devices)
    if (!pl.order[d.index].empty()) r.device_reports.emplace_back(d.name, std::move(reports[d.index].report));
  return r;
}

SystemResult run_system(const RunSpec& top, const SystemSpec& sys, const std::function<void()>& before_simulating) {
  // Data, pipeline and tensor parallelism over identical devices (docs/system.md "Parallelism").
  if (!sys.parallel.trivial()) {
    if (before_simulating) before_simulating();
    return run_parallel(top, sys);
  }
  const std::shared_ptr<workload::OpGraph> g = load_system_workload(top, sys);
  PlaceNotes notes;
  const Placement pl = place(top, sys, *g, &notes);
  if (before_simulating) before_simulating();
  SystemResult r = simulate_placement(top, sys, *g, pl);
  r.warnings = std::move(notes.warnings);
  for (size_t i = 0; i < notes.priced_by.size() && i < r.devices.size(); ++i)
    r.devices[i].priced_by = notes.priced_by[i];
  return r;
}

}  // namespace bpsim::system
